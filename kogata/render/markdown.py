"""A chart as a readable Japanese SOAP note in Markdown, each line followed by its evidence numbers."""

from __future__ import annotations

from kogata.render.header import STATUS_JA, ChartHeader
from kogata.tasks.karte.chart import Chart
from kogata.tasks.karte.schema import SECTION_NAMES
from kogata.transcript.formats import label

_STATUS = {"suspected": "疑い", "confirmed": "確定", "history": "既往"}


def evidence_note(ids: list[int]) -> str:
    """〔発言 2, 3〕: the utterances a line cites, as the notes print them."""
    return f"〔発言 {', '.join(map(str, ids))}〕" if ids else ""


def _excerpt(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def chart_markdown(chart: Chart, *, show_unsupported: bool = False, header: ChartHeader | None = None) -> str:
    """Unsupported lines are left out unless `show_unsupported` (then marked ⚠); a count is always shown.
    `header` (default: an unsigned draft) says whether it is signed, and for whom."""
    header = header or ChartHeader()
    note = "　※ 自動生成の下書きです。署名前に医師が確認してください。" if header.draft else ""
    out = [
        "# カルテ下書き（SOAP）" if header.draft else f"# カルテ（SOAP）{STATUS_JA[header.status]}",
        "",
        *(f"{line}  " for line in header.lines() if header != ChartHeader()),  # a bare draft: as it always was
        f"発言数 {len(chart.transcript.utterances)}／モデル {chart.model}／{chart.seconds:.1f} 秒{note}",
        "",
    ]
    for section, items in chart.items(show_unsupported=show_unsupported).items():
        out.append(f"## {section}（{SECTION_NAMES[section]}）")
        out += [f"- {'⚠ ' if not i.supported else ''}{i.text} {evidence_note(i.evidence)}" for i in items] or [
            "- 記載なし"
        ]
        out.append("")
    if chart.problems:
        out.append("## 問題リスト")
        out += [
            f"- {p['name']}（{_STATUS[p['status']]}、ICD-10 {p['icd10']}） {evidence_note(p['evidence'])}"
            for p in chart.problems
        ]
        out.append("")
    unread = chart.unread() if header.draft else []  # a signed chart has been read
    if unread:
        out.append(f"## 要確認：カルテに載っていない発言 {len(unread)} 件")
        # an unsure guessed label reads 患者? here as in a transcript: a wrong label is worse than an unknown one
        out += [f"- {evidence_note([u.id])} {label(u)}：{_excerpt(u.text)}" for u in unread]
        out.append("")
    hidden = [w for w in chart.warnings]
    if hidden:
        verb = "⚠ を付けて表示" if show_unsupported else "非表示（--show-unsupported で表示）"
        out.append(f"## 検証：根拠を確認できなかった行 {len(hidden)} 件（{verb}）")
        out += [f"- 「{w['item']}」：{w['message']}" for w in hidden]
        out.append("")
    return "\n".join(out)


def chart_text(chart: Chart, *, show_unsupported: bool = False, header: ChartHeader | None = None) -> str:
    """The chart as plain text for pasting into a hospital system: the Markdown without its marks."""
    out = []
    for line in chart_markdown(chart, show_unsupported=show_unsupported, header=header).splitlines():
        line = line.removesuffix("  ")
        if line.startswith("#"):
            line = "【" + line.lstrip("# ") + "】"
        elif line.startswith("- "):
            line = "・" + line[2:]
        out.append(line)
    return "\n".join(out)
