"""The package's own shape: importing a low layer loads nothing above it."""

import subprocess
import sys

import kogata


def test_importing_ja_loads_neither_the_engine_nor_llama_cpp():
    code = "import sys, kogata.ja; print(sorted(m for m in ('xllamacpp', 'kogata.engine') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_the_verbs_resolve_on_first_use():
    from kogata.engine import generate
    from kogata.tasks.karte import karte

    assert kogata.generate is generate and kogata.karte is karte
    assert set(kogata.__all__) <= set(dir(kogata))
