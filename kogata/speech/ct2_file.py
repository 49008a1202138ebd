"""The CTranslate2 `model.bin` layout, read and patched in place: enough to merge a speech adapter without torch.

Format (version 6, little-endian): u32 version, string spec name, u32 spec revision, u32 variable count, then per
variable: string name, u8 rank, u32 × rank shape, u8 dtype, u32 byte count, the bytes; then aliases. A string is
a u16 length (NUL included) and the bytes. Only the variable table is needed here: a merge rewrites some float16
matrices with new values of the same shape, so every other byte of the file stays as it was.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

from kogata.errors import ModelError

_DTYPES = {0: np.float32, 1: np.int8, 2: np.int16, 3: np.int32, 4: np.float16}  # 5, bfloat16: no numpy type


@dataclass(frozen=True)
class Variable:
    name: str
    offset: int  # of the data in the file
    shape: tuple[int, ...]
    dtype: int  # CTranslate2's code (4 is float16)
    nbytes: int


def _u(f: BinaryIO, fmt: str) -> int:
    size = struct.calcsize(fmt)
    raw = f.read(size)
    if len(raw) != size:
        raise EOFError
    return struct.unpack(fmt, raw)[0]


def _string(f: BinaryIO) -> str:
    n = _u(f, "<H")
    return f.read(n)[:-1].decode("utf-8")


def variables(path: str | Path) -> dict[str, Variable]:
    """The variable table of a model.bin (names → where their data lies), read without loading the data."""
    path = Path(path)
    out: dict[str, Variable] = {}
    try:
        with path.open("rb") as f:
            version = _u(f, "<I")
            if version != 6:
                raise ModelError(f"{path}: CTranslate2 model format {version}, expected 6")
            _string(f)  # spec name, e.g. WhisperSpec
            _u(f, "<I")  # spec revision
            for _ in range(_u(f, "<I")):
                name = _string(f)
                shape = tuple(_u(f, "<I") for _ in range(_u(f, "<B")))
                dtype, nbytes = _u(f, "<B"), _u(f, "<I")
                out[name] = Variable(name, f.tell(), shape, dtype, nbytes)
                f.seek(nbytes, os.SEEK_CUR)
    except (EOFError, UnicodeDecodeError, struct.error):
        raise ModelError(f"{path} is not a complete CTranslate2 model file") from None
    if out and (last := max(out.values(), key=lambda v: v.offset)).offset + last.nbytes > path.stat().st_size:
        raise ModelError(f"{path} is truncated")
    return out


def read_array(path: str | Path, var: Variable) -> np.ndarray:
    if var.dtype not in _DTYPES:
        raise ModelError(f"{var.name}: CTranslate2 dtype {var.dtype} is not supported here")
    with Path(path).open("rb") as f:
        f.seek(var.offset)
        data = f.read(var.nbytes)
    return np.frombuffer(data, _DTYPES[var.dtype]).reshape(var.shape)


def read_arrays(path: str | Path, prefix: str = "") -> dict[str, np.ndarray]:
    """Every array variable whose name starts with `prefix` (scalars and strings are left out)."""
    table = variables(path)
    return {
        name: read_array(path, v)
        for name, v in table.items()
        if name.startswith(prefix) and v.shape and v.dtype in _DTYPES
    }


def write_patched(source: str | Path, target: str | Path, new_values: dict[str, np.ndarray]) -> None:
    """Copy `source` to `target` (atomically) with the named variables' data replaced, each cast to its own dtype."""
    table = variables(source)
    target = Path(target)
    tmp = target.with_name(f"{target.name}.{os.getpid()}.partial")
    try:
        with Path(source).open("rb") as src, tmp.open("wb") as dst:
            while chunk := src.read(1 << 24):
                dst.write(chunk)
            for name, value in new_values.items():
                var = table.get(name)
                if var is None:
                    raise ModelError(f"{source} has no variable {name}")
                data = np.ascontiguousarray(value, dtype=_DTYPES[var.dtype]).tobytes()
                if value.shape != var.shape or len(data) != var.nbytes:
                    raise ModelError(f"{name}: shape {value.shape} does not fit {var.shape}")
                dst.seek(var.offset)
                dst.write(data)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
