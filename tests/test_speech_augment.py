"""The training audio's clinic conditions (kogata.speech.augment) do what they say, on real numpy signals."""

from __future__ import annotations

import numpy as np
import pytest

from kogata.speech import augment
from kogata.speech.audio import SAMPLE_RATE
from kogata.speech.synth import room_noise

RNG_SEED = 7


def tone_burst(seconds: float = 0.5, freq: float = 440.0) -> np.ndarray:
    """A tone that stops dead after `seconds`, then a second of silence: the silence shows any reverberant tail."""
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    return np.concatenate([0.5 * np.sin(2 * np.pi * freq * t), np.zeros(SAMPLE_RATE)]).astype(np.float32)


def white(seconds: float = 2.0, seed: int = 0) -> np.ndarray:
    return (0.1 * np.random.default_rng(seed).normal(size=int(seconds * SAMPLE_RATE))).astype(np.float32)


def band_energy(samples: np.ndarray, low: float, high: float) -> float:
    spectrum = np.abs(np.fft.rfft(samples.astype(np.float64))) ** 2
    f = np.fft.rfftfreq(len(samples), 1 / SAMPLE_RATE)
    return float(spectrum[(f >= low) & (f < high)].sum())


def db(x: float) -> float:
    return 10 * np.log10(x + 1e-30)


