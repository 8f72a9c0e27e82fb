"""Application factory: routers, problem handlers, middleware, lifespan."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path

import fastapi_offline
from fastapi import APIRouter, FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from fastapi.utils import create_model_field
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from app import __version__
from app.admission import DatabaseAdmission, FailedAuthThrottle, get_storage
from app.auth import VerifiedTokens, get_caller
from app.group_commit import GroupCommit
from app.keys import SignerKeyUnusable, load_cosigner, load_signer
from app.metrics import ServiceMetrics
from app.middleware import RequestContextMiddleware
from app.problems import Problem, add_problem_handlers, problem_responses
from app.routes import (
    authorizations,
    cycle,
    exports,
    health,
    imports,
    jcm,
    log,
    metrics,
    parties,
    reconciliations,
    reports,
    tiles,
    units,
    witness,
)
from app.settings import (
    Environment,
    Settings,
    database_in_use,
    get_settings,
    production_refusals,
)
from app.web import pages as web_pages
from app.witness_check import service_signing_state
from ledger.adapters.signing_state import open_signing_state
from ledger.adapters.sql.db import create_ledger_engine
from ledger.adapters.sql.migrations import pending_on, pending_revisions, upgrade_to_head
from ledger.adapters.sql.uow import SqlStorage, utc_now


def operation_id(route: APIRoute) -> str:
    return f"{route.tags[0]}-{route.name}" if route.tags else route.name


class DatabaseNotAtHead(RuntimeError):
    """The database lacks migrations, and the service does not apply them itself."""


def require_database_at_head(database_url: str) -> None:
    """Raise :class:`DatabaseNotAtHead`, naming the pending revisions, unless the database is
    at the latest migration."""
    current, pending = pending_revisions(database_url)
    if pending:
        at = ", ".join(current) if current else "no revision (empty)"
        raise DatabaseNotAtHead(
            f"the database is at {at}; pending migration(s) {', '.join(pending)}: run "
            "`a6ledger migrate` first"
        )


def startup_refusals(settings: Settings) -> list[str]:
    """Why the service must not start, one line each (empty: it may start): outside
    development, an unsafe production configuration (``app.settings.production_refusals``), a
    signer key it cannot use, a database that does not answer or is not at the latest
    migration. In development (``auto_setup``) the key and the migrations are set up instead.
    An unsafe configuration is refused before any file or database is opened."""
    refusals = production_refusals(settings)
    if refusals or settings.sets_itself_up:
        return refusals
    try:
        load_signer(settings.signer_key_path, settings.log_origin, create=False)
    except SignerKeyUnusable as exc:
        refusals.append(str(exc))
    try:
        require_database_at_head(settings.database_url)
    except DatabaseNotAtHead as exc:
        refusals.append(str(exc))
    except SQLAlchemyError as exc:
        reason = str(exc.orig if isinstance(exc, DBAPIError) else exc).strip().splitlines()[0]
        refusals.append(
            f"the database {database_in_use(settings.database_url)} does not answer: {reason}"
        )
    return refusals


def _uses(dependant: Dependant, call: object) -> bool:
    return any(d.call is call or _uses(d, call) for d in dependant.dependencies)


ROUTERS: tuple[APIRouter, ...] = (
    health.router,
    metrics.router,
    log.router,
    tiles.router,
    witness.router,
    witness.witness_router,
    parties.router,
    authorizations.router,
    units.router,
    jcm.router,
    reports.router,
    cycle.router,
    exports.router,
    imports.router,
    reconciliations.router,
)


def declare_http_problems(router: APIRouter) -> None:
    """Declare in each operation of ``router`` the HTTP-level problems it may answer: 400 and
    408 where it reads a body (unparsable, not received in time), 429 where it authenticates a
    bearer token (too many failed attempts), 503 where it uses the database (at capacity).
    Idempotent: what a route declares already is kept."""
    for route in router.routes:
        if not isinstance(route, APIRoute):
            continue
        statuses: list[int] = []
        if route.body_field is not None:
            statuses += [400, 408]
        if _uses(route.dependant, get_caller):
            statuses.append(429)
        if _uses(route.dependant, get_storage):
            statuses.append(503)
        for status, response in problem_responses(*statuses).items():
            if status in route.responses or str(status) in route.responses:
                continue
            route.responses[status] = response
            route.response_fields[status] = create_model_field(
                name=f"Response_{status}_{route.unique_id}", type_=Problem, mode="serialization"
            )


WEB_STATIC = Path(web_pages.__file__).parent / "static"
DOCS_STATIC = Path(fastapi_offline.__file__).parent / "static"


def add_docs(app: FastAPI) -> None:
    """``/docs`` (Swagger UI) and ``/redoc`` with their scripts and styles served from the
    ``fastapi-offline`` package under ``/static/docs``: no CDN, so they work air-gapped."""
    app.mount("/static/docs", StaticFiles(directory=DOCS_STATIC), name="docs-static")

    @app.get("/docs", include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title=f"{app.title} - Swagger UI",
            swagger_js_url="/static/docs/swagger-ui-bundle.js",
            swagger_css_url="/static/docs/swagger-ui.css",
            swagger_favicon_url="/static/docs/favicon.png",
        )

    @app.get("/redoc", include_in_schema=False)
    def redoc() -> HTMLResponse:
        return get_redoc_html(
            openapi_url="/openapi.json",
            title=f"{app.title} - ReDoc",
            redoc_js_url="/static/docs/redoc.standalone.js",
            redoc_favicon_url="/static/docs/favicon.png",
            with_google_fonts=False,
        )


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    production = settings.environment is Environment.production
    signing = open_signing_state(settings.database_url, settings.checkpoint_state_path, utc_now)
    storage = SqlStorage(
        create_ledger_engine(settings.database_url, pool=settings.pool_limits),
        signed_elsewhere=signing.outside_database,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.sets_itself_up:
            upgrade_to_head(settings.database_url)
        else:
            require_database_at_head(settings.database_url)
        app.state.signer = load_signer(
            settings.signer_key_path, settings.log_origin, create=settings.sets_itself_up
        )
        # The witness key is needed only by a witness of partner logs.
        app.state.cosigner = (
            load_cosigner(
                settings.witness_signer_key_path,
                settings.witness_key_name,
                create=settings.sets_itself_up,
            )
            if settings.witnessed_logs
            else None
        )
        storage.check()
        logging.getLogger("a6ledger").info(
            "a6ledger ready: origin=%s database=%s",
            settings.log_origin,
            storage.describe(),
        )
        yield
        signing.dispose()
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
        docs_url=None,
        redoc_url=None,
        openapi_url=None if production else "/openapi.json",
    )
    app.state.settings = settings
    app.state.storage = storage
    app.state.group_commit = GroupCommit(storage)
    app.state.verified_tokens = VerifiedTokens()
    app.state.pending_migrations = partial(pending_on, storage.engine)
    app.state.metrics = metrics = ServiceMetrics()
    # Partner witnesses, when configured, are asked what they cosigned before the log signs.
    app.state.checkpoint_state = service_signing_state(app, settings, signing.everywhere)
    app.state.db_admission = DatabaseAdmission(settings.database_slots, settings.db_queue_timeout)
    app.state.trusted_proxies = settings.trusted_proxy_networks
    app.state.auth_throttle = FailedAuthThrottle(
        settings.auth_failure_limit, settings.auth_failure_window
    )
    add_problem_handlers(app)
    app.add_middleware(
        RequestContextMiddleware,
        max_body_bytes=settings.max_body_bytes,
        body_timeout=settings.body_timeout,
        max_bodies_in_flight=settings.max_bodies_in_flight,
        metrics=metrics,
    )
    for router in ROUTERS:
        declare_http_problems(router)
        app.include_router(router)
    if not production:
        add_docs(app)
    app.mount("/static/web", StaticFiles(directory=WEB_STATIC), name="web-static")
    app.include_router(web_pages.router)
    return app
