"""The bulk path of an import against the row-by-row path, on random files (both databases).

Random JSON Lines files mix authorizations (and new versions of them, with and without a
quantity), issuances under them or under none, first transfers and transfers (by quantity or by
explicit serial ranges, so blocks split and are taken twice in a batch), acquisitions from an
external registry (the same serials twice), uses, cancellations, and rows the rules refuse
(over-issuance, units used twice, a first transfer of unauthorized units, an unknown account,
units not held). A history is a few such files, each imported in small batches by both paths
into two fresh ledgers with the same clock: every import ends the same way (the same rows
imported, or the same refusal: row, action, rule), the stored rows are byte for byte the same
in every table (entries, Merkle nodes, entry index, projection with digests and counts) and
``verify-db`` accepts both. A batch the bulk path gives up on for anything but a refused row,
or refuses where the row-by-row path accepts it, fails the test (the fallback would hide it)."""

from __future__ import annotations

import json
import os
import threading
from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from ledger.adapters.sql.db import create_ledger_engine
from ledger.adapters.sql.orm import unit_block
from ledger.adapters.sql.uow import SqlStorage
from ledger.adapters.sql.verify import verify_database
from ledger.imports import run
from ledger.imports import run_import as run_import_of
from ledger.imports.errors import ImportRowRefused
from tests.conftest import DatabaseFactory
from tests.integration.import_lines import EVERY_ACTION, SWISS_ATTRIBUTES
from tests.integration.test_import import ACTOR, example, plan_of
from tests.integration.test_import_bulk import fixed_clock, rows_of

ENTITY = {
    "action": "authorized_entity",
    "body": {
        "entity_id": "THA-E-1",
        "name": "Thai Airways",
        "country": "THA",
        "identification": "TH-1",
        "ca_id": "CA0001",
        "authorized_on": "2025-10-20",
    },
}
# The example's reference data (Parties, registries, approaches, accounts) and that of Switzerland
# (an external registry to acquire from), and a cancellation account.
REFERENCE = [json.loads(line) for line in example().splitlines()[:12]] + [
    *EVERY_ACTION[:5],
    ENTITY,
]
START = date(2025, 11, 1)
HOLDERS = ("THA01-GOV", "JPN01-GOV")
AUTHORIZATIONS = ("THA-A", "THA-B", "THA-OIMP")


def _selection(draw: st.DrawFn) -> dict[str, Any]:
    if draw(st.booleans()):
        first = draw(st.integers(1, 120))
        last = first + draw(st.integers(0, 40))
        return {
            "ranges": [{"first": first, "last": last}],
            "ca_id": "CA0001",
            "originating_registry": "THA01",
            "first_transferring_party": "THA",
            "vintage": draw(st.sampled_from((2021, 2022))),
        }
    selection: dict[str, Any] = {"quantity": draw(st.integers(1, 60))}
    if draw(st.booleans()):
        selection["vintage"] = draw(st.sampled_from((2021, 2022)))
    return selection


