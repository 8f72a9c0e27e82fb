"""Article 6.2 rules as pure functions over domain values (article6.md §1, §4).

Each ``check_*`` raises a named domain error and returns nothing; ``carve`` decides which serials
an action takes, deterministically.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import date

from ledger.errors import (
    AccountMetricMismatch,
    ActionBeforeAuthorization,
    ActionDateBeforePreviousAction,
    AlreadyFirstTransferred,
    AuthorizationLimitExceeded,
    AuthorizationRevoked,
    InsufficientHoldings,
    InvalidInput,
    NdcNotDeclared,
    NonGhgConversionMissing,
    NotFirstTransferred,
    OimpFirstTransferTooLate,
    PurposeNotAuthorized,
    SerialsNotHeld,
    UnitsAlreadyRetired,
    UnitsFlaggedInconsistent,
    UnitsNotAuthorized,
    UseOutsideNdcPeriod,
    UseYearBeforeVintage,
    VintageBefore2021,
    VintageNotYetAchieved,
)
from ledger.registry.model import (
    CONVERSION_FACTOR,
    GASES,
    MIN_VINTAGE,
    Account,
    Authorization,
    Metric,
    NdcDeclaration,
    NonGhgConversion,
    Party,
    UnitAttributes,
    UnitBlock,
    UnitSelection,
)
from ledger.registry.ndc import period_for_year

Piece = tuple[UnitBlock, int, int]  # a block and the sub-range [first, last] an action takes


def check_vintage(vintage: int) -> None:
    if vintage < MIN_VINTAGE:
        raise VintageBefore2021(
            f"vintage {vintage} is before {MIN_VINTAGE}", vintage=vintage, minimum=MIN_VINTAGE
        )


def check_not_retired(block: UnitBlock) -> None:
    if block.retired:
        raise UnitsAlreadyRetired(
            f"serials {block.first}-{block.last} were already used or cancelled",
            block_id=block.block_id,
        )


def check_use_within_ndc_period(ndc: NdcDeclaration, vintage: int, use_year: int) -> None:
    check_vintage(vintage)
    if not ndc.covers(use_year) or not ndc.covers(vintage):
        raise UseOutsideNdcPeriod(
            f"use year {use_year} and vintage {vintage} must both lie in the NDC period "
            f"{ndc.period_start}-{ndc.period_end}",
            use_year=use_year,
            vintage=vintage,
            period_start=ndc.period_start,
            period_end=ndc.period_end,
        )


def check_use_within_ndc_periods(party: Party, vintage: int, use_year: int) -> None:
    """Use towards an NDC: the use year and the vintage lie in the same one of the Party's NDC
    periods, the one the use year is reported under (2/CMA.3 annex para 8(b))."""
    ndc = period_for_year(party, use_year)
    if ndc is None:
        raise NdcNotDeclared(f"{party.code} has not declared its NDC period", party=party.code)
    check_use_within_ndc_period(ndc, vintage, use_year)


def check_not_inconsistent(block: UnitBlock) -> None:
    if block.inconsistent:
        raise UnitsFlaggedInconsistent(
            f"serials {block.first}-{block.last} are flagged inconsistent by a consistency check",
            block_id=block.block_id,
        )


def check_authorized(block: UnitBlock) -> None:
    if block.authorization_id is None:
        raise UnitsNotAuthorized(
            f"serials {block.first}-{block.last} are not authorized", block_id=block.block_id
        )


def check_not_first_transferred(block: UnitBlock) -> None:
    """At most one first transfer per serial."""
    if block.first_transferred:
        raise AlreadyFirstTransferred(
            f"serials {block.first}-{block.last} were already first transferred",
            block_id=block.block_id,
            first_transfer_seq=block.first_transfer_seq,
        )


def check_first_transferred(block: UnitBlock) -> None:
    """Only ITMOs (first transferred) are used towards an NDC."""
    if not block.first_transferred:
        raise NotFirstTransferred(
            f"serials {block.first}-{block.last} were never first transferred: they are not "
            "ITMOs and cannot be used towards an NDC",
            block_id=block.block_id,
        )


def check_purpose(authorization: Authorization, *, ndc: bool) -> None:
    allowed = authorization.purposes.covers_ndc if ndc else authorization.purposes.covers_oimp
    if not allowed:
        wanted = "NDC use" if ndc else "OIMP"
        raise PurposeNotAuthorized(
            f"authorization {authorization.authorization_id} v{authorization.version} covers "
            f"{authorization.purposes.value}, not {wanted}",
            authorization_id=authorization.authorization_id,
            purposes=authorization.purposes.value,
        )


def check_units_fit_authorization(
    authorization: Authorization, attributes: UnitAttributes, quantity_after: int
) -> None:
    """The units' attributes are within the authorization and its quantity is not exceeded."""
    a = authorization
    check_not_revoked(a)
    problems: list[str] = []
    if attributes.ca_id != a.ca_id:
        problems.append(f"cooperative approach {attributes.ca_id} is not {a.ca_id}")
    if attributes.first_transferring_party != a.party:
        problems.append(
            f"units of {attributes.first_transferring_party} cannot be authorized by {a.party}"
        )
    if not a.vintage_from <= attributes.vintage <= a.vintage_to:
        problems.append(f"vintage {attributes.vintage} is outside {a.vintage_from}-{a.vintage_to}")
    if attributes.metric is not a.metric:
        problems.append(f"metric {attributes.metric.value} is not {a.metric.value}")
    elif a.non_ghg_metric is not None and attributes.non_ghg_metric != a.non_ghg_metric:
        problems.append(f"non-GHG metric {attributes.non_ghg_metric} is not {a.non_ghg_metric}")
    if a.sectors and attributes.sector not in a.sectors:
        problems.append(f"sector {attributes.sector!r} is not authorized")
    if a.activity_types and attributes.activity_type not in a.activity_types:
        problems.append(f"activity type {attributes.activity_type!r} is not authorized")
    if a.underlying_registries and attributes.underlying_registry not in a.underlying_registries:
        problems.append(
            f"underlying registry {attributes.underlying_registry!r} is not among "
            f"{list(a.underlying_registries)}"
        )
    if a.quantity is not None and quantity_after > a.quantity:
        problems.append(f"{quantity_after} units would exceed the authorized quantity {a.quantity}")
    if problems:
        raise AuthorizationLimitExceeded(
            "; ".join(problems), authorization_id=a.authorization_id, version=a.version
        )


