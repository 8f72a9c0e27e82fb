"""One JSON line per log event, for every logger (the service's, uvicorn's, Alembic's), with
the id of the request it belongs to.

:func:`logging_config` is the standard library ``dictConfig`` the service applies once per
process: ``a6ledger serve`` and ``a6ledger migrate`` before they start, and uvicorn in each
worker process it starts (its ``log_config``). :class:`JsonFormatter` writes ``time`` (UTC, ISO
8601), ``level``, ``logger``, ``message``, ``request_id`` when the event happened while a request
was answered (:data:`request_id` is set by :mod:`app.middleware`), the fields a caller passed as
``extra={"fields": {...}}`` (the access log's method, route, status, duration...) and
``exception`` with the traceback.
"""

from __future__ import annotations

import json
import logging
import logging.config
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

request_id: ContextVar[str | None] = ContextVar("a6ledger_request_id", default=None)
"""The id of the request being answered (``X-Request-ID``), for every log event it causes."""

LOGGERS = ("a6ledger", "alembic", "uvicorn", "uvicorn.error", "uvicorn.access")


class JsonFormatter(logging.Formatter):
    """A log record as one line of JSON (module docstring)."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        rid = getattr(record, "request_id", None) or request_id.get()
        if rid is not None:
            entry["request_id"] = rid
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            entry.update({k: v for k, v in fields.items() if k not in entry})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, separators=(",", ":"), ensure_ascii=False)


def logging_config(level: str = "INFO") -> dict[str, Any]:
    """The ``logging.config.dictConfig`` of the service: every logger through one JSON handler
    on stderr; uvicorn's own access log is off (:mod:`app.middleware` writes one per request)."""
    handler = {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}
    loggers: dict[str, Any] = {
        name: {"handlers": ["json"], "level": level, "propagate": False}
        for name in ("a6ledger", "alembic", "uvicorn")
    }
    # uvicorn's children log through the ``uvicorn`` logger's handler, not one of their own.
    loggers["uvicorn.error"] = {"handlers": [], "level": level, "propagate": True}
    loggers["uvicorn.access"] = {"handlers": [], "level": "WARNING", "propagate": True}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": JsonFormatter}},
        "handlers": {"json": handler},
        "loggers": loggers,
        "root": {"handlers": ["json"], "level": "WARNING"},
    }


def configure_logging(*, force: bool = False) -> None:
    """Apply :func:`logging_config` to this process, once: not when the root logger has
    handlers already (a program that runs the commands in-process, such as the test runner,
    configured logging its own way), unless ``force``."""
    if force or not logging.getLogger().handlers:
        logging.config.dictConfig(logging_config())
