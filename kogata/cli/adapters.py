"""`kogata adapters list|show|remove`: the LoRA adapters `kogata tune` registered."""

from __future__ import annotations

import json

import click

from kogata.cli import options


@click.group()
def adapters() -> None:
    """LoRA adapters trained with `kogata tune` (apply one with --adapter NAME)."""


@adapters.command(name="list")
@options.json_option()
def list_command(as_json: bool) -> None:
    """Every registered adapter, its base model and when it was made."""
    from kogata.adapters.registry import list_adapters

    found = list_adapters()
    if as_json:
        click.echo(
            json.dumps(
                [a.meta | {"path": str(a.path), "bundled": a.bundled} for a in found], ensure_ascii=False, indent=2
            )
        )
        return
    if not found:
        click.echo("no adapters yet (make one with `kogata tune DATA.jsonl --name NAME`)")
        return
    for a in found:
        data = a.meta.get("data", {})
        click.echo(
            f"{a.name:<20} {a.base:<20} rank {a.meta.get('rank', '?'):<3} {data.get('examples', '?'):>5} examples  "
            f"{a.meta.get('created', '')[:10]}{'  (ships with kogata)' if a.bundled else ''}"
        )


@adapters.command()
@click.argument("name")
def show(name: str) -> None:
    """Everything recorded about adapter NAME (base model, data hash, settings, time, eval figures)."""
    from kogata.adapters.registry import get

    adapter = get(name)
    click.echo(
        json.dumps(adapter.meta | {"path": str(adapter.path), "bundled": adapter.bundled}, ensure_ascii=False, indent=2)
    )


@adapters.command()
@click.argument("name")
def remove(name: str) -> None:
    """Delete adapter NAME (and any unfinished `kogata tune` run of that name)."""
    from kogata.adapters.registry import remove as remove_adapter

    for folder in remove_adapter(name):
        click.echo(f"removed {folder}")
