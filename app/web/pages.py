"""The web view's pages: server-rendered, read-only views of the same reports the API serves.

Each page opens one read-only unit of work after the session's token was checked
(:mod:`app.web.session`), calls the ledger's report functions, and renders a template of
``app/web/templates``. Errors become an HTML page with the same status and rule the API would
answer with (:class:`WebRoute`). Pages are left out of the OpenAPI document.
"""

from __future__ import annotations

import base64
import json
from collections import defaultdict
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass
from datetime import timedelta
from fractions import Fraction
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import parse_qs, quote, urlsplit

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.admission import StorageDep
from app.deps import CheckpointStateDep, SettingsDep, SignerDep
from app.problems import status_for
from app.schemas_reports import AdjustmentReportPublic, StructuredSummaryPublic
from app.web import charts, session
from app.web.session import (
    COOKIE,
    PageForbidden,
    SignInRequired,
    WebReaderDep,
    cookie_is_secure,
    login_location,
    safe_next,
    sign_in,
)
from ledger.accounting import consistency, reporting
from ledger.accounting.adjustments import AdjustmentReport, CaKind, Figure
from ledger.adapters import aef_files
from ledger.errors import BlockNotFound, LedgerError
from ledger.log.chain import Entry
from ledger.log.checkpoints import signed_checkpoint
from ledger.ports import UnitOfWork
from ledger.registry import services
from ledger.registry.model import NdcDeclaration, UnitBlock

TEMPLATES = Jinja2Templates(directory=Path(__file__).parent / "templates")
MAX_ENTRIES_SHOWN = 200
TREE_SIZE_POINTS = 60
#: Blocks a lineage scan reads at most, from the block's oldest ancestor on.
MAX_LINEAGE_SCAN = 20_000
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
HTML_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    response = TEMPLATES.TemplateResponse(
        request, template, context, status_code=status_code, headers=HTML_HEADERS
    )
    return response


