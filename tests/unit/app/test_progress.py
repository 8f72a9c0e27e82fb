"""Progress bars only on a terminal, and none without tqdm (the verifier's minimal install)."""

from __future__ import annotations

import io
import sys

import pytest

from app.progress import progress_bar


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_no_bar_when_the_stream_is_not_a_terminal() -> None:
    stream = io.StringIO()
    with progress_bar("verify-db", 10, stream=stream) as advance:
        advance(10)
    assert stream.getvalue() == ""


def test_a_bar_on_a_terminal_counts_and_is_cleared() -> None:
    stream = Terminal()
    with progress_bar("verify-db", 4, stream=stream) as advance:
        for _ in range(4):
            advance(1)
    drawn = stream.getvalue()
    assert "verify-db" in drawn
    assert "/4 " in drawn  # redrawn at most ten times a second: the total is shown
    assert drawn.endswith("\r")  # cleared (leave=False): the result line stands alone


def test_no_bar_without_tqdm(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "tqdm", None)  # import tqdm raises ImportError
    stream = Terminal()
    with progress_bar("verify-export", None, stream=stream) as advance:
        advance(3)
    assert stream.getvalue() == ""
