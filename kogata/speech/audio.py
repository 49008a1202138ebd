"""Audio in: a file, its bytes or samples → 16 kHz mono float32, with a clear error for audio kogata cannot use.

Decoding goes through PyAV (FFmpeg, a faster-whisper dependency), so wav, mp3, m4a, flac, ogg and webm all read the
same way. Decoding stops as soon as the audio passes the length limit, so a ten-hour file is refused in
milliseconds instead of filling memory first.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from kogata.errors import InputError

SAMPLE_RATE = 16_000
MAX_SECONDS = 60 * 60  # one consultation; longer recordings are split first (a 60-minute array is 230 MB)
SILENT_PEAK = 10 ** (-60 / 20)  # −60 dBFS: below this there is nothing a microphone picked up

# PyAV's container names → the name people know; anything else is refused with this list.
FORMATS = {
    "wav": "wav",
    "mp3": "mp3",
    "mov,mp4,m4a,3gp,3g2,mj2": "m4a",
    "flac": "flac",
    "ogg": "ogg",
    "matroska,webm": "webm",
}
SUPPORTED = "wav, mp3, m4a, flac (also ogg and webm)"


class AudioError(InputError):
    """Audio that is missing, corrupt, in a format kogata does not read, silent, or too long."""


def load_audio(
    source: str | Path | bytes | np.ndarray, *, max_seconds: float = MAX_SECONDS, sample_rate: int = SAMPLE_RATE
) -> np.ndarray:
    """16 kHz mono float32 samples in [-1, 1] from a file path, the file's bytes, or samples already at 16 kHz.

    Raises AudioError naming the problem: no such file, empty, corrupt, not an audio format kogata reads, no audio
    track, longer than `max_seconds`, or silent.
    """
    if isinstance(source, np.ndarray):
        samples, name = check_samples(source), "<samples>"
    else:
        samples, name = _decode(source, max_seconds, sample_rate)
    seconds = len(samples) / sample_rate
    if seconds > max_seconds:
        raise AudioError(
            f"audio {name} is too long (録音が長すぎます): {_duration(seconds)}, the limit is "
            f"{_duration(max_seconds)}; split the recording"
        )
    if len(samples) < sample_rate // 10:
        raise AudioError(f"audio {name} is empty or shorter than 0.1 s (音声がありません)")
    peak = float(np.max(np.abs(samples)))
    if peak < SILENT_PEAK:
        level = "digital silence" if peak == 0 else f"peak {20 * np.log10(peak):.0f} dBFS"
        raise AudioError(
            f"audio {name} is silent (無音です): {_duration(seconds)} of {level}; "
            "check that the microphone is connected and not muted"
        )
    return samples


def _duration(seconds: float) -> str:
    minutes, secs = divmod(int(round(seconds)), 60)
    return f"{minutes} min {secs:02d} s" if minutes else f"{seconds:.1f} s"


def check_samples(samples: np.ndarray) -> np.ndarray:
    """Samples as float32, or AudioError when they are not mono float without NaN/inf."""
    if samples.ndim != 1:
        raise AudioError(f"audio samples must be mono (one dimension), got shape {samples.shape}")
    if not np.issubdtype(samples.dtype, np.floating):
        raise AudioError(f"audio samples must be float in [-1, 1] at 16 kHz, got dtype {samples.dtype}")
    samples = samples.astype(np.float32, copy=False)
    if not np.all(np.isfinite(samples)):
        raise AudioError("audio samples contain NaN or infinity")
    return samples


def _decode(source: str | Path | bytes, max_seconds: float, sample_rate: int) -> tuple[np.ndarray, str]:
    import av  # a faster-whisper dependency; imported here so that text-only kogata never loads FFmpeg

    if isinstance(source, (bytes, bytearray, memoryview)):
        name, data = "<bytes>", bytes(source)
        if not data:
            raise AudioError("audio is empty (0 bytes)")
        opened = io.BytesIO(data)
    else:
        path = Path(source)
        name = str(path)
        if not path.exists():
            raise AudioError(f"audio file not found: {path}")
        if path.is_dir():
            raise AudioError(f"audio path is a directory, not a file: {path}")
        if path.stat().st_size == 0:
            raise AudioError(f"audio file {path} is empty (0 bytes)")
        opened = str(path)
    try:
        container = av.open(opened, mode="r", metadata_errors="ignore")
    except (av.FFmpegError, ValueError, OSError) as e:  # FFmpeg found no demuxer that accepts the bytes
        raise AudioError(
            f"audio {name} is not a readable audio file (corrupt, or not {SUPPORTED}): {_reason(e)}"
        ) from None
    with container:
        fmt = container.format.name
        if fmt not in FORMATS:
            raise AudioError(
                f"audio {name} is in an unsupported format ({container.format.long_name or fmt}); "
                f"kogata reads {SUPPORTED}"
            )
        if not container.streams.audio:
            raise AudioError(f"audio {name} ({FORMATS[fmt]}) has no audio track")
        stream = container.streams.audio[0]
        declared = _declared_seconds(container, stream)
        if declared is not None and declared > max_seconds + 1:
            raise AudioError(
                f"audio {name} is too long (録音が長すぎます): {_duration(declared)}, the limit is "
                f"{_duration(max_seconds)}; split the recording"
            )
        resampler = av.AudioResampler(format="flt", layout="mono", rate=sample_rate)
        pieces: list[np.ndarray] = []
        total, limit = 0, int((max_seconds + 1) * sample_rate)
        try:
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    pieces.append(out.to_ndarray().reshape(-1))
                    total += pieces[-1].size
                if total > limit:  # the header lied or had no duration: stop decoding now
                    break
            for out in resampler.resample(None):
                pieces.append(out.to_ndarray().reshape(-1))
        except (av.FFmpegError, ValueError) as e:
            if not pieces:
                raise AudioError(f"audio {name} ({FORMATS[fmt]}) is corrupt: {_reason(e)}") from None
            # A damaged tail (a recording cut off mid-write) still leaves usable audio before it.
    samples = np.concatenate(pieces).astype(np.float32, copy=False) if pieces else np.zeros(0, np.float32)
    if samples.size == 0:
        raise AudioError(f"audio {name} ({FORMATS[fmt]}) holds no decodable audio (corrupt or empty)")
    return samples, name


def _declared_seconds(container, stream) -> float | None:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / 1_000_000  # AV_TIME_BASE
    return None


def _reason(e: Exception) -> str:
    return getattr(e, "strerror", None) or str(e) or type(e).__name__


def resample(samples: np.ndarray, rate: int, target: int = SAMPLE_RATE) -> np.ndarray:
    """Mono float samples at `rate` → float32 at `target` (FFmpeg's resampler, with its anti-alias filter)."""
    import av

    if rate == target:
        return samples.astype(np.float32, copy=False)
    frame = av.AudioFrame.from_ndarray(samples.astype(np.float32).reshape(1, -1), format="flt", layout="mono")
    frame.sample_rate = rate
    resampler = av.AudioResampler(format="flt", layout="mono", rate=target)
    out = [f.to_ndarray().reshape(-1) for f in resampler.resample(frame)]
    out += [f.to_ndarray().reshape(-1) for f in resampler.resample(None)]
    return np.concatenate(out).astype(np.float32, copy=False)


def write_wav(path: str | Path, samples: np.ndarray, sample_rate: int = SAMPLE_RATE) -> Path:
    """Write 16-bit PCM wav atomically (temporary file, then rename)."""
    import os

    import soundfile

    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    soundfile.write(tmp, samples, sample_rate, subtype="PCM_16", format="WAV")
    os.replace(tmp, path)
    return path