def check_transfer_allowed(
    authorization: Authorization, acquiring_party: str, on: date, entity: str | None = None
) -> None:
    a = authorization
    if a.authorized_parties and acquiring_party not in a.authorized_parties:
        raise AuthorizationLimitExceeded(
            f"{acquiring_party} is not among the authorized Parties {list(a.authorized_parties)}",
            authorization_id=a.authorization_id,
            acquiring_party=acquiring_party,
        )
    if entity is not None and a.authorized_entities and entity not in a.authorized_entities:
        raise AuthorizationLimitExceeded(
            f"entity {entity} is not among the authorized entities",
            authorization_id=a.authorization_id,
            entity=entity,
        )
    check_timeframe(a, on)


def check_authorization_elements(authorization: Authorization) -> None:
    """The elements of 4/CMA.6 para 5 an authorization records are well formed: known gases,
    a final issuance date not before the authorization, and a revocation only with its reason
    on the version dated that day."""
    a = authorization
    unknown = [gas for gas in a.gases if gas not in GASES]
    if unknown or len(set(a.gases)) != len(a.gases):
        raise InvalidInput(
            f"gases must be distinct names among {list(GASES)}, not {list(a.gases)}",
            field="gases",
        )
    if a.issuance_until is not None and a.issuance_until < a.authorized_on:
        raise InvalidInput("issuance_until is before the date of authorization")
    if (a.revoked_on is None) != (a.revocation_reason is None):
        raise InvalidInput("a revocation states its date and its reason")
    if a.revoked_on is not None and (
        a.revoked_on != a.authorized_on or not (a.revocation_reason or "").strip()
    ):
        raise InvalidInput("the revoking version is dated its revocation and gives a reason")


def check_account_definition(account: Account) -> None:
    """A metric-specific account of the non-GHG metric names it; no other account does."""
    if (account.metric is Metric.NON_GHG) != bool((account.non_ghg_metric or "").strip()):
        raise InvalidInput(
            "a non-GHG account names its non-GHG metric (e.g. MWh), and only a non-GHG account",
            field="non_ghg_metric",
        )


