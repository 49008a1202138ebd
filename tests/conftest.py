"""The whole run writes into a temporary KOGATA_HOME and reads verified weights from KOGATA_MODELS.

Both are set here, before kogata is imported, so no test reads or writes the user's ~/.cache/kogata: adapters,
visit databases, knowledge packs, tuning caches and speech-adapter merges land in a folder deleted afterwards.
The weights are the shipped, read-only input: KOGATA_MODELS (the Makefile points it at .venv/models, which
`make models` fills; unset, this checkout's .venv/models).
"""

import os
import shutil
import tempfile
from pathlib import Path

_HOME = tempfile.mkdtemp(prefix="kogata-test-home-")
os.environ["KOGATA_HOME"] = _HOME
os.environ.setdefault("KOGATA_MODELS", str(Path(__file__).resolve().parent.parent / ".venv" / "models"))
# Help is Japanese under a Japanese locale (kogata.cli.japanese_wanted); the suite reads the English one whatever the
# developer's locale, and tests/test_cli_help.py sets the locale itself.
for _name in ("LC_ALL", "LC_MESSAGES"):
    os.environ.pop(_name, None)
os.environ["LANG"] = "C.UTF-8"

import pytest  # noqa: E402

import kogata  # noqa: E402
from kogata import weights  # noqa: E402
from kogata.engine.registry import get_spec  # noqa: E402

pytest_plugins = ["leak_guard"]  # no API key or watched name in any log line of the run


def pytest_unconfigure(config):
    shutil.rmtree(_HOME, ignore_errors=True)


@pytest.fixture(scope="session")
def model_file():
    """The verified GGUF file of a bundled model (a name or alias; None: the default), from KOGATA_MODELS,
    joined or checked once per model for the whole session."""
    found: dict[str, Path] = {}

    def resolve(name: str | None = None) -> Path:
        spec = get_spec(name)
        if spec.name not in found:
            found[spec.name] = weights.ensure(spec, progress=False)
        return found[spec.name]

    return resolve


@pytest.fixture(scope="session")
def llm(model_file):
    """The bundled default model, loaded once for the whole session (real weights, 2 threads)."""
    model_file()
    return kogata.load(progress=False)


@pytest.fixture(scope="session")
def small_llm(model_file):
    """The 0.5B edge profile, with a small context so overflow is cheap to provoke."""
    model_file("qwen2.5-coder-0.5b")
    return kogata.load("qwen2.5-coder-0.5b", n_ctx=512, progress=False)
