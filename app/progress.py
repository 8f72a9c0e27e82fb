"""Progress bars of the long commands (``verify-db``, ``demo``, ``export``, ``verify-export``;
``import`` draws its own, :mod:`app.cli_import`), on stderr and only when stderr is a terminal:
piped or redirected output stays free of control characters.

The bars are tqdm's. The verifier commands also run with only ``cryptography`` and ``rfc8785``
installed (README, "For auditors"): without tqdm there is no bar, and nothing else changes.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TextIO

Advance = Callable[[int], None]
"""Called with the number of units done since the last call."""


def _nothing(_done: int) -> None:
    return None


@contextmanager
def progress_bar(
    description: str, total: int | None, unit: str = " entries", stream: TextIO | None = None
) -> Iterator[Advance]:
    """A bar of ``total`` units on ``stream`` (default stderr) if it is a terminal and tqdm is
    installed; yields the function that advances it (a no-op otherwise). The bar is cleared
    when the block ends, so the command's result line stands alone."""
    out = sys.stderr if stream is None else stream
    if not out.isatty():
        yield _nothing
        return
    try:
        from tqdm import tqdm
    except ImportError:
        yield _nothing
        return
    with tqdm(
        total=total, desc=description, unit=unit, file=out, leave=False, dynamic_ncols=True
    ) as bar:
        yield bar.update


Reached = Callable[[int, int], None]
"""Called with the number of units done so far and the total (which may become known late)."""


@contextmanager
def progress_to(
    description: str, unit: str = " entries", stream: TextIO | None = None
) -> Iterator[Reached]:
    """:func:`progress_bar` for work that reports how far it got and its total as it goes (the
    export verifier learns the total from the manifest it reads first)."""
    out = sys.stderr if stream is None else stream
    if not out.isatty():
        yield _nothing_reached
        return
    try:
        from tqdm import tqdm
    except ImportError:
        yield _nothing_reached
        return
    with tqdm(desc=description, unit=unit, file=out, leave=False, dynamic_ncols=True) as bar:

        def reached(done: int, total: int) -> None:
            if bar.total != total:
                bar.total = total
                bar.refresh()  # show the total now, not at the next timed redraw
            bar.update(done - bar.n)

        yield reached


def _nothing_reached(_done: int, _total: int) -> None:
    return None
