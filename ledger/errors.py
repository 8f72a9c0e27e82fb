"""Domain errors. Each class names what happened; its docstring states the rule that was broken.

HTTP status codes do not live here: ``app/problems.py`` maps these classes to RFC 9457 problems.
Every error carries ``rule`` (a short stable identifier of the rule) and ``details`` (extension
members such as the offending serial range or quantities).

Every class also declares, in its own body, the public face of its problem: ``problem_type`` (the
slug of the problem ``type``, which clients switch on) and ``title`` (a short, complete summary).
Both are part of the API and pinned by the ``x-problem-types`` table of the OpenAPI document:
renaming a class or rewording its docstring changes neither.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar


class LedgerError(Exception):
    """Base class of every error raised by the domain core."""

    problem_type: ClassVar[str] = "ledger-error"
    """Slug of the problem ``type`` (``urn:a6ledger:problem:<problem_type>``); never changes."""
    title: ClassVar[str] = "Unexpected ledger error"
    """The problem ``title``: the same for every occurrence of the type, no trailing period."""
    rule: ClassVar[str] = "ledger"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details: Mapping[str, Any] = details


class NotFound(LedgerError):
    """A referenced record does not exist."""

    problem_type = "not-found"
    title = "A referenced record does not exist"
    rule = "not-found"


class Conflict(LedgerError):
    """The request conflicts with the current state of the ledger."""

    problem_type = "conflict"
    title = "The request conflicts with the current state of the ledger"
    rule = "conflict"


class RuleViolation(LedgerError):
    """An Article 6.2 accounting rule would be broken; nothing was recorded."""

    problem_type = "rule-violation"
    title = "An Article 6.2 accounting rule would be broken; nothing was recorded"
    rule = "article6"


class InvalidInput(LedgerError):
    """The input is well-formed but its values are not acceptable to the domain."""

    problem_type = "invalid-input"
    title = "The input is well-formed but its values are not acceptable to the domain"
    rule = "invalid-input"


class IntegrityError(LedgerError):
    """Stored data does not verify: hashes, chain links or Merkle nodes were altered."""

    problem_type = "integrity-error"
    title = "Stored data does not verify: hashes, chain links or Merkle nodes were altered"
    rule = "integrity"


class ProjectionMismatch(IntegrityError):
    """The holdings projection must match the ledger: a stored projection row does not match
    the digest of its state and of the ledger entry that wrote it, or rows were added or removed
    outside the service. Nothing is done on it until an operator restores the projection
    (``a6ledger verify-db`` names the row)."""

    problem_type = "projection-mismatch"
    title = "The stored holdings projection does not match the ledger"
    rule = "projection-matches-ledger"


class StoredLogRefused(IntegrityError):
    """The stored log must still hold every tree the log signed, and its Merkle tree must cover
    exactly its entries: otherwise the service neither signs nor appends (a new entry would land
    on a history no checkpoint can ever consistently cover) until an operator restores the
    database (``a6ledger verify-db``)."""

    problem_type = "stored-log-refused"
    title = "The stored log cannot be signed or extended as it stands"
    rule = "stored-log-intact"


class MerkleTreeAheadOfLog(StoredLogRefused):
    """The Merkle tree holds a leaf for a position the log has no entry at: entries were deleted
    behind the service's back, so nothing is appended on top of them."""

    problem_type = "merkle-tree-ahead-of-log"
    title = "The stored Merkle tree has leaves beyond the last ledger entry"
    rule = "merkle-tree-matches-log"


class EntryBreaksRule(IntegrityError):
    """Every ledger entry follows the registry rules: replaying the log found an entry that
    breaks one (an entry written outside the service, or by a defect)."""

    problem_type = "entry-breaks-rule"
    title = "A ledger entry breaks a registry rule"
    rule = "entries-follow-rules"


class ProofError(LedgerError):
    """A Merkle proof, checkpoint or signature failed verification."""

    problem_type = "proof-error"
    title = "A Merkle proof, checkpoint or signature failed verification"
    rule = "proof"


# --- Article 6.2 registry rules (article6.md §1, §4) -------------------------------------------


class PartyNotFound(NotFound):
    """The Party is not registered on this instance."""

    problem_type = "party-not-found"
    title = "The Party is not registered on this instance"
    rule = "party-registered"


class RegistryNotFound(NotFound):
    """The registry is not known to this instance."""

    problem_type = "registry-not-found"
    title = "The registry is not known to this instance"
    rule = "registry-known"


