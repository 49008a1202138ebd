"""LoRA adapters are chosen per request, without reloading the base model."""

import numpy as np
import pytest

import kogata
from kogata.errors import ModelError


def write_lora(path, *, rank: int = 8, scale: float = 0.5) -> None:
    """A random LoRA on every attention query projection of the 0.5B model (hidden size 896): enough to
    change its answers, so that whether the adapter was applied is visible in the text."""
    import gguf

    writer = gguf.GGUFWriter(str(path), "qwen2")
    writer.add_string("general.type", "adapter")
    writer.add_string("adapter.type", "lora")
    writer.add_float32("adapter.lora.alpha", float(rank))
    rng = np.random.default_rng(0)
    for layer in range(24):
        writer.add_tensor(
            f"blk.{layer}.attn_q.weight.lora_a", (rng.standard_normal((rank, 896)) * scale).astype(np.float32)
        )
        writer.add_tensor(
            f"blk.{layer}.attn_q.weight.lora_b", (rng.standard_normal((896, rank)) * scale).astype(np.float32)
        )
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


def test_adapter_applies_to_its_request_only(tmp_path):
    write_lora(tmp_path / "noisy.gguf")
    llm = kogata.load("small", n_ctx=512, adapters={"noisy": tmp_path / "noisy.gguf"}, progress=False)
    prompt = "日本の首都はどこですか。"
    base = kogata.generate(llm, prompt, max_tokens=15).text
    adapted = kogata.generate(llm, prompt, max_tokens=15, adapter="noisy").text
    again = kogata.generate(llm, prompt, max_tokens=15).text
    assert "東京" in base
    assert adapted != base
    assert again == base


def test_missing_adapter_file_is_a_model_error(tmp_path):
    with pytest.raises(ModelError, match="no file"):
        kogata.load("small", n_ctx=256, adapters={"x": tmp_path / "missing.gguf"}, progress=False)


def test_the_shipped_karte_adapter_is_listed_fits_only_its_base_and_cannot_be_removed(tmp_path, monkeypatch):
    from kogata.adapters import registry
    from kogata.errors import InputError

    monkeypatch.setattr(registry, "home", lambda: tmp_path / "adapters")  # no adapters of the user's
    [karte] = [a for a in registry.list_adapters() if a.name == "karte"]
    assert karte.bundled and karte.base == "qwen2.5-coder-0.5b"
    assert registry.resolve("karte", "qwen2.5-coder-0.5b") == karte.path
    with pytest.raises(InputError, match="trained on qwen2.5-coder-0.5b"):
        registry.resolve("karte", "qwen2.5-coder-1.5b")
    with pytest.raises(InputError, match="ships with kogata"):
        registry.remove("karte")
    llm = kogata.load("small", n_ctx=1024, adapters={"karte": karte.path}, progress=False)
    assert kogata.generate(llm, "発熱と咳。", max_tokens=8, adapter="karte").text  # llama.cpp applies the float16 LoRA
