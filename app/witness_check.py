"""The log's question to its partner witnesses before it signs: what did you last cosign of this
log? (``ledger.log.witnessed_trees``; docs/architecture.md, "Signed checkpoints across
replicas").

The witnesses are the ones ``a6ledger witness push`` sends checkpoints to
(``A6LEDGER_WITNESS_PARTNERS``). Every signer asks them: the service
(:func:`service_signing_state`) at the first readiness probe or signature of each process, then
again once the answers are ``A6LEDGER_WITNESS_CHECK_INTERVAL`` seconds old, each request bounded
by ``A6LEDGER_WITNESS_CHECK_TIMEOUT``; the signing commands (``a6ledger witness push``,
``a6ledger export``: :func:`command_signing_state`) once per run, before they sign. Tests set
``app.state.witness_client`` to an in-process client of the partner, or replace
:func:`witness_client` for the commands.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from contextlib import nullcontext
from typing import TYPE_CHECKING

import httpx

from app.settings import Settings
from ledger.adapters.witness_http import ask_witness
from ledger.log import note
from ledger.log.checkpoints import CheckpointState, LayeredCheckpointState
from ledger.log.witnessed_trees import WitnessedTrees, WitnessView
from ledger.log.witnessing import PartnerWitness

if TYPE_CHECKING:
    from fastapi import FastAPI

log = logging.getLogger("a6ledger.witness_check")


def ask_partners(
    settings: Settings, signer: note.Signer, client: httpx.Client
) -> list[WitnessView]:
    """What each of ``settings``' partner witnesses last cosigned of this log (signed by
    ``signer``), asked through ``client``; a witness that does not say is logged (a warning)."""
    views = [
        ask_witness(
            client,
            partner.url,
            PartnerWitness(partner.url, note.Verifier(partner.vkey)).label,
            signer,
            settings.log_origin,
            required=partner.required,
        )
        for partner in settings.witness_partners
    ]
    for view in views:
        if view.size is None:
            log.warning(
                "witness %s did not say what it cosigned of this log: %s%s",
                view.witness,
                view.detail,
                " (required: nothing is signed until it answers)" if view.required else "",
            )
    return views


def _guarded(
    state: CheckpointState, settings: Settings, ask: Callable[[], list[WitnessView]]
) -> CheckpointState:
    """``state`` with the partner witnesses' trees as a layer of the signing guard (asked
    through ``ask``), or ``state`` alone when no partner witness is configured."""
    if not settings.witness_partners:
        return state
    trees = WitnessedTrees(ask, time.monotonic, settings.witness_check_interval)
    return LayeredCheckpointState(state, trees)


def service_signing_state(
    app: FastAPI, settings: Settings, state: CheckpointState
) -> CheckpointState:
    """The service's signing guard: ``state`` and the partner witnesses, asked with the log's
    signer (``app.state.signer``, loaded at start) and ``app.state.witness_client`` if set."""

    def ask() -> list[WitnessView]:
        signer: note.Signer = app.state.signer
        given: httpx.Client | None = getattr(app.state, "witness_client", None)
        with (
            nullcontext(given)
            if given is not None
            else httpx.Client(timeout=settings.witness_check_timeout)
        ) as client:
            return ask_partners(settings, signer, client)

    return _guarded(state, settings, ask)


def command_signing_state(
    settings: Settings,
    state: CheckpointState,
    signer: note.Signer,
    client: httpx.Client | None = None,
) -> CheckpointState:
    """A signing command's guard: ``state`` and the partner witnesses, asked at the command's
    first signature through ``client``, or a :func:`witness_client` of its own (the same
    refusals as the service's: ``WitnessedTreeMissing``, ``RequiredWitnessSilent``)."""

    def ask() -> list[WitnessView]:
        with (
            nullcontext(client)
            if client is not None
            else witness_client(settings.witness_check_timeout)
        ) as asking:
            return ask_partners(settings, signer, asking)

    return _guarded(state, settings, ask)


def witness_client(timeout: float) -> httpx.Client:
    """The HTTP client a signing command asks and pushes to the partner witnesses with."""
    return httpx.Client(timeout=timeout)
