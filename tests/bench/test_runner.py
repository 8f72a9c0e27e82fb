"""The benchmarks still run: every module at smoke sizes, on the database of this test run.

Timings are not checked (a loaded machine moves them); the document must have every module's
section with its figures."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

from bench import runner
from tests.databases import POSTGRES_ADMIN_URL


def test_every_module_runs_at_smoke_sizes_and_writes_its_section(
    backend: str, tmp_path: Path
) -> None:
    output = tmp_path / "benchmarks.md"
    # exports and reports have smoke tests of their own (tests/bench/test_exports.py,
    # test_reports_smoke.py); every module's interface is checked below.
    mine = ("log", "actions", "decisions", "writes")
    runner.main(
        [
            "--smoke",
            *(option for name in mine for option in ("--only", name)),
            "--databases",
            backend,
            "--postgresql",
            POSTGRES_ADMIN_URL,
            "--output",
            str(output),
        ]
    )
    document = output.read_text(encoding="utf-8")
    assert document.startswith("# Benchmarks")
    for name in mine:
        assert f"_Module `bench.{name}`" in document
    # The cost-per-action and HTTP tables have a row, with a ratio, for this run's database.
    assert re.search(rf"\| {backend} \| transfer \| .* \| \*\*\d+\.\d\d\*\* \|", document)
    decisions = document.split("## Issuance citing a Joint Committee decision", 1)[1]
    assert re.search(rf"\| {backend} \| .* ms .* \| \*\*\d+\.\d\d\*\* \| [\d,]+ /s \|", decisions)
    # HTTP writes: a row per client and number of server processes.
    for side in ("httpx, 1", "raw, 1", "raw, 2"):
        row = rf"\| {backend} \| {side} \| \d[\d,]* /s \|.*\| \*\*\d+\.\d\d\*\* \|"
        assert re.search(row, document), side


def test_every_module_has_the_runner_interface() -> None:
    for name in runner.MODULES:
        module = importlib.import_module(name)
        assert isinstance(module.TITLE, str)
        assert set(module.SMOKE) == set(module.DEFAULTS)
        assert callable(module.section)


def test_module_parameters_are_checked(tmp_path: Path) -> None:
    assert runner.parse_sets(["actions.history=10,20", "writes.clients=4"]) == {
        "actions": {"history": "10,20"},
        "writes": {"clients": "4"},
    }
    output = str(tmp_path / "x")
    with pytest.raises(SystemExit, match="module.param=value"):
        runner.main(["--only", "actions", "--set", "history=10", "--output", output])
    with pytest.raises(SystemExit, match="actions has no parameter nope"):
        runner.main(["--only", "actions", "--set", "actions.nope=1", "--output", output])


def test_percentiles_and_tables() -> None:
    assert runner.p99([float(i) for i in range(1, 101)]) == 99.0
    assert runner.p99([3.0]) == 3.0
    assert runner.table(("a", "b"), [(1, 2)]) == "| a | b |\n|---|---|\n| 1 | 2 |"
