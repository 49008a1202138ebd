"""Speech adapters: low-rank (LoRA) changes to Whisper's decoder, merged into a model folder faster-whisper loads.

Whisper base hears Japanese well enough (kana error about 8 % on the synthetic visits) but spells a clinic's words
as everyday ones: 脈 as 幕, 痰 as 単, 五日分 as いつか分, 500mg as 500mm. An adapter trained on clinic speech
(`kogata.speech.tune`, torch) teaches the decoder those words; the encoder, which hears, is left as it is.

An adapter is a `.npz` file: for each adapted decoder matrix W (CTranslate2 name), `NAME|A` (rank × in) and
`NAME|B` (out × rank, the LoRA scale folded in), float16, and `meta` (JSON: base model sha256, rank, what it was
trained on). Merging is numpy only (W + B·A written into a copy of model.bin), done once per adapter and cached
under $KOGATA_HOME/models/whisper-base+ADAPTER-SHA/, so running kogata needs no torch.

The bundled `medical` adapter is the default: kogata/speech/data/medical_adapter.npz (how it was made: its meta),
trained on one clean synthetic voice. The bundled `clinic` adapter (data/clinic_adapter.npz) was trained on many
voices recorded as a clinic might (kogata.speech.augment): better on real voices, worse on the synthetic visits
(README, "Training audio that looks like a clinic").
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import zipfile
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

import numpy as np

from kogata.errors import InputError, ModelError
from kogata.home import home
from kogata.speech import ct2_file, weights

DEFAULT = "clinic"  # many voices and rooms: better than none and than medical on real voices (README, speech)
BUNDLED = {"medical": "data/medical_adapter.npz", "clinic": "data/clinic_adapter.npz"}
_MERGED_STAMP = "adapter.json"


@dataclass(frozen=True)
class SpeechAdapter:
    name: str
    path: Path
    sha256: str
    meta: dict
    deltas: dict[str, tuple[np.ndarray, np.ndarray]]  # CTranslate2 weight name → (A, B)

    def delta(self, name: str) -> np.ndarray:
        a, b = self.deltas[name]
        return b.astype(np.float32) @ a.astype(np.float32)


def resolve(adapter: str | Path | None) -> Path | None:
    """None or "none" → no adapter; a bundled name (medical, clinic) → its file; otherwise a path that must exist."""
    if adapter is None or str(adapter) == "none":
        return None
    if str(adapter) in BUNDLED:
        return Path(str(files("kogata.speech").joinpath(BUNDLED[str(adapter)])))
    path = Path(adapter)
    if not path.is_file():
        raise InputError(
            f"speech adapter not found: {adapter} (a .npz file from `kogata tune-speech`, "
            f"one of {', '.join(BUNDLED)}, or none)"
        )
    return path


def load(path: str | Path) -> SpeechAdapter:
    path = Path(path)
    try:
        raw = path.read_bytes()
        if not zipfile.is_zipfile(io.BytesIO(raw)):  # numpy would read it as a pickle and advise loading it unsafely
            raise ValueError("not a zip of arrays")
        with np.load(io.BytesIO(raw), allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
    except (OSError, ValueError) as e:
        raise InputError(f"speech adapter {path} is not a readable .npz file ({e})") from None
    meta_raw = arrays.pop("meta", None)
    try:
        meta = json.loads(str(meta_raw)) if meta_raw is not None else {}
    except json.JSONDecodeError:
        raise InputError(f"speech adapter {path}: its meta is not JSON") from None
    deltas: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for key in arrays:
        name, _, part = key.rpartition("|")
        if part not in ("A", "B") or not name:
            raise InputError(f"speech adapter {path}: unexpected array {key!r} (expected NAME|A and NAME|B)")
        if part == "A":
            if name + "|B" not in arrays:
                raise InputError(f"speech adapter {path}: {name}|A has no {name}|B")
            a, b = arrays[key], arrays[name + "|B"]
            if a.ndim != 2 or b.ndim != 2 or a.shape[0] != b.shape[1]:
                raise InputError(f"speech adapter {path}: {name} has shapes {a.shape} and {b.shape}")
            deltas[name] = (a, b)
    if not deltas:
        raise InputError(f"speech adapter {path} holds no matrices")
    return SpeechAdapter(path.stem, path, hashlib.sha256(raw).hexdigest(), meta, deltas)


def rescale(path: str | Path, scale: float, out: str | Path) -> Path:
    """A copy of the adapter at `path` whose change to the model is × `scale` (each B × scale; meta merge_scale
    records the product), written to `out`: a milder (below 1) or stronger adapter without retraining."""
    found, out = load(path), Path(out)
    if out.suffix != ".npz":
        raise InputError(f"the speech adapter is written as .npz: {out}")
    meta = found.meta | {"merge_scale": round(float(found.meta.get("merge_scale", 1.0)) * scale, 4)}
    arrays = {}
    for name, (a, b) in found.deltas.items():
        arrays[name + "|A"] = a
        arrays[name + "|B"] = (b.astype(np.float32) * scale).astype(np.float16)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.stem + ".partial.npz")
    np.savez(tmp, meta=np.array(json.dumps(meta, ensure_ascii=False)), **arrays)
    tmp.replace(out)
    return out


def merge(base_dir: Path, adapter: SpeechAdapter, out_dir: Path) -> Path:
    """Write Whisper base with `adapter` merged into out_dir (model.bin, config, tokenizer, vocabulary)."""
    trained_on = adapter.meta.get("base_sha256")
    if trained_on and trained_on != weights.WHISPER_BASE.sha256:
        raise ModelError(f"speech adapter {adapter.path} was trained on another Whisper model (sha256 {trained_on})")
    table = ct2_file.variables(base_dir / "model.bin")
    new_values = {}
    for name in adapter.deltas:
        var = table.get(name + "/weight")
        if var is None:
            raise ModelError(f"speech adapter {adapter.path}: Whisper base has no matrix {name}")
        base = ct2_file.read_array(base_dir / "model.bin", var).astype(np.float32)
        delta = adapter.delta(name)
        if delta.shape != base.shape:
            raise ModelError(f"speech adapter {adapter.path}: {name} is {delta.shape}, Whisper base has {base.shape}")
        new_values[name + "/weight"] = base + delta
    out_dir.mkdir(parents=True, exist_ok=True)
    for side in weights.SIDE_FILES:
        shutil.copyfile(base_dir / side, out_dir / side)
    ct2_file.write_patched(base_dir / "model.bin", out_dir / "model.bin", new_values)
    stamp = {
        "adapter": str(adapter.path),
        "adapter_sha256": adapter.sha256,
        "base_sha256": weights.WHISPER_BASE.sha256,
        "size": (out_dir / "model.bin").stat().st_size,
    }
    (out_dir / _MERGED_STAMP).write_text(json.dumps(stamp, indent=1), encoding="utf-8")
    return out_dir


def _merged_dir(name: str, sha256: str) -> Path:
    # a merge is kogata's own product, not shipped weights: it lives in $KOGATA_HOME, not in $KOGATA_MODELS
    return home() / "models" / f"whisper-base+{name}-{sha256[:12]}"


def state(adapter: str | Path | None = DEFAULT) -> dict:
    """What model_dir(adapter) would load, without building anything (for `kogata models`)."""
    path = resolve(adapter)
    if path is None:
        return {"adapter": "none"}
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    merged = _merged_dir(path.stem, digest)
    return {
        "adapter": str(adapter),
        "file": str(path),
        "size": path.stat().st_size,
        "sha256": digest,
        "merged": (merged / _MERGED_STAMP).is_file(),
        "path": str(merged),
    }


def model_dir(adapter: str | Path | None = DEFAULT, *, progress: bool = True) -> Path:
    """The folder faster-whisper should load: Whisper base, with the adapter merged (built once, then cached)."""
    base = weights.ensure(progress=progress)
    path = resolve(adapter)
    if path is None:
        return base
    found = load(path)
    out = _merged_dir(found.name, found.sha256)
    stamp = out / _MERGED_STAMP
    if stamp.is_file() and (out / "model.bin").is_file():
        try:
            known = json.loads(stamp.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            known = {}
        if (
            known.get("adapter_sha256") == found.sha256
            and known.get("base_sha256") == weights.WHISPER_BASE.sha256
            and known.get("size") == (out / "model.bin").stat().st_size
        ):
            return out
    stamp.unlink(missing_ok=True)  # the stamp is written last: a folder without it is rebuilt
    for older in base.parent.glob(f"whisper-base+{found.name}-*"):  # an earlier version of this adapter (145 MB)
        if older != out:
            shutil.rmtree(older, ignore_errors=True)
    return merge(base, found, out)
