"""Visits: the transcript as it arrives, every chart version, every edit, and who did what, when.

    store = open_store(path_or_url)               # default: $KOGATA_HOME/visits.sqlite3; or postgresql://…
    visit = store.create_visit(actor="dr.yamada")
    store.add_utterance(visit.id, "患者", "三日前から熱があります", actor="asr")
    store.add_chart_version(visit.id, chart.to_dict(), source="model", author="kogata", model=...)

Nothing is ever overwritten: utterances and chart versions are append-only (triggers refuse UPDATE and
DELETE), a doctor's edit is a new chart version plus a row saying who changed what, and a corrected speaker
label is a new correction row. Every write is its own committed transaction (SQLite: WAL mode with
synchronous=FULL; PostgreSQL: synchronous commit), so a server killed mid-visit has lost nothing it acknowledged.
The audit log records actions and ids only, never patient text (logs must not hold it in clear).
An utterance the recogniser labelled keeps its guess (speaker_confidence 0–1, and speaker_sure: whether the label
was shown as sure) in its own row; a person's correction of the speaker makes the label sure, and the guess stays
where it was stored (utterance_history).

One store, two backends: the SQL here is written once (with `?` placeholders) and runs through
kogata.store.sqlite (a file, one writer at a time) or kogata.store.postgres (one database that several
`kogata serve` replicas share; each visit's writers go one at a time across processes). Each has its own
numbered migrations (migrations.py, migrations_pg.py) with the same step numbers. Rows come back as dicts.
"""

from __future__ import annotations

import json
import math
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from kogata.errors import InputError
from kogata.home import home
from kogata.privacy import remember
from kogata.store.errors import ConflictError, FieldError, NotFoundError
from kogata.store.identity import (
    Consent,
    Encounter,
    Patient,
    Practitioner,
    check_consent,
    check_encounter,
    check_patient,
    check_practitioner,
)
from kogata.store.sqlite import SqliteBackend
from kogata.transcript import Transcript, from_records
from kogata.transcript.parse import is_confidence

MAX_UTTERANCE_CHARS = 4000
MAX_SPEAKER_CHARS = 10
MAX_UTTERANCES = 10_000  # per visit: an hour's consultation is a few hundred
MAX_SECONDS = 24 * 3600.0  # an utterance's start and end, in seconds from the visit's start
MAX_BATCH = 1000  # utterances in one add_utterances call
CHART_SOURCES = ("model", "edit")  # what add_chart_version takes; sign_chart makes the third, "sign"
STATUSES = ("draft", "signed", "amended")
__all__ = ["ConflictError", "FieldError", "NotFoundError"]  # defined in store.errors, importable from here as before


@dataclass(frozen=True)
class Visit:
    """A visit as read: its identity is the latest row of each group; its status is its latest chart version's."""

    id: str
    created_at: str
    created_by: str
    title: str = ""
    patient: Patient | None = None
    encounter: Encounter | None = None
    consent: Consent | None = None
    status: str = "empty"  # "empty" (no chart yet) | "draft" | "signed" | "amended"
    latest_version: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class StoredUtterance:
    seq: int
    speaker: str
    text: str
    start: float | None
    end: float | None
    received_at: str
    corrected: bool = False
    # The recogniser's guess at the speaker: how sure (0–1) and whether the label is shown as sure (False: 患者?).
    # None in both for a label a person gave; after a person corrects the speaker, sure is True and the confidence
    # None (the guess itself stays in the stored row: VisitStore.utterance_history).
    speaker_confidence: float | None = None
    speaker_sure: bool | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ChartVersion:
    version: int
    chart: dict
    source: str
    author: str
    model: str
    seconds: float
    utterances: int
    created_at: str
    status: str = "draft"  # "signed": made by sign_chart; "amended": changed after a signature, not re-signed
    signed_by: Practitioner | None = None
    signed_at: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def summary(self) -> dict[str, Any]:
        """The version without its chart: what a history view lists."""
        return {k: v for k, v in self.to_dict().items() if k in _SUMMARY}


_SUMMARY = ("version", "status", "source", "author", "created_at", "signed_by", "signed_at")
_VERSION_COLUMNS = (
    "version, chart, source, author, model, seconds, utterances, created_at, status, signed_by_id, signed_by_name, "
    "signed_at"
)


