import pytest

import kogata


@pytest.fixture(scope="session")
def llm():
    """The bundled default model, loaded once for the whole session (real weights, 2 threads)."""
    return kogata.load(progress=False)


@pytest.fixture(scope="session")
def small_llm():
    """The 0.5B edge profile, with a small context so overflow is cheap to provoke."""
    return kogata.load("qwen2.5-coder-0.5b", n_ctx=512, progress=False)
