"""Logging that never writes patient text in clear: every record is masked before any handler sees it.

    install_masking()                     # root logger and uvicorn's loggers, once at server start

`MaskingFilter` rewrites a record's message (and its traceback) masked; `MaskingFormatter` masks the final
line again, so a handler added later with its own filter-free setup still writes masked text. Both remember the
names they have masked (a bounded memory, never written anywhere), so a name logged once with 様 is masked when a
later line writes it bare. `remember()` teaches them the names and ids a visit was given as fields (a patient's
name and id, which no honorific marks), so those are masked in every later line too.
"""

from __future__ import annotations

import logging
import re
import threading
import traceback
from collections import OrderedDict
from collections.abc import Iterable

from kogata.privacy.mask import LABELS, mask_and_find

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
REDACTED = "[REDACTED]"
_SECRETS = (
    # a query string's secrets: ?api_key=…, &key=…, token=…, access_token=… (uvicorn logs the full path)
    re.compile(r"(?i)([?&;](?:api[_-]?key|key|token|access[_-]?token)=)[^&#\s\"']*"),
    re.compile(r"(?i)(\bbearer\s+)[^\s,\"']+"),  # an Authorization header's value
    re.compile(r"(kogata\.key\.)[^\s,\"']+"),  # the WebSocket subprotocol that carries the key
)


def redact_secrets(text: str) -> str:
    """`text` with API keys and tokens (in query strings, bearer headers, the key subprotocol) replaced."""
    for pattern in _SECRETS:
        text = pattern.sub(r"\1" + REDACTED, text)
    return text


MIN_ID_CHARS = 3  # a shorter id ("12") would mask ordinary numbers in every log line


class _NameMemory:
    """The names (and given ids) seen in recent log lines or visits, most recent last; the oldest are forgotten
    past `size`."""

    def __init__(self, size: int = 4096) -> None:
        self._names: OrderedDict[str, None] = OrderedDict()
        self._ids: OrderedDict[str, None] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def _keep(self, memory: OrderedDict[str, None], items: Iterable[str]) -> None:
        with self._lock:
            for item in items:
                memory[item] = None
                memory.move_to_end(item)
            while len(memory) > self._size:
                memory.popitem(last=False)

    def add(self, names: Iterable[str], ids: Iterable[str]) -> None:
        self._keep(self._names, names)
        self._keep(self._ids, ids)

    def mask(self, text: str) -> str:
        with self._lock:
            known, ids = list(self._names), sorted(self._ids, key=len, reverse=True)
        text = redact_secrets(text)
        for item in ids:  # before detection, so a rule cannot label half of one
            text = text.replace(item, LABELS["PERSON_ID"])
        masked, found = mask_and_find(text, known)  # this line's own names are masked in it too
        self._keep(self._names, found)
        return masked


_MEMORY = _NameMemory()


def remember(names: Iterable[str | None] = (), ids: Iterable[str | None] = ()) -> None:
    """Mask these wherever a later log line writes them: each name whole, without its spaces, and each part of it
    (「山田 太郎」: also 山田太郎, 山田, 太郎); each id (of 3 characters or more) as ［ID］."""
    forms = set()
    for name in names:
        if name and name.strip():
            parts = re.split(r"[\s・]+", name.strip())
            forms.update({name.strip(), "".join(parts), *parts})
    _MEMORY.add(
        sorted(f for f in forms if len(f) >= 2),
        sorted(i.strip() for i in ids if i and len(i.strip()) >= MIN_ID_CHARS),
    )


class MaskingFilter(logging.Filter):
    """Replace the record's message, traceback and stack with masked text (never drops a record)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "_kogata_masked", False):
            return True
        record.msg = _MEMORY.mask(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = _MEMORY.mask("".join(traceback.format_exception(*record.exc_info)).rstrip())
        if record.stack_info:
            record.stack_info = _MEMORY.mask(record.stack_info)
        record._kogata_masked = True
        return True


class MaskingFormatter(logging.Formatter):
    """A Formatter whose output is masked as a whole (message, traceback, and any extra fields)."""

    def format(self, record: logging.LogRecord) -> str:
        return _MEMORY.mask(super().format(record))


def masking_handler(stream=None, level: int = logging.INFO) -> logging.Handler:
    """A stream handler (stderr by default) that masks every record it writes."""
    handler = logging.StreamHandler(stream)
    handler.setLevel(level)
    handler.addFilter(MaskingFilter())
    handler.setFormatter(MaskingFormatter(LOG_FORMAT))
    return handler


def install_masking(
    level: int = logging.INFO, loggers: tuple[str, ...] = ("uvicorn", "uvicorn.error", "uvicorn.access", "fastapi")
) -> None:
    """Route the root logger and the server's loggers through one masking handler; drop their own handlers."""
    handler = masking_handler(level=level)
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for name in loggers:
        logger = logging.getLogger(name)
        for old in list(logger.handlers):
            logger.removeHandler(old)
        logger.propagate = True
        logger.addFilter(MaskingFilter())
