"""Application factory: routers, problem handlers, middleware, lifespan."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.routing import APIRoute

from app import __version__
from app.admission import DatabaseAdmission, FailedAuthThrottle
from app.keys import load_signer
from app.middleware import RequestContextMiddleware
from app.problems import add_problem_handlers
from app.routes import (
    authorizations,
    exports,
    health,
    log,
    parties,
    reports,
    tiles,
    units,
    witness,
)
from app.settings import Environment, Settings, get_settings
from ledger.adapters.checkpoint_state import FileCheckpointState
from ledger.adapters.sql.db import create_ledger_engine
from ledger.adapters.sql.migrations import upgrade_to_head
from ledger.adapters.sql.uow import SqlStorage


def operation_id(route: APIRoute) -> str:
    return f"{route.tags[0]}-{route.name}" if route.tags else route.name


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    production = settings.environment is Environment.production
    storage = SqlStorage(create_ledger_engine(settings.database_url, pool=settings.pool_limits))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.sets_itself_up:
            upgrade_to_head(settings.database_url)
        app.state.signer = load_signer(
            settings.signer_key_path, settings.log_origin, create=settings.sets_itself_up
        )
        storage.check()
        logging.getLogger("a6ledger").info(
            "a6ledger ready: origin=%s database=%s",
            settings.log_origin,
            storage.describe(),
        )
        yield
        storage.dispose()

    app = FastAPI(
        title="a6ledger",
        version=__version__,
        summary="Verifiable Article 6.2 ITMO ledger",
        description=(
            "Append-only, hash-chained and Merkle-logged ledger of Article 6.2 actions with "
            "corresponding adjustments, AEF tables and signed, offline-verifiable exports. "
            "Errors are RFC 9457 `application/problem+json`."
        ),
        lifespan=lifespan,
        generate_unique_id_function=operation_id,
        # In production anonymous callers reach only /healthz, /readyz, the checkpoint and the
        # key; the API description is the committed openapi/openapi.json.
        docs_url=None if production else "/docs",
        redoc_url=None if production else "/redoc",
        openapi_url=None if production else "/openapi.json",
    )
    app.state.settings = settings
    app.state.storage = storage
    app.state.checkpoint_state = FileCheckpointState(settings.checkpoint_state_path)
    app.state.db_admission = DatabaseAdmission(settings.database_slots, settings.db_queue_timeout)
    app.state.auth_throttle = FailedAuthThrottle(
        settings.auth_failure_limit, settings.auth_failure_window
    )
    add_problem_handlers(app)
    app.add_middleware(RequestContextMiddleware, max_body_bytes=settings.max_body_bytes)
    app.include_router(health.router)
    app.include_router(log.router)
    app.include_router(tiles.router)
    app.include_router(witness.router)
    app.include_router(parties.router)
    app.include_router(authorizations.router)
    app.include_router(units.router)
    app.include_router(reports.router)
    app.include_router(exports.router)
    return app
