"""The errors of the corresponding-adjustment computation (decision 2/CMA.3, annex, ch. III)."""

from __future__ import annotations

from ledger.errors import InvalidInput, MethodNotAllowedForNdc

__all__ = [
    "AverageNotDefined",
    "DuplicateSeq",
    "EmissionsNotReported",
    "FactNotOfParty",
    "IncomparableReports",
    "InvalidFact",
    "InvalidNdcProfile",
    "MethodNotAllowedForNdc",
    "OutsideNdcPeriod",
]


class InvalidNdcProfile(InvalidInput):
    """The NDC profile is inconsistent: a bad Party code, period, target year, budget,
    trajectory or unit (decision 2/CMA.3, annex, paras 7 and 18(c)-(e))."""

    problem_type = "invalid-ndc-profile"
    title = "The NDC profile is inconsistent"
    rule = "ndc-profile"


class InvalidFact(InvalidInput):
    """A ledger fact has a value of the wrong type or range (seq, year, quantity, Party code)."""

    problem_type = "invalid-fact"
    title = "A ledger fact has a value of the wrong type or range (seq, year, quantity, Party code)"
    rule = "invalid-fact"


class DuplicateSeq(InvalidInput):
    """Two facts of the same kind carry the same ledger ``seq``; one entry would count twice."""

    problem_type = "duplicate-seq"
    title = "Two facts of the same kind carry the same ledger seq; one entry would count twice"
    rule = "duplicate-seq"


class FactNotOfParty(InvalidInput):
    """A fact belongs to another Party's accounts: a first transfer whose first transferring
    Party, or a use whose using Party, is not the reporting Party (para 8)."""

    problem_type = "fact-not-of-party"
    title = "A fact belongs to another Party's accounts"
    rule = "fact-not-of-party"


class OutsideNdcPeriod(InvalidInput):
    """A first transfer's vintage, an OIMP authorization's year, an emissions year or an asked
    year lies outside the NDC implementation period of the report: the fact belongs to another
    period's accounting. (A use outside the period breaks para 8(b) and raises
    :class:`~ledger.errors.UseOutsideNdcPeriod` instead.)"""

    problem_type = "outside-ndc-period"
    title = "A fact or year lies outside the NDC implementation period of the report"
    rule = "ndc-period"


class EmissionsNotReported(InvalidInput):
    """An emissions balance was asked for a year whose NDC-covered emissions (or non-GHG
    indicator level) have not been recorded (para 23(a), 23(i))."""

    problem_type = "emissions-not-reported"
    title = "The NDC-covered emissions of that year have not been recorded"
    rule = "emissions-not-reported"


class AverageNotDefined(InvalidInput):
    """Under ``elapsed_years_inclusive=False`` no year has elapsed in the first year of the
    period, so its indicative average CA (para 7(a)(ii)) does not exist."""

    problem_type = "average-not-defined"
    title = "No indicative average adjustment exists for the first year of the period"
    rule = "average-not-defined"


class IncomparableReports(InvalidInput):
    """Two reports for a different Party, period, metric, method or policy cannot restate each
    other: the method must be applied consistently through the period (para 7)."""

    problem_type = "incomparable-reports"
    title = "The two reports differ in Party, period, metric, method or policy"
    rule = "incomparable-reports"
