"""A pytest plugin that fails any test whose log output holds an API key or a watched patient name.

Every record any logger emits during the run (DEBUG and up, uvicorn's own loggers included) is written as the
server writes it, through kogata's masking filter and formatter, and the result is searched for

- every API key a test gives the server (`ApiKeyMiddleware`), and
- every name in tests/data/watched_names.txt: the patients, family members and staff named in the test inputs.

The check runs in each test's teardown, so a leak fails the test that logged it; the terminal summary says how
many lines were checked. Records are copied before masking, so tests that read caplog see what they always did.
"""

from __future__ import annotations

import copy
import logging
import threading
from pathlib import Path

import pytest

from kogata.privacy.logs import LOG_FORMAT, MaskingFilter, MaskingFormatter

WATCHED_NAMES = tuple(
    line.strip()
    for line in (Path(__file__).parent / "data" / "watched_names.txt").read_text(encoding="utf-8").splitlines()
    if line.strip() and not line.startswith("#")
)
MIN_KEY_CHARS = 6  # a shorter test key ("k") would match ordinary text


class _Guard:
    def __init__(self) -> None:
        self.keys: set[str] = set()
        self.lines: list[str] = []
        self.checked = 0
        self.leaks = 0
        self._lock = threading.Lock()
        self._filter = MaskingFilter()
        self._formatter = MaskingFormatter(LOG_FORMAT)
        self._inside = threading.local()

    def see(self, record: logging.LogRecord) -> None:
        if getattr(self._inside, "active", False):  # the masker's own logging, if any
            return
        self._inside.active = True
        try:
            masked = copy.copy(record)
            self._filter.filter(masked)
            line = self._formatter.format(masked)
        finally:
            self._inside.active = False
        with self._lock:
            self.lines.append(line)

    def take(self) -> list[str]:
        with self._lock:
            lines, self.lines = self.lines, []
            self.checked += len(lines)
        return lines

    def findings(self, lines: list[str]) -> list[str]:
        secrets = [("API key", key) for key in self.keys] + [("name", name) for name in WATCHED_NAMES]
        found = []
        for line in lines:
            for kind, secret in secrets:
                if secret in line:
                    found.append(f"{kind} {secret!r} in log line: {line[:300]!r}")
        return found


GUARD = _Guard()


def pytest_configure(config):
    original_handle = logging.Logger.handle

    def handle(self: logging.Logger, record: logging.LogRecord) -> None:
        GUARD.see(record)
        original_handle(self, record)

    logging.Logger.handle = handle  # every record that passes its logger's level, whatever handlers it has
    logging.getLogger().setLevel(logging.DEBUG)

    from kogata.serve.app import ApiKeyMiddleware

    original_init = ApiKeyMiddleware.__init__

    def init(self, app, api_key: str, *args, **kwargs):
        if len(api_key) >= MIN_KEY_CHARS:
            GUARD.keys.add(api_key)
        original_init(self, app, api_key, *args, **kwargs)

    ApiKeyMiddleware.__init__ = init


@pytest.fixture(autouse=True)
def no_secret_in_logs():
    GUARD.take()  # lines logged between tests (fixtures' teardown) belong to no test; they were checked before
    yield
    found = GUARD.findings(GUARD.take())
    GUARD.leaks += len(found)
    assert not found, "\n".join(found[:10])


def pytest_terminal_summary(terminalreporter):
    GUARD.checked += len(GUARD.lines)
    terminalreporter.write_line(
        f"leak guard: {GUARD.checked:,} log lines checked (DEBUG and up, masked as the server writes them) for "
        f"{len(GUARD.keys)} API keys and {len(WATCHED_NAMES)} names: {GUARD.leaks} found"
    )
