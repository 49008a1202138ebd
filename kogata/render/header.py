"""What a rendered chart says about itself beside its lines: draft or signed, for whom, at which visit, by whom.

Every renderer takes a `ChartHeader`; the default is an unsigned draft with no patient (what `kogata karte` makes
from a transcript alone), and every format says so.
"""

from __future__ import annotations

from dataclasses import dataclass

from kogata.store.identity import Encounter, Patient, Practitioner

STATUS_JA = {"draft": "下書き", "signed": "署名済", "amended": "署名後修正（未再署名）"}
SEX_JA = {"male": "男性", "female": "女性", "other": "その他", "unknown": "不明"}


@dataclass(frozen=True)
class ChartHeader:
    status: str = "draft"  # "draft" | "signed" | "amended"
    patient: Patient | None = None
    encounter: Encounter | None = None
    signed_by: Practitioner | None = None  # the practitioner of the last signature ("signed" and "amended")
    signed_at: str | None = None
    version: int | None = None

    @property
    def draft(self) -> bool:
        return self.status == "draft"

    def lines(self) -> list[str]:
        """The header as Japanese lines: status, patient, encounter, signature (only what is known)."""
        out = [f"状態：{STATUS_JA.get(self.status, self.status)}" + (f"（版 {self.version}）" if self.version else "")]
        p, e, s = self.patient, self.encounter, self.signed_by
        if p is not None:
            parts = [
                p.name or "",
                f"ID {p.id}" if p.id else "",
                f"生年月日 {p.birth_date}" if p.birth_date else "",
                SEX_JA.get(p.sex or "", ""),
            ]
            out.append("患者：" + "／".join(x for x in parts if x))
        if e is not None:
            parts = [f"受診日 {e.date}" if e.date else "", e.department or "", f"担当 {e.doctor}" if e.doctor else ""]
            out.append("受診：" + "／".join(x for x in parts if x))
        if s is not None and self.status != "draft":
            who = " ".join(x for x in (s.name, f"（{s.id}）" if s.id and s.name else s.id) if x)
            out.append(f"署名：{who} {self.signed_at or ''}".rstrip())
        return out