def check_unit_metric(attributes: UnitAttributes) -> None:
    """Non-GHG units name their non-GHG metric (e.g. MWh); GHG units (t CO2 eq) do not."""
    if (attributes.metric is Metric.NON_GHG) != bool((attributes.non_ghg_metric or "").strip()):
        raise InvalidInput(
            "non-GHG units name their non-GHG metric (e.g. MWh), and only non-GHG units",
            field="non_ghg_metric",
        )


def check_conversion(conversion: NonGhgConversion, recorded: Iterable[NonGhgConversion]) -> None:
    """A conversion is well formed (a positive exact decimal factor, ordered vintages from
    2021, its metric and who authorized it named) and its id is new, and it covers no vintage
    that another conversion of the same approach and metric covers."""
    c = conversion
    if not c.conversion_id.strip() or not c.non_ghg_metric.strip() or not c.authorized_by.strip():
        raise InvalidInput("a conversion names its id, its non-GHG metric and who authorized it")
    if not CONVERSION_FACTOR.match(c.factor) or c.ratio <= 0:
        raise InvalidInput(
            f"factor {c.factor!r} is not a positive decimal (t CO2 eq per unit, e.g. 0.4571)",
            field="factor",
        )
    if c.vintage_from > c.vintage_to:
        raise InvalidInput("vintage_from must not exceed vintage_to")
    check_vintage(c.vintage_from)
    for other in recorded:
        if other.conversion_id == c.conversion_id:
            raise InvalidInput(
                f"conversion {c.conversion_id} is already recorded", field="conversion_id"
            )
        if (
            (other.ca_id, other.non_ghg_metric) == (c.ca_id, c.non_ghg_metric)
            and other.vintage_from <= c.vintage_to
            and c.vintage_from <= other.vintage_to
        ):
            raise InvalidInput(
                f"conversion {other.conversion_id} already converts {c.non_ghg_metric} of "
                f"{c.ca_id} for vintages {other.vintage_from}-{other.vintage_to}",
                field="vintage_from",
            )


def conversion_for(
    attributes: UnitAttributes, conversions: Iterable[NonGhgConversion], on: date
) -> NonGhgConversion | None:
    """The conversion of these units' metric to t CO2 eq authorized by ``on``, if any."""
    return next(
        (
            c
            for c in conversions
            if c.covers(attributes.ca_id, attributes.non_ghg_metric, attributes.vintage)
            and c.authorized_on <= on
        ),
        None,
    )


def check_usable_metric(
    ndc: NdcDeclaration | None,
    block: UnitBlock,
    conversions: Callable[[], Iterable[NonGhgConversion]],
    on: date,
) -> None:
    """Non-GHG ITMOs are used towards a t CO2 eq NDC only under a conversion recorded and
    authorized by the date of use (``conversions`` is read only when needed)."""
    a = block.attributes
    if a.metric is not Metric.NON_GHG or ndc is None or ndc.metric is not Metric.GHG:
        return
    if conversion_for(a, conversions(), on) is None:
        raise NonGhgConversionMissing(
            f"serials {block.first}-{block.last} count {a.non_ghg_metric}; no conversion of "
            f"{a.non_ghg_metric} of {a.ca_id} vintage {a.vintage} to t CO2 eq was authorized by "
            f"{on.isoformat()}: they cannot be used towards a t CO2 eq NDC",
            block_id=block.block_id,
            non_ghg_metric=a.non_ghg_metric,
            vintage=a.vintage,
        )


def check_account_metric(account: Account, attributes: UnitAttributes) -> None:
    """Units enter a metric-specific account only if they are of its metric."""
    if account.metric is None:
        return
    if attributes.metric is not account.metric or (
        attributes.non_ghg_metric != account.non_ghg_metric
    ):
        held = account.metric.value + (
            f" ({account.non_ghg_metric})" if account.non_ghg_metric else ""
        )
        units = attributes.metric.value + (
            f" ({attributes.non_ghg_metric})" if attributes.non_ghg_metric else ""
        )
        raise AccountMetricMismatch(
            f"account {account.account_id} holds {held} units only, not {units} units",
            account_id=account.account_id,
            account_metric=held,
            units_metric=units,
        )


