"""Progress bars for long work (import, rebuild, verify, export), on a terminal only.

A bar goes to stderr, so it never mixes with a command's data on stdout, and only when
stderr is a terminal and ``-q`` is not given: piped or redirected runs print no bar. Use it
like this::

    with progress_bar("rebuilding read models", total, quiet=state.quiet) as advance:
        ledger.rebuild(advance)

``advance(n)`` moves the bar on by ``n`` units; without a bar it does nothing. Print
nothing while the bar is shown: report once the block has ended.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

Advance = Callable[[int], None]


def stderr_is_terminal() -> bool:
    isatty = getattr(sys.stderr, "isatty", None)
    return bool(isatty and isatty())


def _nothing(_: int) -> None:
    pass


@contextmanager
def progress_bar(label: str, total: int | None, *, quiet: bool) -> Iterator[Advance]:
    """A transient rich bar on stderr while the block runs; ``total=None`` for a running count."""
    if quiet or not stderr_is_terminal():
        yield _nothing
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    # The decision to draw was made above (stderr is a terminal); rich keeps NO_COLOR.
    console = Console(file=sys.stderr, force_terminal=True)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    # Not redirecting stdout: a command's data must reach stdout as it is, never the terminal's stderr.
    with Progress(*columns, console=console, transient=True, redirect_stdout=False, redirect_stderr=False) as bar:
        task = bar.add_task(label, total=total)
        yield lambda n: bar.advance(task, n)
