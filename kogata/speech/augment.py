"""Make clean synthetic speech sound like a clinic: rooms, noise, far microphones, telephones, codecs, overlaps.

The medical speech adapter (kogata.tune.speech) learns from synthesised lines. Trained on one synthesiser's clean
voice it learned that voice, not the clinic's words: on real recordings it was worse than no adapter (issue 17).
Each function here changes the audio the way a real consultation does, so that the only thing common to every
training example is the words. All are numpy (FFmpeg's resampler for the telephone), seeded by the caller's
`numpy.random.Generator`, and change nothing in place.

- reverb: a room's impulse response, synthesised as exponentially decaying noise whose level falls 60 dB in RT60
  seconds (0.2 s: a small furnished consulting room; 0.8 s: a bare corridor or a waiting room), after the direct
  sound. Real rooms smear syllables into each other; the synthesiser's audio is anechoic.
- add_noise: room noise (kogata.speech.synth.room_noise: fan, corridor, keyboard) at a chosen speech-to-noise
  ratio, 5–25 dB (a loud fan to a quiet room). The synthesised lines are silent between words; rooms are not.
- far_field: a microphone across the desk, not at the mouth: high frequencies lost (low-pass 3–6 kHz), much more
  reverberant sound than direct (reverb with the direct path lowered), and 10–20 dB quieter.
- telephone: the 300–3,400 Hz band of a phone line, resampled to 8 kHz and back (a call, or a remote consultation).
- mu_law: 8-bit μ-law companding (G.711), the quantisation noise of a cheap codec or a phone line.
- overlap: a low-level tail of another line at the start (the other speaker finishing) or its head at the end (the
  next speaker starting early), as at turn boundaries; the target text stays this line only.
- spec_augment: SpecAugment (Park et al., 2019) on Whisper's log-mel features, before the encoder: bands of mel
  channels and runs of frames replaced by the features' mean, so the decoder cannot lean on any one band or moment
  of one voice and must use the words around it.
- clinic: a random chain of the above, each with its own probability (CHAIN), so that some lines stay clean.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from kogata.speech.audio import SAMPLE_RATE, resample

_DECAY_60DB = 3 * np.log(10)  # amplitude exp(-k·t/RT60) is 60 dB down at t = RT60


def impulse_response(rt60: float, rng: np.random.Generator, *, direct: float = 1.0) -> np.ndarray:
    """A room's impulse response: a direct path of amplitude `direct`, then 5 ms later exponentially decaying noise
    (60 dB down after `rt60` seconds), normalised to unit energy."""
    n = int(rt60 * SAMPLE_RATE)
    t = np.arange(n) / SAMPLE_RATE
    tail = rng.normal(size=n) * np.exp(-_DECAY_60DB * t / rt60)
    tail[: int(0.005 * SAMPLE_RATE)] = 0.0  # the first reflections arrive a few milliseconds after the direct sound
    tail *= 0.3 / (np.sqrt(np.sum(tail**2)) + 1e-12)  # reverberant energy about 10 dB below a unit direct path
    tail[0] = direct
    return tail / np.sqrt(np.sum(tail**2))


def _convolve(x: np.ndarray, h: np.ndarray) -> np.ndarray:
    n = len(x) + len(h) - 1
    size = 1 << (n - 1).bit_length()
    return np.fft.irfft(np.fft.rfft(x, size) * np.fft.rfft(h, size), size)[:n]


def reverb(samples: np.ndarray, rt60: float, rng: np.random.Generator, *, direct: float = 1.0) -> np.ndarray:
    """`samples` played in a room of reverberation time `rt60` seconds; the decay tail is kept (longer output)."""
    return _convolve(samples.astype(np.float64), impulse_response(rt60, rng, direct=direct)).astype(np.float32)


def rms(samples: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(samples, dtype=np.float64))))


def add_noise(samples: np.ndarray, noise: np.ndarray, snr_db: float) -> np.ndarray:
    """`noise` (repeated or cut to length) added so that speech power ÷ noise power is `snr_db` dB."""
    noise = np.resize(noise, len(samples)).astype(np.float64)
    noise *= rms(samples) / (rms(noise) + 1e-12) / 10 ** (snr_db / 20)
    return (samples + noise).astype(np.float32)


def low_pass(samples: np.ndarray, cutoff: float, *, rate: int = SAMPLE_RATE) -> np.ndarray:
    """Frequencies above `cutoff` Hz removed (a brick-wall filter in the frequency domain)."""
    spectrum = np.fft.rfft(samples.astype(np.float64))
    spectrum[np.fft.rfftfreq(len(samples), 1 / rate) > cutoff] = 0
    return np.fft.irfft(spectrum, len(samples)).astype(np.float32)


def band_pass(samples: np.ndarray, low: float, high: float, *, rate: int = SAMPLE_RATE) -> np.ndarray:
    spectrum = np.fft.rfft(samples.astype(np.float64))
    f = np.fft.rfftfreq(len(samples), 1 / rate)
    spectrum[(f < low) | (f > high)] = 0
    return np.fft.irfft(spectrum, len(samples)).astype(np.float32)


def far_field(samples: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A microphone a metre or two away: low-pass 3–6 kHz, reverberant (RT60 0.4–0.8 s, direct path lowered),
    10–20 dB quieter."""
    out = low_pass(samples, rng.uniform(3000, 6000))
    out = reverb(out, rng.uniform(0.4, 0.8), rng, direct=rng.uniform(0.2, 0.5))
    return out * np.float32(10 ** (-rng.uniform(10, 20) / 20) * rms(samples) / (rms(out) + 1e-12))


