"""Who a visit is for and by whom it is signed: patient, encounter, consent, practitioner — checked at the door.

Every field is optional and kept as given (stripped); a group given with nothing in it counts as not given. A bad
value raises FieldError naming it as the API does ("patient.birth_date"), so the server answers 400, never 500.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, fields
from datetime import date, datetime
from typing import Any

from kogata.store.errors import FieldError

SEXES = ("male", "female", "other", "unknown")  # FHIR's administrative gender codes
MAX_ID_CHARS = 64  # a clinic system's patient id, a practitioner's login
MAX_NAME_CHARS = 100
MAX_DEPARTMENT_CHARS = 60
MAX_CONSENT_BY_CHARS = 60
EARLIEST_BIRTH = date(1880, 1, 1)
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True)
class Patient:
    id: str | None = None  # the clinic system's patient id
    name: str | None = None
    birth_date: str | None = None  # YYYY-MM-DD
    sex: str | None = None  # one of SEXES

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Encounter:
    date: str | None = None  # YYYY-MM-DD: the day of the visit
    department: str | None = None  # 内科, 小児科 …
    doctor: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Consent:
    given: bool
    by: str | None = None  # 患者本人, 家族 …
    at: str = ""  # ISO time it was given

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Practitioner:
    id: str | None = None
    name: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def label(self) -> str:
        """What the version's author column holds: the id, else the name."""
        return self.id or self.name or ""


def _fields(value: Any, cls: type, group: str) -> dict[str, Any] | None:
    """`value` (a dict or the dataclass) as a dict of its known fields; None when nothing is in it."""
    if value is None:
        return None
    if isinstance(value, cls):
        value = asdict(value)
    if not isinstance(value, dict):
        raise FieldError(f"{group} must be an object, not {type(value).__name__}", group)
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(value) - known)
    if unknown:
        raise FieldError(f"{group} has no field {unknown[0]!r} (it has {', '.join(sorted(known))})", group)
    given = {k: v for k, v in value.items() if v is not None and v != ""}
    return given or None


def _text(value: Any, param: str, limit: int) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise FieldError(f"{param} must be text, not {type(value).__name__}", param)
    value = value.strip()
    if len(value) > limit:
        raise FieldError(f"{param} is {len(value):,} characters; at most {limit}", param)
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as e:
        raise FieldError(f"{param} holds a lone surrogate at character {e.start} (not Unicode text)", param) from None
    if any(c in value for c in "\r\n\t\0"):
        raise FieldError(f"{param} must be one line", param)
    return value or None


def _date(value: Any, param: str, earliest: date, latest: date) -> str | None:
    text = _text(value, param, 10)
    if text is None:
        return None
    try:
        if not _DATE.fullmatch(text):
            raise ValueError
        day = date.fromisoformat(text)
    except ValueError:
        raise FieldError(f"{param} must be a date written YYYY-MM-DD, not {text!r}", param) from None
    if not earliest <= day <= latest:
        raise FieldError(f"{param} {text} is outside {earliest.isoformat()} … {latest.isoformat()}", param)
    return text


def check_patient(value: Any, group: str = "patient") -> Patient | None:
    given = _fields(value, Patient, group)
    if given is None:
        return None
    sex = _text(given.get("sex"), f"{group}.sex", 10)
    if sex is not None and sex not in SEXES:
        raise FieldError(f"{group}.sex must be one of {', '.join(SEXES)}, not {sex!r}", f"{group}.sex")
    return Patient(
        _text(given.get("id"), f"{group}.id", MAX_ID_CHARS),
        _text(given.get("name"), f"{group}.name", MAX_NAME_CHARS),
        _date(given.get("birth_date"), f"{group}.birth_date", EARLIEST_BIRTH, date.today()),
        sex,
    )


def check_encounter(value: Any, group: str = "encounter") -> Encounter | None:
    given = _fields(value, Encounter, group)
    if given is None:
        return None
    return Encounter(
        _date(given.get("date"), f"{group}.date", date(1900, 1, 1), date(2199, 12, 31)),
        _text(given.get("department"), f"{group}.department", MAX_DEPARTMENT_CHARS),
        _text(given.get("doctor"), f"{group}.doctor", MAX_NAME_CHARS),
    )


def check_consent(value: Any, now: str, group: str = "consent") -> Consent | None:
    """The consent as stored; `now` fills its time when the caller gave none."""
    given = _fields(value, Consent, group)
    if given is None:
        return None
    if not isinstance(given.get("given"), bool):
        raise FieldError(f"{group}.given must be true or false", f"{group}.given")
    at = _text(given.get("at"), f"{group}.at", 40)
    if at is not None:
        try:
            datetime.fromisoformat(at)
        except ValueError:
            raise FieldError(
                f"{group}.at must be an ISO time such as 2026-12-07T09:30:00+09:00", f"{group}.at"
            ) from None
    return Consent(given["given"], _text(given.get("by"), f"{group}.by", MAX_CONSENT_BY_CHARS), at or now)


def check_practitioner(value: Any, group: str = "practitioner") -> Practitioner:
    """The signer: an id or a name is required (a signature must say whose it is)."""
    given = _fields(value, Practitioner, group)
    practitioner = Practitioner(
        _text((given or {}).get("id"), f"{group}.id", MAX_ID_CHARS),
        _text((given or {}).get("name"), f"{group}.name", MAX_NAME_CHARS),
    )
    if not practitioner.label:
        raise FieldError(f"a signature needs the practitioner's id or name ({group}.id)", f"{group}.id")
    return practitioner