class WebRoute(APIRoute):
    """A page route: a missing session redirects to the sign-in page, and a ledger or HTTP error
    is answered as an HTML page with its status (and the rule broken)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def page(request: Request) -> Response:
            try:
                return await handler(request)
            except SignInRequired as exc:
                redirect = RedirectResponse(login_location(exc.next_path, exc.reason), 303)
                if exc.reason is not None:
                    redirect.delete_cookie(COOKIE, path="/")
                return redirect
            except PageForbidden as exc:
                return render(request, "error.html", 403, title="Forbidden", detail=str(exc))
            except LedgerError as exc:
                status = status_for(exc)
                return render(
                    request,
                    "error.html",
                    status,
                    title=exc.title,
                    detail=exc.message,
                    rule=exc.rule,
                )
            except StarletteHTTPException as exc:
                response = render(
                    request,
                    "error.html",
                    exc.status_code,
                    title="Refused",
                    detail=str(exc.detail),
                )
                response.headers.update(exc.headers or {})
                return response

        return page


router = APIRouter(route_class=WebRoute, include_in_schema=False)


def read_uow(storage: StorageDep, _: WebReaderDep) -> Iterator[UnitOfWork]:
    """One consistent snapshot per page, opened after the session was checked."""
    with storage.unit_of_work(write=False) as uow:
        yield uow


UowDep = Annotated[UnitOfWork, Depends(read_uow)]


# --- signing in and out --------------------------------------------------------------------------


@router.get("/login")
def login_page(request: Request, next: str = "/", reason: str | None = None) -> HTMLResponse:
    return render(
        request, "login.html", next=safe_next(next), error=session.REASONS.get(reason or "")
    )


def _same_origin(request: Request) -> bool:
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return origin is None
    return urlsplit(origin).netloc == request.headers.get("host")


@router.post("/login")
async def login(request: Request, storage: StorageDep, settings: SettingsDep) -> Response:
    """Sign in with a bearer token (form field ``token``): a valid token of a reading role sets
    the session cookie; anything else shows the form again with 401."""
    form = parse_qs((await request.body()).decode("utf-8", errors="replace"))
    token = (form.get("token") or [""])[0]
    next_path = safe_next((form.get("next") or ["/"])[0])
    if not _same_origin(request):
        return render(
            request,
            "error.html",
            403,
            title="Forbidden",
            detail="sign-in is accepted from this site's own form only",
        )
    principal = await sign_in(request, storage, token) if token.strip() else None
    if principal is None:
        return render(
            request,
            "login.html",
            401,
            next=next_path,
            error="the token is invalid or revoked",
        )
    response = RedirectResponse(next_path, 303)
    response.set_cookie(
        COOKIE,
        token.strip(),
        httponly=True,
        secure=cookie_is_secure(settings),
        samesite="strict",
        path="/",
    )
    return response


@router.post("/logout")
def logout() -> Response:
    response = RedirectResponse("/login", 303)
    response.delete_cookie(COOKIE, path="/")
    return response


# --- the pages -----------------------------------------------------------------------------------


@router.get("/")
def home(request: Request, uow: UowDep, principal: WebReaderDep) -> HTMLResponse:
    parties = sorted(uow.projection.parties(), key=lambda p: p.code)
    return render(
        request,
        "home.html",
        principal=principal,
        parties=parties,
        tree_size=uow.log.size(),
        aef_year=uow.now().year,
    )


def entries_href(figure: Figure | None) -> str | None:
    if figure is None or not figure.seqs:
        return None
    return "/entries?seqs=" + ",".join(str(s) for s in figure.seqs)


def _value(figure: Figure | None) -> Fraction | None:
    return None if figure is None else figure.value


def adjustment_chart(report: AdjustmentReport) -> Any:
    """First transferred vs used (bars, each linking to its entries), the CA and emissions
    balance (lines), and the averaging trajectory (dashed) with indicative CAs hollow."""
    groups = [
        charts.BarGroup(
            str(row.year),
            (
                charts.Bar(
                    row.first_transferred.value,
                    f"{row.year} first transferred: {row.first_transferred.render()}",
                    entries_href(row.first_transferred),
                ),
                charts.Bar(
                    row.used.value, f"{row.year} used: {row.used.render()}", entries_href(row.used)
                ),
            ),
        )
        for row in report.rows
    ]
    # Drawn in this order: the corresponding adjustment last, so its hollow (indicative)
    # points stay visible where the averaging trajectory runs through them.
    lines: list[charts.Line] = []
    if any(row.average is not None for row in report.rows):
        lines.append(
            charts.Line(
                "Averaging trajectory",
                charts.AVERAGE,
                tuple(_value(row.average) for row in report.rows),
                dashed=True,
            )
        )
    lines.append(
        charts.Line(
            "Emissions balance",
            charts.BALANCE,
            tuple(_value(row.emissions_balance) for row in report.rows),
        )
    )
    lines.append(
        charts.Line(
            "Corresponding adjustment",
            charts.CA,
            tuple(_value(row.ca) for row in report.rows),
            hollow=tuple(row.ca_kind is CaKind.INDICATIVE for row in report.rows),
        )
    )
    p = report.profile
    return charts.bars_and_lines(
        f"{p.party}, NDC period {p.period_start}-{p.period_end}",
        "Bars: ITMOs first transferred (by vintage) and used (by year of use) each year; "
        "lines: the corresponding adjustment, the emissions balance and the averaging "
        "trajectory. A hollow point is an indicative adjustment, a filled one final or annual.",
        groups,
        lines,
        (charts.FIRST_TRANSFERRED, charts.USED),
    )


@router.get("/parties/{code}")
def party_dashboard(
    request: Request, code: str, uow: UowDep, settings: SettingsDep, principal: WebReaderDep
) -> HTMLResponse:
    party = services.party_of(uow, code)
    size = uow.log.size()
    periods = []
    refused: list[tuple[NdcDeclaration, LedgerError]] = []
    for declaration in party.declarations:
        try:
            report = reporting.adjustments_as_of(
                uow, code, size, settings.adjustment_policy, period_start=declaration.period_start
            )
        except LedgerError as exc:
            refused.append((declaration, exc))
            continue
        periods.append(
            {
                "public": AdjustmentReportPublic.of(report, size),
                "chart": adjustment_chart(report),
            }
        )
    submissions = reporting.submissions(uow, code)
    return render(
        request,
        "party.html",
        principal=principal,
        party=party,
        periods=periods,
        refused=refused,
        submissions=submissions,
        tree_size=size,
    )


def _seqs(raw: str) -> list[int]:
    found: list[int] = []
    for part in raw.split(","):
        part = part.strip()
        if part.isdigit() and len(part) < 19:
            found.append(int(part))
    return sorted(set(found))[:MAX_ENTRIES_SHOWN]


@router.get("/entries")
def entries_page(
    request: Request,
    uow: UowDep,
    principal: WebReaderDep,
    seqs: Annotated[str, Query(max_length=4000)] = "",
) -> HTMLResponse:
    """The ledger entries behind a figure (``seqs``: comma-separated seq numbers)."""
    size = uow.log.size()
    wanted = [s for s in _seqs(seqs) if s < size]
    shown = [Entry.from_canonical(uow.log.read_entries(s, s + 1)[0]) for s in wanted]
    return render(
        request,
        "entries.html",
        principal=principal,
        entries=shown,
        payloads={e.seq: json.dumps(e.payload, indent=1, sort_keys=True) for e in shown},
        missing=[s for s in _seqs(seqs) if s >= size],
    )


@dataclass(frozen=True, slots=True)
class HoldingRow:
    account: str
    vintage: int
    ca_id: str
    authorization: str
    quantity: int
    blocks: list[UnitBlock]


@router.get("/holdings")
def holdings(
    request: Request,
    uow: UowDep,
    principal: WebReaderDep,
    account: Annotated[str | None, Query(max_length=60)] = None,
) -> HTMLResponse:
    """Current holdings by account, vintage, cooperative approach and authorization."""
    every = uow.projection.active_blocks()
    blocks = [b for b in every if account in (None, "", b.account_id)]
    groups: dict[tuple[str, int, str, str], list[UnitBlock]] = defaultdict(list)
    for block in blocks:
        key = (
            block.account_id,
            block.attributes.vintage,
            block.attributes.ca_id,
            block.authorization_id or "",
        )
        groups[key].append(block)
    rows = [
        HoldingRow(*key, sum(b.quantity for b in found), sorted(found, key=lambda b: b.block_id))
        for key, found in sorted(groups.items())
    ]
    per_account: dict[str, int] = defaultdict(int)
    by_dimension: dict[str, dict[str, int]] = {
        "Vintage": defaultdict(int),
        "Cooperative approach": defaultdict(int),
        "Authorization": defaultdict(int),
    }
    for row in rows:
        per_account[row.account] += row.quantity
        by_dimension["Vintage"][str(row.vintage)] += row.quantity
        by_dimension["Cooperative approach"][row.ca_id] += row.quantity
        by_dimension["Authorization"][row.authorization or "none"] += row.quantity
    accounts = sorted({b.account_id for b in every})
    return render(
        request,
        "holdings.html",
        principal=principal,
        rows=rows,
        per_account=sorted(per_account.items()),
        total=sum(per_account.values()),
        by_dimension={name: sorted(totals.items()) for name, totals in by_dimension.items()},
        accounts=accounts,
        account=account or "",
    )


def lineage(uow: UnitOfWork, block: UnitBlock) -> tuple[list[UnitBlock], bool]:
    """The block, the blocks it was split from and every piece split from them, by block id;
    and whether the scan for pieces stopped at :data:`MAX_LINEAGE_SCAN` blocks.

    A piece always has a larger block id than the block it was split from, so one ascending
    pass from the oldest ancestor finds every descendant."""
    chain = [block]
    while chain[-1].parent_id is not None and len(chain) < MAX_LINEAGE_SCAN:
        parent = uow.projection.get_block(chain[-1].parent_id)
        if parent is None:
            break
        chain.append(parent)
    family = {b.block_id: b for b in chain}
    root = chain[-1]
    tree = {root.block_id}
    after, scanned = root.block_id, 0
    while scanned < MAX_LINEAGE_SCAN:
        wanted = min(1000, MAX_LINEAGE_SCAN - scanned)
        page = uow.listing.blocks(after, wanted, include_superseded=True)
        for candidate in page:
            if candidate.parent_id in tree:
                tree.add(candidate.block_id)
                family[candidate.block_id] = candidate
        scanned += len(page)
        if len(page) < wanted:
            return sorted(family.values(), key=lambda b: b.block_id), False
        after = page[-1].block_id
    return sorted(family.values(), key=lambda b: b.block_id), True


@router.get("/holdings/blocks/{block_id}")
def block_page(
    request: Request, block_id: int, uow: UowDep, principal: WebReaderDep
) -> HTMLResponse:
    """One block: its attributes, the history of its first serial, and its lineage of splits
    (ancestors and descendants) as a graph."""
    block = uow.projection.get_block(block_id)
    if block is None:
        raise BlockNotFound(f"no block {block_id}", block_id=block_id)
    family, truncated = lineage(uow, block)
    split = {b.parent_id for b in family if b.parent_id is not None}
    nodes = [
        charts.Node(
            b.block_id,
            b.parent_id,
            f"Block {b.block_id}: {b.first}-{b.last} in {b.account_id}",
            f"/holdings/blocks/{b.block_id}",
            b.block_id not in split,
        )
        for b in family
    ]
    a = block.attributes
    key = (a.ca_id, a.registry_id, a.first_transferring_party, a.vintage)
    history = uow.projection.block_history(key, block.first)
    return render(
        request,
        "block.html",
        principal=principal,
        block=block,
        graph=charts.lineage(f"Lineage of block {block_id}", nodes, block_id),
        history=history,
        itmo_id=block.itmo_id(block.first),
        current=block_id not in split,
        truncated=truncated,
    )


@router.get("/holdings/itmo")
def itmo_page(
    request: Request,
    uow: UowDep,
    principal: WebReaderDep,
    itmo_id: Annotated[str, Query(max_length=200)] = "",
) -> Response:
    """The history of one serial number (an ITMO id): every entry that touched it."""
    events = services.serial_history(uow, itmo_id)
    return render(request, "itmo.html", principal=principal, itmo_id=itmo_id, events=events)


@router.get("/flows")
def flows_page(
    request: Request,
    uow: UowDep,
    principal: WebReaderDep,
    ca: Annotated[str, Query(max_length=40)] = "",
    year: Annotated[str, Query(max_length=4)] = "",
) -> HTMLResponse:
    """Transfers between Parties: a matrix (sender x receiver), a Sankey-style view and the
    flows by year, filtered by cooperative approach and year."""
    every = reporting.flows_for(uow, uow.log.size())
    shown = [f for f in every if ca in ("", f.ca_id) and (year == "" or str(f.year) == year)]
    totals: dict[tuple[str, str], int] = defaultdict(int)
    by_year: dict[tuple[int, str, str], int] = defaultdict(int)
    for flow in shown:
        totals[(flow.from_party, flow.to_party)] += flow.quantity
        by_year[(flow.year, flow.from_party, flow.to_party)] += flow.quantity
    senders = sorted({s for s, _ in totals})
    receivers = sorted({r for _, r in totals})
    return render(
        request,
        "flows.html",
        principal=principal,
        flows=shown,
        totals=totals,
        senders=senders,
        receivers=receivers,
        by_year=sorted(by_year.items()),
        sankey=charts.sankey("Transfers between Parties", totals),
        approaches=sorted({f.ca_id for f in every}),
        years=sorted({f.year for f in every}),
        ca=ca,
        year=year,
    )


@router.get("/parties/{code}/aef")
def aef_year_chosen(
    code: str, _: WebReaderDep, year: Annotated[int, Query(ge=1990, le=2100)]
) -> RedirectResponse:
    """The reported-year form of the AEF page: on to that year's page."""
    return RedirectResponse(f"/parties/{quote(code)}/aef/{year}", 303)


