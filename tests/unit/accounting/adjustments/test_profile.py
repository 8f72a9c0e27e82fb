"""NDC profile errors (decision 2/CMA.3, annex, paras 7, 18(c)-(e))."""

from __future__ import annotations

import pytest

from ledger.accounting.adjustments import (
    InvalidNdcProfile,
    MethodNotAllowedForNdc,
    NdcProfile,
)
from ledger.errors import RuleViolation
from ledger.registry.model import CaMethod, Metric, NdcType
from tests.unit.accounting.adjustments.builders import (
    BUYER,
    profile,
)


class TestProfileErrors:
    def test_averaging_on_a_multi_year_ndc(self) -> None:
        with pytest.raises(MethodNotAllowedForNdc) as caught:
            NdcProfile(BUYER, NdcType.MULTI_YEAR, Metric.GHG, 2021, 2030, CaMethod.AVERAGING, 2030)
        assert isinstance(caught.value, RuleViolation)
        assert caught.value.rule == "ca-method-ndc-type"
        assert caught.value.details["allowed"] == ["annual"]

    def test_annual_on_a_single_year_ndc(self) -> None:
        with pytest.raises(MethodNotAllowedForNdc):
            NdcProfile(
                BUYER,
                NdcType.SINGLE_YEAR,
                Metric.GHG,
                2021,
                2030,
                CaMethod.ANNUAL,
                2030,
                budget=1,
            )

    @pytest.mark.parametrize(
        ("changes", "message"),
        [
            ({"party": "jpn"}, "alpha-3"),
            ({"party": "JAPAN"}, "alpha-3"),
            ({"period_start": 2031}, "after period_end"),
            ({"target_year": 2029}, "last year of its period"),
            ({"target_year": 2035}, "outside the NDC period"),
            ({"metric": "CO2"}, "metric must be one of"),
            ({"method": "average"}, "method must be one of"),
            ({"period_end": 2030.0}, "must be an int"),
            ({"trajectory": {2030: 1}}, "takes no trajectory"),
            ({"method": "trajectory"}, "needs a trajectory or a budget"),
            ({"method": "trajectory", "trajectory": {2031: 5}}, "trajectory year outside"),
            ({"method": "trajectory", "trajectory": {2030: 5.5}}, "must be an int"),
            ({"metric": "non-GHG"}, "non_ghg_unit must be a non-empty string"),
            ({"non_ghg_unit": "MWh"}, "a GHG NDC has no non-GHG unit"),
            (
                {"metric": "non-GHG", "non_ghg_unit": "MWh", "method": "trajectory", "budget": 9},
                "needs the GHG metric",
            ),
        ],
    )
    def test_invalid_profile(self, changes: dict[str, object], message: str) -> None:
        fields: dict[str, object] = {
            "party": BUYER,
            "ndc_type": "single-year",
            "metric": "GHG",
            "period_start": 2021,
            "period_end": 2030,
            "method": "averaging",
            "target_year": 2030,
        }
        fields.update(changes)
        with pytest.raises(InvalidNdcProfile, match=message):
            NdcProfile(**fields)  # type: ignore[arg-type]

    def test_profile_is_immutable_and_hashable(self) -> None:
        party = profile(BUYER, CaMethod.TRAJECTORY, trajectory={2030: 5, 2025: 9})
        assert list(party.trajectory) == [2025, 2030]
        with pytest.raises(TypeError):
            party.trajectory[2026] = 1  # type: ignore[index]
        assert hash(party) == hash(profile(BUYER, CaMethod.TRAJECTORY, trajectory={2030: 6}))
        assert party.period_label == "2021-2030"
        assert profile(period=(2030, 2030)).period_label == "2030"
