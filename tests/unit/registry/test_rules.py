"""Pure tests of ``ledger.registry.rules`` (block carving and the Article 6.2 checks) and of the
payload
codec ``ledger.registry.codec``."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import date
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.errors import (
    AuthorizationLimitExceeded,
    InsufficientHoldings,
    InvalidInput,
    PurposeNotAuthorized,
    SerialsNotHeld,
    UnitsAlreadyRetired,
    UnitsFlaggedInconsistent,
    UnitsNotAuthorized,
    UseOutsideNdcPeriod,
    VintageBefore2021,
)
from ledger.registry import rules
from ledger.registry.codec import from_json, to_json
from ledger.registry.model import (
    Account,
    AccountType,
    Authorization,
    AuthorizedEntity,
    CaMethod,
    FirstTransferDefinition,
    Metric,
    MitigationType,
    NdcDeclaration,
    NdcType,
    Party,
    Purpose,
    SerialRange,
    UnitAttributes,
    UnitBlock,
    UnitSelection,
)

NDC = NdcDeclaration(NdcType.SINGLE_YEAR, Metric.GHG, 2021, 2030, CaMethod.AVERAGING, 2030)


def attrs(vintage: int = 2021, ca_id: str = "CA0001", registry_id: str = "THA01") -> UnitAttributes:
    return UnitAttributes(
        ca_id=ca_id,
        registry_id=registry_id,
        first_transferring_party=registry_id[:3],
        vintage=vintage,
        metric=Metric.GHG,
        gwp="AR5",
        mitigation_type=MitigationType.EMISSION_REDUCTIONS,
        sector="Energy generation",
        activity_type="Solar",
    )


def block(block_id: int, first: int, last: int, **changes: Any) -> UnitBlock:
    attributes = changes.pop("attributes", attrs())
    return replace(UnitBlock(block_id, attributes, first, last, "THA01-GOV"), **changes)


def taken(pieces: list[rules.Piece]) -> list[tuple[int, int, int]]:
    return [(b.block_id, first, last) for b, first, last in pieces]


def ranges(*pairs: tuple[int, int], **key: Any) -> UnitSelection:
    defaults = {
        "ca_id": "CA0001",
        "originating_registry": "THA01",
        "first_transferring_party": "THA",
        "vintage": 2021,
    }
    return UnitSelection(
        ranges=tuple(SerialRange(f, last) for f, last in pairs), **{**defaults, **key}
    )


def authorization(**changes: Any) -> Authorization:
    return replace(
        Authorization(
            authorization_id="THA-NDC",
            version=1,
            party="THA",
            ca_id="CA0001",
            authorized_on=date(2025, 10, 30),
            purposes=Purpose.NDC,
            metric=Metric.GHG,
            gwp="AR5",
            sectors=("Energy generation",),
            activity_types=("Solar",),
            vintage_from=2021,
            vintage_to=2030,
        ),
        **changes,
    )


# --- carve: quantities ---------------------------------------------------------------------------

HELD = [
    block(1, 1, 10, attributes=attrs(2022)),
    block(2, 1, 5, attributes=attrs(2021, "CA0002", "MNG01")),
    block(3, 21, 30, attributes=attrs(2021)),
    block(4, 1, 10, attributes=attrs(2021)),
]


def test_a_quantity_is_picked_oldest_vintage_first_whatever_the_input_order() -> None:
    # vintage 2021 before 2022; within 2021, CA0001 before CA0002; then by first serial
    expected = [(4, 1, 10), (3, 21, 30), (2, 1, 5), (1, 1, 3)]
    for order in itertools.permutations(HELD):
        assert taken(rules.carve(order, UnitSelection(quantity=28))) == expected


def test_a_quantity_spans_blocks_and_takes_a_prefix_of_the_last_one() -> None:
    assert taken(rules.carve(HELD, UnitSelection(quantity=7))) == [(4, 1, 7)]
    assert taken(rules.carve(HELD, UnitSelection(quantity=23))) == [
        (4, 1, 10),
        (3, 21, 30),
        (2, 1, 3),
    ]
    assert taken(rules.carve(HELD, UnitSelection(quantity=35))) == [
        (4, 1, 10),
        (3, 21, 30),
        (2, 1, 5),
        (1, 1, 10),
    ]


def test_a_quantity_selection_filters_by_key_fields() -> None:
    selection = UnitSelection(quantity=12, ca_id="CA0001", vintage=2021)
    assert taken(rules.carve(HELD, selection)) == [(4, 1, 10), (3, 21, 22)]
    by_registry = UnitSelection(quantity=5, originating_registry="MNG01")
    assert taken(rules.carve(HELD, by_registry)) == [(2, 1, 5)]
    by_party = UnitSelection(quantity=3, first_transferring_party="THA", vintage=2022)
    assert taken(rules.carve(HELD, by_party)) == [(1, 1, 3)]


@pytest.mark.parametrize(
    ("selection", "available", "requested"),
    [
        (UnitSelection(quantity=36), 35, 36),
        (UnitSelection(quantity=11, vintage=2022), 10, 11),
        (UnitSelection(quantity=1, vintage=2023), 0, 1),
        (UnitSelection(quantity=6, ca_id="CA0002"), 5, 6),
    ],
)
def test_more_than_is_held_is_refused_with_the_figures(
    selection: UnitSelection, available: int, requested: int
) -> None:
    with pytest.raises(InsufficientHoldings) as caught:
        rules.carve(HELD, selection)
    assert caught.value.details == {"available": available, "requested": requested}
    assert caught.value.rule == "holdings-non-negative"


@pytest.mark.parametrize("wanted", [None, 0, -3])
def test_a_quantity_must_be_positive(wanted: int | None) -> None:
    with pytest.raises(InvalidInput):
        rules.carve(HELD, UnitSelection(quantity=wanted))


# --- carve: serial ranges ------------------------------------------------------------------------

CONTIGUOUS = [block(7, 11, 20), block(5, 1, 10), block(9, 31, 40)]


def test_a_range_may_span_adjacent_blocks() -> None:
    assert taken(rules.carve(CONTIGUOUS, ranges((5, 15)))) == [(5, 5, 10), (7, 11, 15)]
    assert taken(rules.carve(CONTIGUOUS, ranges((1, 20)))) == [(5, 1, 10), (7, 11, 20)]


def test_ranges_are_taken_in_serial_order_and_may_share_a_block() -> None:
    selection = ranges((35, 36), (2, 3), (8, 12))
    assert taken(rules.carve(CONTIGUOUS, selection)) == [
        (5, 2, 3),
        (5, 8, 10),
        (7, 11, 12),
        (9, 35, 36),
    ]


@pytest.mark.parametrize(
    ("selection", "missing"),
    [
        (ranges((15, 35)), (21, 35)),  # the gap 21-30 is not held
        (ranges((41, 41)), (41, 41)),
        (ranges((1, 2), (25, 26)), (25, 26)),
        (ranges((1, 2), vintage=2022), (1, 2)),  # same serials, other key
        (ranges((1, 2), ca_id="CA0002"), (1, 2)),
    ],
)
def test_ranges_not_wholly_held_are_refused(
    selection: UnitSelection, missing: tuple[int, int]
) -> None:
    with pytest.raises(SerialsNotHeld) as caught:
        rules.carve(CONTIGUOUS, selection)
    assert (caught.value.details["first"], caught.value.details["last"]) == missing
    assert caught.value.rule == "serial-held-by-account"


@pytest.mark.parametrize(
    "selection",
    [
        ranges((1, 5), (5, 8)),  # overlapping
        ranges((3, 9), (1, 3)),  # overlapping, given out of order
        ranges((1, 10), (2, 4)),  # nested
        ranges((0, 3)),
        ranges((5, 4)),
        UnitSelection(ranges=(SerialRange(1, 2),)),  # no key
        ranges((1, 2), vintage=None),
    ],
)
def test_malformed_or_overlapping_ranges_are_refused(selection: UnitSelection) -> None:
    with pytest.raises(InvalidInput):
        rules.carve(CONTIGUOUS, selection)


def test_ranges_win_over_a_quantity() -> None:
    selection = replace(ranges((2, 3)), quantity=30)
    assert taken(rules.carve(CONTIGUOUS, selection)) == [(5, 2, 3)]


# --- checks --------------------------------------------------------------------------------------


def test_vintage_before_2021_is_refused() -> None:
    rules.check_vintage(2021)
    with pytest.raises(VintageBefore2021) as caught:
        rules.check_vintage(2020)
    assert caught.value.details == {"vintage": 2020, "minimum": 2021}
    assert caught.value.rule == "vintage-from-2021"


@pytest.mark.parametrize(
    ("vintage", "use_year", "error"),
    [
        (2021, 2021, None),
        (2021, 2030, None),
        (2030, 2021, None),
        (2020, 2025, VintageBefore2021),
        (2020, 2031, VintageBefore2021),
        (2021, 2031, UseOutsideNdcPeriod),
        (2021, 2020, UseOutsideNdcPeriod),
        (2031, 2030, UseOutsideNdcPeriod),
        (2031, 2031, UseOutsideNdcPeriod),
    ],
)
def test_use_year_and_vintage_within_the_ndc_period(
    vintage: int, use_year: int, error: type[Exception] | None
) -> None:
    if error is None:
        rules.check_use_within_ndc_period(NDC, vintage, use_year)
        return
    with pytest.raises(error) as caught:
        rules.check_use_within_ndc_period(NDC, vintage, use_year)
    assert type(caught.value) is error
    if error is UseOutsideNdcPeriod:
        assert caught.value.details == {  # type: ignore[attr-defined]
            "use_year": use_year,
            "vintage": vintage,
            "period_start": 2021,
            "period_end": 2030,
        }


def test_block_state_checks() -> None:
    plain = block(1, 1, 10, authorization_id="THA-NDC")
    rules.check_not_retired(plain)
    rules.check_not_inconsistent(plain)
    rules.check_authorized(plain)
    with pytest.raises(UnitsAlreadyRetired) as retired:
        rules.check_not_retired(replace(plain, retired=True))
    assert retired.value.rule == "one-time-use"
    with pytest.raises(UnitsFlaggedInconsistent) as flagged:
        rules.check_not_inconsistent(replace(plain, inconsistent=True))
    assert flagged.value.rule == "no-ndc-use-of-inconsistent-units"
    with pytest.raises(UnitsNotAuthorized) as unauthorized:
        rules.check_authorized(replace(plain, authorization_id=None))
    assert unauthorized.value.details == {"block_id": 1}


@pytest.mark.parametrize("purposes", list(Purpose))
def test_purposes(purposes: Purpose) -> None:
    granted = authorization(purposes=purposes)
    for ndc, allowed in ((True, purposes.value.startswith("NDC")), (False, purposes != "NDC")):
        if allowed:
            rules.check_purpose(granted, ndc=ndc)
        else:
            with pytest.raises(PurposeNotAuthorized):
                rules.check_purpose(granted, ndc=ndc)


@pytest.mark.parametrize(
    ("units", "granted", "quantity_after", "problem"),
    [
        (attrs(), authorization(), 10**9, None),
        (attrs(), authorization(quantity=100), 100, None),
        (attrs(), authorization(quantity=100), 101, "exceed the authorized quantity 100"),
        (attrs(), authorization(ca_id="CA0003"), 1, "cooperative approach"),
        (attrs(registry_id="MNG01"), authorization(), 1, "cannot be authorized by THA"),
        (attrs(2031), authorization(), 1, "vintage 2031 is outside 2021-2030"),
        (attrs(2022), authorization(vintage_from=2023), 1, "vintage 2022"),
        (attrs(), authorization(metric=Metric.NON_GHG), 1, "metric GHG is not non-GHG"),
        (attrs(), authorization(sectors=("Waste",)), 1, "sector"),
        (attrs(), authorization(sectors=()), 1, None),
        (attrs(), authorization(activity_types=("Wind",)), 1, "activity type"),
        (attrs(), authorization(activity_types=()), 1, None),
    ],
)
def test_units_fit_the_authorization(
    units: UnitAttributes, granted: Authorization, quantity_after: int, problem: str | None
) -> None:
    if problem is None:
        rules.check_units_fit_authorization(granted, units, quantity_after)
        return
    with pytest.raises(AuthorizationLimitExceeded) as caught:
        rules.check_units_fit_authorization(granted, units, quantity_after)
    assert problem in caught.value.message
    assert caught.value.details == {"authorization_id": "THA-NDC", "version": 1}


def test_every_problem_is_named() -> None:
    granted = authorization(quantity=5, sectors=("Waste",))
    with pytest.raises(AuthorizationLimitExceeded) as caught:
        rules.check_units_fit_authorization(granted, attrs(2035, "CA0002"), 6)
    assert caught.value.message.count(";") == 3


def test_transfers_stay_within_parties_entities_and_timeframe() -> None:
    granted = authorization(
        authorized_parties=("JPN",),
        authorized_entities=("E1",),
        valid_until=date(2026, 6, 30),
    )
    rules.check_transfer_allowed(granted, "JPN", date(2026, 6, 30))
    rules.check_transfer_allowed(granted, "JPN", date(2026, 1, 1), "E1")
    rules.check_transfer_allowed(authorization(), "CHE", date(2099, 1, 1), "E9")
    for party, on, entity, detail in (
        ("CHE", date(2026, 1, 1), None, {"acquiring_party": "CHE"}),
        ("JPN", date(2026, 1, 1), "E2", {"entity": "E2"}),
        ("JPN", date(2026, 7, 1), None, {"valid_until": "2026-06-30"}),
    ):
        with pytest.raises(AuthorizationLimitExceeded) as caught:
            rules.check_transfer_allowed(granted, party, on, entity)
        assert detail.items() <= caught.value.details.items()
    rules.check_timeframe(granted, date(2026, 6, 30))
    with pytest.raises(AuthorizationLimitExceeded):
        rules.check_timeframe(granted, date(2026, 7, 1))


# --- codec round trips ---------------------------------------------------------------------------

RECORDS: list[Any] = [
    Party.with_ndc("JPN", "Japan", NDC),
    Party("CHE", "Switzerland"),
    NDC,
    replace(NDC, metric=Metric.NON_GHG, non_ghg_unit="MWh"),
    Account("JPN01-GOV", "JPN01", AccountType.NDC_USE, "Japan"),
    AuthorizedEntity("E1", "Air Cargo", "MNG", "MN-1", "CA0002", date(2026, 1, 15), "c", None),
    authorization(),
    authorization(
        purposes=Purpose.NDC_AND_OIMP,
        quantity=5,
        authorized_parties=("JPN", "CHE"),
        authorized_entities=("E1",),
        oimp_authorized="CORSIA",
        first_transfer_definition=FirstTransferDefinition.USE_OR_CANCELLATION,
        valid_until=date(2032, 12, 31),
        terms="t",
        recorded_seq=42,
    ),
    block(3, 1, 9),
    block(
        4,
        10,
        19,
        retired=True,
        authorization_id="A",
        authorization_version=2,
        first_transfer_seq=-1,
        underlying_first=100,
        underlying_last=109,
        parent_id=1,
        inconsistent=True,
        created_seq=7,
        attributes=replace(attrs(), non_ghg_metric="MWh", underlying_registry="JCM"),
    ),
]


@pytest.mark.parametrize("record", RECORDS, ids=lambda r: type(r).__name__)
def test_codec_round_trips(record: Any) -> None:
    encoded = to_json(record)
    assert from_json(type(record), encoded) == record
    assert to_json(from_json(type(record), encoded)) == encoded


def test_codec_encodes_json_values() -> None:
    encoded = to_json(RECORDS[7])
    assert encoded["purposes"] == "NDC and OIMP"
    assert encoded["authorized_on"] == "2025-10-30"
    assert encoded["authorized_parties"] == ["JPN", "CHE"]
    assert encoded["first_transfer_definition"] == "Use or cancellation"
    assert to_json(RECORDS[0])["ndc_periods"] == [{"declaration": to_json(NDC), "version": 1}]


@given(
    first=st.integers(1, 10**12),
    size=st.integers(0, 10**6),
    vintage=st.integers(2021, 2100),
    version=st.none() | st.integers(1, 99),
    seq=st.none() | st.integers(-1, 10**9),
    flags=st.tuples(st.booleans(), st.booleans()),
)
def test_codec_round_trips_any_block(
    first: int,
    size: int,
    vintage: int,
    version: int | None,
    seq: int | None,
    flags: tuple[bool, bool],
) -> None:
    unit = block(
        first,
        first,
        first + size,
        attributes=attrs(vintage),
        authorization_version=version,
        first_transfer_seq=seq,
        retired=flags[0],
        inconsistent=flags[1],
    )
    assert from_json(UnitBlock, to_json(unit)) == unit


@pytest.mark.parametrize(
    "change",
    [
        {"surprise": 1},  # unknown field
        {"first": True},  # a boolean is not an integer
        {"first": "1"},
        {"retired": 0},  # an integer is not a boolean
        {"account_id": 5},
        {"attributes": {**to_json(attrs()), "vintage": "2021"}},
        {"attributes": {**to_json(attrs()), "metric": "tCO2"}},  # not an enum value
    ],
)
def test_codec_decoding_is_strict(change: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=r"."):
        from_json(UnitBlock, {**to_json(block(1, 1, 2)), **change})


def test_codec_fills_omitted_optional_fields_with_defaults() -> None:
    encoded = to_json(block(1, 1, 2))
    for name in ("retired", "parent_id", "inconsistent", "created_seq"):
        del encoded[name]
    assert from_json(UnitBlock, encoded) == block(1, 1, 2)


def test_codec_refuses_missing_fields_with_value_error() -> None:
    from ledger.registry.codec import from_json
    from ledger.registry.model import SerialRange

    with pytest.raises(ValueError, match="SerialRange"):
        from_json(SerialRange, {"first": 1})
