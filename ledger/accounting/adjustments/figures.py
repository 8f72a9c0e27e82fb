"""Exact figures that name the ledger entries behind them, and their display rounding."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from ledger.accounting.adjustments.checks import is_int
from ledger.errors import InvalidInput


@dataclass(frozen=True, slots=True)
class Figure:
    """An exact quantity and the ledger entries (``seq``) it was computed from.

    ``value`` is always a :class:`~fractions.Fraction` (an ``int`` is converted); ``seqs`` is
    sorted and free of duplicates. Arithmetic keeps values exact and unions the seqs, so each
    derived figure still names every ledger entry behind it.
    """

    value: Fraction
    seqs: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        raw: object = self.value
        if is_int(raw):
            object.__setattr__(self, "value", Fraction(self.value))
        elif not isinstance(raw, Fraction):
            raise InvalidInput(f"a figure is an int or a Fraction, got {type(raw).__name__}")
        object.__setattr__(self, "seqs", tuple(sorted(set(self.seqs))))

    def __add__(self, other: Figure) -> Figure:
        return Figure(self.value + other.value, self.seqs + other.seqs)

    def __sub__(self, other: Figure) -> Figure:
        return Figure(self.value - other.value, self.seqs + other.seqs)

    def __neg__(self) -> Figure:
        return Figure(-self.value, self.seqs)

    def __truediv__(self, divisor: int) -> Figure:
        return Figure(self.value / divisor, self.seqs)

    @property
    def is_integral(self) -> bool:
        """True if the value is a whole number."""
        return self.value.denominator == 1

    def render(self, places: int = 0) -> str:
        """The value as a decimal string for display (see :func:`render_decimal`)."""
        return render_decimal(self.value, places)


ZERO = Figure(Fraction(0))


def render_decimal(value: Fraction, places: int) -> str:
    """Render ``value`` with ``places`` decimals, rounding half to even (ROUND_HALF_EVEN).

    For display only: the rounding happens here and nowhere in the computation, because the
    decision does not say how averages are rounded (article6.md §2.2). The result is exact
    up to that single rounding step, e.g. ``render_decimal(Fraction(-22003, 3), 3)`` is
    ``"-7334.333"``.
    """
    if not is_int(places) or places < 0:
        raise InvalidInput(f"places must be an int >= 0, got {places!r}", places=places)
    scaled = round(Fraction(value) * 10**places)  # Fraction.__round__ rounds half to even
    sign = "-" if scaled < 0 else ""
    digits = str(abs(scaled)).rjust(places + 1, "0")
    if places == 0:
        return f"{sign}{digits}"
    return f"{sign}{digits[:-places]}.{digits[-places:]}"