@router.get("/parties/{code}/aef/{reported_year}")
def aef_page(
    request: Request,
    code: str,
    reported_year: int,
    uow: UowDep,
    settings: SettingsDep,
    principal: WebReaderDep,
    version: Annotated[str | None, Query(pattern=r"^\d+\.\d+$")] = None,
) -> HTMLResponse:
    """The Party's AEF tables and BTR summary for the year, the consistency check of its
    mandatory fields, download buttons and the submission history."""
    party = services.party_of(uow, code)
    size = uow.log.size()
    report = reporting.aef_report_for(uow, code, reported_year, version, tree_size=size)
    tables: dict[str, list[dict[str, Any]]] = json.loads(
        aef_files.export_aef(report, aef_files.AefFormat.JSON)
    )
    check = consistency.check_against_counterpart(report, None, date_tolerance=timedelta(days=1))
    period = party.ndc_covering(reported_year)
    summary = None
    if period is not None:
        summary = StructuredSummaryPublic.of(
            reporting.structured_summary_for(
                uow,
                code,
                settings.adjustment_policy,
                period_start=period.period_start,
                tree_size=size,
            ),
            reporting.breakdowns_for(
                uow,
                code,
                settings.adjustment_policy,
                period_start=period.period_start,
                tree_size=size,
            ),
        )
    return render(
        request,
        "aef.html",
        principal=principal,
        party=party,
        reported_year=reported_year,
        version=report.submission.version,
        requested_version=version,
        tables=tables,
        check=check,
        summary=summary,
        submissions=reporting.submissions(uow, code),
    )


