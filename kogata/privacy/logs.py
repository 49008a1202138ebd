"""Logging that never writes patient text in clear: every record is masked before any handler sees it.

    install_masking()                     # root logger and uvicorn's loggers, once at server start

`MaskingFilter` rewrites a record's message (and its traceback) masked; `MaskingFormatter` masks the final
line again, so a handler added later with its own filter-free setup still writes masked text. Both remember the
names they have masked (a bounded memory, never written anywhere), so a name logged once with 様 is masked when a
later line writes it bare.
"""

from __future__ import annotations

import logging
import re
import threading
import traceback
from collections import OrderedDict

from kogata.privacy.mask import mask_and_find

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


class _NameMemory:
    """The names seen in recent log lines, most recent last; the oldest are forgotten past `size`."""

    def __init__(self, size: int = 4096) -> None:
        self._names: OrderedDict[str, None] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def mask(self, text: str) -> str:
        with self._lock:
            known = list(self._names)
        masked, found = mask_and_find(redact_secrets(text), known)  # this line's own names are masked in it too
        with self._lock:
            for name in found:
                self._names[name] = None
                self._names.move_to_end(name)
            while len(self._names) > self._size:
                self._names.popitem(last=False)
        return masked


_MEMORY = _NameMemory()


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
