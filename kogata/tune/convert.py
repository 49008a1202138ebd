"""A PEFT LoRA adapter (adapter_config.json + adapter_model.safetensors) → a GGUF LoRA llama.cpp applies.

llama.cpp's own converter (convert_lora_to_gguf.py) needs its source tree and the base model's Hugging Face
config; this does the same for the linear layers kogata trains, with the `gguf` package alone:
- each target `model.layers.N.self_attn.q_proj` becomes `blk.N.attn_q.weight.lora_a` (rank × in) and
  `….lora_b` (out × rank), named by gguf's own tensor map for the architecture;
- tensors in float16 (trained in bf16 or fp32; half the size of fp32, as llama.cpp's converter writes them);
- `general.type = adapter`, `adapter.type = lora`, `adapter.lora.alpha`, and the base model's architecture,
  which llama.cpp checks against the model the adapter is loaded on;
- llama.cpp scales every pair by alpha / rank; a module PEFT scales differently (rsLoRA, per-module rank or
  alpha) has the difference folded into its B matrix, so the product is the one PEFT trained.
kogata also records the base model's name and sha256 (`kogata.base.*`), to refuse a mismatch before loading.
"""

from __future__ import annotations

import json
import math
import os
import re
from pathlib import Path

from kogata.adapters.registry import BASE_NAME_KEY, BASE_SHA_KEY
from kogata.errors import InputError

_LORA_KEY = re.compile(r"^(?:base_model\.model\.)?(?P<module>.+)\.lora_(?P<ab>[AB])(?:\.[^.]+)?\.weight$")


def _peft_scale(config: dict, module: str, rank: int) -> float:
    """The factor PEFT multiplies B·A by for `module`."""
    alpha = float(config.get("lora_alpha", rank))
    for pattern, value in (config.get("alpha_pattern") or {}).items():
        if re.search(pattern, module):
            alpha = float(value)
    return alpha / math.sqrt(rank) if config.get("use_rslora") else alpha / rank


def convert(
    peft_dir: str | Path,
    out: str | Path,
    *,
    architecture: str,
    n_layers: int,
    base_name: str = "",
    base_sha256: str = "",
) -> int:
    """Write the GGUF LoRA for the PEFT adapter in `peft_dir` to `out` (atomically); return the pairs written."""
    import gguf
    import numpy as np
    from safetensors.numpy import load_file

    peft_dir = Path(peft_dir)
    try:
        config = json.loads((peft_dir / "adapter_config.json").read_text(encoding="utf-8"))
        tensors = load_file(str(peft_dir / "adapter_model.safetensors"))
    except (OSError, ValueError) as e:
        raise InputError(
            f"{peft_dir} is not a readable PEFT adapter (adapter_config.json, adapter_model.safetensors): {e}"
        ) from None
    if config.get("peft_type", "LORA") != "LORA":
        raise InputError(f"{peft_dir} is a {config.get('peft_type')} adapter; only LoRA converts to GGUF")
    if config.get("use_dora"):
        raise InputError(f"{peft_dir} is a DoRA adapter, which llama.cpp cannot apply; train plain LoRA")
    arch = {name: key for key, name in gguf.MODEL_ARCH_NAMES.items()}.get(architecture)
    if arch is None:
        raise InputError(f"unknown GGUF architecture {architecture!r}")
    names = gguf.get_tensor_name_map(arch, n_layers)

    pairs: dict[str, dict[str, np.ndarray]] = {}
    for key, value in tensors.items():
        match = _LORA_KEY.match(key)
        if match is None:
            raise InputError(
                f"{peft_dir}: tensor {key!r} is not a LoRA A/B matrix of a linear layer "
                f"(embedding or norm weights in an adapter are not supported)"
            )
        pairs.setdefault(match["module"], {})[match["ab"]] = value
    if not pairs:
        raise InputError(f"{peft_dir}: the adapter holds no LoRA tensors")

    alpha = float(config.get("lora_alpha", config.get("r", 8)))
    out = Path(out)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    writer = gguf.GGUFWriter(str(tmp), architecture)
    writer.add_type(gguf.GGUFType.ADAPTER)
    writer.add_string(gguf.Keys.Adapter.TYPE, "lora")
    writer.add_float32(gguf.Keys.Adapter.LORA_ALPHA, alpha)
    if base_name:
        writer.add_string(BASE_NAME_KEY, base_name)
    if base_sha256:
        writer.add_string(BASE_SHA_KEY, base_sha256)
    for module in sorted(pairs, key=_layer_order):
        a, b = pairs[module].get("A"), pairs[module].get("B")
        if a is None or b is None:
            raise InputError(f"{peft_dir}: {module} has only one of lora_A / lora_B")
        gguf_name = names.get_name(module)
        if gguf_name is None:
            raise InputError(f"{peft_dir}: no {architecture} tensor corresponds to {module}")
        rank = a.shape[0]
        fold = _peft_scale(config, module, rank) / (alpha / rank)
        writer.add_tensor(f"{gguf_name}.weight.lora_a", np.ascontiguousarray(a, dtype=np.float16))
        writer.add_tensor(f"{gguf_name}.weight.lora_b", np.ascontiguousarray(b * fold, dtype=np.float16))
    try:
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_tensors_to_file()
        writer.close()
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    return len(pairs)


def _layer_order(module: str) -> tuple[int, str]:
    found = re.search(r"\.(\d+)\.", module)
    return (int(found.group(1)) if found else -1, module)
