"""The AEF rules beyond single cells: ITMO blocks, duplicates, overlapping holdings and the
references across tables."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Protocol

from ledger.accounting.aef.applicability import OIMP_FIRST_TRANSFER
from ledger.accounting.aef.columns import table_spec
from ledger.accounting.aef.nomenclature import (
    IDENTIFIER_FORMATS,
    ActionType,
    AefTable,
    UnderlyingRegistry,
    subtypes_by_type,
)
from ledger.accounting.aef.problems import AefProblem
from ledger.accounting.aef.rows import (
    AefReport,
    AuthorizationRow,
    AuthorizedEntityRow,
    SubmissionRow,
)
from ledger.registry.model import Metric


class _Block(Protocol):
    """The ITMO-block columns that Tables 3 and 4 share."""

    @property
    def cooperative_approach_id(self) -> str: ...
    @property
    def authorization_id(self) -> str: ...
    @property
    def first_transferring_party_id(self) -> str: ...
    @property
    def registry_id(self) -> str: ...
    @property
    def first_id(self) -> int: ...
    @property
    def last_id(self) -> int: ...
    @property
    def underlying_registry_id(self) -> UnderlyingRegistry | None: ...
    @property
    def first_unit_id(self) -> int | None: ...
    @property
    def last_unit_id(self) -> int | None: ...
    @property
    def metric(self) -> Metric: ...
    @property
    def quantity(self) -> int | None: ...
    @property
    def vintage(self) -> int: ...


def _well_formed(name: str, value: str) -> bool:
    """``value`` is non-blank and has the identifier format of field ``name``.

    Cross-table rules run only on well-formed values, so that one bad cell gives one problem.
    """
    pattern = IDENTIFIER_FORMATS.get(name)
    return bool(value.strip()) and (pattern is None or pattern[0].fullmatch(value) is not None)


def check_submission(row: SubmissionRow, problems: list[AefProblem]) -> None:
    if row.ndc_first_year > row.ndc_last_year:
        problems.append(
            AefProblem(
                AefTable.SUBMISSION,
                1,
                table_spec(AefTable.SUBMISSION).column("ndc_last_year").header,
                f"{row.ndc_last_year} is before the first year {row.ndc_first_year}",
            )
        )


def check_authorizations(rows: Sequence[AuthorizationRow], problems: list[AefProblem]) -> None:
    spec = table_spec(AefTable.AUTHORIZATIONS)
    seen: dict[tuple[str, int], int] = {}
    for number, row in enumerate(rows, start=1):
        key = (row.authorization_id, row.authorization_version)
        if key in seen:
            problems.append(
                AefProblem(
                    AefTable.AUTHORIZATIONS,
                    number,
                    spec.column("authorization_version").header,
                    f"authorization {row.authorization_id!r} version "
                    f"{row.authorization_version} is already in row {seen[key]}",
                )
            )
        else:
            seen[key] = number


def _check_block(table: AefTable, number: int, row: _Block, problems: list[AefProblem]) -> None:
    spec = table_spec(table)

    def add(field_name: str, message: str) -> None:
        problems.append(AefProblem(table, number, spec.column(field_name).header, message))

    if row.first_id > row.last_id:
        add("last_id", f"Last ID {row.last_id} is before First ID {row.first_id}")
    elif row.metric is Metric.GHG and row.quantity != row.last_id - row.first_id + 1:
        add(
            "quantity",
            f"quantity {row.quantity} does not match the block {row.first_id}-{row.last_id} "
            f"({row.last_id - row.first_id + 1} units)",
        )
    if row.underlying_registry_id is not None:
        if row.first_unit_id is None and row.last_unit_id is not None:
            add("first_unit_id", "give both First unit ID and Last unit ID, or neither")
        elif row.last_unit_id is None and row.first_unit_id is not None:
            add("last_unit_id", "give both First unit ID and Last unit ID, or neither")
        elif (
            row.first_unit_id is not None
            and row.last_unit_id is not None
            and row.first_unit_id > row.last_unit_id
        ):
            add(
                "last_unit_id",
                f"Last unit ID {row.last_unit_id} is before First unit ID {row.first_unit_id}",
            )


def _check_authorization_reference(
    table: AefTable,
    number: int,
    row: _Block,
    authorizations: Mapping[str, Sequence[AuthorizationRow]],
    problems: list[AefProblem],
) -> Sequence[AuthorizationRow]:
    spec = table_spec(table)
    found = authorizations.get(row.authorization_id, ())
    if not _well_formed("authorization_id", row.authorization_id):
        return found
    if not found:
        problems.append(
            AefProblem(
                table,
                number,
                spec.column("authorization_id").header,
                f"Authorization ID {row.authorization_id!r} is not reported in "
                f"{AefTable.AUTHORIZATIONS}",
            )
        )
        return found
    approaches = sorted({a.cooperative_approach_id for a in found if a.cooperative_approach_id})
    if (
        approaches
        and _well_formed("cooperative_approach_id", row.cooperative_approach_id)
        and row.cooperative_approach_id not in approaches
    ):
        problems.append(
            AefProblem(
                table,
                number,
                spec.column("cooperative_approach_id").header,
                f"authorization {row.authorization_id!r} is under cooperative approach "
                f"{', '.join(approaches)} in {AefTable.AUTHORIZATIONS}, "
                f"not {row.cooperative_approach_id}",
            )
        )
    return found


def _authorizations_by_id(report: AefReport) -> dict[str, list[AuthorizationRow]]:
    by_id: dict[str, list[AuthorizationRow]] = {}
    for authorization in report.authorizations:
        by_id.setdefault(authorization.authorization_id, []).append(authorization)
    return by_id


def _year_of(value: date) -> int:
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).year
    return value.year


def check_actions(report: AefReport, problems: list[AefProblem]) -> None:
    table = AefTable.ACTIONS
    spec = table_spec(table)
    submission = report.submission
    authorizations = _authorizations_by_id(report)
    entity_ids = {entity.identification_number for entity in report.entities}
    for number, row in enumerate(report.actions, start=1):

        def add(field_name: str, message: str, number: int = number) -> None:
            problems.append(AefProblem(table, number, spec.column(field_name).header, message))

        _check_block(table, number, row, problems)
        found = _check_authorization_reference(table, number, row, authorizations, problems)
        subtype = row.action_subtype
        if subtype is not None and subtype not in subtypes_by_type()[row.action_type]:
            valid = "; ".join(sorted(s.value for s in subtypes_by_type()[row.action_type]))
            add(
                "action_subtype",
                f"{subtype.value!r} is not a subtype of {row.action_type.value!r} (valid: {valid})",
            )
        if isinstance(row.action_date, date) and _year_of(row.action_date) != (
            submission.reported_year
        ):
            add(
                "action_date",
                f"the action date is outside the reported year {submission.reported_year}",
            )
        if (
            row.action_type is ActionType.FIRST_TRANSFER
            and _well_formed("party", submission.party)
            and _well_formed("first_transferring_party_id", row.first_transferring_party_id)
            and row.first_transferring_party_id != submission.party
        ):
            add(
                "first_transferring_party_id",
                f"a First transfer is reported by the first transferring Party; this report is "
                f"{submission.party}'s",
            )
        if row.ndc_use_year is not None and not (
            submission.ndc_first_year <= row.ndc_use_year <= submission.ndc_last_year
        ):
            add(
                "ndc_use_year",
                f"{row.ndc_use_year} is outside the NDC implementation period "
                f"{submission.ndc_first_year}-{submission.ndc_last_year}",
            )
        if found and row.action_type is ActionType.FIRST_TRANSFER:
            if row.oimp_purpose is not None and not any(a.purposes.covers_oimp for a in found):
                add(
                    "oimp_purpose",
                    f"authorization {row.authorization_id!r} does not cover OIMP, IMP or OP",
                )
            definitions = {
                a.first_transfer_definition.value
                for a in found
                if a.first_transfer_definition is not None
            }
            if (
                subtype is not None
                and subtype in OIMP_FIRST_TRANSFER
                and definitions
                and subtype.value not in definitions
            ):
                add(
                    "action_subtype",
                    f"authorization {row.authorization_id!r} defines the OIMP first transfer as "
                    f"{', '.join(sorted(definitions))}",
                )
        if row.using_entity_id is not None and row.using_entity_id not in entity_ids:
            add(
                "using_entity_id",
                f"entity {row.using_entity_id!r} is not reported in {AefTable.ENTITIES} "
                "(Identification number)",
            )


def check_holdings(report: AefReport, problems: list[AefProblem]) -> None:
    table = AefTable.HOLDINGS
    spec = table_spec(table)
    authorizations = _authorizations_by_id(report)
    blocks: dict[tuple[str, str, str, int], list[tuple[int, int, int]]] = {}
    for number, row in enumerate(report.holdings, start=1):
        _check_block(table, number, row, problems)
        _check_authorization_reference(table, number, row, authorizations, problems)
        if row.first_id <= row.last_id:
            key = (
                row.cooperative_approach_id,
                row.registry_id,
                row.first_transferring_party_id,
                row.vintage,
            )
            blocks.setdefault(key, []).append((row.first_id, row.last_id, number))
    for ranges in blocks.values():
        ranges.sort()
        reach_last, reach_row = -1, 0
        for first, last, number in ranges:
            if first <= reach_last:
                problems.append(
                    AefProblem(
                        table,
                        number,
                        spec.column("first_id").header,
                        f"block {first}-{last} overlaps the block in row {reach_row}",
                    )
                )
            if last > reach_last:
                reach_last, reach_row = last, number


def check_entities(rows: Sequence[AuthorizedEntityRow], problems: list[AefProblem]) -> None:
    spec = table_spec(AefTable.ENTITIES)
    seen: dict[tuple[str, str], int] = {}
    for number, row in enumerate(rows, start=1):
        key = (row.identification_number, row.cooperative_approach_id)
        if key in seen:
            problems.append(
                AefProblem(
                    AefTable.ENTITIES,
                    number,
                    spec.column("identification_number").header,
                    f"entity {row.identification_number!r} under {row.cooperative_approach_id} "
                    f"is already in row {seen[key]}",
                )
            )
        else:
            seen[key] = number
