"""Speech → transcript for a whole recording: the file driver over the same machine live transcription uses.

The audio is fed through `kogata.speech.stream.StreamingTranscriber` (voice activity, turns, speakers) in pieces,
and each utterance is decoded by `kogata.speech.decode`, so batch and streaming output are identical.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from tqdm import tqdm

from kogata.speech.audio import SAMPLE_RATE, AudioError, load_audio
from kogata.speech.decode import ASR, load_asr
from kogata.speech.glossary import Glossary
from kogata.speech.stream import StreamingTranscriber
from kogata.transcript.parse import Transcript

_default_asr: ASR | None = None


def transcribe(
    audio: str | Path | bytes | np.ndarray,
    *,
    asr: ASR | None = None,
    glossary: Glossary | None = None,
    speakers: bool = True,
    progress: bool = False,
) -> Transcript:
    """Transcribe a recording (file path, its bytes, or 16 kHz mono float32 samples) into numbered utterances.

    `glossary=None` uses the bundled medical glossary; pass `Glossary.empty()` for none, or your own (see
    Glossary.load; `Glossary.load(path, with_default=True)` keeps the medical terms too). Speakers are labelled
    from turns and words (kogata.speech.speakers: a new turn is the other party unless its words say otherwise;
    `speakers=False` labels every utterance 話者). `progress` shows a bar on stderr. Raises AudioError for bad
    audio and when no speech is found.
    """
    global _default_asr
    samples = load_audio(audio)
    if asr is None:
        _default_asr = _default_asr or load_asr()
        asr = _default_asr
    stream = StreamingTranscriber(asr, glossary, speakers=speakers, eager=False)
    utterances = []
    step = 10 * SAMPLE_RATE  # VAD results do not depend on the chunking, so this only paces the progress bar
    with tqdm(
        total=round(len(samples) / SAMPLE_RATE), unit="s", desc="transcribing", disable=not progress, leave=False
    ) as bar:
        for at in range(0, len(samples), step):
            utterances += stream.feed(samples[at : at + step])
            bar.update(round(len(samples[at : at + step]) / SAMPLE_RATE))
    utterances += stream.flush()
    if not utterances:
        raise AudioError(
            f"no speech found in {_name(audio)} (音声が検出されませんでした): "
            f"{len(samples) / SAMPLE_RATE:.1f} s of sound without recognisable speech"
        )
    return Transcript(utterances, source=_name(audio) if isinstance(audio, (str, Path)) else "")


def _name(audio: object) -> str:
    return str(audio) if isinstance(audio, (str, Path)) else "<bytes>" if isinstance(audio, bytes) else "<samples>"
