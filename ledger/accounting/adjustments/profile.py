"""What the computation is given besides the facts: the Party's NDC profile (paras 7, 18(c)-(e))
and the policy for the points the decision leaves open."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from types import MappingProxyType

from ledger.accounting.adjustments.checks import check_int, check_party, coerce_enum
from ledger.accounting.adjustments.errors import InvalidNdcProfile
from ledger.errors import InvalidInput
from ledger.registry.model import CaMethod, Metric, NdcDeclaration, NdcType
from ledger.registry.ndc import check_declaration

GHG_UNIT = "t CO2 eq"


class AveragingBasis(StrEnum):
    """What the averaging method averages; the decision does not say (article6.md §2.2)."""

    NET = "net"
    """Average ``NET[t] = FT[t] - U[t]``."""
    SEPARATE = "separate"
    """Average ``FT`` and ``U`` separately and report both; the CA is their difference."""


class FirstTransferYear(StrEnum):
    """The year a 23(c) first-transferred quantity is booked to (2/CMA.3 annex para 23(c)); the
    sources disagree (article6.md §2.2, §3.7): para 8(a) books the corresponding adjustment to
    the year the mitigation occurred, while "annual quantity of ITMOs first transferred" reads
    as the year of the first transfer."""

    VINTAGE = "vintage"
    """Booked to the vintage, like the CA of para 8(a) (the default): 23(c) - 23(e) = 23(f)."""
    YEAR_OF_FIRST_TRANSFER = "year-of-first-transfer"
    """Booked to the year of the first transfer's action date. 23(f), the CA and the averages
    stay booked to the vintage (para 8(a)), so 23(f) need not equal 23(c) - 23(e) in a year."""


class NonGhgSign(StrEnum):
    """How first transfers and uses move a non-GHG indicator (2/CMA.3 annex para 9; the
    sources disagree on the sign, article6.md §2.1)."""

    FIRST_TRANSFERS_SUBTRACT = "first-transfers-subtract"
    """``AdjIndicator = Indicator - FT + U``: a first transfer lowers the indicator, a use
    raises it (an indicator where more is better, e.g. MWh of renewable electricity); the
    reading of para 9 in article6.md §2.1."""
    FIRST_TRANSFERS_ADD = "first-transfers-add"
    """``AdjIndicator = Indicator + FT - U``, the GHG sign (para 8): for an indicator where
    less is better (e.g. an emission intensity)."""


@dataclass(frozen=True, slots=True)
class AdjustmentPolicy:
    """Settings for the points decision 2/CMA.3 leaves open (article6.md §2.2).

    - ``averaging_basis``: average ``NET`` (default) or ``FT`` and ``U`` separately (para
      7(a)(ii) says "ITMOs first transferred and used"). With exact arithmetic both give the
      same CA; ``SEPARATE`` also reports the two averages.
    - ``elapsed_years_inclusive``: *unverified* reading of "number of elapsed years" in para
      7(a)(ii). ``True`` (default): the reporting year y counts, ``n(y) = y - T0 + 1`` and the
      cumulative sum runs over T0..y. ``False``: only the years completed before y count,
      ``n(y) = y - T0`` over T0..y-1, so the first year has no indicative average. The actual
      CA of the NDC year is over the whole period (N years) either way.
    - ``oimp_first_transfers_in_net``: whether first transfers of ITMOs authorized for OIMP
      only (``OIMP``, ``IMP``, ``OP``) enter ``NET`` and the CA (para 23(f) "resulting from
      paragraph 23(c-e)"; para 16 applies CAs to them). Default ``True``. They stay in the
      23(c) first-transferred figure either way; authorizations alone (23(d)) never enter NET.
    - ``non_ghg_sign``: for a non-GHG NDC, whether first transfers lower the indicator and uses
      raise it (``first-transfers-subtract``, default) or the reverse, the GHG sign
      (``first-transfers-add``): :class:`NonGhgSign`. The CA itself is ``FT - U`` either way.
    - ``first_transfer_year``: the year 23(c) and its 23(j) breakdowns book a first transfer
      to: its vintage (default) or the year of the first transfer (:class:`FirstTransferYear`).
    """

    averaging_basis: AveragingBasis = AveragingBasis.NET
    elapsed_years_inclusive: bool = True
    oimp_first_transfers_in_net: bool = True
    non_ghg_sign: NonGhgSign = NonGhgSign.FIRST_TRANSFERS_SUBTRACT
    first_transfer_year: FirstTransferYear = FirstTransferYear.VINTAGE
    chosen_by_party: tuple[str, ...] = field(default=(), compare=False)
    """Where it came from (not part of the policy's value): the settings the Party chose
    (:class:`PartyPolicyChoice`); the others are the deployment's."""
    party_choice_seq: int | None = field(default=None, compare=False)
    """The ledger entry that recorded the Party's choice, if any."""

    def __post_init__(self) -> None:
        coerce_enum(self, "averaging_basis", AveragingBasis, InvalidInput)
        coerce_enum(self, "non_ghg_sign", NonGhgSign, InvalidInput)
        coerce_enum(self, "first_transfer_year", FirstTransferYear, InvalidInput)
        for name in ("elapsed_years_inclusive", "oimp_first_transfers_in_net"):
            if not isinstance(getattr(self, name), bool):
                raise InvalidInput(f"{name} must be a bool", field=name)

    def settings(self) -> dict[str, str | bool]:
        """The policy's settings by name (enums as their values)."""
        return {
            "averaging_basis": self.averaging_basis.value,
            "elapsed_years_inclusive": self.elapsed_years_inclusive,
            "oimp_first_transfers_in_net": self.oimp_first_transfers_in_net,
            "non_ghg_sign": self.non_ghg_sign.value,
            "first_transfer_year": self.first_transfer_year.value,
        }


DEFAULT_POLICY = AdjustmentPolicy()

PARTY_CHOICES = ("averaging_basis", "elapsed_years_inclusive")
"""The settings the decisions leave to the Party: how it applies the averaging method of para
7(a)(ii) ("the number of elapsed years", what is averaged), which it describes in its initial
report (para 18(c)) and BTR (MPG para 77(d)(iii)). Whether OIMP first transfers enter NET is not
the Party's to choose (paras 16, 23(f) apply CAs to them): it stays a deployment setting."""


@dataclass(frozen=True, slots=True)
class PartyPolicyChoice:
    """A Party's choice of the settings in :data:`PARTY_CHOICES`, recorded by the ledger at
    ``seq``; ``None`` leaves the deployment's setting. The Party's choice wins over the
    deployment's default."""

    seq: int
    averaging_basis: AveragingBasis | None = None
    elapsed_years_inclusive: bool | None = None

    def __post_init__(self) -> None:
        if self.averaging_basis is not None:
            coerce_enum(self, "averaging_basis", AveragingBasis, InvalidInput)
        if self.elapsed_years_inclusive is not None and not isinstance(
            self.elapsed_years_inclusive, bool
        ):
            raise InvalidInput(
                "elapsed_years_inclusive must be a bool", field="elapsed_years_inclusive"
            )

    @property
    def chosen(self) -> tuple[str, ...]:
        """The names of the settings the Party chose."""
        return tuple(name for name in PARTY_CHOICES if getattr(self, name) is not None)

    def applied_to(self, default: AdjustmentPolicy) -> AdjustmentPolicy:
        """``default`` with the Party's choices, recording where each setting came from."""
        return replace(
            default,
            averaging_basis=(
                default.averaging_basis if self.averaging_basis is None else self.averaging_basis
            ),
            elapsed_years_inclusive=(
                default.elapsed_years_inclusive
                if self.elapsed_years_inclusive is None
                else self.elapsed_years_inclusive
            ),
            chosen_by_party=self.chosen,
            party_choice_seq=self.seq,
        )


@dataclass(frozen=True, slots=True)
class NdcProfile:
    """What a Party declared about its NDC and CA method (para 18(c)-(e), para 7).

    - ``party``: ISO 3166-1 alpha-3 code.
    - ``period_start``/``period_end``: first and last year of the NDC implementation period.
    - ``target_year``: the NDC year; for a single-year NDC it is the last year of the period
      (the formal definitions in article6.md §2.2 place the NDC year at T1).
    - ``budget``: multi-year emissions budget for the period (para 7(b)), or the indicative
      budget of a single-year NDC under the trajectory option (para 7(a)(i)); GHG only.
    - ``trajectory``: year -> emissions (or indicator) level of the multi-year trajectory
      (para 7(b)) or indicative trajectory (para 7(a)(i)).
    - ``target_level``: the NDC target level in :attr:`unit` for the target year, if
      quantified (para 18(d)); used for the end-of-period comparison (para 23(l)).
    - ``non_ghg_unit``: the unit of a non-GHG metric (e.g. ``"MWh"``, para 22(d)); required
      for ``Metric.NON_GHG``, absent for GHG (as in :class:`ledger.registry.model.NdcDeclaration`).

    ``ndc_type``, ``metric`` and ``method`` take the enums of :mod:`ledger.registry.model` (or their
    string values).
    """

    party: str
    ndc_type: NdcType
    metric: Metric
    period_start: int
    period_end: int
    method: CaMethod
    target_year: int
    budget: int | None = None
    trajectory: Mapping[int, int] = field(default_factory=dict, hash=False)
    target_level: int | None = None
    non_ghg_unit: str | None = None

    def __post_init__(self) -> None:
        check_party(InvalidNdcProfile, "party", self.party)
        coerce_enum(self, "ndc_type", NdcType, InvalidNdcProfile)
        coerce_enum(self, "metric", Metric, InvalidNdcProfile)
        coerce_enum(self, "method", CaMethod, InvalidNdcProfile)
        for name in ("period_start", "period_end", "target_year"):
            check_int(InvalidNdcProfile, name, getattr(self, name))
        check_declaration(self.declaration, InvalidNdcProfile)
        if self.target_level is not None:
            check_int(InvalidNdcProfile, "target_level", self.target_level)
        self._check_budget_and_trajectory()

    @property
    def declaration(self) -> NdcDeclaration:
        """The NDC declaration of the period (what the Party declared; the rest is its target)."""
        return NdcDeclaration(
            self.ndc_type,
            self.metric,
            self.period_start,
            self.period_end,
            self.method,
            self.target_year,
            self.non_ghg_unit,
        )

    def _check_budget_and_trajectory(self) -> None:
        if not isinstance(self.trajectory, Mapping):
            raise InvalidNdcProfile("trajectory must be a mapping year -> level")
        points = dict(sorted(self.trajectory.items()))
        for year, level in points.items():
            check_int(InvalidNdcProfile, "trajectory year", year)
            check_int(InvalidNdcProfile, "trajectory level", level)
            if not self.period_start <= year <= self.period_end:
                raise InvalidNdcProfile("trajectory year outside the NDC period", year=year)
        object.__setattr__(self, "trajectory", MappingProxyType(points))
        if self.budget is not None:
            check_int(InvalidNdcProfile, "budget", self.budget)
            if self.metric is not Metric.GHG:
                raise InvalidNdcProfile("an emissions budget needs the GHG metric")
        if self.method is CaMethod.AVERAGING:
            if self.budget is not None or points:
                raise InvalidNdcProfile(
                    "the averaging method (para 7(a)(ii)) takes no trajectory or budget"
                )
        elif self.budget is None and not points:
            raise InvalidNdcProfile(
                f"the {self.method.value} method needs a trajectory or a budget "
                "(para 7(a)(i), 7(b))"
            )

    @property
    def unit(self) -> str:
        """``"t CO2 eq"`` for a GHG NDC, else the non-GHG metric unit."""
        return self.non_ghg_unit if self.non_ghg_unit is not None else GHG_UNIT

    @property
    def years(self) -> tuple[int, ...]:
        """The years of the NDC implementation period, in order."""
        return tuple(range(self.period_start, self.period_end + 1))

    @property
    def period_label(self) -> str:
        """The period as ``"T0-T1"`` (or one year)."""
        if self.period_start == self.period_end:
            return str(self.period_start)
        return f"{self.period_start}-{self.period_end}"
