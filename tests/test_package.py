"""The package's own shape: importing a low layer loads nothing above it."""

import subprocess
import sys
from pathlib import Path

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


def test_the_run_keeps_out_of_the_users_cache():
    from kogata.home import home, models_dir

    users = (Path.home() / ".cache" / "kogata").resolve()
    for folder in (home(), models_dir()):
        assert not folder.resolve().is_relative_to(users), f"{folder} lies in the user's cache {users}"
