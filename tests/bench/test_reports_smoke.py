"""A smoke run of the reports benchmark at tiny sizes: it still builds both registries, times
every report and prints its tables (the figures themselves are not checked: timings on a shared
machine are not a test)."""

from __future__ import annotations

import pytest

from bench import reports


def test_the_reports_benchmark_runs(capsys: pytest.CaptureFixture[str]) -> None:
    reports.main(["--small", "60", "--large", "90", "--own", "3", "--repeat", "1"])
    lines = capsys.readouterr().out.splitlines()
    sizes = [line.split(" | ") for line in lines[2:4]]
    assert [int(row[0].removeprefix("| ")) for row in sizes] == [60, 90]
    assert all(int(row[2]) > 3 for row in sizes)  # Japan's entries: the demo's and its own
    timed = {line.split(" | ")[0].removeprefix("| ") for line in lines}
    assert set(reports.REPORTS) <= timed
    assert "whole-log scan takes" in lines[-1]