def _version(r: dict[str, Any]) -> ChartVersion:
    signer = Practitioner(r["signed_by_id"], r["signed_by_name"]) if r["signed_at"] is not None else None
    return ChartVersion(
        r["version"],
        json.loads(r["chart"]),
        r["source"],
        r["author"],
        r["model"],
        r["seconds"],
        r["utterances"],
        r["created_at"],
        r["status"],
        signer,
        r["signed_at"],
    )


def _groups(rows: list[tuple[str, tuple]]) -> str:
    """An audit detail naming the identity groups written (never their values)."""
    names = [sql.split()[2].removeprefix("visit_").removesuffix("s") for sql, _ in rows if "visit_" in sql.split()[2]]
    return f"identity={','.join(names)}" if names else ""


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def default_path() -> Path:
    """$KOGATA_HOME/visits.sqlite3 (KOGATA_HOME defaults to ~/.cache/kogata, where the models live too)."""
    return home() / "visits.sqlite3"


def chart_diff(old: dict, new: dict) -> dict[str, Any]:
    """What an edit changed: SOAP lines removed and added per section, and which other fields changed."""
    diff: dict[str, Any] = {}
    old_soap, new_soap = old.get("soap", {}), new.get("soap", {})
    for section in sorted(set(old_soap) | set(new_soap)):
        before = [i.get("text", "") for i in old_soap.get(section, [])]
        after = [i.get("text", "") for i in new_soap.get(section, [])]
        removed = [t for t in before if t not in after]
        added = [t for t in after if t not in before]
        if removed or added:
            diff.setdefault("soap", {})[section] = {"removed": removed, "added": added}
    changed = sorted(k for k in set(old) | set(new) if k not in ("soap", "warnings") and old.get(k) != new.get(k))
    if changed:
        diff["fields"] = changed
    return diff


def is_store_url(where: Any) -> bool:
    """True for a PostgreSQL URL (postgresql://… or postgres://…); anything else names a SQLite file."""
    return isinstance(where, str) and where.startswith(("postgresql://", "postgres://"))


def describe(where: str | Path | None) -> str:
    """Where the visits are, fit for a log line (a URL without its password)."""
    if is_store_url(where):
        from kogata.store.postgres import redact

        return redact(str(where))
    return str(where if where is not None else default_path())


def open_store(where: str | Path | None = None) -> VisitStore:
    """The visit store at `where`: a postgresql:// URL, or a SQLite file (None: $KOGATA_HOME/visits.sqlite3).
    Opening migrates the schema to this kogata's version."""
    return VisitStore(where)


