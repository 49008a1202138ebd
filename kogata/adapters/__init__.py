"""LoRA adapters trained by `kogata tune`: a registry under $KOGATA_HOME/adapters, each tied to its base model."""

from kogata.adapters.registry import Adapter, get, list_adapters, record_eval, remove, resolve, save

__all__ = ["Adapter", "get", "list_adapters", "record_eval", "remove", "resolve", "save"]
