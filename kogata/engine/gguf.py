"""Read the metadata header of a GGUF file: architecture, context length, chat template, vocabulary.

Only the key/value header is parsed (the tensors are never touched), so reading the vocabulary of a
1 GB model takes a fraction of a second and needs no extra dependency.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any, BinaryIO

from kogata.errors import ModelError

_SCALARS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d"}
_STRING, _ARRAY = 8, 9


def _read(f: BinaryIO, fmt: str) -> Any:
    size = struct.calcsize(fmt)
    data = f.read(size)
    if len(data) != size:
        raise ModelError(f"{getattr(f, 'name', 'GGUF file')} ends inside its header: the file is truncated")
    return struct.unpack(fmt, data)[0]


def _read_string(f: BinaryIO) -> str:
    n = _read(f, "<Q")
    return f.read(n).decode("utf-8", errors="replace")


def _read_value(f: BinaryIO, kind: int) -> Any:
    if kind == _STRING:
        return _read_string(f)
    if kind == _ARRAY:
        item_kind, n = _read(f, "<I"), _read(f, "<Q")
        if item_kind in _SCALARS:
            fmt = _SCALARS[item_kind]
            raw = f.read(struct.calcsize(fmt) * n)
            return list(struct.unpack(f"<{n}{fmt[1]}", raw))
        return [_read_value(f, item_kind) for _ in range(n)]
    if kind in _SCALARS:
        return _read(f, _SCALARS[kind])
    raise ModelError(f"unknown GGUF value type {kind}: the file is corrupt or from a newer format")


def read_metadata(path: str | Path) -> dict[str, Any]:
    """Return every key/value pair of the GGUF header at `path`."""
    with open(path, "rb") as f:
        if f.read(4) != b"GGUF":
            raise ModelError(f"{path} is not a GGUF model file (bad magic bytes)")
        version = _read(f, "<I")
        if version < 2:
            raise ModelError(f"{path} is GGUF version {version}; version 2 or later is needed")
        _read(f, "<Q")  # tensor count
        n_kv = _read(f, "<Q")
        meta: dict[str, Any] = {"GGUF.version": version}
        for _ in range(n_kv):
            key = _read_string(f)
            meta[key] = _read_value(f, _read(f, "<I"))
        return meta
