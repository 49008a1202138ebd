"""An after-call record as a readable Japanese note in Markdown, each item followed by its evidence numbers."""

from __future__ import annotations

from kogata.render.markdown import evidence_note
from kogata.tasks.call.record import CallRecord


def call_markdown(record: CallRecord, *, show_unsupported: bool = False) -> str:
    """Unsupported items are left out unless `show_unsupported` (then marked ⚠); a count is always shown."""

    def line(item, extra: str = "") -> list[str]:
        if not item.supported and not show_unsupported:
            return []
        return [f"- {'⚠ ' if not item.supported else ''}{item.text}{extra} {evidence_note(item.evidence)}"]

    date = f"通話日 {record.call_date.isoformat()}／" if record.call_date else ""
    out = [
        "# 応対履歴（アフターコール記録）",
        "",
        f"{date}発言数 {len(record.transcript.utterances)}／モデル {record.model}／{record.seconds:.1f} 秒"
        "　※ 自動生成の下書きです。登録前に担当者が確認してください。",
        "",
    ]
    out += ["## 用件", *((line(record.issue) if record.issue else []) or ["- 記載なし"]), ""]
    out += ["## お客様のご要望・条件", *([x for i in record.requests for x in line(i)] or ["- 記載なし"]), ""]
    out += ["## 対応内容", *([x for i in record.actions for x in line(i)] or ["- 記載なし"]), ""]
    follow = record.follow_up
    deadline = f"（期限：{follow.deadline.value()}）" if follow and follow.deadline else ""
    out += ["## 今後の対応・期限", *((line(follow, deadline) if follow else []) or ["- なし"]), ""]
    if record.warnings:
        verb = "⚠ を付けて表示" if show_unsupported else "非表示（--show-unsupported で表示）"
        out.append(f"## 検証：根拠を確認できなかった項目 {len(record.warnings)} 件（{verb}）")
        out += [f"- 「{w['item']}」：{w['message']}" for w in record.warnings]
        out.append("")
    return "\n".join(out)