class VisitStore:
    """Visits in one SQLite file or one PostgreSQL database (open_store); safe to share between threads."""

    def __init__(self, where: str | Path | None = None):
        self.where = where if where is not None else default_path()
        if is_store_url(self.where):
            try:
                from kogata.store.postgres import PostgresBackend
            except ImportError as e:
                raise InputError(
                    f"a postgresql:// store needs psycopg ({e}); install with: pip install 'kogata[postgres]'"
                ) from None
            self._backend = PostgresBackend(str(self.where))
            self.path = None
        else:
            self._backend = SqliteBackend(self.where)
            self.path = self._backend.path
        self.dialect = self._backend.dialect

    def close(self) -> None:
        self._backend.close()

    def schema_version(self) -> int:
        return self._backend.version()

    def migrate(self, to: int | None = None) -> int:
        """The schema moved to step `to` (None: the latest), up or down; a down step never drops stored rows."""
        return self._backend.migrate(to)

    # ── writing: each call is one committed transaction ──

    def _write(self, sql_params: list[tuple[str, tuple]], audit: tuple[str, str, str | None, str]) -> None:
        """Run the statements and one audit row in a single transaction."""
        with self._backend.transaction() as tx:
            for sql, params in sql_params:
                tx.execute(sql, params)
            actor, action, visit_id, detail = audit
            tx.execute(
                "INSERT INTO audit (at, actor, action, visit_id, detail) VALUES (?, ?, ?, ?, ?)",
                (now(), actor, action, visit_id, detail),
            )

    def create_visit(
        self, *, actor: str, title: str = "", patient: Any = None, encounter: Any = None, consent: Any = None
    ) -> Visit:
        """A new visit; `patient`, `encounter`, `consent` (dicts or the dataclasses, each optional) are checked
        first (FieldError names the bad field) and stored with it, in one transaction."""
        _no_surrogates(title, "the title", "title")
        visit_id, at = uuid.uuid4().hex, now()
        rows = self._identity_rows(visit_id, actor, at, patient, encounter, consent)
        self._write(
            [
                (
                    "INSERT INTO visits (id, created_at, created_by, title) VALUES (?, ?, ?, ?)",
                    (visit_id, at, actor, title.strip()),
                ),
                *rows,
            ],
            (actor, "visit.create", visit_id, _groups(rows)),
        )
        return self.visit(visit_id)

    def set_identity(
        self, visit_id: str, *, actor: str, patient: Any = None, encounter: Any = None, consent: Any = None
    ) -> Visit:
        """Record a visit's patient, encounter or consent later: each group given is a new row (the latest wins when
        read; the rows before it are kept). A group replaces the one before it as a whole."""
        self._require(visit_id)
        rows = self._identity_rows(visit_id, actor, now(), patient, encounter, consent)
        if not rows:
            raise FieldError("give a patient, an encounter or a consent to record", "patient")
        self._write(rows, (actor, "visit.identity", visit_id, _groups(rows)))
        return self.visit(visit_id)

    @staticmethod
    def _identity_rows(
        visit_id: str, actor: str, at: str, patient: Any, encounter: Any, consent: Any
    ) -> list[tuple[str, tuple]]:
        """The INSERTs for the groups given (checked; nothing is written when one field is bad)."""
        rows = []
        p, e, c = check_patient(patient), check_encounter(encounter), check_consent(consent, at)
        if p is not None:
            rows.append(
                (
                    "INSERT INTO visit_patients (visit_id, patient_id, name, birth_date, sex, author, at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (visit_id, p.id, p.name, p.birth_date, p.sex, actor, at),
                )
            )
            remember([p.name], [p.id])
        if e is not None:
            rows.append(
                (
                    "INSERT INTO visit_encounters (visit_id, date, department, doctor, author, at) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    (visit_id, e.date, e.department, e.doctor, actor, at),
                )
            )
        if c is not None:
            rows.append(
                (
                    "INSERT INTO visit_consents (visit_id, given, given_by, given_at, author, at) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    (visit_id, int(c.given), c.by, c.at, actor, at),
                )
            )
        return rows

    def add_utterance(
        self,
        visit_id: str,
        speaker: str,
        text: str,
        *,
        actor: str,
        start: float | None = None,
        end: float | None = None,
        speaker_confidence: float | None = None,
        speaker_sure: bool | None = None,
    ) -> StoredUtterance:
        """Append one utterance (committed before this returns); its seq is the next number in the visit.
        `speaker_confidence` and `speaker_sure` (both or neither): the recogniser's guess at the speaker."""
        checked = _check_utterance(speaker, text, start, end) + _check_guess(speaker_confidence, speaker_sure)
        return self._append(visit_id, [checked], actor)[0]

    def add_utterances(self, visit_id: str, items: list[dict[str, Any]], *, actor: str) -> list[StoredUtterance]:
        """Append several utterances ({speaker, text, start?, end?, speaker_confidence?, speaker_sure?} each) in one
        transaction: all are stored, or none (one bad item raises FieldError naming it as `utterances[i].field`,
        before anything is written)."""
        if not isinstance(items, list) or not items:
            raise FieldError("give at least one utterance", "utterances")
        if len(items) > MAX_BATCH:
            raise FieldError(f"{len(items):,} utterances in one call; at most {MAX_BATCH:,}", "utterances")
        checked = []
        for i, item in enumerate(items):
            if not isinstance(item, dict):
                raise FieldError(f"utterances[{i}] is not an object", f"utterances[{i}]")
            try:
                checked.append(
                    _check_utterance(item.get("speaker"), item.get("text"), item.get("start"), item.get("end"))
                    + _check_guess(item.get("speaker_confidence"), item.get("speaker_sure"))
                )
            except FieldError as e:
                raise FieldError(f"utterances[{i}]: {e}", f"utterances[{i}].{e.param}") from None
        return self._append(visit_id, checked, actor)

    def _append(self, visit_id: str, checked: list[tuple], actor: str) -> list[StoredUtterance]:
        """Store checked utterances and one audit row each, in one transaction."""
        self._require(visit_id)  # NotFoundError for an unknown visit
        at = now()
        stored = []
        with self._backend.transaction() as tx:
            tx.lock_visit(visit_id)  # the next seq is read and used by one writer at a time, in any process
            (row,) = tx.execute("SELECT COALESCE(MAX(seq), 0) AS seq FROM utterances WHERE visit_id = ?", (visit_id,))
            seq = row["seq"]
            if seq + len(checked) > MAX_UTTERANCES:
                raise FieldError(
                    f"visit {visit_id} holds {seq:,} utterances; at most {MAX_UTTERANCES:,} per visit",
                    "utterances",
                )
            for speaker, text, start, end, confidence, sure in checked:
                seq += 1
                tx.execute(
                    "INSERT INTO utterances (visit_id, seq, speaker, text, start_s, end_s, received_at, "
                    "received_by, speaker_confidence, speaker_sure) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        visit_id,
                        seq,
                        speaker,
                        text,
                        start,
                        end,
                        at,
                        actor,
                        confidence,
                        None if sure is None else int(sure),
                    ),
                )
                tx.execute(
                    "INSERT INTO audit (at, actor, action, visit_id, detail) VALUES (?, ?, ?, ?, ?)",
                    (at, actor, "utterance.append", visit_id, f"seq={seq}"),
                )
                stored.append(StoredUtterance(seq, speaker, text, start, end, at, False, confidence, sure))
        return stored

    def correct_utterance(
        self, visit_id: str, seq: int, *, author: str, speaker: str | None = None, text: str | None = None
    ) -> StoredUtterance:
        """Record a correction (e.g. the speaker label fixed on the monitor page); the original stays. A new speaker
        makes the label sure: a person said who it was."""
        if speaker is None and text is None:
            raise InputError("a correction needs a new speaker or a new text")
        current = {u.seq: u for u in self.utterances(visit_id)}
        if seq not in current:
            raise NotFoundError(f"visit {visit_id} has no utterance {seq} (it has {len(current)})")
        _check_utterance(
            speaker if speaker is not None else current[seq].speaker, text if text is not None else current[seq].text
        )
        self._write(
            [
                (
                    "INSERT INTO utterance_corrections (visit_id, seq, speaker, text, author, at) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    (
                        visit_id,
                        seq,
                        speaker.strip() if speaker else None,
                        text.strip() if text else None,
                        author,
                        now(),
                    ),
                )
            ],
            (author, "utterance.correct", visit_id, f"seq={seq}"),
        )
        return {u.seq: u for u in self.utterances(visit_id)}[seq]

    def add_chart_version(
        self,
        visit_id: str,
        chart: dict,
        *,
        source: str,
        author: str,
        model: str = "",
        seconds: float = 0.0,
        utterances: int = 0,
        base_version: int | None = None,
    ) -> ChartVersion:
        """Store a new chart version. An edit names its `base_version`, which must be the latest version, so two
        people editing at once cannot silently drop each other's changes (ConflictError); a model's draft may
        name one too."""
        if source not in CHART_SOURCES:
            raise InputError(f"chart source must be one of {CHART_SOURCES}, not {source!r}")
        if source == "edit" and base_version is None:  # an edit without it would silently win over a newer one
            raise InputError("an edit must name the chart version it was made on (base_version)")
        self._require(visit_id)
        return self._add_version(
            visit_id,
            source=source,
            author=author,
            base_version=base_version,
            new=lambda latest: (chart, model, seconds, utterances),
        )

    def sign_chart(self, visit_id: str, *, practitioner: Any, base_version: int) -> ChartVersion:
        """Sign the latest chart version: a new version, the same chart, with status "signed" and who and when.

        `base_version` must be the latest (ConflictError otherwise, as for edits); a visit with no chart, or whose
        latest version is already signed, cannot be signed (ConflictError). An edit after this is "amended".
        """
        signer = check_practitioner(practitioner)
        if isinstance(base_version, bool) or not isinstance(base_version, int):
            raise FieldError("a signature must name the chart version it signs (base_version)", "base_version")
        self._require(visit_id)

        def same_chart(latest: dict[str, Any] | None) -> tuple:
            if latest is None:
                raise ConflictError(f"visit {visit_id} has no chart yet; draft one before signing")
            if latest["status"] == "signed" and latest["version"] == base_version:
                raise ConflictError(f"chart version {base_version} is already signed")
            return latest["chart"], latest["model"], latest["seconds"], latest["utterances"]

        return self._add_version(
            visit_id, source="sign", author=signer.label, base_version=base_version, new=same_chart, signer=signer
        )

    def _add_version(
        self,
        visit_id: str,
        *,
        source: str,
        author: str,
        base_version: int | None,
        new: Any,
        signer: Practitioner | None = None,
    ) -> ChartVersion:
        """Append a version in one transaction: `new(latest row or None)` gives (chart, model, seconds,
        utterances) — the chart as a dict, or the stored JSON text to copy as it is."""
        with self._backend.transaction() as tx:
            tx.lock_visit(visit_id)  # the latest version is read and built on by one writer at a time, in any process
            rows = tx.execute(
                f"SELECT {_VERSION_COLUMNS} FROM chart_versions WHERE visit_id = ? ORDER BY version DESC LIMIT 1",
                (visit_id,),
            )
            latest = rows[0] if rows else None
            number = latest["version"] if latest else 0
            if base_version is not None and base_version != number:
                raise ConflictError(
                    f"the {'signature' if source == 'sign' else 'edit'} was made on version {base_version} but "
                    f"version {number} is the latest; reload the chart and {source} that"
                )
            chart, model, seconds, utterances = new(latest)
            text = chart if isinstance(chart, str) else json.dumps(chart, ensure_ascii=False)
            if source == "sign":
                status = "signed"
            elif latest is not None and latest["status"] in ("signed", "amended"):
                status = "amended"  # changed after a signature: stays amended until signed again
            else:
                status = "draft"
            version, at = number + 1, now()
            row = {
                "visit_id": visit_id,
                "version": version,
                "chart": text,
                "source": source,
                "author": author,
                "model": model,
                "seconds": seconds,
                "utterances": utterances,
                "created_at": at,
                "status": status,
                "signed_by_id": signer.id if signer else None,
                "signed_by_name": signer.name if signer else None,
                "signed_at": at if signer else None,
            }
            tx.execute(
                f"INSERT INTO chart_versions ({', '.join(row)}) VALUES ({', '.join('?' for _ in row)})",
                tuple(row.values()),
            )
            if source == "edit":
                what = chart_diff(json.loads(latest["chart"]) if latest else {}, chart)
                tx.execute(
                    "INSERT INTO edits (visit_id, version, base_version, author, at, what) VALUES (?, ?, ?, ?, ?, ?)",
                    (visit_id, version, number, author, at, json.dumps(what, ensure_ascii=False)),
                )
            action = {"model": "chart.generate", "edit": "chart.edit", "sign": "chart.sign"}[source]
            tx.execute(
                "INSERT INTO audit (at, actor, action, visit_id, detail) VALUES (?, ?, ?, ?, ?)",
                (at, author, action, visit_id, f"version={version} status={status}"),
            )
        return _version(row)

    def audit(self, action: str, *, actor: str, visit_id: str | None = None, detail: str = "") -> None:
        """Record an action that changes nothing (a read, an export). `detail`: ids and flags, never patient text."""
        self._write([], (actor, action, visit_id, detail))

    # ── reading ──

    def _rows(self, sql: str, params: tuple = ()) -> list[dict[str, Any]]:
        return self._backend.rows(sql, params)

    def visit(self, visit_id: str) -> Visit:
        rows = self._rows("SELECT id, created_at, created_by, title FROM visits WHERE id = ?", (visit_id,))
        if not rows:
            raise NotFoundError(f"no visit {visit_id!r}")
        return self._visit(rows[0])

    def _require(self, visit_id: str) -> None:
        """NotFoundError unless the visit exists: one indexed read, where the whole visit (five) is not needed."""
        if not self._rows("SELECT 1 AS found FROM visits WHERE id = ?", (visit_id,)):
            raise NotFoundError(f"no visit {visit_id!r}")

    def _latest(self, table: str, columns: str, visit_id: str) -> dict[str, Any] | None:
        rows = self._rows(f"SELECT {columns} FROM {table} WHERE visit_id = ? ORDER BY id DESC LIMIT 1", (visit_id,))
        return rows[0] if rows else None

    def _visit(self, row: dict[str, Any]) -> Visit:
        """A visits row with the latest identity rows and the latest chart version's status."""
        visit_id = row["id"]
        p = self._latest("visit_patients", "patient_id, name, birth_date, sex", visit_id)
        e = self._latest("visit_encounters", "date, department, doctor", visit_id)
        c = self._latest("visit_consents", "given, given_by, given_at", visit_id)
        v = self._rows(
            "SELECT version, status FROM chart_versions WHERE visit_id = ? ORDER BY version DESC LIMIT 1", (visit_id,)
        )
        patient = Patient(p["patient_id"], p["name"], p["birth_date"], p["sex"]) if p else None
        if patient is not None:
            remember([patient.name], [patient.id])  # read after a restart: still masked in the server's logs
        return Visit(
            visit_id,
            row["created_at"],
            row["created_by"],
            row["title"],
            patient,
            Encounter(e["date"], e["department"], e["doctor"]) if e else None,
            Consent(bool(c["given"]), c["given_by"], c["given_at"]) if c else None,
            v[0]["status"] if v else "empty",
            v[0]["version"] if v else None,
        )

    def visits(self, limit: int = 50, *, date: str | None = None) -> list[Visit]:
        """The most recent visits first; with `date` (YYYY-MM-DD), only that day's: the encounter's date where one
        is recorded, else the local day the visit was created on."""
        if date is None:
            rows = self._rows(
                "SELECT id, created_at, created_by, title FROM visits ORDER BY created_at DESC LIMIT ?", (limit,)
            )
        else:
            start, end = _local_day(date)
            rows = self._rows(
                "SELECT v.id, v.created_at, v.created_by, v.title FROM visits v "
                "LEFT JOIN visit_encounters e ON e.id = "
                "(SELECT MAX(id) FROM visit_encounters WHERE visit_id = v.id) "
                "WHERE e.date = ? OR (e.date IS NULL AND v.created_at >= ? AND v.created_at < ?) "
                "ORDER BY v.created_at DESC LIMIT ?",
                (date, start, end, limit),
            )
        return [self._visit(r) for r in rows]

    def identity_history(self, visit_id: str) -> list[dict[str, Any]]:
        """Every identity row of the visit, oldest first: {group, author, at, and the group's fields}."""
        self._require(visit_id)
        changes = []
        for group, table, columns, make in (
            ("patient", "visit_patients", "patient_id, name, birth_date, sex", lambda r: Patient(*r)),
            ("encounter", "visit_encounters", "date, department, doctor", lambda r: Encounter(*r)),
            ("consent", "visit_consents", "given, given_by, given_at", lambda r: Consent(bool(r[0]), r[1], r[2])),
        ):
            for r in self._rows(
                f"SELECT {columns}, author, at FROM {table} WHERE visit_id = ? ORDER BY id", (visit_id,)
            ):
                values = tuple(r.values())
                changes.append(
                    {"group": group, "author": values[-2], "at": values[-1], group: asdict(make(values[:-2]))}
                )
        return sorted(changes, key=lambda c: c["at"])

    def utterances(self, visit_id: str) -> list[StoredUtterance]:
        """The transcript in order, each utterance with its latest correction applied."""
        self._require(visit_id)
        rows = self._rows(
            "SELECT seq, speaker, text, start_s, end_s, received_at, speaker_confidence, speaker_sure "
            "FROM utterances WHERE visit_id = ? ORDER BY seq",
            (visit_id,),
        )
        corrections: dict[int, dict[str, str]] = {}
        for c in self._rows(
            "SELECT seq, speaker, text FROM utterance_corrections WHERE visit_id = ? ORDER BY id", (visit_id,)
        ):
            fixed = corrections.setdefault(c["seq"], {})
            fixed.update({k: c[k] for k in ("speaker", "text") if c[k] is not None})
        return [_utterance(r, corrections.get(r["seq"])) for r in rows]

    def utterance_history(self, visit_id: str) -> list[dict[str, Any]]:
        """Each corrected utterance as it was received (with the recogniser's guess, if it made one) and every
        correction of it, oldest first: {seq, speaker, text, speaker_confidence, speaker_sure, received_at,
        received_by, corrections: [{speaker, text, author, at}]} (a correction's None: that field unchanged)."""
        self._require(visit_id)
        corrections: dict[int, list[dict[str, Any]]] = {}
        for c in self._rows(
            "SELECT seq, speaker, text, author, at FROM utterance_corrections WHERE visit_id = ? ORDER BY id",
            (visit_id,),
        ):
            corrections.setdefault(c.pop("seq"), []).append(c)
        rows = self._rows(
            "SELECT seq, speaker, text, received_at, received_by, speaker_confidence, speaker_sure "
            "FROM utterances WHERE visit_id = ? ORDER BY seq",
            (visit_id,),
        )
        return [
            {**r, "speaker_sure": _sure(r["speaker_sure"]), "corrections": corrections[r["seq"]]}
            for r in rows
            if r["seq"] in corrections
        ]

    def chart_versions(self, visit_id: str) -> list[ChartVersion]:
        self._require(visit_id)
        rows = self._rows(
            f"SELECT {_VERSION_COLUMNS} FROM chart_versions WHERE visit_id = ? ORDER BY version", (visit_id,)
        )
        return [_version(r) for r in rows]

    def history(self, visit_id: str) -> list[dict[str, Any]]:
        """Every chart version without its chart: version, status, source, author, created_at, signed_by,
        signed_at."""
        return [v.summary() for v in self.chart_versions(visit_id)]

    def chart_version(self, visit_id: str, version: int | None = None) -> ChartVersion:
        """One version (None: the latest); NotFoundError when there is none."""
        versions = self.chart_versions(visit_id)
        if not versions:
            raise NotFoundError(f"visit {visit_id} has no chart yet; generate one first")
        if version is None:
            return versions[-1]
        for v in versions:
            if v.version == version:
                return v
        raise NotFoundError(f"visit {visit_id} has no chart version {version} (versions 1–{len(versions)})")

    def edits(self, visit_id: str) -> list[dict[str, Any]]:
        rows = self._rows(
            "SELECT version, base_version, author, at, what FROM edits WHERE visit_id = ? ORDER BY id", (visit_id,)
        )
        return [dict(r, what=json.loads(r["what"])) for r in rows]

    def audit_log(self, visit_id: str | None = None) -> list[dict[str, Any]]:
        if visit_id is None:
            return [dict(r) for r in self._rows("SELECT at, actor, action, visit_id, detail FROM audit ORDER BY id")]
        return [
            dict(r)
            for r in self._rows(
                "SELECT at, actor, action, visit_id, detail FROM audit WHERE visit_id = ? ORDER BY id", (visit_id,)
            )
        ]

    def record(self, visit_id: str) -> dict[str, Any]:
        """The whole visit: transcript, every chart version, every edit (JSON-ready)."""
        visit = self.visit(visit_id)
        return {
            **visit.to_dict(),
            "utterances": [u.to_dict() for u in self.utterances(visit_id)],
            "versions": [v.to_dict() for v in self.chart_versions(visit_id)],
            "edits": self.edits(visit_id),
        }


