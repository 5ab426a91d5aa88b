"""No payload content, bearer token or BSN reaches a log line, whoever logs it: our own
calls, the standard library's records (uvicorn's, a library's), nested values and
exceptions alike. Each test logs markers and then looks for them in what was written."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
import structlog

from casestore.adapters.logging import REDACTED, Redact, configure, passes_elfproef
from casestore.bootstrap import content_field_names

BSN = "111222333"  # passes the elfproef
TOKEN = "cs_0123456789abcdef_S3cr3t-t0ken_value_that_is_long_enough"
CONTENT = "MARKER-diagnose-schizofrenie"


@pytest.fixture
def lines(monkeypatch: pytest.MonkeyPatch) -> Iterator[io.StringIO]:
    stream = io.StringIO()
    monkeypatch.setattr("sys.stderr", stream)
    configure("json", content_keys=content_field_names())
    try:
        yield stream
    finally:
        logging.getLogger().handlers.clear()
        structlog.reset_defaults()


def written(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_the_marker_bsn_is_one_the_elfproef_accepts() -> None:
    assert passes_elfproef(BSN)
    assert not passes_elfproef("111222334")


def test_our_log_calls_lose_content_tokens_and_bsns(lines: io.StringIO) -> None:
    log = structlog.get_logger("test")
    log.info("appended", payload={"toelichting": CONTENT}, event_type="signalering")
    log.info("careless", toelichting=CONTENT, nested={"deeper": [{"diagnose": CONTENT}]})
    log.warning(f"token {TOKEN} and bsn {BSN} in the message", header=f"Bearer {TOKEN}")
    log.info("numbers", bsn_as_int=int(BSN), position=123456789, count=42)
    text = lines.getvalue()
    for marker in (CONTENT, TOKEN, BSN, "S3cr3t"):
        assert marker not in text
    records = written(lines)
    assert records[0]["payload"] == REDACTED and records[0]["event_type"] == "signalering"
    assert records[1]["toelichting"] == REDACTED
    assert records[1]["nested"] == {"deeper": [{"diagnose": REDACTED}]}
    assert records[3]["bsn_as_int"] == REDACTED
    assert (records[3]["position"], records[3]["count"]) == (123456789, 42)  # no elfproef


def test_standard_library_records_and_exceptions_are_redacted_too(lines: io.StringIO) -> None:
    logging.getLogger("uvicorn.error").error("client sent %s for %s", TOKEN, BSN)
    try:
        raise ValueError(f"could not parse {CONTENT!r} of {BSN}")
    except ValueError:
        logging.getLogger("somelibrary").exception("failed")
    text = lines.getvalue()
    assert TOKEN not in text and BSN not in text
    records = written(lines)
    assert records[0]["logger"] == "uvicorn.error"
    assert "exception" in records[1] and BSN not in str(records[1]["exception"])


def test_every_content_field_of_every_event_type_is_a_redacted_key() -> None:
    redact = Redact(content_field_names())
    names = content_field_names()
    assert {"toelichting", "diagnose", "naam", "bsn"} & names
    cleaned = redact(None, "info", dict.fromkeys(names, CONTENT))
    assert set(cleaned.values()) == {REDACTED}
