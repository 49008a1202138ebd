"""The leak guard (tests/leak_guard.py) sees every logger's records and finds what masking let through."""

import logging

from leak_guard import GUARD, WATCHED_NAMES


def test_a_record_from_a_logger_without_handlers_or_propagation_is_seen():
    hidden = logging.getLogger("kogata.test.hidden")
    hidden.propagate = False
    hidden.warning("guard-probe %d", 42)
    assert any("guard-probe 42" in line for line in GUARD.lines)


def test_lines_are_checked_as_the_server_writes_them_masked_and_redacted():
    GUARD.keys.add("guard-test-key-123")
    try:
        logging.getLogger("kogata.test").warning("GET /v1/visits?api_key=guard-test-key-123 患者 山田太郎様 来院")
        line = next(line for line in GUARD.lines if "/v1/visits" in line)
        assert "guard-test-key-123" not in line and "山田太郎" not in line
        assert GUARD.findings([line]) == []
    finally:
        GUARD.keys.discard("guard-test-key-123")


def test_a_key_or_a_watched_name_in_a_line_is_found():
    GUARD.keys.add("guard-test-key-456")
    try:
        found = GUARD.findings(["token guard-test-key-456 here", "小野寺 came in", "nothing"])
    finally:
        GUARD.keys.discard("guard-test-key-456")
    assert "小野寺" in WATCHED_NAMES
    assert len(found) == 2 and "API key" in found[0] and "name '小野寺'" in found[1]
