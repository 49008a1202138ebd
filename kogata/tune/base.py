"""The base model for training: kogata's GGUF weights, dequantised into a transformers model on the CPU.

transformers reads a GGUF file directly (weights, config and tokenizer), but a Q4_K_M file has to be
dequantised tensor by tensor and its 150k-token vocabulary parsed field by field: about 50 s for the 0.5B
model on a quiet 2-core machine. The result is kept once under $KOGATA_HOME/tune/base/NAME (float16
safetensors, the tokenizer, and the sha256 of the GGUF it came from), so later runs load in seconds.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kogata import weights
from kogata.errors import ModelError
from kogata.home import home
from kogata.weights import ModelSpec

_SOURCE = "source.json"


@dataclass
class Base:
    spec: ModelSpec
    model: Any  # transformers PreTrainedModel
    tokenizer: Any
    architecture: str  # GGUF architecture name, e.g. "qwen2"
    load_seconds: float
    converted: bool  # True when this call built the cache from the GGUF file


def cache_dir(spec: ModelSpec) -> Path:
    return home() / "tune" / "base" / spec.name


def _cache_valid(folder: Path, spec: ModelSpec) -> bool:
    try:
        source = json.loads((folder / _SOURCE).read_text())
    except (OSError, ValueError):
        return False
    return source.get("sha256") == spec.sha256 and (folder / "model.safetensors").is_file()


def _convert(spec: ModelSpec, gguf_path: Path, folder: Path, architecture: str) -> None:
    """Dequantise the GGUF into `folder` (written beside it, then renamed: never half a cache)."""
    import torch
    from safetensors.torch import save_file
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tmp = folder.with_name(f".{folder.name}.{os.getpid()}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        tokenizer = AutoTokenizer.from_pretrained(gguf_path.parent, gguf_file=gguf_path.name)
        model = AutoModelForCausalLM.from_pretrained(gguf_path.parent, gguf_file=gguf_path.name, dtype=torch.float32)
        state, full = {}, model.state_dict()
        owners = dict(model.named_parameters()) | dict(model.named_buffers())
        for name in list(full):
            tensor = full.pop(name).detach()
            half = tensor.to(torch.float16)
            # float16 holds every dequantised Q4/Q5/Q6/Q8 weight exactly enough; anything it cannot hold stays float32
            state[name] = (half if torch.isfinite(half).all() else tensor).contiguous()
            if name in owners:  # free the float32 copy as we go: the 1.5B model is 7 GB in float32
                owners[name].data = torch.empty(0, dtype=tensor.dtype)
            del tensor, half
        save_file(state, str(tmp / "model.safetensors"), metadata={"format": "pt"})
        config = model.config.to_dict()
        config.pop("quantization_config", None)  # the cache holds plain floats, not GGUF blocks
        (tmp / "config.json").write_text(json.dumps(config, indent=2))
        tokenizer.save_pretrained(tmp)
        (tmp / _SOURCE).write_text(
            json.dumps(
                {"model": spec.name, "file": spec.filename, "sha256": spec.sha256, "architecture": architecture},
                indent=2,
            )
        )
        shutil.rmtree(folder, ignore_errors=True)
        os.replace(tmp, folder)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def load_base(spec: ModelSpec, *, bf16: bool = False, progress: bool = True) -> Base:
    """The trainable transformers model and its tokenizer for `spec`, from the cache or built from the GGUF."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as hf_logging

    from kogata.engine.gguf import read_metadata

    start = time.perf_counter()
    gguf_path = weights.ensure(spec, progress=progress)
    architecture = read_metadata(gguf_path).get("general.architecture", "")
    folder = cache_dir(spec)
    converted = False
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # everything is local; never let a typo reach for the hub
    hf_logging.set_verbosity_error()
    bars = hf_logging.is_progress_bar_enabled()
    if not progress:
        hf_logging.disable_progress_bar()
    if not _cache_valid(folder, spec):
        if progress:
            print(
                f"preparing {spec.name} for training (once; dequantising the GGUF weights) …",
                flush=True,
                file=sys.stderr,
            )
        try:
            _convert(spec, gguf_path, folder, architecture)
        except (OSError, ValueError, KeyError) as e:
            raise ModelError(f"could not read {gguf_path} into transformers for training: {e}") from e
        converted = True
    hf_logging.disable_progress_bar()  # reading the cache takes seconds: no bar for it
    try:
        tokenizer = AutoTokenizer.from_pretrained(folder)
        model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.bfloat16 if bf16 else torch.float32)
    except (OSError, ValueError) as e:
        raise ModelError(
            f"the training copy of {spec.name} in {folder} is unreadable ({e}); remove that folder and run again"
        ) from e
    finally:
        if bars:
            hf_logging.enable_progress_bar()
    model.config.use_cache = False
    return Base(spec, model, tokenizer, architecture, time.perf_counter() - start, converted)