@st.composite
def a_row(draw: st.DrawFn, on: date, kind: str | None = None) -> dict[str, Any]:
    day = on.isoformat()
    kind = kind or draw(
        st.sampled_from(
            (
                "authorization",
                "issuance",
                "issuance",
                "transfer",
                "transfer",
                "transfer-back",
                "use",
                "authorize_units",
                "oimp_use",
                "cancellation",
                "acquisition",
                "unknown-account",
            )
        )
    )
    if kind == "authorization":
        body: dict[str, Any] = {
            "authorization_id": draw(st.sampled_from(AUTHORIZATIONS)),
            "party": "THA",
            "ca_id": "CA0001",
            "authorized_on": day,
            "purposes": "NDC",
            "metric": "GHG",
            "gwp": "AR5",
            "sectors": ["Energy generation"],
            "activity_types": ["Solar"],
            "vintage_from": 2021,
            "vintage_to": 2030,
            "authorized_parties": ["JPN"],
        }
        if body["authorization_id"] == "THA-OIMP":
            body |= {
                "purposes": "OIMP",
                "authorized_parties": [],
                "oimp_authorized": "CORSIA",
                "authorized_entities": ["THA-E-1"],
                "first_transfer_definition": draw(
                    st.sampled_from(("Authorization", "Issuance", "Use or cancellation"))
                ),
            }
        quantity = draw(st.one_of(st.none(), st.integers(20, 200)))
        if quantity is not None:
            body["quantity"] = quantity
        if draw(st.integers(0, 4)) == 0:  # expires soon: later actions under it are refused
            body["valid_until"] = (on + timedelta(days=draw(st.integers(0, 5)))).isoformat()
        return {"action": "authorization", "body": body}
    if kind == "issuance":
        share: dict[str, Any] = {"account_id": "THA01-GOV", "quantity": draw(st.integers(1, 80))}
        authorization_id = draw(st.sampled_from((None, *AUTHORIZATIONS)))
        if authorization_id is not None:
            share["authorization_id"] = authorization_id
        vintage = draw(st.sampled_from((2021, 2022)))
        attributes = {
            **SWISS_ATTRIBUTES,
            "ca_id": "CA0001",
            "registry_id": "THA01",
            "first_transferring_party": "THA",
            "vintage": vintage,
            "activity_type": "Solar",
        }
        return {
            "action": "issuance",
            "body": {
                "registry_id": "THA01",
                "attributes": attributes,
                "shares": [share],
                "action_date": day,
            },
        }
    if kind in ("transfer", "transfer-back", "unknown-account"):
        source, target = "THA01-GOV", "JPN01-GOV"
        if kind == "transfer-back":
            source, target = target, source
        if kind == "unknown-account":
            source = draw(st.sampled_from(("XXX01-GOV", "THA01-GOV")))
            target = "XXX01-GOV" if source == "THA01-GOV" else target
        return {
            "action": "transfer",
            "body": {
                "from_account": source,
                "to_account": target,
                "selection": _selection(draw),
                "action_date": day,
            },
        }
    if kind == "use":
        return {
            "action": "use",
            "body": {
                "from_account": "JPN01-GOV",
                "to_account": "JPN01-NDC",
                "selection": _selection(draw),
                "use_year": 2025,
                "action_date": day,
            },
        }
    if kind == "authorize_units":
        return {
            "action": "authorize_units",
            "authorization_id": draw(st.sampled_from(AUTHORIZATIONS)),
            "body": {
                "account_id": "THA01-GOV",
                "selection": _selection(draw),
                "action_date": day,
            },
        }
    if kind == "oimp_use":
        return {
            "action": "oimp_use",
            "body": {
                "from_account": draw(st.sampled_from(HOLDERS)),
                "to_account": "THA01-OIMP",
                "selection": _selection(draw),
                "oimp_purpose": "CORSIA",
                "entity_id": "THA-E-1",
                "action_date": day,
            },
        }
    if kind == "cancellation":
        return {
            "action": "cancellation",
            "body": {
                "from_account": draw(st.sampled_from(HOLDERS)),
                "to_account": "THA01-CANCEL",
                "selection": _selection(draw),
                "action_date": day,
            },
        }
    first = draw(st.integers(1, 60))
    return {
        "action": "acquisition",
        "body": {
            "from_registry": "CHE01",
            "to_account": "JPN01-GOV",
            "attributes": SWISS_ATTRIBUTES,
            "first": first,
            "last": first + draw(st.integers(0, 30)),
            "authorization_id": "CHE-1",
            "authorization_version": 1,
            "first_transferred": draw(st.booleans()),
            "action_date": day,
        },
    }


@st.composite
def histories(draw: st.DrawFn) -> tuple[list[bytes], int]:
    """A few files (the first with the reference data) of random rows, dated a day apart, and
    the batch size (40: on PostgreSQL the larger tables of a batch go in by COPY)."""
    files: list[bytes] = []
    day = 0
    for index in range(draw(st.integers(1, 3))):
        rows: list[dict[str, Any]] = []
        if index == 0:
            rows = list(REFERENCE)
            for _ in range(draw(st.integers(0, 3))):  # issuances under authorizations first
                rows.append(draw(a_row(START + timedelta(days=day), "authorization")))
                rows.append(draw(a_row(START + timedelta(days=day), "issuance")))
                day += 1
        for _ in range(draw(st.integers(1, 14))):
            rows.append(draw(a_row(START + timedelta(days=day))))
            day += 1
        files.append(b"".join(json.dumps(row).encode() + b"\n" for row in rows))
    return files, draw(st.sampled_from((1, 2, 3, 5, 8, 40)))