def check_not_revoked(authorization: Authorization) -> None:
    """``authorization`` is the version in force: once it is the revoking version, no unit is
    bound to the authorization or first transferred under it (4/CMA.6 paras 7-9)."""
    if authorization.revoked_on is not None:
        raise AuthorizationRevoked(
            f"authorization {authorization.authorization_id} was revoked on "
            f"{authorization.revoked_on.isoformat()}: no unit is authorized or first "
            "transferred under it from that date",
            authorization_id=authorization.authorization_id,
            version=authorization.version,
            revoked_on=authorization.revoked_on.isoformat(),
        )


def check_issuance_date(authorization: Authorization, on: date) -> None:
    """Units are issued under an authorization no later than its final date for issuance
    (4/CMA.6 para 5(c))."""
    if authorization.issuance_until is not None and on > authorization.issuance_until:
        raise AuthorizationLimitExceeded(
            f"authorization {authorization.authorization_id} allows issuance until "
            f"{authorization.issuance_until.isoformat()}, not on {on.isoformat()}",
            authorization_id=authorization.authorization_id,
            issuance_until=authorization.issuance_until.isoformat(),
        )


def check_timeframe(authorization: Authorization, on: date) -> None:
    check_not_revoked(authorization)
    if authorization.valid_until is not None and on > authorization.valid_until:
        raise AuthorizationLimitExceeded(
            f"authorization {authorization.authorization_id} expired on "
            f"{authorization.valid_until.isoformat()}",
            authorization_id=authorization.authorization_id,
            valid_until=authorization.valid_until.isoformat(),
        )


# --- time rules: action dates (ledger.registry.dating) -------------------------------------------


def check_vintage_achieved(vintage: int, on: date) -> None:
    """No action on units is dated in a year before their vintage (mitigation not yet achieved)."""
    if vintage > on.year:
        raise VintageNotYetAchieved(
            f"vintage {vintage} units cannot be acted on on {on.isoformat()}: the mitigation of "
            f"{vintage} had not occurred yet",
            vintage=vintage,
            action_date=on.isoformat(),
        )


def check_after_previous_action(block: UnitBlock, previous: date | None, on: date) -> None:
    """An action on units is not dated before the last action on them (``previous``, the
    block's last action date; ``None`` when it is unknown)."""
    if previous is not None and on < previous:
        raise ActionDateBeforePreviousAction(
            f"serials {block.first}-{block.last} were last acted on on {previous.isoformat()}; "
            f"an action on them cannot be dated {on.isoformat()}",
            block_id=block.block_id,
            previous_action_date=previous.isoformat(),
            action_date=on.isoformat(),
        )


def check_authorized_by(authorization: Authorization, on: date) -> None:
    """Units are bound to an authorization, and first transferred under it, on or after its
    date of authorization."""
    if on < authorization.authorized_on:
        raise ActionBeforeAuthorization(
            f"authorization {authorization.authorization_id} v{authorization.version} is dated "
            f"{authorization.authorized_on.isoformat()}; units cannot be authorized or first "
            f"transferred under it on {on.isoformat()}",
            authorization_id=authorization.authorization_id,
            version=authorization.version,
            authorized_on=authorization.authorized_on.isoformat(),
            action_date=on.isoformat(),
        )


def check_use_year_not_before_vintage(vintage: int, use_year: int) -> None:
    if use_year < vintage:
        raise UseYearBeforeVintage(
            f"units of vintage {vintage} cannot be used towards the NDC for {use_year}",
            vintage=vintage,
            use_year=use_year,
        )


def oimp_first_transfer_deadline(ndc: NdcDeclaration, btr_after: int) -> date:
    """31 December of the year before the BTR that contains the NDC period's last year, which
    is submitted ``btr_after`` years after that year."""
    return date(ndc.period_end + btr_after - 1, 12, 31)


