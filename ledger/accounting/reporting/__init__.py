"""Article 6.2 reporting from the ledger: corresponding adjustments, the BTR structured summary
and the agreed electronic format (AEF), each computed from ledger entries.

Inputs the registry does not produce are recorded as ledger entries of their own, never as
edits (:mod:`~ledger.accounting.reporting.inputs`). Everything else is read back by replaying,
in ``seq`` order, the reference entries and the entries about the Party, found by the entry index
(:mod:`ledger.registry.entry_tags`), into an in-memory projection
(:mod:`~ledger.accounting.reporting.replay`, :mod:`~ledger.accounting.reporting.scan`, reading
entries with :mod:`~ledger.accounting.reporting.entries`): a report costs the Party's entries,
not the whole log, every result can be computed *as of* any tree size and every figure names
the entries behind it:

- :mod:`~ledger.accounting.reporting.party_facts`: a Party's facts, adjustments, restatements and
  BTR structured summary;
- :mod:`~ledger.accounting.reporting.aef_report`: the AEF of a Party and reported year, built
  from AEF rows of ledger records (:mod:`~ledger.accounting.reporting.aef_rows`);
- :mod:`~ledger.accounting.reporting.submissions`: recording, listing and verifying AEF
  submissions;
- :mod:`~ledger.accounting.reporting.flows`: transfers of units between Parties;
- :mod:`~ledger.accounting.reporting.ndc_amendments`: amending a declared NDC period until an
  AEF covering it has been submitted.

The files an AEF is exported to and imported from are written and read by
``ledger.adapters.aef_files``.

Interpretation choices (article6.md leaves them open) are stated where they are made:
facts outside the NDC period are left to that period's accounting; AEF Table 2 also lists the
authorizations of other Parties that the Party's actions or holdings cite (the AEF requires every
cited Authorization ID to be in Table 2); Table 4 lists ITMOs only (first transferred units);
``Using/cancelling participating Party ID`` is given on OIMP uses and cancellations, not on NDC
uses (annex footnote).
"""

from ledger.accounting.reporting.aef_report import aef_report_for, draft_aef_report_of
from ledger.accounting.reporting.entries import TreeSizeBeyondLog
from ledger.accounting.reporting.flows import Flow, flows_for, international_flows
from ledger.accounting.reporting.inputs import (
    ADAPTATION_CONTRIBUTION_RECORDED,
    AEF_SUBMITTED,
    EMISSIONS_RECORDED,
    NDC_TARGET_RECORDED,
    POLICY_CHOSEN,
    EmissionsUnitMismatch,
    NdcTarget,
    Submission,
    record_adaptation_contribution,
    record_emissions,
    record_ndc_target,
    record_policy_choice,
)
from ledger.accounting.reporting.ndc_amendments import NDC_AMENDED, amend_ndc
from ledger.accounting.reporting.party_facts import (
    PartyFacts,
    adjustments_as_of,
    adjustments_for,
    breakdowns_for,
    ndc_profile_for,
    party_facts,
    regular_information_for,
    restated_since,
    structured_summary_for,
)
from ledger.accounting.reporting.submissions import (
    ReportedYearNotOver,
    record_submission,
    submissions,
    verify_submission,
)

__all__ = [
    "AEF_SUBMITTED",
    "EMISSIONS_RECORDED",
    "NDC_AMENDED",
    "NDC_TARGET_RECORDED",
    "POLICY_CHOSEN",
    "EmissionsUnitMismatch",
    "Flow",
    "NdcTarget",
    "PartyFacts",
    "ReportedYearNotOver",
    "Submission",
    "TreeSizeBeyondLog",
    "adjustments_as_of",
    "flows_for",
    "international_flows",
    "adjustments_for",
    "amend_ndc",
    "aef_report_for",
    "draft_aef_report_of",
    "breakdowns_for",
    "ndc_profile_for",
    "party_facts",
    "ADAPTATION_CONTRIBUTION_RECORDED",
    "record_adaptation_contribution",
    "record_emissions",
    "regular_information_for",
    "record_ndc_target",
    "record_policy_choice",
    "record_submission",
    "restated_since",
    "structured_summary_for",
    "submissions",
    "verify_submission",
]