@pytest.fixture
def strict_bulk(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """A batch the bulk path gave up on: only for a refused row, which the row-by-row path
    then refuses the same way. Returns the refusals seen (for the test's statistics)."""
    step = run._step
    seen: list[str] = []

    def strict(*args: Any, bulk: bool, **kwargs: Any) -> Any:
        try:
            return step(*args, bulk=bulk, **kwargs)
        except run._BulkStopped as exc:
            cause = exc.__cause__
            if not isinstance(cause, ImportRowRefused):
                raise AssertionError(f"the bulk path stopped: {cause!r}") from exc
            try:
                step(*args, bulk=False, **kwargs)
            except ImportRowRefused as again:
                refused = again
            else:
                raise AssertionError(f"bulk refused {cause.refusal}, row by row accepted") from exc
            if refused.refusal != cause.refusal:
                raise AssertionError(
                    f"bulk refused {cause.refusal}, row by row {refused.refusal}"
                ) from exc
            seen.append(cause.refusal.rule)
            raise refused from None

    monkeypatch.setattr(run, "_step", strict)
    return seen


def _outcome(storage: SqlStorage, data: bytes, batch: int, *, bulk: bool) -> Any:
    try:
        report = run_import_of(storage, plan_of(data), ACTOR, batch_size=batch, bulk=bulk)
    except ImportRowRefused as refused:
        r = refused.refusal
        return ("refused", r.row, r.action, r.rule, refused.imported_rows)
    return ("imported", report.already_imported, report.applied, report.tree_size)


def _rest(data: bytes, outcome: Any) -> bytes:
    """The rows of ``data`` an import stopped by ``outcome`` left out, without the refused row:
    the file a registry would import next."""
    _, refused_row, _, _, imported = outcome
    lines = data.splitlines()
    left = [r.row for r in plan_of(data).rows[imported:] if r.row != refused_row]
    return b"".join(lines[row - 1] + b"\n" for row in sorted(left))


#: Examples per database (``BULK_EXAMPLES`` sets another count): a PostgreSQL example costs two
#: databases created and dropped, about 3 seconds.
EXAMPLES = {"sqlite": 6, "postgresql": 3}


def test_random_files_end_the_same_and_store_the_same_rows_by_both_paths(
    backend: str, database_factory: DatabaseFactory, strict_bulk: list[str]
) -> None:
    @settings(max_examples=int(os.environ.get("BULK_EXAMPLES", EXAMPLES[backend])))
    @given(history=histories())
    def check(history: tuple[list[bytes], int]) -> None:
        strict_bulk.clear()
        same_by_both_paths(database_factory, strict_bulk, history)

    check()


def same_by_both_paths(
    database_factory: DatabaseFactory, strict_bulk: list[str], history: tuple[list[bytes], int]
) -> None:
    files, batch = history
    urls = [database_factory.create(), database_factory.create()]
    engines = [create_ledger_engine(url) for url in urls]
    try:
        bulk, rows = (SqlStorage(engine, clock=fixed_clock) for engine in engines)
        for data in files:
            while data:
                expected = _outcome(rows, data, batch, bulk=False)
                assert _outcome(bulk, data, batch, bulk=True) == expected
                # Again: a file imported (or stopped at the same row) ends the same way.
                again = _outcome(rows, data, batch, bulk=False)
                assert _outcome(bulk, data, batch, bulk=True) == again
                event(expected[0])
                data = _rest(data, expected) if expected[0] == "refused" else b""
        event(f"refused in a bulk batch: {len(strict_bulk)}")
        with engines[1].connect() as conn:
            event(f"blocks: {conn.execute(select(func.count()).select_from(unit_block)).scalar()}")
        assert rows_of(engines[0]) == rows_of(engines[1])
        for engine in engines:
            assert verify_database(engine).ok
    finally:
        for engine, url in zip(engines, urls, strict=True):
            engine.dispose()
            database_factory.drop(url)


@pytest.mark.parametrize("bulk", [True, False], ids=["bulk", "rows"])
def test_two_concurrent_imports_of_one_file_store_what_one_import_stores(
    database_factory: DatabaseFactory, bulk: bool
) -> None:
    """Two runs of one file at once (the write lock orders their batches; each reads the
    batches the other committed) store the rows of one run, byte for byte, with no row applied
    twice."""
    data = example() + b"".join(
        json.dumps(row).encode() + b"\n"
        for row in (
            *EVERY_ACTION[:5],
            {
                "action": "account",
                "body": {
                    "account_id": "JPN01-SEC",
                    "registry_id": "JPN01",
                    "account_type": "holding",
                    "name": "Second",
                },
            },
            *(
                {
                    "action": "transfer",
                    "body": {
                        "from_account": source,
                        "to_account": target,
                        "selection": {"quantity": 100, "originating_registry": "THA01"},
                        "action_date": f"2025-12-{day:02}",
                    },
                }
                for day in range(27, 31)
                for source, target in (("JPN01-GOV", "JPN01-SEC"), ("JPN01-SEC", "JPN01-GOV"))
            ),
        )
    )
    data = data.replace(
        b'"quantity": 1009, "originating_registry": "THA01"}, "use_year"',
        b'"quantity": 9, "originating_registry": "THA01"}, "use_year"',
    )
    urls = [database_factory.create(), database_factory.create()]
    engines = [create_ledger_engine(url) for url in urls]
    try:
        both, one = (SqlStorage(engine, clock=fixed_clock) for engine in engines)
        reports: list[Any] = []

        def run_once() -> None:
            reports.append(run_import_of(both, plan_of(data), ACTOR, batch_size=2, bulk=bulk))

        threads = [threading.Thread(target=run_once) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(reports) == 2
        assert sum(report.applied for report in reports) == len(plan_of(data).rows)
        assert all(report.complete for report in reports)
        assert run_import_of(one, plan_of(data), ACTOR, batch_size=2, bulk=False).complete
        assert rows_of(engines[0]) == rows_of(engines[1])
        assert verify_database(engines[0]).ok
    finally:
        for engine, url in zip(engines, urls, strict=True):
            engine.dispose()
            database_factory.drop(url)
