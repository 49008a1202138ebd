"""Progress where people wait: `kogata ask` shows its stage and the draft on a terminal's stderr, nothing on a pipe,
and standard output is the same either way."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys

import pytest

from kogata.cli.progress import STAGES, Progress, drafted_text

RULE = """さくら市粗大ごみ規則
（粗大ごみの収集）
第七条　粗大ごみの収集を受けようとする者は、収集日の七日前までに申し込まなければならない。
２　粗大ごみの処理手数料は、一点につき五百円とする。
"""


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        ("", ""),
        ('{"found": true, "sentences": [{"te', ""),
        ('{"found": true, "sentences": [{"text": "粗大ごみ', "粗大ごみ"),
        ('{"found": true, "sentences": [{"text": "五百円。", "cites": [1]}, {"text": "申し込み', "五百円。申し込み"),
        ('{"sentences": [{"text": "「収集」\\"日\\"の\\u4e03', "「収集」" + '"日"の七'),
        ('{"sentences": [{"text": "七日前\\u4e', "七日前"),  # an escape cut off: shown once it is whole
        ('{"sentences": [{"text": "前\\', "前"),
        ('{"sentences": [{"text": "一行目\\n二行目"}]}', "一行目 二行目"),
    ],
)
def test_drafted_text_reads_the_sentences_of_partial_json(raw, words):
    assert drafted_text(raw) == words


def _read_all(fd: int) -> bytes:
    out = b""
    while select.select([fd], [], [], 0.1)[0]:
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    return out


def test_on_a_terminal_the_stages_and_the_draft_show_and_are_erased():
    master, slave = pty.openpty()
    with open(slave, "w", encoding="utf-8", closefd=True) as tty:
        progress = Progress(tty)
        assert progress.enabled
        progress.stage("retrieve")
        progress.stage("read")
        progress.stage("write")
        for piece in ['{"found": true, "sentences": [{"text": "', "粗大", "ごみは", "五百円", '。", "cites": [1]}]}']:
            progress.text(piece)
        progress.close()
    shown = _read_all(master).decode("utf-8")
    os.close(master)
    for label in STAGES.values():
        assert label in shown
    assert "粗大ごみは五百円。" in shown and "cites" not in shown and "{" not in shown  # words, not JSON
    assert shown.endswith("\x1b[J")  # erased at the end: the answer that follows starts on a clean line


def test_on_a_pipe_nothing_is_written():
    read, write = os.pipe()
    with open(write, "w", encoding="utf-8") as pipe:
        progress = Progress(pipe)
        assert not progress.enabled
        progress.stage("retrieve")
        progress.text('{"sentences": [{"text": "五百円"')
        progress.close()
    with open(read, "rb") as f:
        assert f.read() == b""


def test_a_long_draft_is_erased_over_every_row_it_took(monkeypatch):
    master, slave = pty.openpty()
    monkeypatch.setenv("COLUMNS", "20")  # a fresh pty has no size: the width comes from COLUMNS
    with open(slave, "w", encoding="utf-8", closefd=True) as tty:
        progress = Progress(tty)
        progress.stage("write")  # 回答を書いています… = 20 columns
        progress.text('{"sentences": [{"text": "' + "あ" * 15)  # 1 + 30 more columns: 3 rows of 20 in all
        progress.close()
    shown = _read_all(master).decode("utf-8")
    os.close(master)
    assert shown.endswith("\r\x1b[2A\x1b[J")


@pytest.fixture(scope="module")
def pack(tmp_path_factory):
    """A one-rule pack in a KOGATA_HOME of its own (real e5 embeddings); yields that home."""
    from kogata.knowledge import store

    root = tmp_path_factory.mktemp("progress")
    (root / "sodai.txt").write_text(RULE, encoding="utf-8")
    mp = pytest.MonkeyPatch()
    mp.setenv("KOGATA_HOME", str(root / "home"))
    store.add("sodai", [root / "sodai.txt"], progress=False)
    yield root / "home"
    mp.undo()


def test_the_library_says_each_stage_it_reaches(pack, monkeypatch):
    """Nothing related in the pack: retrieval is the only stage, and no model loads (answer and reply alike)."""
    from kogata.tasks.ask import ask, draft_reply

    monkeypatch.setenv("KOGATA_HOME", str(pack))
    heard: list[str] = []
    assert not ask("sodai", "固定資産税の納期はいつですか。", on_stage=heard.append, on_text=heard.append).found
    assert heard == ["retrieve"]
    heard.clear()
    assert not draft_reply("sodai", "固定資産税の納期を教えてください。", on_stage=heard.append).found
    assert heard == ["retrieve"]


# ── the command itself, with the real small model ──


def _kogata_ask(home, question: str, *, tty: bool) -> tuple[str, str, int]:
    """Run `kogata ask` with stdout on a pipe and stderr on a terminal (tty) or a pipe: (stdout, stderr, code)."""
    env = {**os.environ, "KOGATA_HOME": str(home)}
    argv = [sys.executable, "-m", "kogata", "ask", "sodai", question, "--model", "small", "-k", "2"]
    if not tty:
        done = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=900)
        return done.stdout, done.stderr, done.returncode
    master, slave = pty.openpty()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=slave, env=env)
    os.close(slave)
    err = b""
    while True:
        if select.select([master], [], [], 0.5)[0]:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            err += chunk
        elif proc.poll() is not None:
            break
    out = proc.stdout.read().decode("utf-8")
    proc.wait(timeout=60)
    os.close(master)
    return out, err.decode("utf-8", "replace"), proc.returncode


@pytest.mark.slow
def test_kogata_ask_shows_progress_on_a_terminal_only(pack):
    home = pack
    question = "粗大ごみの処理手数料はいくらですか。"
    out_tty, err_tty, code_tty = _kogata_ask(home, question, tty=True)
    out_pipe, err_pipe, code_pipe = _kogata_ask(home, question, tty=False)
    assert code_tty == code_pipe == 0, (err_tty, err_pipe)
    assert out_tty == out_pipe and "出典：" in out_pipe  # stdout is the same, terminal or not
    for label in STAGES.values():
        assert label in err_tty, err_tty
        assert label not in err_pipe and label not in out_pipe
    assert "五百円" in err_tty or "500" in err_tty  # the draft streamed while it was written
    assert "\x1b" not in err_pipe + out_pipe
