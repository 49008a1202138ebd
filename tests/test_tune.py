"""kogata tune: data checks, a real (tiny) LoRA training on the 0.5B model, its GGUF in the engine, the registry."""

import json

import numpy as np
import pytest
from click.testing import CliRunner

import kogata
from kogata.adapters import registry
from kogata.cli import cli
from kogata.errors import InputError
from kogata.tune.data import read_examples

QUESTION = "合言葉は？"
ANSWER = "山と川です。"


def write_jsonl(path, rows):
    path.write_text(
        "".join((r if isinstance(r, str) else json.dumps(r, ensure_ascii=False)) + "\n" for r in rows), encoding="utf-8"
    )
    return path


def chat(user, assistant, **extra):
    return {"messages": [{"role": "user", "content": user}, {"role": "assistant", "content": assistant, **extra}]}


# ── data ──


def test_every_bad_line_is_named(tmp_path):
    data = write_jsonl(
        tmp_path / "bad.jsonl",
        [
            chat("質問", "答え"),
            "{not json",
            {"messages": [{"role": "bot", "content": "x"}]},
            {"messages": [{"role": "user", "content": "質問だけ"}]},
            chat("質問", "答え", weight=0),
            {"prompt": "a", "completion": "b"},
            {"messages": [{"role": "user", "content": "  "}, {"role": "assistant", "content": "答え"}]},
        ],
    )
    with pytest.raises(InputError) as e:
        read_examples(data)
    message = str(e.value)
    assert "6 bad line(s)" in message
    assert "line 2: not JSON" in message
    assert "line 3: message 1 has role 'bot'" in message
    assert "line 4: no assistant message to learn" in message
    assert "line 5: no assistant message to learn" in message
    assert 'line 6: expected an object {"messages": [...]}' in message
    assert "line 7: message 1 (user) has no text" in message
    assert "line 1:" not in message


