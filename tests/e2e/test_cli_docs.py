"""The CLI documents itself: help text everywhere, and docs/cli.md generated from it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import click
import partnership_ledger_cli
import pytest
from click.shell_completion import ShellComplete
from partnership_ledger_cli.docs import render_cli_docs
from partnership_ledger_cli.main import COMMAND_MODULES, PROG_NAME, cli

from partnership_ledger.demo import build_demo

CLI_MD = Path(__file__).resolve().parents[2] / "docs" / "cli.md"
PACKAGE = Path(partnership_ledger_cli.__file__).parent


def all_commands() -> Iterator[tuple[str, click.Command]]:
    def walk(command: click.Command, path: str) -> Iterator[tuple[str, click.Command]]:
        yield path, command
        if isinstance(command, click.Group):
            ctx = click.Context(command)
            for name in command.list_commands(ctx):
                sub = command.get_command(ctx, name)
                assert sub is not None, name
                yield from walk(sub, f"{path} {name}")

    return walk(cli, PROG_NAME)


def test_docs_cli_md_is_current() -> None:
    assert CLI_MD.read_text(encoding="utf-8") == render_cli_docs(), (
        "docs/cli.md is out of date: run 'python -m partnership_ledger_cli.docs > docs/cli.md'"
    )


def test_docs_cover_every_command() -> None:
    text = render_cli_docs()
    for path, _ in all_commands():
        assert f"`{path}`" in text


def test_every_command_has_help_with_an_example() -> None:
    missing = []
    for path, command in all_commands():
        text = command.help or ""
        if not text.strip() or "Example" not in text or f"{PROG_NAME} " not in text:
            missing.append(path)
    assert not missing, f"commands without help text and an example: {missing}"


def test_every_option_has_help_with_an_example() -> None:
    missing = []
    for path, command in all_commands():
        for param in command.params:
            if not isinstance(param, click.Option) or param.name in ("help", "version"):
                continue
            if not (param.help or "").strip() or "Example" not in (param.help or ""):
                missing.append(f"{path} {param.opts[0]}")
    assert not missing, f"options without help text and an example: {missing}"


def test_every_argument_is_explained_in_its_command_help() -> None:
    missing = []
    for path, command in all_commands():
        ctx = click.Context(command, info_name=path)
        for param in command.params:
            if isinstance(param, click.Argument):
                name = param.make_metavar(ctx).rstrip(".").strip("[]").rstrip(".")
                if name.lower() not in (command.help or "").lower():
                    missing.append(f"{path} {name}")
    assert not missing, f"arguments the help text does not mention: {missing}"


def test_every_command_module_is_registered() -> None:
    modules = sorted(p.stem for p in PACKAGE.glob("*_cmds.py"))
    assert sorted(COMMAND_MODULES) == modules
    for name in COMMAND_MODULES:
        registered = [
            c
            for c in cli.all_commands().values()
            if c.callback is not None and getattr(c.callback, "__module__", "") == f"partnership_ledger_cli.{name}"
        ]
        assert registered, f"{name} registers no command"


def test_help_lists_commands_in_registration_order() -> None:
    names = cli.list_commands(click.Context(cli))
    assert names[:4] == ["init", "import", "export", "record"]
    assert set(names) == set(cli.all_commands())


def completions(args: list[str], incomplete: str) -> list[str]:
    complete = ShellComplete(cli, {}, PROG_NAME, "_PARTNERSHIP_LEDGER_COMPLETE")
    return [item.value for item in complete.get_completions(args, incomplete)]


def test_shell_completion_of_commands_and_keys(tmp_path: Path) -> None:
    db = str(build_demo(tmp_path / "demo"))
    assert "history" in completions([], "hi")
    assert completions(["--db", db, "show"], "puppet-t") == ["puppet-tour"]
    parties = completions(["--db", db, "history", "--party"], "pref-")
    assert parties == ["pref-fukushima", "pref-kanagawa"]
    assert completions(["--db", str(tmp_path / "missing.sqlite"), "show"], "p") == []
    assert not (tmp_path / "missing.sqlite").exists()


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_the_documented_completion_scripts_exist(shell: str) -> None:
    assert f"_PARTNERSHIP_LEDGER_COMPLETE={shell}_source partnership-ledger" in render_cli_docs()
