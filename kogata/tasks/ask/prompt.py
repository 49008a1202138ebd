"""The words sent to the model for an answer or a reply letter: numbered passages, then the question."""

from __future__ import annotations

from collections.abc import Sequence

from kogata.knowledge.retrieve import Hit

SYSTEM = (
    "あなたは市役所の窓口担当者です。与えられた資料に書かれていることだけを根拠に、日本語で正確に答えます。"
    "資料にないことは書きません。"
)

_ANSWER = (
    "指示：上の資料だけを使って、質問に1〜3文で答えてください。各文の cites には、その文の根拠となる資料の番号を"
    "入れてください。数値・名称・条番号は資料の表記のとおりに書いてください。資料に答えが書かれていない場合は、"
    "found を false にし、sentences を空にしてください。"
)

_REPLY = (
    "指示：上の資料だけを使って、住民からの問い合わせに答える回答文の本文を、丁寧な言葉（です・ます調）で2〜5文"
    "書いてください。あいさつや署名は不要です。各文の cites には、その文の根拠となる資料の番号を入れてください。"
    "数値・名称は資料の表記のとおりに書いてください。資料に答えが書かれていない場合は、found を false にし、"
    "sentences を空にしてください。"
)


def passages_block(hits: Sequence[Hit]) -> str:
    parts = []
    for n, hit in enumerate(hits, 1):
        c = hit.chunk
        where = " ".join(p for p in (c.title, c.section, f"（{c.caption}）" if c.caption else "") if p)
        parts.append(f"[{n}] {where}\n{c.text}")
    return "資料：\n" + "\n\n".join(parts)


def answer_messages(question: str, hits: Sequence[Hit]) -> list[dict[str, str]]:
    return [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": f"{passages_block(hits)}\n\n質問：{question}\n\n{_ANSWER}"},
    ]


def reply_messages(inquiry: str, hits: Sequence[Hit]) -> list[dict[str, str]]:
    return [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": f"{passages_block(hits)}\n\n問い合わせ：\n{inquiry}\n\n{_REPLY}"},
    ]
