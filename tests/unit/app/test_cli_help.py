"""Every command and every option of ``a6ledger`` has help text, and ``--version`` answers."""

from __future__ import annotations

import argparse

import pytest

from app import __version__
from app.cli import build_parser, main


def _walk(
    parser: argparse.ArgumentParser, path: str
) -> list[tuple[str, argparse.Action, argparse.ArgumentParser]]:
    found = []
    for action in parser._actions:
        found.append((path, action, parser))
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                found += _walk(child, f"{path} {name}")
    return found


def test_every_command_and_option_has_help() -> None:
    walked = _walk(build_parser(), "a6ledger")
    assert len({path for path, _, _ in walked}) > 15  # the tree was walked, not just the root
    missing = []
    for path, action, _ in walked:
        if isinstance(action, argparse._SubParsersAction):
            for choice in action._choices_actions:
                if not choice.help:
                    missing.append(f"{path} {choice.dest}")
        elif not action.help or action.help == argparse.SUPPRESS:
            missing.append(f"{path} {'/'.join(action.option_strings) or action.dest}")
    assert missing == []


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out.strip() == f"a6ledger {__version__}"
