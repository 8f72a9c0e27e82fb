"""Reconciliation jobs: this Party's ledger against a counterpart Party's instance, its entries
verified against its signed (and cosigned) checkpoint (``ledger.accounting.reconciliation``).

The counterpart's URL, log key and token come from the deployment's settings
(``A6LEDGER_COUNTERPARTS``): the service never fetches a URL a caller names.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Annotated, Any, Self

import httpx
from fastapi import APIRouter, Depends, Request
from pydantic import Field, model_validator

from app.auth import ReconcilingDep
from app.deps import ReadUowDep, SettingsDep
from app.problems import problem_responses
from app.schemas import RequestModel, ResponseModel
from app.settings import CounterpartSetting, Settings
from ledger.accounting import reconciliation
from ledger.adapters.counterpart import HttpCounterpartLog
from ledger.errors import NotFound
from ledger.log import note, witness

router = APIRouter(prefix="/v1", tags=["reconciliations"])

COUNTERPART_TIMEOUT = 30.0
"""Seconds each request to a counterpart instance may take."""


class CounterpartNotConfigured(NotFound):
    """Reconciliation reads only the counterpart instances the deployment configures
    (A6LEDGER_COUNTERPARTS)."""

    problem_type = "counterpart-not-configured"
    title = "No instance of this counterpart Party is configured (A6LEDGER_COUNTERPARTS)"
    rule = "counterpart-configured"


MAX_WITNESSES = 100
"""Witness keys a reconciliation request may give."""

WitnessKey = Annotated[str, Field(min_length=1, max_length=1000)]


class ReconciliationCreate(RequestModel):
    party: Annotated[str, Field(pattern=r"^[A-Z]{3}$", description="This instance's Party")]
    counterpart_party: Annotated[
        str, Field(pattern=r"^[A-Z]{3}$", description="A Party in A6LEDGER_COUNTERPARTS")
    ]
    reported_year: Annotated[int, Field(ge=1990, le=2100, strict=True)]
    witnesses: Annotated[
        list[WitnessKey] | None,
        Field(
            max_length=MAX_WITNESSES,
            description="The witnesses' cosigner keys (C2SP vkey, signature type 0x04) the "
            "counterpart's cosignatures are checked with, as `a6ledger reconcile --witness`; "
            "default: this instance's witness key and A6LEDGER_WITNESS_KEYS",
        ),
    ] = None
    required_cosignatures: Annotated[
        int | None,
        Field(
            ge=0,
            le=MAX_WITNESSES,
            strict=True,
            description="Cosignatures by known witnesses the counterpart's checkpoint must "
            "carry; default, as `a6ledger reconcile --require`: every key of `witnesses` when "
            "it is given, else 0",
        ),
    ] = None
    date_tolerance_days: Annotated[int, Field(ge=0, le=366, strict=True)] = 1

    @model_validator(mode="after")
    def _within_the_witnesses(self) -> Self:
        required, given = self.required_cosignatures, self.witnesses
        if required is not None and given is not None and required > len(given):
            raise ValueError(
                f"required_cosignatures {required}: give between 0 and the {len(given)} keys "
                "of witnesses"
            )
        return self

    def quorum(
        self, deployment: tuple[note.Verifier, ...]
    ) -> tuple[tuple[note.Verifier, ...], int]:
        """The witness keys and how many of them must have cosigned: the given ``witnesses``
        (all of them by default), or the ``deployment``'s keys (none by default)."""
        if self.witnesses is None:
            return deployment, self.required_cosignatures or 0
        keys = witness.parse_witness_keys(self.witnesses)
        required = self.required_cosignatures
        return keys, len(keys) if required is None else required


class CounterpartCheckpointPublic(ResponseModel):
    origin: str
    tree_size: int
    root_hash: str | None
    cosigned_by: list[str]
    witnessed_size: int | None = Field(
        description="The size this instance last cosigned as the counterpart log's witness"
    )


class ReconciliationPublic(ResponseModel):
    matches: bool = Field(description="Everything verified and no inconsistency on either side")
    party: str
    counterpart_party: str
    reported_year: int
    counterpart_checkpoint: CounterpartCheckpointPublic
    entries_verified: int = Field(
        description="Entries of the counterpart Party's reports fetched, each proven by an "
        "inclusion proof in the counterpart's checkpoint"
    )
    failure: str | None = Field(description="The verification that failed, if one did")
    matched_transfers: int
    notation: str | None
    submissions: list[dict[str, Any]]
    findings: list[dict[str, Any]]


def counterpart_client(request: Request) -> Iterator[httpx.Client]:
    """The HTTP client to the counterparts (tests set ``app.state.counterpart_client``)."""
    client: httpx.Client | None = getattr(request.app.state, "counterpart_client", None)
    if client is not None:
        yield client
        return
    with httpx.Client(timeout=COUNTERPART_TIMEOUT) as owned:
        yield owned


def counterpart_of(settings: Settings, party: str) -> CounterpartSetting:
    for counterpart in settings.counterparts:
        if counterpart.party == party:
            return counterpart
    raise CounterpartNotConfigured(
        f"no instance of {party} is configured in A6LEDGER_COUNTERPARTS", party=party
    )


def counterpart_witnesses(settings: Settings, own_witness: str | None) -> tuple[note.Verifier, ...]:
    """The witness keys a counterpart's cosignatures are checked with: this instance's own
    witness key, and the configured witness keys."""
    keys = list(settings.cosigner_keys)
    if own_witness is not None and own_witness not in keys:
        keys.append(own_witness)
    return witness.parse_witness_keys(keys)


@router.post(
    "/reconciliations",
    response_model=ReconciliationPublic,
    responses=problem_responses(401, 403, 404, 422, 500),
)
def create_reconciliation(
    request: Request,
    body: ReconciliationCreate,
    _: ReconcilingDep,
    uow: ReadUowDep,
    settings: SettingsDep,
    client: Annotated[httpx.Client, Depends(counterpart_client)],
) -> dict[str, Any]:
    """Reconcile this Party's ledger with a counterpart Party's instance for a year: fetch its
    checkpoint (the cosigned one when it has one) and verify it with its key, check it is
    consistent with what this instance witnessed of its log, fetch the entries the counterpart
    Party's reports read (not its whole log), each with its inclusion proof in that
    checkpoint, derive its AEF from them, and run the consistency checks on both sides.
    ``matches`` is false, with the reason, when anything fails to verify or any
    inconsistency is found; nothing is recorded. 422 when the counterpart cannot be reached."""
    counterpart = counterpart_of(settings, body.counterpart_party)
    cosigner = request.app.state.cosigner
    witnesses, required = body.quorum(
        counterpart_witnesses(settings, None if cosigner is None else cosigner.vkey)
    )
    result = reconciliation.reconcile(
        uow,
        body.party,
        body.counterpart_party,
        body.reported_year,
        HttpCounterpartLog(counterpart.url, client, counterpart.token),
        [note.Verifier(counterpart.vkey)],
        witnesses,
        required,
        timedelta(days=body.date_tolerance_days),
    )
    return result.as_json()
