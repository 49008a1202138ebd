"""Live transcription: feed audio as it arrives, get each utterance back as soon as its speaker pauses.

Voice activity comes from Silero VAD (the ONNX model inside faster-whisper), run on 32 ms windows with its state
carried across calls, so the speech probabilities do not depend on how the audio was chunked. A small state
machine turns them into utterances:
- speech starts at a window with probability ≥ 0.5 and continues while it stays ≥ 0.35; 0.1 s of voice is an
  utterance (a lone 「はい」 is about 0.2 s), shorter is a click (VadSettings; bench/vad.py);
- a silence of `turn_gap` seconds (0.8) ends the utterance, which is then decoded and returned;
- a turn longer than 28 s is cut at its latest pause (or, without one, where it is) and goes on as the same speaker;
- with `eager`, the utterance is decoded already after 0.5 s of silence, so that when the silence reaches
  `turn_gap` its text is ready (the same audio is decoded, so the text is the same).
`transcribe()` runs this same machine over a whole file, so batch and live output are identical.

Speakers are labelled from turns and words, not by voice (kogata.speech.speakers): a new turn goes to the other
party unless its words clearly belong to the one who spoke last (questions and instructions: 医師; 「先生」, one's
own symptoms, thanks: 患者; someone speaking for the patient: 家族), each with a confidence (an unsure label is
shown as 患者?). What is not automatic: a third speaker (看護師), or two people talking at once; the monitor page
lets the user correct the label.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kogata.speech.audio import MAX_SECONDS, SAMPLE_RATE, AudioError, check_samples
from kogata.speech.decode import ASR, MAX_PIECE_SECONDS, Decoded, decode, is_speech, prompt_tokens
from kogata.speech.glossary import Glossary, default
from kogata.speech.speakers import Label, label_turn
from kogata.transcript.parse import Utterance

WINDOW = 512  # samples per VAD window (32 ms)
TURN_GAP = 0.8  # seconds of silence that end an utterance (synthetic turns: pauses inside ≤ 0.7 s, between ≥ 0.9 s)
EAGER_GAP = 0.5  # an earlier decode is mostly wasted: sentences inside a turn pause 0.35–0.7 s
MIN_CUT_PAUSE = 0.15
NO_SPEAKER = "話者"


@dataclass(frozen=True)
class VadSettings:
    """How speech probabilities become utterances (bench/vad.py measures the choices)."""

    speech_prob: float = 0.5  # a window this likely starts speech
    silence_prob: float = 0.35  # speech goes on while windows stay this likely
    # Seconds of voice an utterance needs. 0.25 dropped a lone 「はい」 (about 0.2 s of clear voice); Silero already
    # ignores clicks, fans and corridors (bench/vad.py), and Whisper's no-speech check drops the rest.
    min_voiced: float = 0.1
    pad: float = 0.2  # seconds of audio kept either side of the speech, as Whisper hears word edges better with them


def _seconds_to_windows(seconds: float) -> int:
    return max(1, round(seconds * SAMPLE_RATE / WINDOW))


class _Vad:
    """Silero VAD over a stream: probabilities for every complete 32 ms window, state carried between calls."""

    def __init__(self) -> None:
        from faster_whisper.vad import get_vad_model

        self._session = get_vad_model().session
        self._h = np.zeros((1, 1, 128), np.float32)
        self._c = np.zeros((1, 1, 128), np.float32)
        self._context = np.zeros(64, np.float32)  # the model sees the last 64 samples of the previous window
        self._pending = np.zeros(0, np.float32)

    def __call__(self, samples: np.ndarray, *, final: bool = False) -> np.ndarray:
        audio = np.concatenate([self._pending, samples])
        if final and len(audio) % WINDOW:
            audio = np.pad(audio, (0, WINDOW - len(audio) % WINDOW))
        whole = len(audio) // WINDOW * WINDOW
        self._pending = audio[whole:]
        if not whole:
            return np.zeros(0, np.float32)
        windows = audio[:whole].reshape(-1, WINDOW)
        contexts = np.concatenate([self._context[None], windows[:-1, -64:]])
        batch = np.concatenate([contexts, windows], axis=1)
        out, self._h, self._c = self._session.run(None, {"input": batch, "h": self._h, "c": self._c})
        self._context = windows[-1, -64:].copy()
        return out.reshape(-1)


class StreamingTranscriber:
    """Feed 16 kHz mono float32 audio in pieces of any size; get each utterance once its speaker has paused.

    >>> stream = StreamingTranscriber(load_asr())
    >>> for chunk in chunks: print(stream.feed(chunk))   # [] most of the time, [Utterance(...)] after a pause
    >>> print(stream.flush())                             # whatever was still being spoken at the end

    `glossary=None` uses the bundled medical glossary; Glossary.empty() uses none. Not thread-safe: one per visit.
    """

    def __init__(
        self,
        asr: ASR,
        glossary: Glossary | None = None,
        sample_rate: int = SAMPLE_RATE,
        *,
        speakers: bool = True,
        eager: bool = True,
        turn_gap: float = TURN_GAP,
        max_seconds: float = MAX_SECONDS,
        vad: VadSettings = VadSettings(),
    ) -> None:
        self.asr = asr
        self.glossary = default() if glossary is None else glossary
        self.sample_rate = sample_rate
        self.speakers = speakers
        self.eager = eager
        self.max_seconds = max_seconds
        # Only the glossary: the previous utterance as context raised CER on the training visits (14.2 vs 12.8 %).
        self._prompt = prompt_tokens(asr, self.glossary.prompt())
        self._gap_w = _seconds_to_windows(turn_gap)
        self._eager_w = min(_seconds_to_windows(EAGER_GAP), self._gap_w)
        self.vad_settings = vad
        self._pad = int(vad.pad * SAMPLE_RATE)
        self._resampler = None
        self._vad = _Vad()
        self._buffer = np.zeros(0, np.float32)
        self._base = 0  # stream sample index of _buffer[0]
        self._received = 0
        self._window = 0  # index of the next VAD window
        self._in_speech = False
        self._turn_start: int | None = None  # window where the current piece of speech began
        self._last_voice = 0
        self._voiced = 0
        self._pause: tuple[int, int] | None = None  # latest pause inside the turn (first silent, next voiced window)
        self._continues = False  # the current piece continues the previous utterance's turn (a forced cut)
        self._last_end = 0  # sample where the last utterance's audio ended
        self._label: Label | None = None  # who spoke the last utterance, and how sure that is
        self._next_id = 1
        self._early: dict[tuple[int, int], Decoded] = {}
        self._closed = False

    # ── public ────────────────────────────────────────────────────────────────────────────────────────────────
    def feed(self, samples: np.ndarray) -> list[Utterance]:
        """Add audio; return the utterances that became final (usually none)."""
        if self._closed:
            raise AudioError("this stream was flushed; start a new StreamingTranscriber for new audio")
        samples = self._to_16k(check_samples(np.asarray(samples)))
        self._received += len(samples)
        if self._received > self.max_seconds * SAMPLE_RATE:
            raise AudioError(
                f"live audio is too long (録音が長すぎます): the limit is {self.max_seconds / 60:.0f} "
                "minutes per visit; start a new one"
            )
        self._buffer = np.concatenate([self._buffer, samples])
        out = self._advance(self._vad(samples))
        self._trim()
        return out

    def partial(self) -> str | None:
        """The words of the utterance still being spoken, decoded from its audio so far (glossary-corrected), or
        None outside speech or with under `min_voiced` of voice. A preview only: the final text may differ, and
        the stream's state (utterances, speakers, the eager decode) is not touched."""
        if (
            self._closed
            or self._turn_start is None
            or self._voiced * WINDOW / SAMPLE_RATE < self.vad_settings.min_voiced
        ):
            return None
        a, b = self._span(self._turn_start, self._window, False)
        if b - a < WINDOW:
            return None
        decoded = decode(self.asr, self._buffer[a - self._base : b - self._base], self._prompt)
        return (self.glossary.correct(decoded.text) if is_speech(decoded) else "") or None

    def flush(self) -> list[Utterance]:
        """End of audio: finish the utterance in progress (if any) and return what became final."""
        if self._closed:
            return []
        tail = self._to_16k(np.zeros(0, np.float32), final=True)
        self._buffer = np.concatenate([self._buffer, tail])
        self._received += len(tail)
        out = self._advance(self._vad(tail, final=True))
        if self._turn_start is not None:
            out += self._finish(self._turn_start, self._last_voice + 1, padded=True)
            self._turn_start = None
        self._closed = True
        return out

    # ── the state machine ─────────────────────────────────────────────────────────────────────────────────────
    def _advance(self, probs: np.ndarray) -> list[Utterance]:
        out: list[Utterance] = []
        max_w = _seconds_to_windows(MAX_PIECE_SECONDS)
        for p in probs:
            w = self._window
            self._window += 1
            speech = p >= self.vad_settings.speech_prob or (self._in_speech and p >= self.vad_settings.silence_prob)
            self._in_speech = bool(speech)
            if self._turn_start is None:
                if speech:
                    self._turn_start, self._last_voice, self._voiced, self._pause = w, w, 1, None
                continue
            if speech:
                if w - self._last_voice - 1 >= _seconds_to_windows(MIN_CUT_PAUSE):
                    self._pause = (self._last_voice + 1, w)
                self._last_voice = w
                self._voiced += 1
            else:
                silent = w - self._last_voice
                if self.eager and silent == self._eager_w:
                    self._decode_early(self._turn_start, self._last_voice + 1)
                if silent >= self._gap_w:
                    out += self._finish(self._turn_start, self._last_voice + 1, padded=True)
                    self._turn_start, self._continues = None, False
                    continue
            if w - self._turn_start >= max_w:  # too long for one Whisper window: cut, and go on as the same speaker
                if self._pause and self._pause[0] > self._turn_start:
                    cut, resume, padded = self._pause[0], self._pause[1], True
                else:
                    cut, resume, padded = w, w, False
                out += self._finish(self._turn_start, cut, padded=padded)
                self._turn_start, self._voiced, self._pause, self._continues = resume, w - resume + 1, None, True
        return out

    def _span(self, start_w: int, end_w: int, padded: bool) -> tuple[int, int]:
        a = max(start_w * WINDOW - self._pad, self._last_end, self._base)
        b = min(end_w * WINDOW + (self._pad if padded else 0), self._received)
        return a, b

    def _decode_early(self, start_w: int, end_w: int) -> None:
        a, b = self._span(start_w, end_w, True)
        self._early = {(a, b): decode(self.asr, self._buffer[a - self._base : b - self._base], self._prompt)}

    def _finish(self, start_w: int, end_w: int, *, padded: bool) -> list[Utterance]:
        continues = self._continues
        voiced = self._voiced * WINDOW / SAMPLE_RATE
        a, b = self._span(start_w, end_w, padded)
        self._last_end = b
        if voiced < self.vad_settings.min_voiced or b - a < WINDOW:
            return []
        decoded = self._early.pop((a, b), None) or decode(
            self.asr, self._buffer[a - self._base : b - self._base], self._prompt
        )
        self._early.clear()
        text = self.glossary.correct(decoded.text) if is_speech(decoded) else ""
        if not text:
            return []  # noise or a phantom: no utterance, and the speaker does not change
        label = None
        if self.speakers:
            # a long turn cut in two is still one speaker
            label = self._label if continues and self._label is not None else label_turn(text, self._label)
            self._label = label
        utterance = Utterance(
            self._next_id,
            label.speaker if label else NO_SPEAKER,
            text,
            round(start_w * WINDOW / SAMPLE_RATE, 2),
            round(end_w * WINDOW / SAMPLE_RATE, 2),
            label.confidence if label else None,
            label.sure if label else None,
        )
        self._next_id += 1
        return [utterance]

    def _trim(self) -> None:
        """Drop audio no utterance can need any more (before the current turn, or older than the padding)."""
        start_w = self._turn_start if self._turn_start is not None else self._window
        keep = max(self._base, min(start_w * WINDOW - self._pad, self._received))
        if keep > self._base:
            self._buffer = self._buffer[keep - self._base :]
            self._base = keep

    def _to_16k(self, samples: np.ndarray, final: bool = False) -> np.ndarray:
        if self.sample_rate == SAMPLE_RATE:
            return samples
        import av

        if self._resampler is None:  # one resampler for the whole stream keeps its filter state across chunks
            self._resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
        frames = []
        if len(samples):
            frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="flt", layout="mono")
            frame.sample_rate = self.sample_rate
            frames += self._resampler.resample(frame)
        if final:
            frames += self._resampler.resample(None)
        if not frames:
            return np.zeros(0, np.float32)
        return np.concatenate([f.to_ndarray().reshape(-1) for f in frames]).astype(np.float32, copy=False)
