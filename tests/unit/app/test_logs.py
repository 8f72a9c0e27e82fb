"""Every log event is one JSON line with the request id (app/logs.py), for every logger."""

from __future__ import annotations

import io
import json
import logging
import sys
from collections.abc import Iterator

import pytest

from app.logs import LOGGERS, JsonFormatter, configure_logging, request_id


def _record(
    name: str, message: str, *, failing: bool = False, **extra: object
) -> logging.LogRecord:
    exc_info = None
    if failing:
        try:
            raise ValueError("boom")
        except ValueError:
            exc_info = sys.exc_info()
    return logging.getLogger(name).makeRecord(
        name, logging.WARNING, __file__, 1, message, (), exc_info, extra=extra
    )


def test_a_record_is_one_json_line_with_the_request_id_of_its_context() -> None:
    token = request_id.set("rq-7")
    try:
        text = JsonFormatter().format(_record("alembic.runtime.migration", "two\nlines"))
    finally:
        request_id.reset(token)
    assert "\n" not in text
    line = json.loads(text)
    assert line["request_id"] == "rq-7"
    assert line["logger"] == "alembic.runtime.migration"
    assert line["level"] == "warning"
    assert line["message"] == "two\nlines"
    assert line["time"].endswith("+00:00")


def test_fields_and_tracebacks_join_the_line_but_never_replace_its_keys() -> None:
    record = _record("a6ledger.x", "m", fields={"status": 201, "level": "forged"}, failing=True)
    line = json.loads(JsonFormatter().format(record))
    assert line["status"] == 201
    assert line["level"] == "warning"
    assert "ValueError: boom" in line["exception"]
    assert "request_id" not in line  # no request was being answered


@pytest.fixture
def restored_logging() -> Iterator[None]:
    names = ["", *LOGGERS]
    saved = {
        name: (list(lg.handlers), lg.level, lg.propagate)
        for name in names
        for lg in [logging.getLogger(name)]
    }
    yield
    for name, (handlers, level, propagate) in saved.items():
        logger = logging.getLogger(name)
        logger.handlers[:] = handlers
        logger.setLevel(level)
        logger.propagate = propagate


@pytest.mark.usefixtures("restored_logging")
def test_every_logger_writes_json_lines_once_configured(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stream = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stream)
    configure_logging()  # the test runner's handlers are in place: nothing changes
    logging.getLogger("a6ledger.access").warning("not configured yet")
    assert stream.getvalue() == ""
    configure_logging(force=True)
    token = request_id.set("rq-9")
    try:
        for name in ("a6ledger.access", "alembic.runtime.migration", "uvicorn.error", "other"):
            logging.getLogger(name).warning("from %s", name)
    finally:
        request_id.reset(token)
    lines = [json.loads(text) for text in stream.getvalue().splitlines()]
    assert [(line["logger"], line["request_id"]) for line in lines] == [
        ("a6ledger.access", "rq-9"),
        ("alembic.runtime.migration", "rq-9"),
        ("uvicorn.error", "rq-9"),
        ("other", "rq-9"),
    ]
