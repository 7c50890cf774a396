"""What every command shares: the global options and how to open the ledger they name."""

from __future__ import annotations

import attrs
import click

from partnership_ledger import PartnershipLedger


@attrs.define
class CliState:
    """The global options (``--db``, ``-q``, ``-v``), set by the top-level group.

    Commands receive it with ``@pass_state``. ``json_errors`` is set by ``--json`` so that
    an error is printed as JSON too.
    """

    db: str
    quiet: bool = False
    verbose: bool = False
    json_errors: bool = False

    def open_ledger(self, *, create: bool = False) -> PartnershipLedger:
        """Open the ledger named by ``--db``; without ``create`` a missing one is an error.

        Use it as a context manager: ``with state.open_ledger() as ledger: ...``.
        """
        return PartnershipLedger.open(self.db, create=create)

    def note(self, text: str) -> None:
        """A remark for people (stderr), not part of the command's output; silenced by -q."""
        if not self.quiet:
            click.echo(text, err=True)

    def detail(self, text: str) -> None:
        """Extra detail shown only with -v (stderr)."""
        if self.verbose:
            click.echo(text, err=True)


pass_state = click.make_pass_decorator(CliState)
