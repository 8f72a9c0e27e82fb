"""The service's log lines as they are written: each captured record through the JSON formatter
of :mod:`app.logs`, parsed back."""

from __future__ import annotations

import json
from typing import Any

import pytest

from app.logs import JsonFormatter

FORMATTER = JsonFormatter()


def json_lines(caplog: pytest.LogCaptureFixture, logger: str) -> list[dict[str, Any]]:
    """The records of ``logger`` captured so far, each formatted as one JSON line and parsed."""
    lines = []
    for record in caplog.records:
        if record.name == logger:
            text = FORMATTER.format(record)
            assert "\n" not in text, text
            lines.append(json.loads(text))
    return lines
