"""Commands that prove the history was not rewritten: verify, checkpoint, keygen."""

from __future__ import annotations

import os
from pathlib import Path

import click

from partnership_ledger import integrity
from partnership_ledger.errors import InvalidArgument

from .context import CliState, pass_state
from .errors import CommandFailed
from .output import Output, output_options, to_json
from .progress import progress_bar


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as e:
        raise InvalidArgument(f"cannot read the {what} {path}: {e.strerror}") from None


@click.command()
@click.option(
    "--checkpoint",
    "checkpoint_file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Also check that the ledger extends this earlier checkpoint (catches a truncated or "
    "replaced tail). Example: --checkpoint 2024-03.checkpoint.json",
)
@click.option(
    "--public-key",
    "public_key",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Check the checkpoint's signature with this trusted Ed25519 public key (PEM) rather than "
    "the key the checkpoint carries. Example: --public-key office.pub",
)
@output_options()
@pass_state
def verify(state: CliState, out: Output, checkpoint_file: Path | None, public_key: Path | None) -> None:
    """Walk the hash chain of every stored event; exit 1 at the first bad position.

    Each event is hashed with the hash of the one before it, in the same transaction
    that stored it. Any edit, deletion, insertion or reordering of stored rows breaks
    the chain; verify names the first bad position and what is wrong. With
    --checkpoint it also checks that the ledger still extends an earlier checkpoint.

    \b
    Examples:
      partnership-ledger verify
      partnership-ledger verify --checkpoint march.checkpoint.json --public-key office.pub
      partnership-ledger verify --json
    """
    if public_key is not None and checkpoint_file is None:
        raise click.UsageError("--public-key needs --checkpoint")
    with state.open_ledger() as ledger:
        if checkpoint_file is not None:
            cp = integrity.read_checkpoint(_read(checkpoint_file, "checkpoint"))
            key = _read(public_key, "public key") if public_key is not None else None
            result = integrity.verify_checkpoint(ledger.db, cp, key)
        else:
            with progress_bar("verifying the hash chain", ledger.event_count(), quiet=state.quiet) as advance:
                result = integrity.verify_chain(ledger.db, advance)
    if out.format == "json":
        out.json(result.to_dict())
    if not result.ok:
        # The result is the data (stdout); the refusal is an error like any other (stderr).
        raise CommandFailed(
            f"tampering found: {result.message}",
            payload={
                "kind": "tampering",
                "message": f"tampering found: {result.message}",
                "position": result.bad_position,
                "problem": result.problem,
            },
            as_json=state.json_errors,
        )
    if out.format != "json":
        if out.quiet:
            click.echo(f"{result.size} {result.root}")
        else:
            out.answer(f"ok: {result.message}")


@click.command()
@click.option(
    "-o",
    "--output",
    "output",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write the checkpoint to this file instead of stdout. Example: -o 2024-03.checkpoint.json",
)
@click.option(
    "--key",
    "key_file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Sign with this Ed25519 private key (PEM, from 'keygen'). Example: --key office.key",
)
@pass_state
def checkpoint(state: CliState, output: Path | None, key_file: Path | None) -> None:
    """Write the chain's size and root hash, signed, for later verification.

    Publish the checkpoint (for example beside the residents' report); anyone can
    later run 'verify --checkpoint' to prove the ledger still extends it. The chain
    is verified before a checkpoint is written.

    \b
    Examples:
      partnership-ledger keygen -o office
      partnership-ledger checkpoint --key office.key -o 2024-03.checkpoint.json
    """
    key = _read(key_file, "signing key") if key_file is not None else None
    with state.open_ledger() as ledger:
        cp = integrity.make_checkpoint(ledger.db, key)
    text = to_json(cp)
    if output is None:
        click.echo(text)
    else:
        try:
            output.write_text(text + "\n", encoding="utf-8")
        except OSError as e:
            raise InvalidArgument(f"cannot write {output}: {e.strerror}") from None
        state.note(f"checkpoint of {cp['size']} events (root {cp['root']}) written to {output}")


@click.command()
@click.option(
    "-o",
    "--output",
    "prefix",
    type=click.Path(path_type=Path, dir_okay=False),
    default=Path("partnership-ledger"),
    show_default=True,
    help="Write PREFIX.key (private, keep it secret) and PREFIX.pub (public, publish it). Example: -o office",
)
@pass_state
def keygen(state: CliState, prefix: Path) -> None:
    """Make an Ed25519 key pair for signing checkpoints.

    \b
    Examples:
      partnership-ledger keygen -o office
    """
    if prefix.name in ("", ".", ".."):
        raise click.BadParameter(f"{str(prefix)!r} names a folder, not the key files", param_hint="'-o' / '--output'")
    private, public = integrity.generate_keypair()
    key_path, pub_path = (
        prefix.with_name(prefix.name + ".key"),
        prefix.with_name(prefix.name + ".pub"),
    )
    for path in (key_path, pub_path):
        if path.exists():
            raise InvalidArgument(f"{path} already exists: choose another name with -o")
    try:
        fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(private)
        pub_path.write_bytes(public)
    except OSError as e:
        raise InvalidArgument(f"cannot write the key pair: {e.strerror}") from None
    state.note(f"private key: {key_path} (keep it secret)\npublic key:  {pub_path} (publish it)")


def register(cli: click.Group) -> None:
    for command in (verify, checkpoint, keygen):
        cli.add_command(command)
