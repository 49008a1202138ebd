"""kogata (小型): a small, Japanese-first language-model system that runs offline on a CPU.

The verbs a user needs are named here and resolve on first use (PEP 562), so `import kogata.ja` does not load
the engine or llama.cpp:

    kogata.karte(transcript)                  # consultation → evidence-linked SOAP chart (no language model)
    llm = kogata.load()                       # the bundled default model
    kogata.karte(transcript, model=llm)       # …with the model drafting what the rules and the reader leave
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from kogata.errors import KogataError

if TYPE_CHECKING:
    from kogata.engine import generate, generate_json, load, stream_generate
    from kogata.speech import transcribe
    from kogata.tasks.ask import ask
    from kogata.tasks.call import call
    from kogata.tasks.karte import karte

__version__ = "0.1.0"

# verb → the module that defines it; imported the first time the verb is used
_VERBS = {
    "load": "kogata.engine",
    "generate": "kogata.engine",
    "stream_generate": "kogata.engine",
    "generate_json": "kogata.engine",
    "karte": "kogata.tasks.karte",
    "call": "kogata.tasks.call",
    "ask": "kogata.tasks.ask",
    "transcribe": "kogata.speech",
}

__all__ = [
    "KogataError",
    "ask",
    "call",
    "generate",
    "generate_json",
    "karte",
    "load",
    "stream_generate",
    "transcribe",
]


def __getattr__(name: str) -> Any:
    module = _VERBS.get(name)
    if module is None:
        raise AttributeError(f"module 'kogata' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_VERBS})
