"""The engine: a small GGUF model on the CPU, with constrained decoding and a Japanese glyph guard."""

from kogata.engine.generate import Response, Stats, generate, generate_json, stream_generate
from kogata.engine.model import Model, load
from kogata.engine.registry import DEFAULT_MODEL, MODELS, get_spec
from kogata.engine.remote import BackendError, RemoteModel, connect
from kogata.weights import ModelSpec

__all__ = [
    "BackendError",
    "DEFAULT_MODEL",
    "MODELS",
    "Model",
    "ModelSpec",
    "RemoteModel",
    "Response",
    "Stats",
    "connect",
    "generate",
    "generate_json",
    "get_spec",
    "load",
    "stream_generate",
]
