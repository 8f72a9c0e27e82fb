"""What the AEF writes where its sources disagree: :class:`SpellingPolicy`.

Import accepts every variant (case-insensitively); the policy chooses only what is written.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final


class AcquisitionSpelling(StrEnum):
    """How to write :attr:`ActionType.ACQUISITION`; each value is the string written."""

    NOMENCLATURE = "Acquisition"
    ANNEX = "Aquisition"


class FirstTransferDefinitionSpelling(StrEnum):
    """How to write :class:`FirstTransferDefinition` values in Table 2."""

    ANNEX = "annex"
    """``Authorization``, ``Issuance``, ``Use or cancellation`` (annex Table 2 rows)."""
    NOMENCLATURE = "nomenclature"
    """``Authorisation``, ``Issuance``, ``Use or Cancellation`` (nomenclature Table 22(b))."""


class MetricSpelling(StrEnum):
    """How to write :attr:`Metric.NON_GHG`."""

    NOMENCLATURE = "non-GHG"
    """``non-GHG`` in every table (nomenclature Table 12(b), annex Table 3, the checkers)."""
    CAPITALISED = "Non-GHG"
    """``Non-GHG`` in every table."""
    ANNEX = "annex"
    """As the annex prints it: ``Non-GHG`` in Tables 2 and 4, ``non-GHG`` in Table 3."""


class ActionDateFormat(StrEnum):
    """How to write Table 3 ``Action date``."""

    DATE = "dd/mm/yyyy"
    """The date format of the other AEF date columns and of the checkers. A date-time is written
    as its UTC date."""
    ISO_8601_UTC = "yyyy-mm-ddThh:mm:ss.sssZ"
    """The Feb 2026 technical metadata ("Action date-time"). A plain date is written
    ``yyyy-mm-dd``."""


class ItmoIdFormat(StrEnum):
    """How to write ``First ID`` / ``Last ID`` in Tables 3 and 4."""

    SERIAL = "serial"
    """The integer serial number (nomenclature field specification)."""
    COMPOSITE = "composite"
    """``<CA ID>-<registry ID>-<first transferring Party>-<serial>-<vintage>``, e.g.
    ``CA0001-THA01-THA-1-2021``, as one syntax checker expects (6/CMA.4 annex I para 5 lists the
    elements but no string format)."""


@dataclass(frozen=True, slots=True)
class SpellingPolicy:
    """What to write where the sources disagree. Import accepts every variant regardless.

    Defaults follow the rule in the domain notes (emit the annex spelling) except where the annex
    is misspelt or contradicts itself; there the nomenclature spelling, which the CARP list of
    common nomenclatures uses, is the default:

    - ``acquisition``: ``Acquisition``. The annex's ``Aquisition`` is a typo that an exact match
      against the nomenclature would reject; :attr:`AcquisitionSpelling.ANNEX` writes it anyway.
    - ``first_transfer_definition``: the annex's ``Authorization`` / ``Use or cancellation``,
      which nomenclature Table 26(b) (action subtypes) also uses.
    - ``metric``: ``non-GHG`` everywhere; the annex itself prints both capitalisations.
    - ``action_date``: ``dd/mm/yyyy``, like every other AEF date and the checkers.
    - ``itmo_id``: integer serials, as the nomenclature field specification types them.
    - ``emit_na``: ``False``. A column that does not apply to a row is left blank; with ``True``
      it reads ``NA``, which the secondary sources also allow.
    - ``quantity_header_nbsp``: ``False`` writes ``Quantity (t CO2 eq)`` with ordinary spaces;
      ``True`` writes the annex's non-breaking spaces around ``CO2``.
    - ``carp_results``: ``False``. The CARP-populated columns are written empty, as a Party
      submits them; ``True`` writes what they hold: the secretariat's results of its consistency
      check on an export of a submitted version (:func:`ledger.accounting.aef.with_results`).
    """

    acquisition: AcquisitionSpelling = AcquisitionSpelling.NOMENCLATURE
    first_transfer_definition: FirstTransferDefinitionSpelling = (
        FirstTransferDefinitionSpelling.ANNEX
    )
    metric: MetricSpelling = MetricSpelling.NOMENCLATURE
    action_date: ActionDateFormat = ActionDateFormat.DATE
    itmo_id: ItmoIdFormat = ItmoIdFormat.SERIAL
    emit_na: bool = False
    quantity_header_nbsp: bool = False
    carp_results: bool = False


DEFAULT_POLICY: Final = SpellingPolicy()

NOT_APPLICABLE: Final = "NA"
"""Cell text for a column that does not apply to the row (written only if the policy says so)."""

NBSP_QUANTITY_HEADER: Final = "Quantity (t\u00a0CO2\u00a0eq)"
QUANTITY_HEADER: Final = "Quantity (t CO2 eq)"