def decay_time(samples: np.ndarray, stop: int, drop_db: float = 30.0) -> float:
    """Seconds after `stop` until the 10 ms energy falls `drop_db` below its level just before `stop`."""
    frame = SAMPLE_RATE // 100
    energy = [float(np.mean(samples[i : i + frame] ** 2)) for i in range(0, len(samples) - frame, frame)]
    before = np.mean(energy[stop // frame - 5 : stop // frame])
    for k in range(stop // frame, len(energy)):
        if db(energy[k]) < db(before) - drop_db:
            return (k * frame - stop) / SAMPLE_RATE
    return len(samples) / SAMPLE_RATE


def test_impulse_response_falls_60_db_in_rt60():
    rt60 = 0.5
    h = augment.impulse_response(rt60, np.random.default_rng(RNG_SEED))
    assert len(h) == int(rt60 * SAMPLE_RATE) and abs(np.sum(h**2) - 1) < 1e-6
    early = np.mean(h[int(0.01 * SAMPLE_RATE) : int(0.06 * SAMPLE_RATE)] ** 2)
    late = np.mean(h[int(0.44 * SAMPLE_RATE) : int(0.49 * SAMPLE_RATE)] ** 2)
    # between 35 ms and 465 ms the energy should fall 60 × 0.43 / 0.5 ≈ 52 dB (noise: a few dB)
    assert 45 < db(early) - db(late) < 58


@pytest.mark.parametrize("rt60", [0.2, 0.8])
def test_reverb_lengthens_the_decay(rt60):
    dry = tone_burst()
    stop = int(0.5 * SAMPLE_RATE)
    wet = augment.reverb(dry, rt60, np.random.default_rng(RNG_SEED))
    assert len(wet) == len(dry) + int(rt60 * SAMPLE_RATE) - 1
    assert decay_time(dry, stop) <= 0.01  # the dry tone stops within a frame
    tail = decay_time(wet, stop)
    assert 0.1 * rt60 < tail < rt60, tail  # 30 dB of a 60 dB decay, from a level the direct sound props up
    assert decay_time(augment.reverb(dry, 0.8, np.random.default_rng(1)), stop) > decay_time(
        augment.reverb(dry, 0.2, np.random.default_rng(1)), stop
    )


@pytest.mark.parametrize("snr", [5.0, 15.0, 25.0])
@pytest.mark.parametrize("kind", augment.NOISE_KINDS)
def test_noise_is_added_at_the_asked_snr(kind, snr):
    speech = white(2.0)
    noise = room_noise(kind, 2.0, seed=4)
    mixed = augment.add_noise(speech, noise, snr)
    added = mixed.astype(np.float64) - speech
    measured = db(np.mean(speech.astype(np.float64) ** 2)) - db(np.mean(added**2))
    assert abs(measured - snr) < 0.05, measured
    assert np.corrcoef(added, np.resize(noise, len(speech)))[0, 1] > 0.999  # it is that noise, scaled


def test_telephone_removes_what_a_phone_line_cannot_carry():
    x = white(2.0)
    phone = augment.telephone(x)
    assert len(phone) == len(x)
    kept = band_energy(phone, 500, 3000) / band_energy(x, 500, 3000)
    assert kept > 0.8  # the voice band passes
    assert band_energy(phone, 4000, 8000) < 1e-4 * band_energy(x, 4000, 8000)  # above 4 kHz: gone (8 kHz rate)
    assert band_energy(phone, 20, 250) < 0.01 * band_energy(x, 20, 250)  # below 300 Hz: gone


def test_far_field_is_duller_quieter_and_longer():
    x = white(1.0)
    rng = np.random.default_rng(RNG_SEED)
    far = augment.far_field(x, rng)
    assert len(far) > len(x)  # the room's tail
    assert db(np.mean(far**2)) < db(np.mean(x**2)) - 9  # 10–20 dB lower, the tail spreading a little energy
    share = band_energy(far, 6000, 8000) / band_energy(far, 0, 8001)
    assert band_energy(x, 6000, 8000) / band_energy(x, 0, 8001) > 0.2 and share < 1e-4  # low-passed at 3–6 kHz


def test_mu_law_quantises_to_256_levels_and_keeps_the_signal():
    x = np.linspace(-0.9, 0.9, 20001).astype(np.float32)
    y = augment.mu_law(x)
    assert len(np.unique(y)) <= 256
    assert np.max(np.abs(y - x)) < 0.04  # coarse at full scale (μ-law steps are about 3 % there)
    quiet = np.abs(x) < 0.01
    assert np.max(np.abs(y - x)[quiet]) < 0.001  # and fine near zero, which is what μ-law is for
    assert 0 < np.mean(np.abs(y - x)) < 0.02


def test_overlap_mixes_the_other_lines_tail_at_the_asked_level():
    line, other = white(2.0, seed=1), white(3.0, seed=2) * 3
    out = augment.overlap(line, other, 15.0, 0.5, at_start=True)
    n = int(0.5 * SAMPLE_RATE)
    assert len(out) == len(line)
    added = out.astype(np.float64) - line
    assert np.allclose(added[n:], 0)  # only the first half second changed
    assert np.corrcoef(added[:n], other[-n:])[0, 1] > 0.999  # by the other line's tail
    assert abs(db(np.mean(line.astype(np.float64) ** 2)) - db(np.mean(added[:n] ** 2)) - 15.0) < 0.1
    end = augment.overlap(line, other, 15.0, 0.5, at_start=False).astype(np.float64) - line
    assert np.allclose(end[:-n], 0) and np.corrcoef(end[-n:], other[:n])[0, 1] > 0.999  # or its head, at the end


def test_spec_augment_masks_the_asked_widths():
    feats = np.random.default_rng(0).normal(size=(80, 500)).astype(np.float32)
    fill = float(feats.mean())
    for seed in range(20):
        out = augment.spec_augment(
            feats, np.random.default_rng(seed), freq_masks=1, freq_width=12, time_masks=1, time_width=20, frames=300
        )
        masked_rows = np.all(out == fill, axis=1)
        masked_cols = np.all(out == fill, axis=0)
        assert masked_rows.sum() <= 12 and masked_cols.sum() <= 20
        assert not masked_cols[300:].any()  # time masks stay in the speech
        if masked_rows.any():  # one band, contiguous
            rows = np.flatnonzero(masked_rows)
            assert rows[-1] - rows[0] + 1 == len(rows)
        changed = out != feats
        assert np.array_equal(changed, masked_rows[:, None] | masked_cols[None, :])  # nothing else touched
    widths = [
        np.all(augment.spec_augment(feats, np.random.default_rng(s), freq_width=12) == fill, axis=1).sum()
        for s in range(40)
    ]
    assert max(widths) > 12  # two masks of up to 12 can reach past one
    assert np.array_equal(feats, np.random.default_rng(0).normal(size=(80, 500)).astype(np.float32))  # input kept


def test_clinic_chain_is_seeded_and_varied():
    x, other = white(1.5, seed=3), white(1.0, seed=4)
    a = augment.clinic(x, np.random.default_rng(11), other=other)
    b = augment.clinic(x, np.random.default_rng(11), other=other)
    assert np.array_equal(a.samples, b.samples) and a.conditions == b.conditions  # same seed, same recording
    runs = [augment.clinic(x, np.random.default_rng(s), other=other) for s in range(60)]
    seen = {c.split()[0] for r in runs for c in r.conditions}
    assert seen == {"overlap", "far", "reverb", "noise", "telephone", "μ-law"}
    assert any(not r.conditions for r in runs)  # some lines stay clean
    for r in runs:
        peak = db(float(np.abs(r.samples).max()) ** 2)
        assert r.samples.dtype == np.float32 and -26.5 < peak < -2.5  # a recorder's level, far field lower
