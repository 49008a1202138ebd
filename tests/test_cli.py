"""The `kogata` command as a user runs it: real processes, real model, offline."""

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

KOGATA = [sys.executable, "-m", "kogata.cli"]


def run(args, *, env=None, input=None, prefix=()):
    return subprocess.run([*prefix, *KOGATA, *args], capture_output=True, text=True, env=env, input=input, timeout=600)


def test_models_json_lists_every_profile_with_state():
    out = run(["models", "--json"])
    assert out.returncode == 0, out.stderr
    rows = {r["name"]: r for r in json.loads(out.stdout)}
    assert set(rows) == {"qwen2.5-coder-1.5b", "qwen2.5-coder-0.5b", "gemma-3-270m", "whisper-base"}
    assert rows["qwen2.5-coder-1.5b"]["default"] is True
    assert all(r["state"] in {"ready", "unverified", "not-joined", "parts-missing", "corrupt"} for r in rows.values())
    assert rows["gemma-3-270m"]["licence"] == "Gemma Terms of Use"
    speech_adapter = rows["whisper-base"]["speech_adapter"]
    assert speech_adapter["adapter"] == "clinic" and speech_adapter["size"] > 100_000, speech_adapter


def test_unknown_model_lists_known_ones():
    out = run(["generate", "こんにちは", "--model", "gpt-4"])
    assert out.returncode == 3
    assert "qwen2.5-coder-1.5b" in out.stderr and "Traceback" not in out.stderr


def test_broken_schema_file_is_refused(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"type": "object", "properties": {')
    out = run(["generate", "テスト", "--json-schema", str(bad)])
    assert out.returncode == 2 and "not valid JSON" in out.stderr


def _offline_prefix(tmp_path: Path) -> tuple[list[str], dict]:
    """Run with no network: a fresh network namespace when the system allows one, and in any case a
    socket guard that fails every connection leaving this machine."""
    guard = tmp_path / "guard"
    guard.mkdir()
    (guard / "sitecustomize.py").write_text(
        textwrap.dedent("""
        import socket
        _connect = socket.socket.connect
        def connect(self, address):
            host = address[0] if isinstance(address, tuple) else address
            if self.family in (socket.AF_INET, socket.AF_INET6) and host not in ("127.0.0.1", "::1", "localhost"):
                raise OSError("network disabled by test: " + str(address))
            return _connect(self, address)
        socket.socket.connect = connect
        socket.getaddrinfo = lambda *a, **k: (_ for _ in ()).throw(OSError("DNS disabled by test"))
    """)
    )
    env = dict(os.environ, PYTHONPATH=str(guard) + os.pathsep + os.environ.get("PYTHONPATH", ""), HF_HUB_OFFLINE="1")
    prefix: list[str] = []
    if shutil.which("unshare") and subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode == 0:
        prefix = ["unshare", "-n"]
    return prefix, env


def test_generate_json_schema_offline(tmp_path):
    schema = tmp_path / "vitals.json"
    schema.write_text(
        json.dumps(
            {
                "type": "object",
                "properties": {"体温": {"type": "number"}, "脈拍": {"type": "integer"}},
                "required": ["体温", "脈拍"],
                "additionalProperties": False,
            },
            ensure_ascii=False,
        )
    )
    prefix, env = _offline_prefix(tmp_path)
    out = run(
        [
            "generate",
            "次の所見の数値をJSONにしてください：体温38.5℃、脈拍88回/分。",
            "--json-schema",
            str(schema),
            "--max-tokens",
            "60",
        ],
        env=env,
        prefix=prefix,
    )
    assert out.returncode == 0, out.stderr
    value = json.loads(out.stdout)
    assert value == {"体温": 38.5, "脈拍": 88}


def test_generate_streams_japanese_offline_from_stdin(tmp_path):
    prefix, env = _offline_prefix(tmp_path)
    out = run(
        ["generate", "-", "--max-tokens", "30"],
        env=env,
        prefix=prefix,
        input="「ありがとう」を丁寧に言い換えてください。",
    )
    assert out.returncode == 0, out.stderr
    assert any("\u3040" <= ch <= "\u30ff" for ch in out.stdout)
