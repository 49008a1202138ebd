"""The command line loads what it runs: each command module imports on its own, `kogata --help` imports none."""

import ast
import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import click
import pytest

import kogata.cli
from kogata.cli import COMMANDS, cli

KOGATA = Path(kogata.cli.__file__).resolve().parents[1]
MODULES = sorted(f"kogata.cli.{m.name}" for m in pkgutil.iter_modules(kogata.cli.__path__) if m.name != "__main__")
HEAVY = ("fastapi", "uvicorn", "xllamacpp", "torch")


def _python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("module", ["kogata.cli", *MODULES])
def test_each_cli_module_imports_on_its_own(module):
    """In a fresh process, so that an import cycle through any command module fails here."""
    done = _python(f"import {module}")
    assert done.returncode == 0, done.stderr


def _loaded_after(code: str) -> set[str]:
    done = _python(
        "import json, sys\n"
        f"{code}\n"
        f"print(json.dumps([m for m in sys.modules if m.split('.')[0] in {HEAVY!r} or m.startswith('kogata.cli.')]))"
    )
    assert done.returncode == 0, done.stderr
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


def test_help_imports_no_command_and_no_heavy_library():
    loaded = _loaded_after(
        "from kogata.cli import main\nsys.argv = ['kogata', '--help']\ntry:\n    main()\nexcept SystemExit:\n    pass"
    )
    # kogata.cli.japanese (the Japanese help, not a command) loads only under a Japanese locale: tests/test_cli_help.py
    assert not {m for m in loaded if m.startswith("kogata.cli.")}, loaded
    assert not {m for m in loaded if m.split(".")[0] in ("fastapi", "uvicorn", "torch")}, loaded
    # llama.cpp's binding: only what `import kogata` itself loads (kogata/__init__.py), nothing the CLI adds
    assert {m for m in loaded if m.startswith("xllamacpp")} <= _loaded_after("import kogata"), loaded


def test_help_lists_every_command_with_its_own_short_help():
    """The table's short help is the command's: --help, which reads the table, says what `kogata CMD --help` says."""
    ctx = click.Context(cli, info_name="kogata")
    assert cli.list_commands(ctx) == sorted(COMMANDS)
    for name, (_, short_help) in COMMANDS.items():
        command = cli.get_command(ctx, name)
        assert isinstance(command, click.Command), name
        assert click.Command(name, help=short_help).get_short_help_str(200) == command.get_short_help_str(200), name
    done = subprocess.run([sys.executable, "-m", "kogata", "--help"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert all(f"  {name} " in done.stdout for name in COMMANDS), done.stdout


def test_nothing_below_the_cli_imports_it():
    """cli is the top layer: only kogata/cli/ and the `python -m kogata` entry point name kogata.cli."""
    offenders = []
    for path in KOGATA.rglob("*.py"):
        relative = path.relative_to(KOGATA)
        if relative.parts[0] == "cli" or relative == Path("__main__.py"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            offenders += [
                f"{relative}:{node.lineno} {n}" for n in names if n == "kogata.cli" or n.startswith("kogata.cli.")
            ]
    assert not offenders, offenders


def test_bench_worker_is_its_own_entry_point():
    from kogata.bench import worker_command

    cmd = worker_command("small", runs=1, threads=1, charts=1, max_tokens=8)
    assert cmd[1:5] == ["-m", "kogata.bench", "--worker", "small"]
    done = subprocess.run([sys.executable, "-m", "kogata.bench", "--worker", "gpt-4"], capture_output=True, text=True)
    assert done.returncode == 3 and "unknown model 'gpt-4'" in done.stderr and "Traceback" not in done.stderr
