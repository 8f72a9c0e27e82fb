"""The progress of ``a6ledger import`` on standard error: a bar redrawn in place on a terminal,
plain lines otherwise."""

from __future__ import annotations

import io

from app.cli_import import FORMATS, ProgressDisplay
from ledger.adapters.import_files import ImportFormat
from ledger.imports import CommittedBatch, ProgressEvent


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_terminal_gets_one_bar_redrawn_in_place() -> None:
    stream = Terminal()
    display = ProgressDisplay(stream, dry_run=False)
    display(ProgressEvent(5, 20, False, CommittedBatch(1, 5, 5)))
    display(ProgressEvent(20, 20, False, CommittedBatch(6, 20, 21)))
    display.close()
    bar = "#" * 7 + "-" * 23
    assert stream.getvalue() == (
        f"\r[{bar}] 5/20 rows imported\r[{'#' * 30}] 20/20 rows imported\n"
    )


def test_an_interrupted_bar_ends_its_line() -> None:
    stream = Terminal()
    display = ProgressDisplay(stream, dry_run=True)
    display(ProgressEvent(3, 9, True))
    display.close()
    display.close()
    assert stream.getvalue().endswith("3/9 rows checked\n")


def test_a_pipe_gets_plain_lines() -> None:
    stream = io.StringIO()
    display = ProgressDisplay(stream, dry_run=False)
    display(ProgressEvent(5, 20, False, CommittedBatch(1, 5, 5)))
    display.close()
    assert stream.getvalue() == "import: 5/20 rows imported (rows 1-5 committed, entry 5)\n"


def test_the_format_option_offers_every_import_format() -> None:
    assert FORMATS == tuple(f.value for f in ImportFormat)