class CooperativeApproachNotFound(NotFound):
    """The cooperative approach is not registered."""

    problem_type = "cooperative-approach-not-found"
    title = "The cooperative approach is not registered"
    rule = "cooperative-approach-registered"


class AuthorizationNotFound(NotFound):
    """The authorization (or that version of it) does not exist."""

    problem_type = "authorization-not-found"
    title = "The authorization (or that version of it) does not exist"
    rule = "authorization-exists"


class AuthorizedEntityNotFound(NotFound):
    """The authorized entity does not exist."""

    problem_type = "authorized-entity-not-found"
    title = "The authorized entity does not exist"
    rule = "authorized-entity-exists"


class AccountNotFound(NotFound):
    """The account does not exist."""

    problem_type = "account-not-found"
    title = "The account does not exist"
    rule = "account-exists"


class BlockNotFound(NotFound):
    """No unit block holds that serial."""

    problem_type = "block-not-found"
    title = "No unit block holds that serial"
    rule = "block-exists"


class AlreadyRegistered(Conflict):
    """A record with this identifier already exists; identifiers are never reused."""

    problem_type = "already-registered"
    title = "A record with this identifier already exists; identifiers are never reused"
    rule = "unique-identifier"


class FirstTransferDefinitionConflict(RuleViolation):
    """A Party must specify its OIMP first-transfer definition consistently per cooperative
    approach (4/CMA.6 para 11-13): it cannot change once declared."""

    problem_type = "first-transfer-definition-conflict"
    title = "A Party's OIMP first-transfer definition cannot change once declared"
    rule = "first-transfer-definition-consistent"


class VintageBefore2021(RuleViolation):
    """ITMOs must represent mitigation from 2021 onwards (2/CMA.3 annex para 1(e))."""

    problem_type = "vintage-before2021"
    title = "ITMOs must represent mitigation from 2021 onwards (2/CMA.3 annex para 1(e))"
    rule = "vintage-from-2021"


class UnitsNotAuthorized(RuleViolation):
    """Only authorized mitigation outcomes can be first transferred (2/CMA.3 para 2; 4/CMA.6
    para 11)."""

    problem_type = "units-not-authorized"
    title = "Only authorized mitigation outcomes can be first transferred"
    rule = "authorization-before-first-transfer"


class AuthorizationLimitExceeded(RuleViolation):
    """The action is outside what the authorization allows: quantity, vintages, timeframe,
    purposes, authorized Parties or entities (4/CMA.6 para 5)."""

    problem_type = "authorization-limit-exceeded"
    title = "The action is outside what the authorization allows"
    rule = "authorization-limits"


class AuthorizationChangeForbidden(RuleViolation):
    """A new authorization version cannot change ITMOs already first transferred, nor change
    the authorizing Party or cooperative approach (4/CMA.6 paras 7-9)."""

    problem_type = "authorization-change-forbidden"
    title = (
        "A new authorization version cannot change its Party, approach or first-transferred ITMOs"
    )
    rule = "authorization-change"


class AuthorizationRevoked(RuleViolation):
    """A revoked authorization binds no more units and no unit is first transferred under it
    from its revocation date on; units first transferred before keep their version (4/CMA.6
    paras 7-9). A revoked authorization gets no further version."""

    problem_type = "authorization-revoked"
    title = "The authorization is revoked"
    rule = "authorization-not-revoked"


class AccountMetricMismatch(RuleViolation):
    """A metric-specific account holds units of its metric only (2/CMA.3 annex para 9)."""

    problem_type = "account-metric-mismatch"
    title = "A metric-specific account holds units of its metric only"
    rule = "metric-specific-account"


class NonGhgConversionMissing(RuleViolation):
    """Non-GHG ITMOs are used towards a t CO2 eq NDC only under a recorded, authorized
    conversion to t CO2 eq for their approach, metric and vintage (2/CMA.3 annex paras 9,
    22(d))."""

    problem_type = "non-ghg-conversion-missing"
    title = "No recorded conversion of these non-GHG ITMOs to t CO2 eq"
    rule = "non-ghg-conversion-recorded"


class UnitsAlreadyRetired(RuleViolation):
    """One-time use: used or cancelled ITMOs can never be transferred, used or cancelled again
    (2/CMA.3 annex para 21(e))."""

    problem_type = "units-already-retired"
    title = (
        "One-time use: used or cancelled ITMOs can never be transferred, used or cancelled again"
    )
    rule = "one-time-use"


