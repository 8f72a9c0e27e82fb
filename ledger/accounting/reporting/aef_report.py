"""The AEF (4/CMA.6 annex II) of a Party and reported year, built from the log.

Everything is scoped to the reported year by action date, not by when the ledger recorded it:
AEF Table 3 rows are one per block and action in the Party's registries dated in the year;
Table 4 lists the ITMOs (first transferred units) held at 31 December of the year; Tables 2 and
5 list the authorization versions and entities in force by that day (their date of
authorization on or before it), so records created later for later dates stay out. Table 2 also
lists the authorizations of other Parties that the Party's actions or holdings cite: the AEF
requires every cited Authorization ID to be in Table 2.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date

from ledger.accounting import aef
from ledger.accounting.reporting.aef_rows import (
    authorization_row,
    converted_action,
    entity_row,
    holding_row,
)
from ledger.accounting.reporting.entries import check_tree_size
from ledger.accounting.reporting.inputs import check_year, ndc_period
from ledger.accounting.reporting.replay import scan_party, scan_party_entries
from ledger.accounting.reporting.scan import PartyScan
from ledger.log.chain import Entry
from ledger.ports import UnitOfWork
from ledger.registry.model import AccountType, NonGhgConversion
from ledger.registry.projection import InMemoryProjection, block_key


def _holdings(
    state: InMemoryProjection, party: str, conversions: Sequence[NonGhgConversion]
) -> tuple[aef.HoldingRow, ...]:
    """ITMOs (first transferred units) held, not retired, in the holding accounts of the Party's
    registries hosted here."""
    registries = {r.registry_id for r in state.registries() if r.party == party and r.hosted}
    accounts = {
        a.account_id
        for a in state.accounts()
        if a.registry_id in registries and a.account_type is AccountType.HOLDING
    }
    held = [
        b
        for b in state.active_blocks()
        if b.account_id in accounts and not b.retired and b.first_transferred
    ]
    held.sort(key=lambda b: (block_key(b), b.first))
    return tuple(holding_row(b, conversions) for b in held)


def build_report(scan: PartyScan, version: str, submitted_on: date) -> aef.AefReport:
    """The AEF of the scan's Party and reported year, as version ``version`` submitted on
    ``submitted_on``."""
    assert scan.reported_year is not None
    party = scan.party
    declared = scan.state.get_party(party)
    assert declared is not None
    ndc = ndc_period(declared, None, scan.reported_year)
    year_end = date(scan.reported_year, 12, 31)
    holdings = _holdings(scan.year_end, party, scan.actions.conversions)
    conversions = scan.actions.conversions
    actions = [converted_action(row, conversions) for row in scan.actions.rows]
    cited = {row.authorization_id for row in actions}
    cited |= {row.authorization_id for row in holdings}
    authorizations = [
        a
        for a in scan.state.authorizations()
        if a.authorized_on <= year_end and (a.party == party or a.authorization_id in cited)
    ]
    entity_ids = {e for a in authorizations if a.party == party for e in a.authorized_entities}
    entity_ids |= scan.actions.used_entities
    entities = [
        e
        for e in scan.state.entities()
        if e.entity_id in entity_ids and e.authorized_on <= year_end
    ]
    return aef.AefReport(
        submission=aef.SubmissionRow(
            party=party,
            version=version,
            reported_year=scan.reported_year,
            date_of_submission=submitted_on,
            ndc_first_year=ndc.period_start,
            ndc_last_year=ndc.period_end,
        ),
        authorizations=tuple(authorization_row(a, scan.state) for a in authorizations),
        actions=tuple(actions),
        holdings=holdings,
        entities=tuple(entity_row(e) for e in entities),
    )


def aef_report_for(
    uow: UnitOfWork,
    party: str,
    reported_year: int,
    version: str | None = None,
    *,
    tree_size: int | None = None,
) -> aef.AefReport:
    """The Party's AEF (4/CMA.6 annex II) for ``reported_year``, from the first ``tree_size``
    entries of the ledger (default: all).

    - Table 1: the submission row, naming the NDC period the reported year falls in (for a year
      between two periods, the latest period begun by then); the CARP-populated fields are
      empty.
    - Table 2: every version of the Party's authorizations dated on or before 31 December of the
      reported year, and of the other Parties' authorizations its Table 3 and 4 rows cite.
    - Table 3: one row per block and action of the Party's registries whose action date lies in
      the reported year: authorization of units, first transfer, international transfer (or
      transfer to the Adaptation Fund), acquisition, use towards the NDC or OIMP, cancellation.
      Each row's additional information names its ledger entry.
    - Table 4: the ITMOs held at 31 December of the reported year, by action date.
    - Table 5: the entities the Party's authorizations name, and those its actions name,
      authorized on or before 31 December of the reported year.

    If ``version`` was submitted within those entries
    (:func:`~ledger.accounting.reporting.submissions.record_submission`), the report is rebuilt
    exactly as submitted, from the tree size and date recorded then. Otherwise it is a draft of
    those entries dated today; ``version`` defaults to the next version.
    """
    check_year("reported_year", reported_year)
    end = uow.log.size() if tree_size is None else tree_size
    check_tree_size(uow, end)
    scan = scan_party(uow, party, end, reported_year)
    recorded = scan.submissions_of(reported_year)
    for submission in recorded:
        if submission.version == version:
            submitted = scan_party(uow, party, submission.tree_size, reported_year)
            return build_report(submitted, submission.version, submission.date_of_submission)
    draft = f"1.{len(recorded)}" if version is None else version
    return build_report(scan, draft, uow.now().date())


def draft_aef_report_of(
    entries: Iterable[Entry], size: int, party: str, reported_year: int, today: date
) -> aef.AefReport:
    """The draft AEF of ``party`` for ``reported_year`` from the entries its reports read in
    the tree of ``size``, in ``seq`` order (say, those a counterpart served, each verified
    against its checkpoint), dated ``today``; its version is the next after the ones submitted
    within those entries."""
    check_year("reported_year", reported_year)
    scan = scan_party_entries(entries, party, size, reported_year)
    return build_report(scan, f"1.{len(scan.submissions_of(reported_year))}", today)