def test_unreadable_files_are_input_errors(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        read_examples(tmp_path / "missing.jsonl")
    (tmp_path / "empty.jsonl").write_text("\n\n")
    with pytest.raises(InputError, match="holds no examples"):
        read_examples(tmp_path / "empty.jsonl")
    (tmp_path / "sjis.jsonl").write_bytes(json.dumps(chat("質問", "答え"), ensure_ascii=False).encode("cp932"))
    with pytest.raises(InputError, match="not UTF-8"):
        read_examples(tmp_path / "sjis.jsonl")


def test_the_karte_training_set_is_valid_and_from_the_train_split_only():
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    examples = read_examples(root / "data" / "tune" / "karte.jsonl")
    assert len(examples) == 56
    # the longest utterance of each test consultation (greetings are shared; a long utterance is not)
    test_utterances = [
        max(p.with_suffix(".txt").read_text(encoding="utf-8").splitlines()[1:], key=len).split("：", 1)[-1]
        for p in (root / "data" / "consultations").glob("*.json")
        if json.loads(p.read_text(encoding="utf-8"))["split"] == "test"
    ]
    assert len(test_utterances) == 30
    prompts = "\n".join(e.messages[3]["content"] for e in examples)
    assert not [u for u in test_utterances if u in prompts]
    assert max(examples[0].messages[3]["content"].splitlines()[1:], key=len) in prompts
    for e in examples:
        draft = json.loads(e.messages[-1]["content"])
        assert set(draft) == {"S", "O", "A", "P"}
        assert all(line["evidence"] for lines in draft.values() for line in lines)


# ── a real training run ──


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """Two examples, two epochs, rank 2, at most 128 tokens: four steps of a few dozen tokens. One thread: steps
    this small gain nothing from a second, and a busy machine makes two threads wait on each other."""
    from kogata.tune import TuneConfig, train

    home = tmp_path_factory.mktemp("adapters")
    data = write_jsonl(
        home / "tiny.jsonl",
        [
            chat(QUESTION, ANSWER),
            {
                "messages": [
                    {"role": "system", "content": "短く答えてください。"},
                    {"role": "user", "content": "合言葉を教えてください。"},
                    {"role": "assistant", "content": ANSWER},
                ]
            },
        ],
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(registry, "home", lambda: home)
        result = train(
            data,
            "passphrase",
            TuneConfig(base="small", epochs=2, rank=2, alpha=4, lr=2e-3, max_tokens=128, threads=1),
            progress=False,
        )
        yield result


def test_training_records_what_it_did(trained):
    meta = trained.adapter.meta
    assert meta["base"]["name"] == "qwen2.5-coder-0.5b"
    assert meta["data"]["examples"] == 2 and len(meta["data"]["sha256"]) == 64
    assert meta["rank"] == 2 and meta["epochs"] == 2 and meta["train"]["steps"] == 4
    losses = meta["train"]["loss_per_epoch"]
    assert losses[1] < losses[0]  # it learned something
    assert trained.adapter.path.stat().st_size > 0 and trained.peak_rss_mb > 0


def test_the_gguf_adapter_changes_answers_per_request(trained):
    llm = kogata.load("small", n_ctx=512, adapters={"passphrase": trained.adapter.path}, progress=False, threads=1)
    base = kogata.generate(llm, QUESTION, max_tokens=12).text
    adapted = kogata.generate(llm, QUESTION, max_tokens=12, adapter="passphrase").text
    again = kogata.generate(llm, QUESTION, max_tokens=12).text
    assert "山と川" not in base
    assert "山と川" in adapted
    assert again == base


def test_an_adapter_refuses_another_base(trained):
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(registry, "home", lambda: trained.adapter.folder.parent)
        assert registry.resolve("passphrase", "small") == trained.adapter.path
        with pytest.raises(InputError, match="trained on qwen2.5-coder-0.5b, not on qwen2.5-coder-1.5b"):
            registry.resolve("passphrase", None)
    with pytest.raises(InputError, match="--model qwen2.5-coder-0.5b"):
        registry.resolve(str(trained.adapter.path), "qwen2.5-coder-1.5b")  # a bare file carries its base too


# ── registry and conversion without training ──


def fake_peft(folder, *, rank=4, layers=(0, 3)):
    """A PEFT LoRA folder as peft writes it, with random weights (conversion does not care how they were made)."""
    from safetensors.numpy import save_file

    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    tensors = {}
    for layer in layers:
        for module, (n_in, n_out) in {"self_attn.q_proj": (896, 896), "mlp.down_proj": (4864, 896)}.items():
            key = f"base_model.model.model.layers.{layer}.{module}"
            tensors[f"{key}.lora_A.weight"] = rng.standard_normal((rank, n_in)).astype(np.float32)
            tensors[f"{key}.lora_B.weight"] = rng.standard_normal((n_out, rank)).astype(np.float32)
    save_file(tensors, str(folder / "adapter_model.safetensors"))
    (folder / "adapter_config.json").write_text(json.dumps({"peft_type": "LORA", "r": rank, "lora_alpha": 2 * rank}))
    return tensors


def test_conversion_names_tensors_as_llama_cpp_expects(tmp_path):
    import gguf

    from kogata.adapters.registry import BASE_NAME_KEY
    from kogata.tune.convert import convert

    tensors = fake_peft(tmp_path / "peft")
    assert (
        convert(
            tmp_path / "peft", tmp_path / "a.gguf", architecture="qwen2", n_layers=24, base_name="qwen2.5-coder-0.5b"
        )
        == 4
    )
    reader = gguf.GGUFReader(str(tmp_path / "a.gguf"))
    fields = {name: field.contents() for name, field in reader.fields.items()}
    assert fields["general.type"] == "adapter" and fields["adapter.type"] == "lora"
    assert fields["adapter.lora.alpha"] == 8.0 and fields["general.architecture"] == "qwen2"
    assert fields[BASE_NAME_KEY] == "qwen2.5-coder-0.5b"
    written = {t.name: t for t in reader.tensors}
    assert set(written) == {
        f"blk.{n}.{m}.weight.lora_{ab}" for n in (0, 3) for m in ("attn_q", "ffn_down") for ab in "ab"
    }
    a = written["blk.3.ffn_down.weight.lora_a"]
    assert np.asarray(a.data).dtype == np.float16  # as llama.cpp's own converter writes LoRAs: half the size
    assert np.array_equal(
        np.asarray(a.data).reshape(4, 4864),
        tensors["base_model.model.model.layers.3.mlp.down_proj.lora_A.weight"].astype(np.float16),
    )


def test_conversion_refuses_what_llama_cpp_cannot_apply(tmp_path):
    from kogata.tune.convert import convert

    fake_peft(tmp_path / "dora")
    config = json.loads((tmp_path / "dora" / "adapter_config.json").read_text())
    (tmp_path / "dora" / "adapter_config.json").write_text(json.dumps(config | {"use_dora": True}))
    with pytest.raises(InputError, match="DoRA"):
        convert(tmp_path / "dora", tmp_path / "x.gguf", architecture="qwen2", n_layers=24)
    with pytest.raises(InputError, match="not a readable PEFT adapter"):
        convert(tmp_path / "nothing", tmp_path / "x.gguf", architecture="qwen2", n_layers=24)


def test_adapters_list_show_remove(tmp_path, monkeypatch):
    from kogata.tune.convert import convert

    monkeypatch.setattr(registry, "home", lambda: tmp_path / "adapters")
    monkeypatch.setattr(registry, "BUNDLED", tmp_path / "bundled")  # the user's registry alone (no shipped ones)
    fake_peft(tmp_path / "peft")
    convert(tmp_path / "peft", tmp_path / "a.gguf", architecture="qwen2", n_layers=24)
    runner = CliRunner()
    assert "no adapters yet" in runner.invoke(cli, ["adapters", "list"]).output
    registry.save(
        "clinic-a",
        tmp_path / "a.gguf",
        {"base": {"name": "qwen2.5-coder-0.5b"}, "rank": 4, "data": {"examples": 3}, "created": "2026-11-29T00:00:00Z"},
    )
    listed = runner.invoke(cli, ["adapters", "list"]).output
    assert "clinic-a" in listed and "qwen2.5-coder-0.5b" in listed
    shown = json.loads(runner.invoke(cli, ["adapters", "show", "clinic-a"]).output)
    assert shown["rank"] == 4 and shown["path"].endswith("clinic-a/adapter.gguf")
    registry.record_eval("clinic-a", "karte", {"key_fact_recall": 0.5})
    assert registry.get("clinic-a").meta["eval"]["karte"] == {"key_fact_recall": 0.5}
    with pytest.raises(InputError, match="exists already"):
        registry.save("clinic-a", tmp_path / "a.gguf", {})
    assert "removed" in runner.invoke(cli, ["adapters", "remove", "clinic-a"]).output
    with pytest.raises(InputError, match=r"no adapter named 'clinic-a' \(registered: none yet"):
        registry.get("clinic-a")
    with pytest.raises(InputError, match="not usable"):
        registry.get("../models")


def test_a_rules_only_eval_with_an_adapter_is_refused_and_records_nothing(tmp_path, monkeypatch):
    from kogata.tune.convert import convert

    monkeypatch.setattr(registry, "home", lambda: tmp_path / "adapters")
    fake_peft(tmp_path / "peft")
    convert(tmp_path / "peft", tmp_path / "a.gguf", architecture="qwen2", n_layers=24)
    registry.save("clinic-b", tmp_path / "a.gguf", {"base": {"name": "qwen2.5-coder-0.5b"}})
    out = CliRunner().invoke(cli, ["eval", "karte", "--rules-only", "--adapter", "clinic-b"])
    # an adapter asks for the model's drafting, which --rules-only rules out: one line, before anything is charted
    assert out.exit_code == 2 and "--rules-only means no language model" in out.output
    assert "recorded" not in out.output and "eval" not in registry.get("clinic-b").meta
