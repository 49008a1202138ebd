"""`kogata ask PACK QUESTION` and `kogata ask PACK --draft-reply INQUIRY_FILE`."""

from __future__ import annotations

import json
from pathlib import Path

import click

from kogata.cli import options
from kogata.cli.progress import Progress
from kogata.errors import InputError


def _read_inquiry(path: str) -> str:
    import sys

    if path == "-":
        return sys.stdin.read()
    try:
        data = Path(path).read_bytes()
    except OSError as e:
        raise InputError(f"cannot read inquiry {path}: {e.strerror}") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(f"inquiry {path} is not UTF-8 text (convert it, e.g. iconv -f cp932 -t utf-8)") from None


def _answer(pack: str, text: str, reply: bool, *, model: str | None, k: int | None, sender: str, progress: Progress):
    from kogata.knowledge.retrieve import Retriever
    from kogata.tasks.ask import ask as answer_question
    from kogata.tasks.ask import draft_reply

    retriever = Retriever(pack)  # an unknown pack fails here; the model loads only if retrieval finds something
    extra = {"k": k} if k else {}
    llm = options.model_or_name(model)  # with --backend, the server's model (nothing loads here)
    shown = {"on_stage": progress.stage, "on_text": progress.text}
    if reply:
        return draft_reply(retriever, text, model=llm, sender=sender, **extra, **shown)
    return answer_question(retriever, text, model=llm, **extra, **shown)


def _sources(result) -> list[str]:
    lines = []
    for n in sorted({n for s in result.sentences for n in s.cites}):
        c = result.passages[n - 1].chunk
        lines.append(f"〔{n}〕{c.citation}{'（' + c.caption + '）' if c.caption else ''}")
    return lines


@click.command()
@click.argument("pack")
@click.argument("question", required=False)
@click.option(
    "--draft-reply",
    "inquiry",
    default=None,
    metavar="INQUIRY_FILE",
    help="Draft a reply letter to the resident's inquiry in this file (- for stdin) instead.",
)
@click.option("--sender", default="", help="Signature line of the reply letter (e.g. さくら市 環境課).")
@options.json_option("Print the answer, its checks and passages as JSON.")
@options.model_option
@click.option("-k", default=None, type=click.IntRange(1, 10), help="Passages given to the model (answer 4, reply 6).")
@click.option("--show-unsupported", is_flag=True, help="Also print sentences the passages did not support.")
def ask(
    pack: str,
    question: str | None,
    inquiry: str | None,
    sender: str,
    as_json: bool,
    model: str | None,
    k: int | None,
    show_unsupported: bool,
) -> None:
    """Answer QUESTION from knowledge pack PACK; every sentence cites the passage that supports it."""
    if (question is None) == (inquiry is None):
        raise click.UsageError("give either a QUESTION or --draft-reply INQUIRY_FILE")
    text = _read_inquiry(inquiry) if inquiry else question
    if not text.strip():
        raise InputError("the question is empty" if question is not None else f"inquiry {inquiry} is empty")
    # on a terminal's stderr: the stage (検索中… 根拠を読んでいます… 回答を書いています…) and the draft as it comes
    with Progress() as progress:
        progress.stage("retrieve")
        result = _answer(pack, text, bool(inquiry), model=model, k=k, sender=sender, progress=progress)
    if inquiry:
        if as_json:
            click.echo(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
            return
        click.echo(result.letter(), nl=False)
    else:
        if as_json:
            click.echo(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
            return
        if result.found:
            for s in result.sentences:
                click.echo(f"{s.text}〔{'・'.join(map(str, s.cites))}〕")
            click.echo("\n出典：")
            for line in _sources(result):
                click.echo(line)
        else:
            click.echo(result.text)
            if result.reason:
                click.echo(f"（{result.reason}）", err=True)
    if result.unsupported:
        click.echo(
            f"\n検証：資料で裏付けられなかった文 {len(result.unsupported)} 件（非表示"
            f"{'' if show_unsupported else '、--show-unsupported で表示'}）",
            err=True,
        )
        if show_unsupported:
            for s in result.unsupported:
                click.echo(f"- 「{s.text}」：{'; '.join(s.problems)}", err=True)