def _sure(stored: int | None) -> bool | None:
    return None if stored is None else bool(stored)


def _utterance(row: dict[str, Any], fixed: dict[str, str] | None) -> StoredUtterance:
    """An utterances row with its corrections applied: a corrected speaker is a person's label, so sure."""
    corrected, fixed = fixed is not None, fixed or {}
    confidence, sure = row["speaker_confidence"], _sure(row["speaker_sure"])
    if "speaker" in fixed:
        confidence, sure = None, True
    return StoredUtterance(
        row["seq"],
        fixed.get("speaker", row["speaker"]),
        fixed.get("text", row["text"]),
        row["start_s"],
        row["end_s"],
        row["received_at"],
        corrected,
        confidence,
        sure,
    )


def _check_guess(confidence: Any, sure: Any) -> tuple[float | None, bool | None]:
    """The recogniser's speaker guess as stored, or FieldError: both given (a number 0–1, a bool) or neither."""
    if confidence is None and sure is None:
        return None, None
    if confidence is None or sure is None:
        missing = "speaker_sure" if sure is None else "speaker_confidence"
        raise FieldError("a speaker guess gives both speaker_confidence and speaker_sure, or neither", missing)
    if not is_confidence(confidence):
        number = isinstance(confidence, (int, float)) and not isinstance(confidence, bool)
        wrong = confidence if number else type(confidence).__name__
        raise FieldError(f"speaker_confidence must be a number from 0 to 1, not {wrong}", "speaker_confidence")
    if not isinstance(sure, bool):
        raise FieldError(f"speaker_sure must be true or false, not {type(sure).__name__}", "speaker_sure")
    return float(confidence), sure


