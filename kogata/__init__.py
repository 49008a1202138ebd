"""kogata (小型): a small, Japanese-first language-model system that runs offline on a CPU."""

from kogata.engine import generate, generate_json, load, stream_generate
from kogata.errors import KogataError

__version__ = "0.1.0"
__all__ = ["KogataError", "generate", "generate_json", "load", "stream_generate"]
