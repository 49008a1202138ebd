"""Logging that never writes patient text in clear: every record is masked before any handler sees it.

    install_masking()                     # root logger and uvicorn's loggers, once at server start

`MaskingFilter` rewrites a record's message (and its traceback) masked; `MaskingFormatter` masks the final
line again, so a handler added later with its own filter-free setup still writes masked text.
"""

from __future__ import annotations

import logging
import traceback

from kogata.privacy.mask import mask_text

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class MaskingFilter(logging.Filter):
    """Replace the record's message, traceback and stack with masked text (never drops a record)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "_kogata_masked", False):
            return True
        record.msg = mask_text(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = mask_text("".join(traceback.format_exception(*record.exc_info)).rstrip())
        if record.stack_info:
            record.stack_info = mask_text(record.stack_info)
        record._kogata_masked = True
        return True


class MaskingFormatter(logging.Formatter):
    """A Formatter whose output is masked as a whole (message, traceback, and any extra fields)."""

    def format(self, record: logging.LogRecord) -> str:
        return mask_text(super().format(record))


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