class SerialsNotHeld(RuleViolation):
    """A serial sits in exactly one account; the named serials are not in the source account."""

    problem_type = "serials-not-held"
    title = "A serial sits in exactly one account; the named serials are not in the source account"
    rule = "serial-held-by-account"


class InsufficientHoldings(RuleViolation):
    """Holdings never go negative: the account holds fewer matching units than requested."""

    problem_type = "insufficient-holdings"
    title = "Holdings never go negative: the account holds fewer matching units than requested"
    rule = "holdings-non-negative"


class RegistryDoesNotOwnUnits(RuleViolation):
    """Only the registry that holds units can move them."""

    problem_type = "registry-does-not-own-units"
    title = "Only the registry that holds units can move them"
    rule = "owning-registry-moves"


class UseOutsideNdcPeriod(RuleViolation):
    """Use towards an NDC: the calendar year of use and the vintage must fall in the same NDC
    implementation period (2/CMA.3 annex para 8(b))."""

    problem_type = "use-outside-ndc-period"
    title = "The year of use and the vintage must fall in the same NDC implementation period"
    rule = "use-within-ndc-period"


class UnitsFlaggedInconsistent(RuleViolation):
    """Parties are requested not to use ITMOs flagged inconsistent by a consistency check
    towards their NDC (4/CMA.6 para 40)."""

    problem_type = "units-flagged-inconsistent"
    title = "Parties are requested not to use ITMOs flagged inconsistent towards their NDC"
    rule = "no-ndc-use-of-inconsistent-units"


class PurposeNotAuthorized(RuleViolation):
    """The units are not authorized for this purpose (NDC or OIMP)."""

    problem_type = "purpose-not-authorized"
    title = "The units are not authorized for this purpose (NDC or OIMP)"
    rule = "authorized-purpose"


class AccountTypeMismatch(RuleViolation):
    """The account cannot take part in this action (wrong type or terminal account)."""

    problem_type = "account-type-mismatch"
    title = "The account cannot take part in this action (wrong type or terminal account)"
    rule = "account-type"


class AlreadyFirstTransferred(RuleViolation):
    """At most one first transfer per serial: these units were already first transferred
    (2/CMA.3 annex para 2; article6.md §4)."""

    problem_type = "already-first-transferred"
    title = "At most one first transfer per serial: these units were already first transferred"
    rule = "one-first-transfer"


class NotFirstTransferred(RuleViolation):
    """Only ITMOs, i.e. mitigation outcomes authorized and first transferred, are used towards
    an NDC (2/CMA.3 annex paras 1-2 and 8(b))."""

    problem_type = "not-first-transferred"
    title = "Only ITMOs (authorized and first transferred) are used towards an NDC"
    rule = "ndc-use-of-itmos-only"


class OwnUnitsNotUsable(RuleViolation):
    """A Party uses towards its NDC only ITMOs first transferred to it by another Party; its own
    mitigation outcomes (even first transferred for OIMP) are not ITMOs for its own NDC
    (2/CMA.3 annex paras 1-2 and 8)."""

    problem_type = "own-units-not-usable"
    title = "A Party uses towards its NDC only ITMOs first transferred to it by another Party"
    rule = "use-of-acquired-itmos-only"


class FirstTransferPending(RuleViolation):
    """Units authorized for OIMP only, whose first-transfer event (use or cancellation) has not
    happened, cannot leave the first transferring Party's registries: their first transfer and
    corresponding adjustment could then never be recorded (2/CMA.3 annex para 2(b))."""

    problem_type = "first-transfer-pending"
    title = "OIMP-only units cannot leave the first transferring Party before their first transfer"
    rule = "first-transfer-recordable"


class NdcAlreadyDeclared(Conflict):
    """An NDC period is declared once: a declaration for a period that starts in the same year as
    a declared one is refused, and changes to a declared period are amendments (a new version of
    that period) while no AEF report covering it has been submitted."""

    problem_type = "ndc-already-declared"
    title = "The NDC period is already declared: it changes only by amendment"
    rule = "ndc-declared-once"


class InvalidNdcDeclaration(InvalidInput):
    """An NDC declaration must be complete and consistent when it is declared: an ordered period
    containing its target year, the NDC year of a single-year NDC at the end of its period, and
    the unit of a non-GHG metric (2/CMA.3 annex paras 7, 9 and 18; article6.md §2.1-§2.2)."""

    problem_type = "invalid-ndc-declaration"
    title = "The NDC declaration is incomplete or inconsistent"
    rule = "ndc-declaration"


