"""The Whisper decoder: Whisper base (faster-whisper / CTranslate2, int8 on the CPU), one utterance at a time.

Decoding choices, each for a measured reason:
- Utterances are cut by voice activity (kogata.speech.stream) and decoded one by one, which is what streaming needs
  and makes batch and streaming output identical.
- The encoder sees only the utterance plus one second, not Whisper's usual 30-second window: an 8-second utterance
  costs a third of the encoder time, and the error rate on the synthetic consultations did not change.
- Beam search (5) with temperature 0 and no fallback to sampling: the same audio always gives the same text.
- No conditioning on the previous text (a mistake would otherwise repeat), a token cap proportional to the audio's
  length (about twice what fast speech needs), known phantom phrases removed, repetition loops collapsed.
- The glossary's terms are the prompt, and its correction pass runs on every utterance (kogata.speech.stream).
- The decoder carries the bundled clinic adapter unless told otherwise (kogata.speech.adapter): trained on a
  clinic's words spoken in many voices and rooms, it spells 脈, 痰, 五日分 where plain Whisper base wrote everyday
  homophones (幕, 単, いつか分), and does better than plain Whisper base on real voices (README, speech).
"""

from __future__ import annotations

import math
import os
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from kogata.errors import ModelError
from kogata.ja.glyphs import non_japanese_chars, to_japanese
from kogata.speech.audio import SAMPLE_RATE

if TYPE_CHECKING:
    from faster_whisper import WhisperModel
    from faster_whisper.tokenizer import Tokenizer

MAX_PIECE_SECONDS = 28.0  # Whisper's window is 30 s; the segmenter cuts longer turns at a pause below this
_CONTEXT = 448  # Whisper's decoder context, prompt included
_TOKENS_PER_SECOND = 12  # Japanese speech needs about 6; past twice that the decoder is looping
# An utterance shorter than this many seconds is encoded in Whisper's whole 30 s window. Off: it keeps more lone
# 「いいえ」 (cut to a second or two Whisper writes いいよ), 36 of 48 short answers against 20, but the 30 s encode
# costs about 30 times the short one (2.2 s under load on 2 cores), past the 1.5 s latency goal (bench/vad.py).
FULL_WINDOW_BELOW = 0.0
NO_SPEECH_PROB = 0.6  # Whisper's own rule: a likely non-speech piece decoded with low confidence is dropped
LOW_LOGPROB = -1.0

# Phrases Whisper was trained on from subtitled videos and writes on silence or noise (never said in a clinic).
PHANTOM_PHRASES = (
    "ご視聴ありがとうございました",
    "ご視聴ありがとうございます",
    "ご覧いただきありがとうございます",
    "最後までご視聴",
    "チャンネル登録",
    "高評価",
    "次回の動画",
    "字幕",
    "提供",
    "お相手は",
)
_PHANTOM = re.compile("[^。！？!?]*(?:" + "|".join(PHANTOM_PHRASES) + ")[^。！？!?]*[。！？!?]?")
_NOISE_MARKS = re.compile(r"[♪♫〜~]+|[（(\[【][^）)\]】]{0,10}[）)\]】]")  # ♪, (音楽), [拍手], 【BGM】
# A decoder loop: the same 1–3 characters four or more times in a row, or 4–30 characters three or more times.
_LOOP = re.compile(r"(.{1,3}?)\1{3,}|(.{4,30}?)\2{2,}")


@dataclass
class ASR:
    """A loaded Whisper model and its decoding settings. Load once with load_asr(); safe to share read-only."""

    model: WhisperModel
    tokenizer: Tokenizer
    threads: int
    beam_size: int = 5
    suppress: tuple[int, ...] = field(default=())
    full_window_below: float = FULL_WINDOW_BELOW  # seconds


def load_asr(*, threads: int | None = None, beam_size: int = 5, adapter: str | Path | None = "clinic") -> ASR:
    """Load Whisper base (int8, CPU) from the verified model folder in $KOGATA_HOME (joined on first use).

    `adapter`: "clinic" (bundled, the default), "medical" (bundled, one synthetic voice), None or "none" for plain
    Whisper base, or a `.npz` file from `kogata tune-speech`; merged into a cached model folder on first use
    (kogata.speech.adapter).
    """
    from faster_whisper import WhisperModel
    from faster_whisper.tokenizer import Tokenizer
    from faster_whisper.transcribe import get_suppressed_tokens

    from kogata.speech import adapter as speech_adapter

    path = speech_adapter.model_dir(adapter)
    threads = threads or os.cpu_count() or 1
    try:
        model = WhisperModel(str(path), device="cpu", compute_type="int8", cpu_threads=threads)
    except (RuntimeError, ValueError, OSError) as e:
        raise ModelError(
            f"speech model in {path} failed to load ({e}); delete the folder and run again to rebuild "
            "it from the installed packages"
        ) from None
    tokenizer = Tokenizer(model.hf_tokenizer, True, task="transcribe", language="ja")
    return ASR(model, tokenizer, threads, beam_size, tuple(get_suppressed_tokens(tokenizer, [-1]) or ()))