def telephone(samples: np.ndarray) -> np.ndarray:
    """The 300–3,400 Hz band, resampled to 8 kHz and back to 16 kHz, as a phone line carries it."""
    narrow = resample(band_pass(samples, 300, 3400), SAMPLE_RATE, 8000)
    return resample(narrow, 8000, SAMPLE_RATE)[: len(samples)]


def mu_law(samples: np.ndarray, bits: int = 8) -> np.ndarray:
    """μ-law companding to 2**bits levels and back (G.711 at 8 bits): fine steps for quiet sounds, coarse for loud."""
    mu = 2**bits - 1
    x = np.clip(samples.astype(np.float64), -1.0, 1.0)
    y = np.sign(x) * np.log1p(mu * np.abs(x)) / np.log1p(mu)
    y = np.round((y + 1) / 2 * mu) / mu * 2 - 1  # quantised to 2**bits levels
    return (np.sign(y) * np.expm1(np.abs(y) * np.log1p(mu)) / mu).astype(np.float32)


def overlap(samples: np.ndarray, other: np.ndarray, level_db: float, seconds: float, *, at_start: bool) -> np.ndarray:
    """`samples` with up to `seconds` of `other` (its tail at the start, or its head at the end) mixed in
    `level_db` dB below this line's level; the output keeps this line's length."""
    n = min(int(seconds * SAMPLE_RATE), len(other), len(samples))
    piece = (other[-n:] if at_start else other[:n]).astype(np.float64)
    piece *= rms(samples) / (rms(piece) + 1e-12) * 10 ** (-level_db / 20)
    out = samples.astype(np.float64)
    if at_start:
        out[:n] += piece
    else:
        out[len(out) - n :] += piece
    return out.astype(np.float32)


def spec_augment(
    features: np.ndarray,
    rng: np.random.Generator,
    *,
    freq_masks: int = 2,
    freq_width: int = 12,
    time_masks: int = 2,
    time_width: int = 20,
    frames: int | None = None,
) -> np.ndarray:
    """`freq_masks` bands of up to `freq_width` mel channels and `time_masks` runs of up to `time_width` frames
    (10 ms each) set to the features' mean; time masks fall within the first `frames` frames (the speech)."""
    out = features.copy()
    fill = float(features.mean())
    channels, total = features.shape
    frames = min(frames or total, total)
    for _ in range(freq_masks):
        width = int(rng.integers(0, freq_width + 1))
        start = int(rng.integers(0, channels - width + 1))
        out[start : start + width, :] = fill
    for _ in range(time_masks):
        width = int(rng.integers(0, min(time_width, frames) + 1))
        start = int(rng.integers(0, frames - width + 1))
        out[:, start : start + width] = fill
    return out


# ── the chain ─────────────────────────────────────────────────────────────────────────────────────────────────


@dataclass(frozen=True)
class Chain:
    """Probability of each condition for one training line (independent draws; some lines stay clean)."""

    overlap: float = 0.15
    reverb: float = 0.4
    far_field: float = 0.15
    noise: float = 0.6
    telephone: float = 0.1
    mu_law: float = 0.15
    spec_augment: float = 0.8


CHAIN = Chain()
NOISE_KINDS = ("fan", "corridor", "keyboard")


@dataclass
class Augmented:
    samples: np.ndarray
    conditions: list[str] = field(default_factory=list)  # e.g. ["reverb 0.43 s", "noise fan 12 dB"]


def clinic(
    samples: np.ndarray, rng: np.random.Generator, *, other: np.ndarray | None = None, chain: Chain = CHAIN
) -> Augmented:
    """One line as a clinic might record it: overlap, then the room (reverb or far field), then background noise,
    then the channel (telephone, μ-law), at a random recording level (peak −12 to −3 dBFS, far field −26 to −16).
    SpecAugment acts on features, not samples: see spec_augment and kogata.tune.speech.prepare."""
    from kogata.speech.synth import room_noise

    out, done, far = samples.astype(np.float32), [], False
    if other is not None and len(other) and rng.random() < chain.overlap:
        level, at_start = rng.uniform(10, 20), bool(rng.random() < 0.5)
        out = overlap(out, other, level, rng.uniform(0.3, 1.0), at_start=at_start)
        done.append(f"overlap {'start' if at_start else 'end'} −{level:.0f} dB")
    if rng.random() < chain.far_field:
        out, far = far_field(out, rng), True
        done.append("far field")
    elif rng.random() < chain.reverb:
        rt60 = rng.uniform(0.2, 0.8)
        out = reverb(out, rt60, rng)
        done.append(f"reverb {rt60:.2f} s")
    if rng.random() < chain.noise:
        kind, snr = NOISE_KINDS[int(rng.integers(len(NOISE_KINDS)))], rng.uniform(5, 25)
        seconds = len(out) / SAMPLE_RATE + 0.1
        out = add_noise(out, room_noise(kind, seconds, seed=int(rng.integers(1 << 31))), snr)
        done.append(f"noise {kind} {snr:.0f} dB")
    if rng.random() < chain.telephone:
        out = telephone(out)
        done.append("telephone")
    # the recorder's level: near speech peaks at −12 to −3 dBFS, a far microphone's 10–20 dB lower still (Whisper's
    # log-mel features are not level-normalised, so the level is part of what the decoder sees)
    peak_db = rng.uniform(-26, -16) if far else rng.uniform(-12, -3)
    out = out * np.float32(10 ** (peak_db / 20) / max(float(np.abs(out).max()), 1e-9))
    if rng.random() < chain.mu_law:
        out = mu_law(out)
        done.append("μ-law")
    return Augmented(out.astype(np.float32), done)