class MethodNotAllowedForNdc(RuleViolation):
    """The CA method does not fit the NDC type: averaging and the indicative trajectory are for
    single-year NDCs (para 7(a)), annual application with a multi-year trajectory or budget is for
    multi-year NDCs (para 7(b))."""

    problem_type = "method-not-allowed-for-ndc"
    title = "The corresponding-adjustment method does not fit the NDC type"
    rule = "ca-method-ndc-type"


class NdcPeriodsOverlap(Conflict):
    """A Party's NDC periods are successive: a new period may not share a year with a declared
    one (2/CMA.3 annex para 8(b) books each use in one NDC implementation period)."""

    problem_type = "ndc-periods-overlap"
    title = "The NDC period overlaps a declared one"
    rule = "ndc-periods-disjoint"


class NdcPeriodNotDeclared(NotFound):
    """The Party has declared no NDC period with these years (an amendment names the period it
    amends by its years)."""

    problem_type = "ndc-period-not-declared"
    title = "The Party has declared no such NDC period"
    rule = "ndc-period-declared"


class NdcPeriodReported(RuleViolation):
    """An NDC declaration is amended only until an AEF report covering a year of its period has
    been submitted for the Party: the submitted report named that period."""

    problem_type = "ndc-period-reported"
    title = "An AEF covering the NDC period has been submitted: the period is no longer amended"
    rule = "ndc-amendment-before-report"


class NdcNotDeclared(RuleViolation):
    """The Party has not declared its NDC (type, period, method) needed for this action."""

    problem_type = "ndc-not-declared"
    title = "The Party has not declared its NDC (type, period, method) needed for this action"
    rule = "ndc-declared"


# --- Action dates and time rules (issue 10; article6.md §1, §3.4) -------------------------------


class ActionDateInFuture(InvalidInput):
    """An action takes effect on its action date: that date is today or earlier, never later
    than the day it is recorded (UTC)."""

    problem_type = "action-date-in-future"
    title = "An action date is not after the day it is recorded"
    rule = "action-date-not-in-future"


class ActionDateBeforePreviousAction(RuleViolation):
    """The actions on a serial are dated in the order they happen: an action (a transfer, a
    use, ...) is not dated before the last action on the same units, their issuance included;
    a split of a block dates every piece of it."""

    problem_type = "action-date-before-previous-action"
    title = "An action is not dated before the last action on the same units"
    rule = "action-date-after-previous-action"


class ActionBeforeAuthorization(RuleViolation):
    """Only authorized mitigation outcomes are first transferred (2/CMA.3 annex para 2; 4/CMA.6
    para 11): units are bound to an authorization, and first transferred under it, on or after
    its date of authorization, never before."""

    problem_type = "action-before-authorization"
    title = "Units are authorized and first transferred only from the date of authorization"
    rule = "authorization-before-action"


class VintageNotYetAchieved(RuleViolation):
    """The vintage is the calendar year in which the mitigation occurred (6/CMA.4 para 5): no
    action is dated in a year before the vintage of its units, which did not exist yet."""

    problem_type = "vintage-not-yet-achieved"
    title = "No action is dated in a year before the vintage of its units"
    rule = "vintage-not-after-action-date"


class UseYearBeforeVintage(RuleViolation):
    """ITMOs are used towards an NDC for a calendar year that is not before their vintage: the
    mitigation had not occurred in an earlier year (2/CMA.3 annex para 8(b))."""

    problem_type = "use-year-before-vintage"
    title = "ITMOs are not used for a year before their vintage"
    rule = "use-year-not-before-vintage"


class OimpFirstTransferTooLate(RuleViolation):
    """The first transfer of mitigation outcomes authorized for OIMP is recorded no later than
    31 December of the year before the submission of the BTR that contains the information on
    the end year of the NDC period (4/CMA.6; article6.md §1 "First transfer")."""

    problem_type = "oimp-first-transfer-too-late"
    title = "The first transfer of OIMP-authorized units is past its deadline"
    rule = "oimp-first-transfer-deadline"


class SubmittedYearNotRestated(Conflict):
    """An action dated in a reported year for which the Party already submitted its AEF changes
    that submission: it is accepted only when the request says it restates that year
    (``restates: true``); the next AEF version of the year then shows it."""

    problem_type = "submitted-year-not-restated"
    title = "An action dated in a submitted reported year must say it restates that year"
    rule = "restates-submitted-year"
