"""The public ledger: ``publish``, and ``verify --public`` (see docs/privacy.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from partnership_ledger.errors import InvalidArgument

from .context import CliState, pass_state
from .errors import CommandFailed
from .output import Output
from .progress import progress_bar
from .signing import read_key, signing_key_option


@click.command()
@click.option(
    "-o",
    "--output",
    "folder",
    required=True,
    metavar="DIR",
    type=click.Path(path_type=Path, file_okay=False),
    help="The folder to write the public ledger into (made if missing). Example: -o public",
)
@signing_key_option(
    "Sign the public ledger's checkpoint with this Ed25519 private key (PEM, from 'keygen'). Example: --key office.key"
)
@click.option(
    "--no-site",
    is_flag=True,
    help="Leave out the report site (events, checkpoint and figures only). Example: --no-site",
)
@pass_state
def publish(state: CliState, folder: Path, key_file: Path | None, no_site: bool) -> None:
    """Write the public ledger: what anyone may see and check, without the ledger file.

    Every event in its committed form (residents' ids and private comments are
    salted commitments: nothing private is in it), each with its hash-chain link;
    a checkpoint of the chain, signed with --key; figures.json, every figure the
    report shows (burden, voice, targets, evaluation means); the report site
    (site/); and manifest.json. Anyone can check the folder with 'verify --public'.

    \b
    Examples:
      partnership-ledger keygen -o office
      partnership-ledger publish -o public --key office.key
      partnership-ledger verify --public public --public-key office.pub
    """
    from partnership_ledger.privacy.public import publish as publish_ledger

    if folder.exists() and not folder.is_dir():
        raise InvalidArgument(f"{folder} is a file: publish writes a folder")
    key = read_key(key_file)
    with state.open_ledger(readonly=True) as ledger:
        manifest = publish_ledger(ledger, folder, key, site=not no_site)
    if key is None:
        state.note("the checkpoint is unsigned: sign it with --key so that readers can tell who published it")
    state.note(f"published {manifest['events']} events (root {manifest['root']}) to {folder}")


def verify_public_command(state: CliState, out: Output, folder: Path, public_key: Path | None) -> None:
    """``verify --public DIR``: check a published ledger; exit 1 on any difference."""
    from partnership_ledger.privacy.public import EVENTS_FILE, verify_public

    if not folder.is_dir():
        raise InvalidArgument(f"{folder} is not a folder: --public names a published ledger's folder")
    key = read_key(public_key, "public key")
    events = folder / EVENTS_FILE
    total = sum(1 for _ in events.open("rb")) if events.is_file() else 0
    with progress_bar("checking the published ledger", total, quiet=state.quiet) as advance:
        result = verify_public(folder, key, advance)
    if out.format == "json":
        out.json(result.to_dict())
    if not result.ok:
        payload: dict[str, Any] = {
            "kind": "tampering",
            "message": f"tampering found: {result.message}",
            "position": result.bad_position,
            "problem": result.problem,
        }
        raise CommandFailed(f"tampering found: {result.message}", payload=payload, as_json=state.json_errors)
    if out.format != "json":
        out.answer(f"ok: {result.message}")  # the answer, on stdout as verify's is
        if key is None:
            out.answer(
                "the checkpoint was checked against the key it carries; pass --public-key with the "
                "publisher's key to know who signed it"
            )


def register(cli: click.Group) -> None:
    cli.add_command(publish)
