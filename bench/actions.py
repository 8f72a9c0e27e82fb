"""Cost per action against the size of the history: a transfer and a use at a small and at a
large history, on each database, through the service layer (one unit of work per action).

History: Thailand issues units once, then each history action is a partial transfer of 3 units
to Japan (a first transfer and an acquisition: one more block in Japan's account, one more
superseded block in Thailand's), every fourth one followed by a use of one unit by Japan. The
measured actions are the same transfer and a use of one unit from Japan's account, which by then
holds about one block per history action. The two databases are measured in alternation
(small, large, small, ...), so load on the machine falls on both.

Parameters: ``history`` (two sizes, in actions), ``samples`` (actions of each kind measured at
each size). The issue's target is at 1k and 100k actions: ``python -m bench --only actions --set
actions.history=1000,100000`` (about 25 minutes per database on a small machine).
"""

from __future__ import annotations

import time
from dataclasses import replace

from sqlalchemy import Engine

from bench.runner import Bench, median, p99, table
from ledger.adapters.sql.db import create_ledger_engine
from ledger.adapters.sql.migrations import upgrade_to_head
from ledger.adapters.sql.uow import SqlAlchemyUnitOfWork
from ledger.demo import load_demo, solar, thai_ndc_authorization
from ledger.registry import services
from ledger.registry.model import UnitSelection

TITLE = "Cost per action against the size of the history (service layer)"
DEFAULTS = {"history": "200,2000", "samples": "30"}
SMOKE = {"history": "4,12", "samples": "2"}
TARGET = 1.2  # the issue: an action at 100k actions of history <= 1.2x the same at 1k

TRANSFER = services.TransferOrder("THA01-GOV", "JPN01-GOV", UnitSelection(quantity=3))
USE = services.UseOrder("JPN01-GOV", "JPN01-NDC", UnitSelection(quantity=1), use_year=2026)
PER_TRANSACTION = 250  # history actions per unit of work while building


def build(url: str, actions: int) -> Engine:
    """A registry with ``actions`` actions of history (see the module's docstring)."""
    upgrade_to_head(url)
    engine = create_ledger_engine(url)
    with SqlAlchemyUnitOfWork(engine, write=True) as uow:
        load_demo(uow)
        authorization = replace(
            thai_ndc_authorization(), authorization_id="THA-JCM-2025-900", quantity=10**9
        )
        services.record_authorization(uow, authorization, "bench")
        attributes = solar("THA01", "THA", "CA0001", 2022)
        share = services.IssuanceShare("THA01-GOV", 10**8, authorization.authorization_id)
        services.issue(uow, services.Issuance("THA01", attributes, (share,)), "bench")
        uow.commit()
    done = 0
    while done < actions:
        with SqlAlchemyUnitOfWork(engine, write=True) as uow:
            for _ in range(min(PER_TRANSACTION, actions - done)):
                services.transfer(uow, TRANSFER, "bench")
                if done % 4 == 3:
                    services.use_for_ndc(uow, USE, "bench")
                done += 1
            uow.commit()
    return engine


def one(engine: Engine, action: str) -> float:
    start = time.perf_counter()
    with SqlAlchemyUnitOfWork(engine, write=True) as uow:
        if action == "transfer":
            services.transfer(uow, TRANSFER, "bench")
        else:
            services.use_for_ndc(uow, USE, "bench")
        uow.commit()
    return time.perf_counter() - start


def section(bench: Bench) -> str:
    small, large = bench.ints("history")
    samples = int(bench.param("samples"))
    rows = []
    for backend in bench.backends():
        with bench.database(backend) as small_url, bench.database(backend) as large_url:
            started = time.perf_counter()
            engines = {small: build(small_url, small), large: build(large_url, large)}
            built = time.perf_counter() - started
            times: dict[tuple[int, str], list[float]] = {}
            for _ in range(samples):
                for size in (small, large):
                    for action in ("transfer", "use"):
                        times.setdefault((size, action), []).append(one(engines[size], action))
            for engine in engines.values():
                engine.dispose()
        for action in ("transfer", "use"):
            at_small, at_large = times[(small, action)], times[(large, action)]
            ratio = median(at_large) / median(at_small)
            rows.append(
                (
                    backend,
                    action,
                    f"{median(at_small) * 1000:.1f} ms (p99 {p99(at_small) * 1000:.1f})",
                    f"{median(at_large) * 1000:.1f} ms (p99 {p99(at_large) * 1000:.1f})",
                    f"**{ratio:.2f}**",
                )
            )
        bench.notes.append(f"{backend}: history built at {(small + large) / built:,.0f} actions/s")
    return (
        table(
            ("database", "action", f"at {small:,} actions", f"at {large:,} actions", "ratio"),
            rows,
        )
        + f"\n\nTarget: ratio ≤ {TARGET} (issue 15, at 1k and 100k actions; measured here at "
        f"{small:,} and {large:,}). Medians of {samples} actions of each kind at each size; "
        + "; ".join(bench.notes)
        + "."
    )
