"""One version number: pyproject.toml's, read at run time wherever the version is shown."""

from __future__ import annotations

import json
import tomllib
from importlib.metadata import version
from pathlib import Path

import pytest

import app
from app.cli import OPENAPI_PATH, main

PYPROJECT = Path(__file__).resolve().parents[3] / "pyproject.toml"


def pyproject_version() -> str:
    with PYPROJECT.open("rb") as file:
        project = tomllib.load(file)["project"]
    assert isinstance(project["version"], str)
    return project["version"]


def test_installed_metadata_is_pyprojects_version() -> None:
    # A mismatch means the installed package is stale: `make install` reinstalls it.
    assert version("a6ledger") == pyproject_version()
    assert app.__version__ == pyproject_version()


def test_openapi_info_carries_the_version() -> None:
    # tests/api/test_openapi.py checks that the committed document is what the app serves.
    document = json.loads(OPENAPI_PATH.read_text(encoding="utf-8"))
    assert document["info"]["version"] == pyproject_version()


def test_cli_prints_the_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out == f"a6ledger {pyproject_version()}\n"