def check_oimp_first_transfer_deadline(
    ndc: NdcDeclaration | None, vintage: int, on: date, btr_after: int
) -> None:
    """An OIMP first transfer of units whose vintage lies in the first transferring Party's NDC
    period is dated no later than :func:`oimp_first_transfer_deadline` of that period. Without a
    declared NDC period covering the vintage there is no deadline to check yet."""
    if ndc is None or not ndc.covers(vintage):
        return
    deadline = oimp_first_transfer_deadline(ndc, btr_after)
    if on > deadline:
        raise OimpFirstTransferTooLate(
            f"OIMP first transfers of vintage {vintage} (NDC period {ndc.period_start}-"
            f"{ndc.period_end}) close on {deadline.isoformat()}; this one is dated "
            f"{on.isoformat()}",
            vintage=vintage,
            deadline=deadline.isoformat(),
            action_date=on.isoformat(),
        )


def matches_selection(block: UnitBlock, selection: UnitSelection) -> bool:
    """Whether ``block`` has the attributes ``selection`` names (its serial ranges aside)."""
    a = block.attributes
    return (
        (selection.ca_id is None or a.ca_id == selection.ca_id)
        and (selection.vintage is None or a.vintage == selection.vintage)
        and (
            selection.first_transferring_party is None
            or a.first_transferring_party == selection.first_transferring_party
        )
        and (
            selection.originating_registry is None
            or a.registry_id == selection.originating_registry
        )
    )


def selection_order(block: UnitBlock) -> tuple[int, str, str, str, int]:
    """Oldest vintage first, then by block key and serial: the deterministic pick order."""
    a = block.attributes
    return (a.vintage, a.ca_id, a.registry_id, a.first_transferring_party, block.first)


def carve(
    held: Iterable[UnitBlock], selection: UnitSelection, *, presorted: bool = False
) -> list[Piece]:
    """The pieces of ``held`` blocks an action takes, in a deterministic order.

    Explicit ranges must be wholly held (``SerialsNotHeld``); a bare quantity is filled oldest
    vintage first and fails with ``InsufficientHoldings`` rather than taking fewer units. With
    ``presorted``, ``held`` already comes in :func:`selection_order` and is read only as far as
    the quantity needs (storage streams the account's blocks in that order).
    """
    matching = (b for b in held if matches_selection(b, selection))
    blocks: Iterable[UnitBlock] = matching if presorted else sorted(matching, key=selection_order)
    if selection.ranges:
        return _carve_ranges(list(blocks), selection)
    wanted = selection.quantity
    if wanted is None or wanted <= 0:
        raise InvalidInput("give a positive quantity or serial ranges", quantity=wanted)
    pieces: list[Piece] = []
    remaining = wanted
    for block in blocks:
        if remaining == 0:
            break
        take = min(remaining, block.quantity)
        pieces.append((block, block.first, block.first + take - 1))
        remaining -= take
    if remaining:
        available = wanted - remaining
        raise InsufficientHoldings(
            f"the account holds {available} matching units, {wanted} requested",
            available=available,
            requested=wanted,
        )
    return pieces


def _carve_ranges(blocks: Sequence[UnitBlock], selection: UnitSelection) -> list[Piece]:
    if None in (
        selection.ca_id,
        selection.vintage,
        selection.first_transferring_party,
        selection.originating_registry,
    ):
        raise InvalidInput(
            "serial ranges need the cooperative approach, originating registry, first "
            "transferring Party and vintage that identify them"
        )
    ordered = sorted(selection.ranges, key=lambda r: r.first)
    for earlier, later in zip(ordered, ordered[1:], strict=False):
        if later.first <= earlier.last:
            raise InvalidInput("serial ranges overlap", first=later.first)
    pieces: list[Piece] = []
    for wanted in ordered:
        if wanted.first < 1 or wanted.last < wanted.first:
            raise InvalidInput("a serial range needs 1 <= first <= last", first=wanted.first)
        cursor = wanted.first
        for block in blocks:
            if block.last < cursor or block.first > wanted.last:
                continue
            if block.first > cursor:
                break
            end = min(block.last, wanted.last)
            pieces.append((block, cursor, end))
            cursor = end + 1
            if cursor > wanted.last:
                break
        if cursor <= wanted.last:
            raise SerialsNotHeld(
                f"serials {cursor}-{wanted.last} are not held in the source account",
                first=cursor,
                last=wanted.last,
            )
    return pieces
