"""Exact figures and their display rounding (half to even)."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.accounting.adjustments import (
    Figure,
    render_decimal,
)
from ledger.errors import InvalidInput


class TestFigureAndRendering:
    def test_figure_normalizes(self) -> None:
        figure = Figure(3, (5, 2, 5))  # type: ignore[arg-type]
        assert figure.value == Fraction(3)
        assert isinstance(figure.value, Fraction)
        assert figure.seqs == (2, 5)
        assert figure.is_integral
        assert not Figure(Fraction(1, 3)).is_integral

    @pytest.mark.parametrize("value", [1.5, Decimal("1.5"), "1", True])
    def test_figure_rejects_inexact_values(self, value: object) -> None:
        with pytest.raises(InvalidInput):
            Figure(value)  # type: ignore[arg-type]

    def test_figure_arithmetic_unions_seqs(self) -> None:
        a, b = Figure(Fraction(10), (1,)), Figure(Fraction(4), (2,))
        assert a + b == Figure(Fraction(14), (1, 2))
        assert a - b == Figure(Fraction(6), (1, 2))
        assert -a == Figure(Fraction(-10), (1,))
        assert a / 4 == Figure(Fraction(5, 2), (1,))

    @pytest.mark.parametrize(
        ("value", "places", "text"),
        [
            (Fraction(5, 2), 0, "2"),
            (Fraction(7, 2), 0, "4"),
            (Fraction(-5, 2), 0, "-2"),
            (Fraction(14009, 10), 1, "1400.9"),
            (Fraction(14009, 10), 0, "1401"),
            (Fraction(-22003, 3), 3, "-7334.333"),
            (Fraction(2, 3), 2, "0.67"),
            (Fraction(-1, 1000), 2, "0.00"),
            (Fraction(1, 8), 2, "0.12"),
            (Fraction(3, 8), 2, "0.38"),
            (Fraction(5), 2, "5.00"),
        ],
    )
    def test_render_rounds_half_to_even(self, value: Fraction, places: int, text: str) -> None:
        assert render_decimal(value, places) == text

    @pytest.mark.parametrize("places", [-1, 1.0])
    def test_render_rejects_bad_places(self, places: object) -> None:
        with pytest.raises(InvalidInput):
            render_decimal(Fraction(1), places)  # type: ignore[arg-type]


@given(
    numerator=st.integers(-(10**12), 10**12),
    scale=st.integers(0, 6),
    places=st.integers(0, 6),
)
def test_render_matches_decimal_half_even(numerator: int, scale: int, places: int) -> None:
    exact = Decimal(numerator).scaleb(-scale)
    expected = exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN)
    if expected == 0:
        expected = abs(expected)  # no negative zero on display
    assert render_decimal(Fraction(numerator, 10**scale), places) == f"{expected:f}"
