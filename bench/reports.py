"""Reports benchmark: a Party's reports cost its own entries, not the registry's history.

Two registries are built with the same activity of Japan (the demo scenario, then ``--own``
first transfers from Thailand to Japan, every fifth followed by a use of Japan's) and different
amounts of other Parties' activity (Thailand moving its project participant's units between its
own accounts, one whole block per action: two ``itmo.transfer`` entries through the use cases,
then their payloads recorded again and again with ``record_entry``, the one append path, which
skips only the rule checks to keep the build short): ``--small`` and ``--large`` registry
actions in all. Japan's adjustments, BTR structured summary, AEF JSON and AEF xlsx of the
current year are timed in both (the fastest of ``--repeat`` runs, the two registries
interleaved), and so is the scan these reports used before the entry index (every entry
replayed) for the adjustments, as the baseline of the same run.

Figures: each report's seconds at both sizes and their ratio (target <= 1.5 at the same own
activity), and the large registry's report against the whole-log scan. ``make bench`` takes the
registries from the bench cache (``bench.cache``; built on the first run, about a minute for 100k
actions) and measures them on SQLite and PostgreSQL; ``python -m bench.reports`` builds them
afresh and measures on SQLite.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from unittest import mock

from bench.cache import cache_dir, copy_to_postgresql, postgresql_copy, source_key
from bench.runner import Bench
from ledger.accounting import aef, reporting
from ledger.adapters.aef_xlsx import write_workbook
from ledger.adapters.sql.db import create_ledger_engine
from ledger.adapters.sql.migrations import upgrade_to_head
from ledger.adapters.sql.uow import SqlAlchemyUnitOfWork
from ledger.demo import load_demo, solar
from ledger.log.canonical import JsonValue, canonical_bytes
from ledger.log.chain import Entry
from ledger.ports import UnitOfWork
from ledger.recording import record_entry
from ledger.registry import services
from ledger.registry.model import SerialRange, UnitSelection

PARTY = "JPN"
BATCH = 1_000
"""Actions per unit of work while building."""


@dataclass(frozen=True, slots=True)
class Registry:
    url: str
    actions: int
    entries: int
    own_entries: int
    build_seconds: float


def _whole_block(first: int, last: int) -> UnitSelection:
    return UnitSelection(
        ranges=(SerialRange(first, last),),
        ca_id="CA0001",
        originating_registry="THA01",
        first_transferring_party="THA",
        vintage=2021,
    )


def build(url: str, actions: int, own: int) -> Registry:
    """A registry of ``actions`` registry actions at ``url`` (a fresh database): the demo,
    ``own`` first transfers to Japan (and a use of Japan's after every fifth), the rest
    Thailand's moves of one whole block between its own accounts, interleaved evenly."""
    started = time.perf_counter()
    upgrade_to_head(url)
    engine = create_ledger_engine(url)
    with SqlAlchemyUnitOfWork(engine, write=True) as uow:
        load_demo(uow)
        attributes = solar("THA01", "THA", "CA0001", 2022)
        share = services.IssuanceShare("THA01-GOV", own * 3 + 10, "THA-JCM-2025-001")
        services.issue(uow, services.Issuance("THA01", attributes, (share,)), "bench")
        uow.commit()
    with SqlAlchemyUnitOfWork(engine, write=False) as uow:
        (pp_block,) = uow.projection.held_blocks("THA01-PP")
        demo_actions = uow.log.size()
    others = max(actions - demo_actions - own - own // 5, 0)
    own_units = UnitSelection(quantity=3, vintage=2022)  # not the project participant's
    transfer = services.TransferOrder("THA01-GOV", "JPN01-GOV", own_units)
    use = services.UseOrder(
        "JPN01-GOV", "JPN01-NDC", UnitSelection(quantity=2), use_year=2026, reference="bench"
    )
    moves = [
        services.TransferOrder(a, b, _whole_block(pp_block.first, pp_block.last))
        for a, b in (("THA01-PP", "THA01-GOV"), ("THA01-GOV", "THA01-PP"))
    ]
    every = max(others // max(own, 1), 1)
    done_own = done_other = 0
    recorded: list[Mapping[str, JsonValue]] = []

    def step(uow: UnitOfWork) -> None:
        nonlocal done_own, done_other
        if done_own < own and (done_other >= others or done_other % every == 0):
            services.transfer(uow, transfer, "bench")
            done_own += 1
            if done_own % 5 == 0:
                services.use_for_ndc(uow, use, "bench")
        if done_other < others:
            if len(recorded) < 2:
                services.transfer(uow, moves[done_other % 2], "bench")
                (body,) = uow.log.read_entries(uow.log.size() - 1, uow.log.size())
                recorded.append(Entry.from_canonical(body).payload)
            else:
                record_entry(uow, "itmo.transfer", recorded[done_other % 2], "bench")
            done_other += 1

    while done_own < own or done_other < others:
        with SqlAlchemyUnitOfWork(engine, write=True) as uow:
            for _ in range(BATCH):
                step(uow)
            uow.commit()
    with SqlAlchemyUnitOfWork(engine, write=False) as uow:
        entries = uow.log.size()
        own_entries = len(uow.projection.tagged_seqs([f"party:{PARTY}"], entries))
    engine.dispose()
    total = demo_actions + own + own // 5 + others
    return Registry(url, total, entries, own_entries, time.perf_counter() - started)


def _whole_log(uow: UnitOfWork, _party: str, end: int) -> Iterator[Entry]:
    """The scan before the entry index: every entry below ``end``."""
    for start in range(0, end, 1_000):
        for body in uow.log.read_entries(start, min(end, start + 1_000)):
            yield Entry.from_canonical(body)


@contextmanager
def whole_log_scan() -> Iterator[None]:
    with mock.patch("ledger.accounting.reporting.replay.party_entries", _whole_log):
        yield


def _aef_json(uow: UnitOfWork) -> bytes:
    return canonical_bytes(aef.to_json(reporting.aef_report_for(uow, PARTY, 2026)))


REPORTS: dict[str, Callable[[UnitOfWork], object]] = {
    "adjustments": lambda uow: reporting.adjustments_for(uow, PARTY),
    "BTR summary": lambda uow: reporting.structured_summary_for(uow, PARTY),
    "AEF JSON": _aef_json,
    "AEF xlsx": lambda uow: write_workbook(reporting.aef_report_for(uow, PARTY, 2026)),
}


def timed(urls: Sequence[str], report: Callable[[UnitOfWork], object], repeat: int) -> list[float]:
    """The report's fastest of ``repeat`` runs on each database, the databases interleaved
    (A, B, A, B, ...) so that a change in the machine's load falls on both sides; the fastest
    run is the one least slowed by other work on a shared machine."""
    engines = [create_ledger_engine(url) for url in urls]
    samples: list[list[float]] = [[] for _ in urls]
    try:
        for _ in range(repeat):
            for engine, taken in zip(engines, samples, strict=True):
                with SqlAlchemyUnitOfWork(engine, write=False) as uow:
                    start = time.perf_counter()
                    report(uow)
                    taken.append(time.perf_counter() - start)
    finally:
        for engine in engines:
            engine.dispose()
    return [min(taken) for taken in samples]


def cached(actions: int, own: int) -> tuple[Path, Registry, float]:
    """The SQLite registry of ``actions`` actions (``own`` of Japan's) from the bench cache
    (:mod:`bench.cache`, keyed by the source of :func:`build` and of what it runs), built if
    missing; and the seconds this run spent building it (0 if it was in the cache)."""
    key = source_key(build, _whole_block, copy_to_postgresql)
    path = cache_dir() / f"reports-{actions}-{own}-{key}.db"
    facts = path.with_suffix(".json")
    if not (path.exists() and facts.exists()):
        path.parent.mkdir(parents=True, exist_ok=True)
        building = path.with_suffix(".building")
        for leftover in building.parent.glob(f"{building.name}*"):
            leftover.unlink()
        registry = build(f"sqlite:///{building}", actions, own)
        Path(f"{building}.migrate-lock").unlink(missing_ok=True)  # upgrade_to_head's
        building.rename(path)
        facts.write_text(json.dumps(dataclasses.asdict(registry) | {"url": ""}), "utf-8")
        return path, replace(registry, url=f"sqlite:///{path}"), registry.build_seconds
    registry = Registry(**json.loads(facts.read_text("utf-8")))
    return path, replace(registry, url=f"sqlite:///{path}"), 0.0


def run(registries: Sequence[Registry], repeat: int, *, scan: bool = True) -> list[str]:
    """Time the reports in both registries and return the lines of the result table (with
    ``scan``, the whole-log scan of the adjustments too)."""
    urls = [r.url for r in registries]
    lines = [
        f"| report ({PARTY}) | at {registries[0].actions:,} actions (s) | "
        f"at {registries[1].actions:,} actions (s) | ratio large/small |",
        "|---|---|---|---|",
    ]
    indexed: dict[str, list[float]] = {}
    for name, report in REPORTS.items():
        at_small, at_large = indexed[name] = timed(urls, report, repeat)
        lines.append(f"| {name} | {at_small:.3f} | {at_large:.3f} | {at_large / at_small:.2f} |")
    if not scan:
        return lines
    with whole_log_scan():
        before = timed(urls, REPORTS["adjustments"], 1)
    after = indexed["adjustments"][1]
    return lines + [
        "",
        "| adjustments, scan of every entry (before the index) | "
        f"{before[0]:.3f} | {before[1]:.3f} | {before[1] / before[0]:.2f} |",
        "",
        f"adjustments at {registries[1].actions:,} actions: the whole-log scan takes "
        f"{before[1] / after:.0f}x the indexed report",
    ]


def sizes_table(registries: Sequence[Registry], built: Sequence[float]) -> list[str]:
    return [
        "| registry actions | entries | Japan's entries | built in this run (s) |",
        "|---|---|---|---|",
        *(
            f"| {r.actions:,} | {r.entries:,} | {r.own_entries:,} | "
            f"{f'{seconds:.1f}' if seconds else f'no: cached (built in {r.build_seconds:.1f})'} |"
            for r, seconds in zip(registries, built, strict=True)
        ),
    ]


TITLE = "Reports"
DEFAULTS = {"small": "1000", "large": "100000", "own": "100", "repeat": "5"}
SMOKE = {"small": "60", "large": "90", "own": "5", "repeat": "1"}

# The analysis written with the 2026-12-07 measurement; each run adds its own table below it.
NOTES = """
Issue 15's target: a Party's adjustments, BTR summary and AEF JSON/xlsx in a registry of 100k
actions in ≤ 2 s, and ≤ 1.5× the same report at 1k actions when the Party's own activity is the
same size.

**How.** Every entry is indexed, in the transaction that records it, under each Party, account
and authorization it names (`ledger/registry/entry_tags.py`, table `entry_tag`, migration 0010;
`verify-db` compares the index with a replay). A report reads the reference entries (Parties,
registries, approaches, authorizations, entities, accounts) and the entries indexed under the
Party, its accounts or its authorizations, and replays only those, in `seq` order, with the
handlers that used to see every entry: the same figures, each naming its entries, `as_of` any
tree size (`tests/integration/reporting/test_index_equivalence.py` compares both paths on
random histories, both databases).

**Measure** (`python -m bench --only reports`, `bench/reports.py`; the issue's sizes, 1k and
100k registry actions, by default). Two registries with the same activity of Japan (the demo
scenario, then 100 first transfers from Thailand to Japan with their acquisitions and a use of
Japan's after every fifth: 122 entries name Japan, ~220 entries are read with its accounts) and
different amounts of other activity (Thailand moving one whole block between its own accounts,
one `itmo.transfer` per action, interleaved with Japan's). Fastest of 5 runs each, the two
registries interleaved.

**How the registries were built.** Through the service layer on SQLite: the demo, Japan's
transfers and uses and Thailand's first two moves through the use cases, every rule applied;
Thailand's further moves (the block going back and forth between the same two accounts) by
recording those two entries' payloads again with `record_entry`, the one append path (hash
chain, Merkle nodes, the projection and the entry index written as for any action), which skips
only the rule checks, already passed by the same move. Each registry is built once and kept in
the bench cache (`A6LEDGER_BENCH_CACHE`, default `~/.cache/a6ledger-bench`), keyed by the source
of the building code, `ledger/` and the migrations (`bench/cache.py`), so any change to them
builds it again; the table below says what this run built and how long it took.
PostgreSQL is measured on a copy of the same rows (every table by `COPY` in a service write
transaction, the triggers firing; kept as a template database). The reports themselves run
through the normal service path, in a read unit of work. The scan of every entry (the path
before the index) is timed on SQLite only, once per registry.

**Profile** (cProfile, Japan's AEF JSON at 5,000 actions; shares of the report's time, profiler
overhead included):

| where | share |
|---|---|
| index lookups (`tagged_seqs`, 2 queries) | 2 % |
| reading the entries by seq (`read_seqs`) | < 1 % |
| `Entry.from_canonical`: JSON parse and RFC 8785 re-encoding check of each entry read | 42 % |
| replaying them: report handlers, `apply_entry`, `codec.from_json` of records and blocks | 42 % |
| building and rendering the AEF tables | rest |

What is left is per entry the Party's reports read (~1.4 ms each, here ~250 entries), no longer
per entry in the log. The next step, if a Party's own activity grows large, is the per-entry
decoding: `from_canonical` re-encodes every body in pure Python to check its canonical form
(the same cost the issue names for `verify-db` and exports), and `apply_entry` decodes each
block twice.

**Smoke run:** `tests/bench/test_reports_smoke.py` runs the benchmark at 60 and 90 actions in
CI (it checks that it runs and prints its tables, not its timings).
"""


def section(bench: Bench) -> str:
    """The section of ``make bench`` (``bench.runner``): the registries from the bench cache
    (a smoke run builds them in its work directory), measured on each database."""
    if not bench.backends():
        return "Not run: no database."
    small, large, own, repeat = (int(bench.param(p)) for p in ("small", "large", "own", "repeat"))
    parts = []
    with tempfile.TemporaryDirectory(dir=bench.workdir) as directory:
        sources: list[tuple[Path, Registry]] = []
        built: list[float] = []
        for size in (small, large):
            if bench.smoke:
                path = Path(directory) / f"reports-{size}.db"
                registry = build(f"sqlite:///{path}", size, own)
                seconds = registry.build_seconds
            else:
                path, registry, seconds = cached(size, own)
            sources.append((path, registry))
            built.append(seconds)
        parts.append("\n".join(sizes_table([r for _, r in sources], built)))
        for backend in bench.backends():
            with ExitStack() as stack:
                registries = []
                started = time.perf_counter()
                for path, registry in sources:
                    if backend == "sqlite":
                        url = stack.enter_context(bench.database(backend))
                        shutil.copyfile(path, url.removeprefix("sqlite:///"))
                    elif bench.smoke:
                        url = stack.enter_context(bench.database(backend))
                        copy_to_postgresql(path, url)
                    else:
                        template = "a6bench_" + path.stem.replace("-", "_")
                        url, _ = stack.enter_context(postgresql_copy(bench, template, path))
                    registries.append(replace(registry, url=url))
                copied = time.perf_counter() - started
                lines = run(registries, repeat, scan=backend == "sqlite")
            parts.append(f"**{backend}** (copied in {copied:.1f} s):\n\n" + "\n".join(lines))
    return NOTES.strip() + "\n\n**This run:**\n\n" + "\n\n".join(parts)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=1_000, help="registry actions, small")
    parser.add_argument("--large", type=int, default=100_000, help="registry actions, large")
    parser.add_argument("--own", type=int, default=100, help="Japan's first transfers")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="a6bench-") as directory:
        registries = [
            build(f"sqlite:///{Path(directory) / f'reports-{n}.db'}", n, args.own)
            for n in (args.small, args.large)
        ]
        sizes = sizes_table(registries, [r.build_seconds for r in registries])
        for line in [*sizes, "", *run(registries, args.repeat)]:
            print(line)


if __name__ == "__main__":
    main()
