"""FastAPI dependencies, one ``Annotated`` alias per resource.

Database work happens in a fixed order: the request takes a database permit
(:mod:`app.admission`), authenticates its bearer token in a unit of work of its own, and only
then opens the route's snapshot (:data:`ReadUowDep`) or write unit of work. A request therefore
holds at most one pooled connection at a time.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request

from app.admission import StorageDep
from app.auth import PrincipalDep
from app.settings import Settings
from ledger.log import note
from ledger.log.checkpoints import CheckpointState
from ledger.ports import UnitOfWork

__all__ = [
    "CheckpointStateDep",
    "PublicReadUowDep",
    "ReadUowDep",
    "SettingsDep",
    "SignerDep",
    "StorageDep",
]


async def get_app_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_signer(request: Request) -> note.Signer:
    signer: note.Signer = request.app.state.signer
    return signer


async def get_checkpoint_state(request: Request) -> CheckpointState:
    state: CheckpointState = request.app.state.checkpoint_state
    return state


def read_uow(storage: StorageDep, _: PrincipalDep) -> Iterator[UnitOfWork]:
    """A read-only unit of work for an authenticated caller: one consistent snapshot for the
    whole request, opened after the bearer token was checked (401 takes no snapshot)."""
    with storage.unit_of_work(write=False) as uow:
        yield uow


def public_read_uow(storage: StorageDep) -> Iterator[UnitOfWork]:
    """A read-only unit of work for routes open to anonymous callers (a bearer token, if sent,
    is not looked at)."""
    with storage.unit_of_work(write=False) as uow:
        yield uow


SettingsDep = Annotated[Settings, Depends(get_app_settings)]
SignerDep = Annotated[note.Signer, Depends(get_signer)]
ReadUowDep = Annotated[UnitOfWork, Depends(read_uow)]
PublicReadUowDep = Annotated[UnitOfWork, Depends(public_read_uow)]
CheckpointStateDep = Annotated[CheckpointState, Depends(get_checkpoint_state)]
