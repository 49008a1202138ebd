"""A transcript written out: 医師：… lines (what `kogata karte` reads), JSON with times, or SRT subtitles."""

from __future__ import annotations

import json

from kogata.transcript.parse import Utterance

FORMATS = ("txt", "json", "srt")


def label(u: Utterance) -> str:
    """The speaker as written out: 患者? when the label is a guess the words and turns do not make sure of."""
    return f"{u.speaker}?" if u.speaker_sure is False else u.speaker


def utterance_line(u: Utterance) -> str:
    """The line `kogata karte` reads: 医師：… (line breaks inside the text would start a new utterance); an unsure
    label is written 患者?：, which kogata reads as 患者."""
    return f"{label(u)}：{' '.join(u.text.split())}"


def utterance_dict(u: Utterance) -> dict:
    out = {"id": u.id, "speaker": u.speaker, "text": u.text, "start": u.start, "end": u.end}
    if u.speaker_confidence is not None:  # a guessed label: how sure, and whether it is shown as sure
        out |= {"speaker_confidence": u.speaker_confidence, "speaker_sure": bool(u.speaker_sure)}
    return out


def to_txt(utterances: list[Utterance], source: str = "") -> str:
    head = (
        f"# 自動文字起こし（kogata transcribe{' ' + source if source else ''}）。話者は発話の交代から推定"
        "（「患者?」は確かでない推定）。\n"
    )
    return head + "".join(utterance_line(u) + "\n" for u in utterances)


def to_json(utterances: list[Utterance]) -> str:
    return json.dumps({"utterances": [utterance_dict(u) for u in utterances]}, ensure_ascii=False, indent=2) + "\n"


def _timestamp(seconds: float | None) -> str:
    ms = round((seconds or 0.0) * 1000)
    h, ms = divmod(ms, 3_600_000)
    m, ms = divmod(ms, 60_000)
    s, ms = divmod(ms, 1000)
    return f"{h:02d}:{m:02d}:{s:02d},{ms:03d}"


def srt_block(u: Utterance) -> str:
    return f"{u.id}\n{_timestamp(u.start)} --> {_timestamp(u.end)}\n{label(u)}：{u.text}\n\n"


def to_srt(utterances: list[Utterance]) -> str:
    return "".join(srt_block(u) for u in utterances)


def render(utterances: list[Utterance], fmt: str, source: str = "") -> str:
    """The whole transcript in `fmt` (one of FORMATS); `source` names the audio in the txt header."""
    return to_json(utterances) if fmt == "json" else to_srt(utterances) if fmt == "srt" else to_txt(utterances, source)


def live_line(u: Utterance, fmt: str) -> str:
    """One utterance as it is printed while streaming: a JSON object per line (JSON Lines), an SRT block or a line."""
    if fmt == "json":
        return json.dumps(utterance_dict(u), ensure_ascii=False) + "\n"
    return srt_block(u) if fmt == "srt" else utterance_line(u) + "\n"
