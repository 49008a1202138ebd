"""The model store joins chunks, verifies sha256, and detects and repairs partial or corrupt files.

Uses a tiny model made of real files in a throwaway package, so every failure mode is cheap to provoke.
"""

import hashlib
import sys

import pytest

from kogata import weights
from kogata.engine.registry import DEFAULT_MODEL, MODELS, get_spec
from kogata.errors import ModelError
from kogata.weights import ModelSpec, Part


@pytest.fixture
def tiny(tmp_path, monkeypatch):
    chunks = [b"GGUF" + b"a" * 1000, b"b" * 777, b"c" * 5]
    pkg_root = tmp_path / "site"
    for i, data in enumerate(chunks, 1):
        pkg = pkg_root / f"kogata_tiny_part{i}"
        (pkg / "data").mkdir(parents=True)
        (pkg / "__init__.py").write_text("")
        (pkg / "data" / "chunk.bin").write_bytes(data)
    monkeypatch.syspath_prepend(str(pkg_root))
    monkeypatch.setenv("KOGATA_MODELS", str(tmp_path / "models"))
    whole = b"".join(chunks)
    spec = ModelSpec(
        name="tiny-test",
        filename="tiny.gguf",
        upstream="test",
        size=len(whole),
        parts=tuple(Part(f"kogata-tiny-part{i}", "1", f"kogata_tiny_part{i}", "data/chunk.bin") for i in range(1, 4)),
        sha256=hashlib.sha256(whole).hexdigest(),
        licence="test",
        licence_file="-",
        chat_template="-",
        instruct=False,
        good_for="tests",
        extra="tiny",
    )
    yield spec, whole
    for i in range(1, 4):
        sys.modules.pop(f"kogata_tiny_part{i}", None)


def test_join_writes_verified_file(tiny):
    spec, whole = tiny
    assert weights.state(spec).state == "not-joined"
    path = weights.ensure(spec, progress=False)
    assert path.read_bytes() == whole
    assert weights.state(spec).state == "ready"
    assert not list(path.parent.glob("*.partial"))


def test_truncated_file_is_detected_and_rebuilt(tiny):
    spec, whole = tiny
    path = weights.ensure(spec, progress=False)
    path.write_bytes(whole[:100])  # an interrupted copy
    assert weights.state(spec).state == "corrupt"
    assert weights.ensure(spec, progress=False).read_bytes() == whole


def test_same_size_corruption_is_caught_by_sha256(tiny):
    spec, whole = tiny
    path = weights.ensure(spec, progress=False)
    path.write_bytes(whole[:-1] + b"X")  # same size, one byte changed: the stamp no longer matches
    assert weights.state(spec).state == "unverified"
    assert weights.ensure(spec, progress=False).read_bytes() == whole


def test_damaged_package_is_refused_with_fix(tiny):
    spec, _ = tiny
    import kogata_tiny_part2  # noqa: F401  (resolve its folder)

    chunk = weights.part_paths(spec)[1]
    chunk.write_bytes(b"z" * 777)
    with pytest.raises(ModelError, match="force-reinstall"):
        weights.ensure(spec, progress=False)
    assert not weights.model_path(spec).exists()


def test_missing_package_says_what_to_install(tiny):
    spec, _ = tiny
    broken = ModelSpec(
        **{**spec.__dict__, "parts": spec.parts + (Part("kogata-nowhere", "1", "kogata_nowhere_xyz", "data/x.bin"),)}
    )
    current = weights.state(broken)
    assert current.state == "parts-missing"
    with pytest.raises(ModelError, match=r"kogata\[tiny\]"):
        weights.ensure(broken, progress=False)


def test_registry_names_and_aliases():
    assert get_spec().name == DEFAULT_MODEL == "qwen2.5-coder-1.5b"
    assert get_spec("small").name == "qwen2.5-coder-0.5b"
    assert get_spec("Gemma-270M").name == "gemma-3-270m"
    with pytest.raises(ModelError) as err:
        get_spec("gpt-4")
    for name in MODELS:
        assert name in str(err.value)


def test_registry_matches_the_pinned_packages():
    # the default model is the 22-part package set, 1,117,320,768 bytes, each part pinned
    spec = get_spec()
    assert len(spec.parts) == 22 and spec.size == 1_117_320_768
    assert all(p.version == "0.2.0" for p in spec.parts)
    assert all(len(m.sha256) == 64 for m in MODELS.values())