def _local_day(day: str) -> tuple[str, str]:
    """The UTC times (as `now()` writes them) at which the local day `day` starts and the next one starts."""
    try:
        if not isinstance(day, str) or len(day) != 10:  # fromisoformat also takes 20261207 and 2026-W49-1
            raise ValueError
        start = datetime.combine(date.fromisoformat(day), time()).astimezone()
    except ValueError:
        raise FieldError(f"date must be written YYYY-MM-DD, not {day!r}", "date") from None
    end = (start + timedelta(days=1)).astimezone()  # a day may be 23 or 25 hours: take the next local midnight
    end = datetime.combine(end.date(), time()).astimezone()
    return tuple(t.astimezone(UTC).isoformat(timespec="milliseconds") for t in (start, end))


def _no_surrogates(value: str, what: str, param: str) -> None:
    if "\x00" in value:  # PostgreSQL's text cannot hold it, and no speech or typing makes one: refused on both
        raise FieldError(f"{what} holds a NUL character at {value.index(chr(0))} (not text)", param)
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as e:
        raise FieldError(f"{what} holds a lone surrogate at character {e.start} (not Unicode text)", param) from None


def _seconds(value: Any, param: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise FieldError(f"{param} must be a number of seconds, not {type(value).__name__}", param)
    if not math.isfinite(value) or not 0 <= value <= MAX_SECONDS:
        raise FieldError(f"{param} must be between 0 and {MAX_SECONDS:,.0f} seconds, not {value}", param)
    return float(value)


def _check_utterance(
    speaker: Any, text: Any, start: Any = None, end: Any = None
) -> tuple[str, str, float | None, float | None]:
    """The utterance as stored (labels and text stripped), or FieldError naming the field at fault."""
    if not isinstance(speaker, str) or not speaker.strip():
        raise FieldError("an utterance needs a speaker label such as 医師 or 患者", "speaker")
    if len(speaker.strip()) > MAX_SPEAKER_CHARS:
        raise FieldError(f"speaker label is {len(speaker.strip())} characters; at most {MAX_SPEAKER_CHARS}", "speaker")
    _no_surrogates(speaker, "the speaker label", "speaker")
    if not isinstance(text, str) or not text.strip():
        raise FieldError("an utterance's text is empty", "text")
    if len(text) > MAX_UTTERANCE_CHARS:
        raise FieldError(
            f"an utterance is {len(text):,} characters; at most {MAX_UTTERANCE_CHARS:,} (split it)", "text"
        )
    _no_surrogates(text, "the text", "text")
    start, end = _seconds(start, "start"), _seconds(end, "end")
    if start is not None and end is not None and end < start:
        raise FieldError(f"end ({end}) is before start ({start})", "end")
    return speaker.strip(), text.strip(), start, end


def visit_transcript(store: VisitStore, visit_id: str) -> Transcript:
    """The visit's transcript as kogata reads one (same checks as a file: Japanese, not empty …).
    Utterance ids equal the stored seq numbers, so chart evidence points at stored utterances."""
    utterances = store.utterances(visit_id)
    if not utterances:
        raise InputError(f"visit {visit_id} has no utterances yet; there is nothing to chart")
    records = [
        {
            "speaker": u.speaker,
            "text": u.text,
            "start": u.start,
            "end": u.end,
            "speaker_confidence": u.speaker_confidence,
            "speaker_sure": u.speaker_sure,
        }
        for u in utterances
    ]
    return from_records(records, source=f"visit:{visit_id}")
