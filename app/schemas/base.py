"""Request and response models. Requests are strict: unknown fields, wrong types and integers
outside the ledger's exact range are 422 problems, before any domain code runs.

Dates and years must be plausible for Article 6.2 (1990 to 2100), and names and free texts
must read as they print: invisible format characters (bidirectional overrides and isolates,
zero-width characters, byte order marks, soft hyphens: Unicode category Cf) are refused, and
the rest is normalized to NFC, so two names that look alike in a report are the same string.
"""

from __future__ import annotations

import unicodedata
from datetime import date
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool

from ledger.registry.dating import Dating

MAX_EXACT = 2**53 - 1
Quantity = Annotated[int, Field(gt=0, le=MAX_EXACT, strict=True)]
Serial = Annotated[int, Field(ge=1, le=MAX_EXACT, strict=True)]
Year = Annotated[int, Field(ge=1990, le=2100, strict=True)]
PartyCode = Annotated[str, Field(pattern=r"^[A-Z]{3}$", examples=["JPN"])]
RegistryId = Annotated[str, Field(pattern=r"^[A-Z]{3}\d{2}$", examples=["JPN01"])]
CaId = Annotated[str, Field(pattern=r"^CA\d{4}$", examples=["CA0001"])]
AccountId = Annotated[
    str, Field(pattern=r"^[A-Z]{3}\d{2}-[A-Z0-9-]{1,40}$", examples=["JPN01-GOV"])
]
FIRST_DATE = date(1990, 1, 1)
LAST_DATE = date(2100, 12, 31)


def plausible_date(value: date) -> date:
    if not FIRST_DATE <= value <= LAST_DATE:
        raise ValueError(f"must be a date from {FIRST_DATE} to {LAST_DATE}")
    return value


LedgerDate = Annotated[
    date,
    AfterValidator(plausible_date),
    Field(description=f"A date from {FIRST_DATE} to {LAST_DATE}."),
]
"""An action or validity date: 1990-01-01 to 2100-12-31 (``0001-01-01`` and ``9999-12-31``
are typing errors, never Article 6.2 dates)."""


def visible_text(value: str) -> str:
    """``value`` in NFC; ``ValueError`` if it holds an invisible format character."""
    hidden = sorted({f"U+{ord(c):04X}" for c in value if unicodedata.category(c) == "Cf"})
    if hidden:
        raise ValueError(
            "must not contain invisible format characters (bidirectional controls, zero-width "
            f"characters, byte order marks): {', '.join(hidden)}"
        )
    return unicodedata.normalize("NFC", value)


# No control characters in identifiers and names (PostgreSQL text cannot even hold NUL);
# long texts may contain line breaks and tabs. Neither holds invisible format characters.
_NO_FORMAT_CHARACTERS = "No invisible format characters (Unicode category Cf); stored in NFC."
ShortText = Annotated[
    str,
    Field(
        min_length=1,
        max_length=200,
        pattern=r"^[^\x00-\x1f\x7f]+$",
        description=_NO_FORMAT_CHARACTERS,
    ),
    AfterValidator(visible_text),
]
LongText = Annotated[
    str,
    Field(
        min_length=1,
        max_length=4000,
        pattern=r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]+$",
        description=_NO_FORMAT_CHARACTERS,
    ),
    AfterValidator(visible_text),
]
MetricName = Annotated[
    str,
    Field(
        min_length=1,
        max_length=40,
        pattern=r"^[^\s\x00-\x1f\x7f](?:[^\x00-\x1f\x7f]*[^\s\x00-\x1f\x7f])?$",
        description="A non-GHG metric (e.g. `MWh`): no leading or trailing spaces, so one metric "
        "is one string (a conversion's overlap check and an account's metric compare exactly). "
        + _NO_FORMAT_CHARACTERS,
        examples=["MWh"],
    ),
    AfterValidator(visible_text),
]
AuthorizationId = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9 \-]{0,63}$")]


class RequestModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ResponseModel(BaseModel):
    model_config = ConfigDict(frozen=True)


class DatedRequest(RequestModel):
    """An action request: the date the action took effect, if not today, and whether it
    knowingly restates a reported year whose AEF was submitted."""

    action_date: LedgerDate | None = Field(
        default=None,
        description="The date the action took effect in the registry of record (ISO 8601, "
        "UTC); default: the recording date. Never in the future; only admin tokens and "
        "registry tokens acting for their own registry may send a date other than today. "
        f"A date from {FIRST_DATE} to {LAST_DATE}.",
        examples=["2025-11-11"],
    )
    restates: StrictBool = Field(
        default=False,
        description="The action is dated in a reported year whose AEF was already submitted and "
        "restates that year: the next AEF version of the year shows it. Without it such an "
        "action is refused (rule restates-submitted-year).",
    )

    def dating(self, end_of_period_btr_after: int) -> Dating:
        return Dating(self.action_date, self.restates, end_of_period_btr_after)
