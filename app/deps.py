"""FastAPI dependencies, one ``Annotated`` alias per resource."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Engine

from app.settings import Settings
from ledger.adapters.sql.uow import SqlAlchemyUnitOfWork
from ledger.log import note
from ledger.log.checkpoints import CheckpointState


def get_app_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


def get_signer(request: Request) -> note.Signer:
    signer: note.Signer = request.app.state.signer
    return signer


def get_checkpoint_state(request: Request) -> CheckpointState:
    state: CheckpointState = request.app.state.checkpoint_state
    return state


def read_uow(engine: Annotated[Engine, Depends(get_engine)]) -> Iterator[SqlAlchemyUnitOfWork]:
    """A read-only unit of work: one consistent snapshot for the whole request."""
    with SqlAlchemyUnitOfWork(engine, write=False) as uow:
        yield uow


SettingsDep = Annotated[Settings, Depends(get_app_settings)]
EngineDep = Annotated[Engine, Depends(get_engine)]
SignerDep = Annotated[note.Signer, Depends(get_signer)]
ReadUowDep = Annotated[SqlAlchemyUnitOfWork, Depends(read_uow)]
CheckpointStateDep = Annotated[CheckpointState, Depends(get_checkpoint_state)]
