"""The AEF's tables and closed value sets (the "List of common nomenclatures under Article 6,
paragraph 2"), the identifier formats of those lists, and the package data they are read from.

``data/aef-v2.json`` holds the tables' headers, column order and requirement status;
``data/nomenclature.json`` the value lists. Both say where each item comes from and how far to
trust it; ``data/README.md`` sums that up.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from enum import StrEnum
from functools import cache
from importlib import resources
from typing import Any, Final


@cache
def package_data(name: str) -> Mapping[str, Any]:
    """A JSON file of ``ledger/accounting/aef/data``, parsed once."""
    text = (resources.files("ledger.accounting.aef") / "data" / name).read_text(encoding="utf-8")
    loaded = json.loads(text)
    if not isinstance(loaded, dict):
        raise RuntimeError(f"ledger/accounting/aef/data/{name} is not a JSON object")
    return loaded


class AefTable(StrEnum):
    """The five tables of 4/CMA.6 annex II; each value is the table title printed in the annex."""

    SUBMISSION = "Table 1: Submission"
    AUTHORIZATIONS = "Table 2: Authorizations"
    ACTIONS = "Table 3: Actions"
    HOLDINGS = "Table 4: Holdings"
    ENTITIES = "Table 5: Authorized entities"

    @property
    def number(self) -> int:
        """Table number in the annex (1-5)."""
        return list(AefTable).index(self) + 1

    @property
    def sheet_name(self) -> str:
        """Worksheet name of the CARP workbook (``aef-v2.json`` ``conventions.layout``)."""
        raw = next(t for t in package_data("aef-v2.json")["tables"] if t["title"] == self.value)
        return str(raw["sheet_name"])


class ActionType(StrEnum):
    """Action type, Table 3 column 2: nomenclature Table 25(b).

    The annex lists five types and spells the first ``Aquisition`` [sic]; the nomenclature spells
    ``Acquisition`` and adds ``Authorization`` and ``Voluntary Cancellation``. Import accepts
    ``Aquisition`` and the checker misspelling ``Acquistion``.
    """

    AUTHORIZATION = "Authorization"
    FIRST_TRANSFER = "First transfer"
    TRANSFER = "Transfer"
    ACQUISITION = "Acquisition"
    USE = "Use"
    CANCELLATION = "Cancellation"
    VOLUNTARY_CANCELLATION = "Voluntary Cancellation"


class ActionSubtype(StrEnum):
    """Action subtype, Table 3 column 3: nomenclature Table 26(b).

    For a First transfer the subtype records which first-transfer definition fired.
    """

    FIRST_TRANSFER_TO_ANOTHER_PARTY = "First transfer to another Party"
    AUTHORIZATION = "Authorization"
    ISSUANCE = "Issuance"
    USE_OR_CANCELLATION = "Use or cancellation"
    MANDATORY_TRANSFER_TO_ADAPTATION_FUND = "Mandatory transfer to the Adaptation Fund (A6.4 ERs)"
    VOLUNTARY_TRANSFER_TO_ADAPTATION_FUND = "Voluntary transfer to the Adaptation Fund (A6.4 ERs)"
    MANDATORY_CANCELLATION_OMGE = "Mandatory cancellation to deliver OMGE"
    VOLUNTARY_CANCELLATION_OMGE = "Voluntary cancellation to deliver OMGE"
    OTHER_CANCELLATIONS = "Other cancellations"
    NOT_YET_DEFINED = "Not yet defined"


class Sector(StrEnum):
    """Sector(s), Table 2 column 9: nomenclature Table 15(b)."""

    AGRICULTURE = "Agriculture"
    BUILDING_AND_CONSTRUCTION = "Building and construction"
    CROSS_SECTORAL_MECHANISMS = "Cross-sectoral mechanisms"
    ENERGY_GENERATION = "Energy generation"
    FORESTRY_AND_LAND_USE = "Forestry and land use"
    INDUSTRIAL_PROCESSES = "Industrial processes"
    TRANSPORTATION = "Transportation"
    URBAN_DEVELOPMENT = "Urban development"
    WASTE_MANAGEMENT = "Waste management"


class ActivityType(StrEnum):
    """Activity type(s), Table 2 column 10: nomenclature Table 51(b), spellings kept as printed.

    ``C02 usage`` has the digit zero in the source and is kept that way.
    """

    AFFORESTATION = "Afforestation"
    AGRICULTURE = "Agriculture"
    BIOGAS = "Biogas"
    BIOMASS_ENERGY = "Biomass Energy"
    CEMENT = "Cement"
    CO2_USAGE = "C02 usage"
    COAL_BED_MINE_METHANE = "Coal bed/mine methane"
    ENERGY_DISTRIBUTION = "Energy distribution"
    ENERGY_EFFICIENCY_HOUSEHOLDS = "Energy Efficiency households"
    ENERGY_EFFICIENCY_INDUSTRY = "Energy Efficiency Industry"
    ENERGY_EFFICIENCY_OWN_GENERATION = "Energy Efficiency own generation"
    ENERGY_EFFICIENCY_SERVICE = "Energy Efficiency service"
    ENERGY_EFFICIENCY_SUPPLY_SIDE = "Energy Efficiency supply side"
    FOSSIL_FUEL_SWITCH = "Fossil fuel switch"
    FUGITIVE = "Fugitive"
    GEOTHERMAL = "Geothermal"
    HYDRO = "Hydro"
    LANDFILL_GAS = "Landfill gas"
    METHANE_AVOIDANCE = "Methane avoidance"
    N2O = "N2O"
    PFCS_AND_SF6 = "PFCs and SF6"
    REFORESTATION = "Reforestation"
    SOLAR = "Solar"
    TIDAL = "Tidal"
    TRANSPORT = "Transport"
    WASTE = "Waste"
    WIND = "Wind"


class UnderlyingRegistry(StrEnum):
    """Underlying unit registry ID: nomenclature Table 31(b). A blank (or "NA") means none."""

    VCS = "VCS"
    GS = "GS"
    CAR = "CAR"
    ACR = "ACR"
    ART = "ART"
    GCC = "GCC"
    CERCARBONO = "Cercarbono"
    ISOMETRIC = "Isometric"
    ISFL = "ISFL"
    FCPF = "FCPF"
    T_VER = "T-VER"
    JCM = "JCM"


class Requirement(StrEnum):
    """Requirement status of a column, as recorded in ``aef-v2.json``."""

    REQUIRED = "required"
    OPTIONAL = "optional"
    CONDITIONAL = "conditional"
    CARP_POPULATED = "carp_populated"
    UNCLEAR = "unclear"


@cache
def subtypes_by_type() -> Mapping[ActionType, frozenset[ActionSubtype]]:
    """Action subtypes valid for each action type.

    Nomenclature mapping (the transcriber's reading of Table 26(b)); ``Not yet defined`` is valid
    for every type. Extended so that a First transfer may also carry the Adaptation Fund
    subtypes: 4/CMA.6 paras 16-17 record those transfers as a first transfer unless the units
    were already first transferred.
    """
    mapping = package_data("nomenclature.json")["lists"]["action_subtypes_by_action_type"][
        "mapping"
    ]
    result: dict[ActionType, frozenset[ActionSubtype]] = {}
    for action_type in ActionType:
        listed = mapping.get(action_type.value, [])
        allowed = {ActionSubtype(value) for value in listed} | {ActionSubtype.NOT_YET_DEFINED}
        if action_type is ActionType.FIRST_TRANSFER:
            allowed |= {
                ActionSubtype.MANDATORY_TRANSFER_TO_ADAPTATION_FUND,
                ActionSubtype.VOLUNTARY_TRANSFER_TO_ADAPTATION_FUND,
            }
        result[action_type] = frozenset(allowed)
    return result


IDENTIFIER_FORMATS: Final[Mapping[str, tuple[re.Pattern[str], str]]] = {
    "party": (re.compile(r"[A-Z]{3}"), "an ISO 3166-1 alpha-3 code such as THA"),
    "first_transferring_party_id": (re.compile(r"[A-Z]{3}"), "an alpha-3 Party code"),
    "transferring_party_id": (re.compile(r"[A-Z]{3}"), "an alpha-3 Party code"),
    "acquiring_party_id": (re.compile(r"[A-Z]{3}"), "an alpha-3 Party code"),
    "using_party_id": (re.compile(r"[A-Z]{3}"), "an alpha-3 Party code"),
    "authorized_party_ids": (re.compile(r"[A-Z]{3}"), "an alpha-3 Party code"),
    "version": (re.compile(r"[1-9]\d*\.\d+"), "X.Y, the first version being 1.0"),
    "cooperative_approach_id": (re.compile(r"CA\d{4}"), "CA followed by four digits"),
    "authorization_id": (
        re.compile(r"[A-Za-z0-9 -]+"),
        "letters, digits, spaces and hyphens only",
    ),
    "registry_id": (
        re.compile(r"[A-Z]{3}\d{2}"),
        "the Party code and two digits, such as THA01",
    ),
}
"""Identifier formats of the common nomenclatures (Tables 2, 7, 9(a) and 28)."""
