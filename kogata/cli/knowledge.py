"""`kogata knowledge add|list|show|remove|search`: manage knowledge packs from the command line."""

from __future__ import annotations

import json

import click

from kogata.cli import options


@click.group()
def knowledge() -> None:
    """Knowledge packs: an office's documents and glossary, searchable with citations."""


@knowledge.command()
@click.argument("pack")
@click.argument("paths", nargs=-1, required=True)
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
def add(pack: str, paths: tuple[str, ...], quiet: bool) -> None:
    """Add files or folders (txt, md, html, docx, pdf; glossary .tsv) to PACK. Changed files are updated,
    unchanged ones skipped."""
    from kogata.knowledge import store

    result = store.add(pack, paths, progress=not quiet)
    for label, names in (("added", result.added), ("updated", result.updated), ("skipped (unchanged)", result.skipped)):
        for name in names:
            click.echo(f"  {label:<20} {name}", err=True)
    click.echo(
        f"{pack}: {len(result.added)} added, {len(result.updated)} updated, {len(result.skipped)} skipped; "
        f"{result.new_passages} new passages, {result.passages} in the pack"
    )


@knowledge.command(name="list")
@options.json_option(None)
def list_(as_json: bool) -> None:
    """The knowledge packs in $KOGATA_HOME/knowledge."""
    from kogata.knowledge import store

    packs = store.list_packs()
    if as_json:
        click.echo(json.dumps(packs, ensure_ascii=False, indent=2))
        return
    if not packs:
        click.echo("no knowledge packs yet: kogata knowledge add PACK FILE…")
    for p in packs:
        if "error" in p:
            click.echo(f"{p['pack']:<20} {p['error']}")
        else:
            click.echo(
                f"{p['pack']:<20} {p['files']:>4} files {p['passages']:>6} passages "
                f"{p['glossary_terms']:>5} glossary terms   updated {p['updated']}"
            )


@knowledge.command()
@click.argument("pack")
@options.json_option(None)
def show(pack: str, as_json: bool) -> None:
    """The files of PACK, with their passage counts and hashes."""
    from kogata.knowledge import store

    p = store.load(pack)
    if as_json:
        click.echo(json.dumps(p.summary() | {"files": list(p.files.values())}, ensure_ascii=False, indent=2))
        return
    s = p.summary()
    click.echo(
        f"{s['pack']}: {s['files']} files, {s['passages']} passages, {s['glossary_terms']} glossary terms ({s['path']})"
    )
    for record in sorted(p.files.values(), key=lambda r: r["name"]):
        unit = "terms" if record["kind"] == "glossary" else "passages"
        click.echo(
            f"  {record['name']:<40} {record['count']:>5} {unit:<8} sha256 {record['sha256'][:12]}  {record['added']}"
        )


@knowledge.command()
@click.argument("pack")
@click.confirmation_option(prompt="Remove this knowledge pack?")
def remove(pack: str) -> None:
    """Delete PACK and everything in it."""
    from kogata.knowledge import store

    store.remove(pack)
    click.echo(f"removed {pack}")


@knowledge.command()
@click.argument("pack")
@click.argument("query")
@click.option("-k", default=5, show_default=True, help="How many passages.")
@click.option("--mode", type=click.Choice(["hybrid", "embedding", "bm25"]), default="hybrid", show_default=True)
@options.json_option(None)
def search(pack: str, query: str, k: int, mode: str, as_json: bool) -> None:
    """The passages of PACK that best match QUERY, with their scores and citations."""
    from kogata.knowledge.retrieve import Retriever

    retriever = Retriever(pack)
    hits = retriever.search(query, k, mode=mode)
    if as_json:
        click.echo(json.dumps([h.to_dict() for h in hits], ensure_ascii=False, indent=2))
        return
    expansions = retriever.expand(query).expansions
    if expansions:
        click.echo(f"(glossary: {'、'.join(expansions)})", err=True)
    for n, h in enumerate(hits, 1):
        caption = f"（{h.chunk.caption}）" if h.chunk.caption else ""
        click.echo(
            f"[{n}] {h.chunk.citation}{caption}  cos {h.similarity:.3f}  bm25 {h.bm25:.2f}  "
            f"ranks e5 {h.rank_embedding or '-'} / bm25 {h.rank_bm25 or '-'}"
        )
        text = h.chunk.text.replace("\n", " ")
        click.echo(f"    {text[:160]}{'…' if len(text) > 160 else ''}")
