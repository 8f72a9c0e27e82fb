"""The service's question to its partner witnesses before it signs: what did you last cosign of
this log? (``ledger.log.witnessed_trees``; docs/architecture.md, "Signed checkpoints across
replicas").

The witnesses are the ones ``a6ledger witness push`` sends checkpoints to
(``A6LEDGER_WITNESS_PARTNERS``). They are asked at the first readiness probe or signature of
each process, then again once the answers are ``A6LEDGER_WITNESS_CHECK_INTERVAL`` seconds old,
each request bounded by ``A6LEDGER_WITNESS_CHECK_TIMEOUT``. Tests set
``app.state.witness_client`` to an in-process client of the partner.
"""

from __future__ import annotations

import logging
import time
from contextlib import nullcontext

import httpx
from fastapi import FastAPI

from app.settings import Settings
from ledger.adapters.witness_http import ask_witness
from ledger.log import note
from ledger.log.witnessed_trees import WitnessedTrees, WitnessView
from ledger.log.witnessing import PartnerWitness

log = logging.getLogger("a6ledger.witness_check")


def witnessed_trees(app: FastAPI, settings: Settings) -> WitnessedTrees:
    """The layer of the signing guard that asks ``settings``' partner witnesses, with the log's
    signer (``app.state.signer``, loaded at start) and HTTP client of ``app``."""
    partners = [
        (PartnerWitness(p.url, note.Verifier(p.vkey)), p.required)
        for p in settings.witness_partners
    ]

    def ask() -> list[WitnessView]:
        signer: note.Signer = app.state.signer
        given: httpx.Client | None = getattr(app.state, "witness_client", None)
        with (
            nullcontext(given)
            if given is not None
            else httpx.Client(timeout=settings.witness_check_timeout)
        ) as client:
            views = [
                ask_witness(
                    client,
                    partner.url,
                    partner.label,
                    signer,
                    settings.log_origin,
                    required=required,
                )
                for partner, required in partners
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

    return WitnessedTrees(ask, time.monotonic, settings.witness_check_interval)