@dataclass(frozen=True)
class Decoded:
    text: str
    no_speech_prob: float
    avg_logprob: float


def prompt_tokens(asr: ASR, prompt: str) -> list[int]:
    """The decoder's start: the glossary prompt (as previous text), then <|startoftranscript|><|ja|>… no timestamps."""
    tok = asr.tokenizer
    start = list(tok.sot_sequence) + [tok.no_timestamps]
    if not prompt:
        return start
    words = tok.encode(" " + prompt.strip())[-(_CONTEXT // 2 - 1) :]
    return [tok.sot_prev, *words, *start]


def features(asr: ASR, samples: np.ndarray) -> np.ndarray:
    """Whisper's log-mel features (80 × frames, 10 ms a frame) for one utterance plus a second (the whole 30 s window
    for a short utterance): what the encoder reads."""
    seconds = len(samples) / SAMPLE_RATE
    padded = np.pad(samples, (0, max(0, 30 * SAMPLE_RATE - len(samples))))[: 30 * SAMPLE_RATE]
    frames = 3000 if seconds < asr.full_window_below else min(3000, 100 * math.ceil(seconds + 1.0))
    return asr.model.feature_extractor(padded)[:, :frames]


def encode(asr: ASR, samples: np.ndarray):
    """The encoder's output (a CTranslate2 StorageView) for one utterance: all the decoder reads."""
    return asr.model.encode(features(asr, samples))


def decode(asr: ASR, samples: np.ndarray, prompt: list[int]) -> Decoded:
    """Text of one utterance (at most MAX_PIECE_SECONDS of 16 kHz samples), cleaned of phantoms and loops."""
    seconds = len(samples) / SAMPLE_RATE
    model = asr.model
    encoded = encode(asr, samples)
    max_new = max(16, min(_CONTEXT - len(prompt) - 1, int(seconds * _TOKENS_PER_SECOND) + 16))
    result = model.model.generate(
        encoded,
        [prompt],
        beam_size=asr.beam_size,
        patience=1.0,
        length_penalty=1.0,
        max_length=len(prompt) + max_new,
        return_scores=True,
        return_no_speech_prob=True,
        suppress_blank=True,
        suppress_tokens=list(asr.suppress),
        sampling_temperature=1.0,
        num_hypotheses=asr.beam_size,  # the search is the same (it runs until beam_size are finished)
    )[0]
    texts = [asr.tokenizer.decode([t for t in seq if t < asr.tokenizer.eot]) for seq in result.sequences_ids]
    # A kanji is often two byte tokens (驚 = 24023, 248); a wrong second one makes another glyph (驊) or no
    # character at all (U+FFFD). Take the best hypothesis whose characters are all whole and Japanese.
    best = next((i for i, t in enumerate(texts) if "\ufffd" not in t and not non_japanese_chars(t)), 0)
    score = float(result.scores[best]) if result.scores else 0.0
    return Decoded(clean(texts[best]), float(result.no_speech_prob), score)


def clean(text: str) -> str:
    """NFKC; phantom subtitle phrases, noise marks and spaces between Japanese words removed; loops collapsed;
    a broken byte sequence (U+FFFD) dropped and a Han character Japanese does not use rewritten (kogata.ja.glyphs)."""
    text = to_japanese(unicodedata.normalize("NFKC", text).replace("\ufffd", "")).strip()
    text = _PHANTOM.sub("", text)
    text = _NOISE_MARKS.sub("", text)
    text = _LOOP.sub(lambda m: m.group(1) or m.group(2), text)
    text = re.sub(r"(?<=[^\x00-\x7f])\s+|\s+(?=[^\x00-\x7f])", "", text)  # Whisper puts spaces at pauses
    return text.strip() if re.search(r"[^\s、。,.!?！？]", text) else ""  # punctuation alone is no text


def is_speech(decoded: Decoded) -> bool:
    if not decoded.text:
        return False
    return not (decoded.no_speech_prob > NO_SPEECH_PROB and decoded.avg_logprob < LOW_LOGPROB)
