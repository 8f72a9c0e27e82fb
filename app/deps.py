"""FastAPI dependencies, one ``Annotated`` alias per resource."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request

from app.settings import Settings
from ledger.log import note
from ledger.log.checkpoints import CheckpointState
from ledger.ports import Storage, UnitOfWork


def get_app_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_storage(request: Request) -> Storage:
    storage: Storage = request.app.state.storage
    return storage


def get_signer(request: Request) -> note.Signer:
    signer: note.Signer = request.app.state.signer
    return signer


def get_checkpoint_state(request: Request) -> CheckpointState:
    state: CheckpointState = request.app.state.checkpoint_state
    return state


def read_uow(storage: Annotated[Storage, Depends(get_storage)]) -> Iterator[UnitOfWork]:
    """A read-only unit of work: one consistent snapshot for the whole request."""
    with storage.unit_of_work(write=False) as uow:
        yield uow


SettingsDep = Annotated[Settings, Depends(get_app_settings)]
StorageDep = Annotated[Storage, Depends(get_storage)]
SignerDep = Annotated[note.Signer, Depends(get_signer)]
ReadUowDep = Annotated[UnitOfWork, Depends(read_uow)]
CheckpointStateDep = Annotated[CheckpointState, Depends(get_checkpoint_state)]
