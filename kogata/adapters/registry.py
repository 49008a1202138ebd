"""Registered LoRA adapters: $KOGATA_HOME/adapters/NAME/ holds adapter.gguf and meta.json. Adapters that ship
with kogata (kogata/adapters/bundled/NAME/, the same two files) are listed too; one the user registers under
the same name takes their place, and a shipped one cannot be removed.

meta.json records what the adapter is for and how it was made: the base model (name and GGUF sha256),
the training data's sha256, the date, rank, alpha, epochs, measured time and memory, and evaluation figures.
An adapter only fits the base it was trained on; `resolve` refuses any other before the model loads.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kogata.engine.registry import get_spec
from kogata.errors import InputError
from kogata.home import home as kogata_home

ADAPTER_FILE = "adapter.gguf"
# GGUF metadata an adapter file carries about its base, written by kogata.tune.convert and checked by resolve.
BASE_NAME_KEY = "kogata.base.name"
BASE_SHA_KEY = "kogata.base.sha256"
META_FILE = "meta.json"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


@dataclass(frozen=True)
class Adapter:
    name: str
    folder: Path
    meta: dict[str, Any]

    @property
    def path(self) -> Path:
        return self.folder / ADAPTER_FILE

    @property
    def base(self) -> str:
        return self.meta.get("base", {}).get("name", "")

    @property
    def bundled(self) -> bool:
        return self.folder.parent == BUNDLED


BUNDLED = Path(__file__).resolve().parent / "bundled"


def home() -> Path:
    return kogata_home() / "adapters"


def check_name(name: str) -> str:
    if not _NAME.match(name or ""):
        raise InputError(
            f"adapter name {name!r} is not usable: use 1–64 letters, digits, '.', '_' or '-', "
            f"starting with a letter or digit"
        )
    return name


def _read(folder: Path) -> Adapter | None:
    try:
        meta = json.loads((folder / META_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return Adapter(folder.name, folder, meta) if (folder / ADAPTER_FILE).is_file() else None


def _complete(root: Path) -> dict[str, Adapter]:
    if not root.is_dir():
        return {}
    found = (_read(folder) for folder in sorted(root.iterdir()) if folder.is_dir() and not folder.name.startswith("."))
    return {a.name: a for a in found if a is not None}


def list_adapters() -> list[Adapter]:
    """Every complete adapter, the user's and the shipped ones (a folder being written, or one missing its files,
    is not listed)."""
    return sorted({**_complete(BUNDLED), **_complete(home())}.values(), key=lambda a: a.name)


def get(name: str) -> Adapter:
    adapter = _read(home() / check_name(name)) or _read(BUNDLED / name)
    if adapter is None:
        known = ", ".join(a.name for a in list_adapters()) or "none yet; make one with `kogata tune`"
        raise InputError(f"no adapter named {name!r} (registered: {known})")
    return adapter


def save(name: str, gguf_file: Path, meta: dict[str, Any], *, extra: dict[str, Path] | None = None) -> Adapter:
    """Register `gguf_file` under `name` with `meta` (and `extra` files or folders, by their names in the
    adapter folder). The folder is assembled beside its place and renamed in: never half an adapter."""
    folder = home() / check_name(name)
    if folder.exists():
        raise InputError(f"an adapter named {name!r} exists already; remove it first (kogata adapters remove {name})")
    tmp = home() / f".{name}.{os.getpid()}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        shutil.copyfile(gguf_file, tmp / ADAPTER_FILE)
        for target, source in (extra or {}).items():
            if Path(source).is_dir():
                shutil.copytree(source, tmp / target)
            else:
                shutil.copyfile(source, tmp / target)
        (tmp / META_FILE).write_text(json.dumps({"name": name, **meta}, ensure_ascii=False, indent=2), encoding="utf-8")
        os.replace(tmp, folder)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return get(name)


def record_eval(name: str, key: str, figures: dict[str, Any]) -> Adapter:
    """Add evaluation figures (e.g. key="karte", {"key_fact_recall": 0.52, …}) to an adapter's meta.json
    (a shipped adapter's figures are the ones measured before it shipped: they are not rewritten)."""
    adapter = get(name)
    if adapter.bundled:
        return adapter
    meta = dict(adapter.meta)
    meta.setdefault("eval", {})[key] = figures
    tmp = adapter.folder / f".{META_FILE}.{os.getpid()}.tmp"
    tmp.write_text(json.dumps(meta, ensure_ascii=False, indent=2), encoding="utf-8")
    os.replace(tmp, adapter.folder / META_FILE)
    return get(name)


def work_dir(name: str) -> Path:
    """Where an unfinished `kogata tune` run keeps its checkpoint (not an adapter until it completes)."""
    return home() / ".work" / check_name(name)


def remove(name: str) -> list[Path]:
    """Remove the adapter `name` and any unfinished run of that name; return what was removed."""
    removed = [p for p in (home() / check_name(name), work_dir(name)) if p.is_dir()]
    if not removed:
        if get(name).bundled:  # else get raised, naming the adapters there are
            raise InputError(f"adapter {name!r} ships with kogata and cannot be removed")
    for folder in removed:
        shutil.rmtree(folder)
    return removed


def looks_like_path(value: str) -> bool:
    return os.sep in value or "/" in value or value.endswith(".gguf") or Path(value).is_file()


def resolve(adapter: str, model: str | None = None) -> Path:
    """The GGUF file for `adapter` (a registered NAME or a file path), checked against the base `model`
    (a name or alias; None: the default). An adapter made for another base is refused with the reason."""
    from kogata.engine.gguf import read_metadata

    spec = get_spec(model)
    if looks_like_path(adapter):
        path = Path(adapter)
        if not path.is_file():
            raise InputError(f"adapter file {adapter} does not exist")
        meta = read_metadata(path)
        if meta.get("general.type", "adapter") != "adapter":
            raise InputError(f"{adapter} is a model file, not a LoRA adapter")
        base, sha, label = meta.get(BASE_NAME_KEY, ""), meta.get(BASE_SHA_KEY, ""), f"adapter file {adapter}"
    else:
        found = get(adapter)
        path, base, sha, label = (
            found.path,
            found.base,
            found.meta.get("base", {}).get("sha256", ""),
            f"adapter {adapter!r}",
        )
    if base and base != spec.name:
        raise InputError(
            f"{label} was trained on {base}, not on {spec.name}: an adapter only fits its own base "
            f"model; add --model {base}"
        )
    if sha and sha != spec.sha256:
        raise InputError(
            f"{label} was trained on another build of {spec.name} (sha256 {sha[:12]}…, this one "
            f"{spec.sha256[:12]}…); train it again on this one"
        )
    return path