@router.get("/parties/{code}/aef/{reported_year}/download")
def aef_download(
    code: str,
    reported_year: int,
    uow: UowDep,
    format: Annotated[aef_files.AefFormat, Query()] = aef_files.AefFormat.JSON,
    version: Annotated[str | None, Query(pattern=r"^\d+\.\d+$")] = None,
) -> Response:
    """The AEF file, as ``GET /v1/parties/{code}/aef/{year}`` gives it."""
    report = reporting.aef_report_for(uow, code, reported_year, version, tree_size=uow.log.size())
    suffix = {"json": "json", "csv": "zip", "xlsx": "xlsx"}[format.value]
    name = f"aef-{code}-{reported_year}-{report.submission.version}.{suffix}"
    return Response(
        aef_files.export_aef(report, format),
        media_type=format.media_type,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _tree_size_over_time(uow: UnitOfWork, size: int) -> list[tuple[str, int]]:
    """At most :data:`TREE_SIZE_POINTS` samples (time of an entry, tree size after it)."""
    if size == 0:
        return []
    count = min(size, TREE_SIZE_POINTS)
    indices = sorted({(size - 1) * i // max(count - 1, 1) for i in range(count)})
    points = []
    for index in indices:
        entry = Entry.from_canonical(uow.log.read_entries(index, index + 1)[0])
        points.append((entry.timestamp.strftime("%Y-%m-%d %H:%M"), index + 1))
    return points


@router.get("/log")
def log_page(
    request: Request,
    uow: UowDep,
    signer: SignerDep,
    settings: SettingsDep,
    state: CheckpointStateDep,
    principal: WebReaderDep,
) -> HTMLResponse:
    """The latest signed checkpoint, its cosignatures and the tree size over time."""
    checkpoint, signed = signed_checkpoint(uow.log, signer, settings.log_origin, state=state)
    points = _tree_size_over_time(uow, checkpoint.size)
    latest_cosigned = uow.cosignatures.latest_tree_size()
    return render(
        request,
        "log.html",
        principal=principal,
        checkpoint=checkpoint,
        signed=signed,
        vkey=signer.vkey,
        cosignatures=uow.cosignatures.of_tree_size(checkpoint.size),
        latest_cosigned=latest_cosigned,
        latest_cosignatures=(
            [] if latest_cosigned is None else uow.cosignatures.of_tree_size(latest_cosigned)
        ),
        chart=charts.series(
            "Tree size over time", "Entries in the log after each sampled entry", points
        )
        if points
        else None,
    )


def script_json(value: Any) -> str:
    """JSON safe inside a ``<script>`` element: no ``<``, ``>`` or ``&`` left unescaped."""
    text = json.dumps(value)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


@router.get("/log/verify")
def verify_page(
    request: Request,
    uow: UowDep,
    signer: SignerDep,
    settings: SettingsDep,
    state: CheckpointStateDep,
    principal: WebReaderDep,
    index: Annotated[int | None, Query(ge=0, le=2**63 - 1)] = None,
) -> HTMLResponse:
    """Verify an entry in the browser: the page carries the signed checkpoint, the log's key,
    the entry's bytes and its audit path; ``verify.js`` recomputes the root with WebCrypto
    SHA-256 and checks the checkpoint's Ed25519 signature. The server computes nothing that
    the page then trusts."""
    checkpoint, signed = signed_checkpoint(uow.log, signer, settings.log_origin, state=state)
    material = None
    if index is not None and index < checkpoint.size:
        body = uow.log.read_entries(index, index + 1)[0]
        material = {
            "index": index,
            "tree_size": checkpoint.size,
            "checkpoint": signed,
            "vkey": signer.vkey,
            "entry": body.decode("utf-8"),
            "audit_path": [b64(h) for h in uow.log.inclusion_proof(index, checkpoint.size)],
        }
    return render(
        request,
        "verify.html",
        principal=principal,
        index=index,
        size=checkpoint.size,
        material=material,
        material_json=script_json(material) if material else None,
    )
