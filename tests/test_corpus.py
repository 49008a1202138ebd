"""The writer-split corpus (data/corpus) stays well formed: every visit pairs a transcript with a reference whose
evidence ids exist, whose drug statuses and labels are known, and whose split matches its writer's."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "data" / "corpus"
SPLIT_OF_WRITER = {
    "a": "train",
    "b": "train",
    "c": "train",
    "d": "dev",
    "e": "test",
    "f": "test",
    "g": "train",
    "h": "train",
    "i": "train",
    "j": "dev",
    "k": "dev",
    "l": "dev",
    "m": "fresh3",
    "n": "fresh3",
    "o": "fresh3",
}


def _checker():
    spec = importlib.util.spec_from_file_location("check_corpus", ROOT / "scripts" / "check_corpus.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("writer", sorted(SPLIT_OF_WRITER))
def test_each_writer_folder_is_well_formed_and_split_by_writer(writer):
    check = _checker()
    folder = CORPUS / writer
    references = sorted(folder.glob("*.json"))
    assert len(references) == (50 if writer in "abcdef" else 12)  # the post-freeze writers (g on) wrote 12 each
    for path in references:
        assert check.check_pair(path.with_suffix(".txt"), path) == []
        reference = json.loads(path.read_text(encoding="utf-8"))
        assert reference["writer"] == writer and reference["split"] == SPLIT_OF_WRITER[writer]
