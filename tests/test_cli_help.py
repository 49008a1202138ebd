"""`kogata --help` speaks Japanese under a Japanese locale and English otherwise; every text is in help_ja.tsv."""

import json
import os
import subprocess
import sys

import click
import pytest

from kogata.cli import COMMANDS, cli, japanese, japanese_wanted


def _walk(command: click.Command, path: str, ctx: click.Context):
    """(path, command) for `command` and every subcommand below it."""
    yield path, command
    if isinstance(command, click.Group):
        for name in command.list_commands(ctx):
            yield from _walk(command.get_command(ctx, name), f"{path} {name}", ctx)


def _every_command():
    ctx = click.Context(cli, info_name="kogata")
    for name in sorted(COMMANDS):
        yield from _walk(cli.get_command(ctx, name), name, ctx)


def _kogata(*args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in ("LC_ALL", "LC_MESSAGES", "LANG")}
    return subprocess.run(
        [sys.executable, "-m", "kogata", *args], capture_output=True, text=True, env=clean | env, timeout=120
    )


def test_every_command_and_option_has_a_japanese_text():
    missing = []
    for path, command in _every_command():
        if japanese.command_text(path) is None:
            missing.append(path)
        missing += [
            f"{path} {japanese.option_key(p)}"
            for p in command.params
            if isinstance(p, click.Option) and japanese.option_text(path, p) is None
        ]
    assert not missing, missing


def test_every_key_of_the_file_names_something_that_exists():
    """A text for a command or option that was renamed or removed is stale: it must go with it."""
    paths = dict(_every_command())
    options = {f"{path} {japanese.option_key(p)}" for path, c in paths.items() for p in c.params}
    shared = {japanese.option_key(p) for c in paths.values() for p in c.params if isinstance(p, click.Option)}
    stale = []
    for key in japanese.texts():
        if key.startswith("click:") or key == "kogata":
            continue
        name = key.removeprefix("short:")
        if name not in paths and name not in options and name not in shared:
            stale.append(key)
    assert not stale, stale


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"LANG": "ja_JP.UTF-8"}, True),
        ({"LANG": "ja_JP.eucJP"}, True),
        ({"LANG": "C"}, False),
        ({"LANG": "en_US.UTF-8"}, False),
        ({}, False),
        ({"LANG": "ja_JP.UTF-8", "LC_ALL": "C"}, False),  # LC_ALL wins
        ({"LANG": "C", "LC_MESSAGES": "ja_JP.UTF-8"}, True),  # the messages category over LANG
        ({"LANG": "ja_JP.UTF-8", "LC_ALL": ""}, True),  # an empty variable is unset
    ],
)
def test_locale_precedence(env, expected):
    assert japanese_wanted(env) is expected


def test_japanese_locale_prints_japanese_help():
    done = _kogata("--help", LANG="ja_JP.UTF-8")
    assert done.returncode == 0, done.stderr
    assert "使い方:" in done.stdout and "コマンド:" in done.stdout and "Usage:" not in done.stdout
    assert "このヘルプを表示して終了します。" in done.stdout
    assert japanese.short_help("ask") in done.stdout
    assert all(f"  {name} " in done.stdout for name in COMMANDS), done.stdout

    ask = _kogata("ask", "--help", LANG="ja_JP.UTF-8")
    assert ask.returncode == 0, ask.stderr
    assert "オプション:" in ask.stdout and "資料で裏付けられなかった文も表示します。" in ask.stdout
    assert "Answer QUESTION" not in ask.stdout

    nested = _kogata("knowledge", "add", "--help", LC_ALL="ja_JP.UTF-8")
    assert nested.returncode == 0, nested.stderr
    assert "進み具合の表示をしません。" in nested.stdout


def test_other_locales_print_english_help():
    for env in ({"LANG": "C"}, {"LANG": "en_US.UTF-8"}, {"LANG": "ja_JP.UTF-8", "LC_ALL": "C"}):
        done = _kogata("--help", **env)
        assert done.returncode == 0, done.stderr
        assert "Usage:" in done.stdout and "Commands:" in done.stdout, env
        assert "使い方" not in done.stdout and COMMANDS["ask"][1][:40] in done.stdout, env


def test_japanese_help_wraps_within_the_terminal():
    """A Japanese character takes two columns; no line of the help may run past the width click was given."""
    done = _kogata("serve", "--help", LANG="ja_JP.UTF-8", COLUMNS="80")
    assert done.returncode == 0, done.stderr
    too_wide = [line for line in done.stdout.splitlines() if japanese.width(line) > 80]
    # a single unbreakable flag may overflow; none of these lines is one
    assert not [line for line in too_wide if " " in line.strip()], too_wide


def test_japanese_help_imports_only_its_texts():
    """Under a Japanese locale --help still imports no command and no heavy module: only kogata.cli.japanese."""
    code = (
        "import json, sys\nfrom kogata.cli import main\nsys.argv = ['kogata', '--help']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print(json.dumps([m for m in sys.modules if m.startswith('kogata.cli.') or m.split('.')[0] in "
        "('fastapi', 'uvicorn', 'torch', 'matplotlib')]))"
    )
    clean = {k: v for k, v in os.environ.items() if k not in ("LC_ALL", "LC_MESSAGES")}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=clean | {"LANG": "ja_JP.UTF-8"}, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert set(json.loads(done.stdout.strip().splitlines()[-1])) == {"kogata.cli.japanese"}
