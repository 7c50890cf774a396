"""Commands that prove the history was not rewritten: verify, checkpoint, keygen."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from partnership_ledger import integrity
from partnership_ledger.errors import InvalidArgument
from partnership_ledger.projections.verification import ReadModelCheck, check_read_models

from .context import CliState, pass_state
from .errors import CommandFailed
from .output import Output, output_options, to_json, write_output
from .progress import progress_bar
from .signing import public_key_option, read_file, read_key, signing_key_option


class _ChainOnly:
    """Enough of a ledger for ``verify --chain-only``: its tables, read as they are."""

    def __init__(self, db: Any) -> None:
        self.db = db

    def event_count(self) -> int:
        return integrity.chain_head(self.db)[0]


@contextmanager
def _open_for_verify(state: CliState, chain_only: bool) -> Iterator[Any]:
    """The ledger to verify; for ``--chain-only`` on an encrypted SQLite ledger without its key,
    its tables as stored: the chain hashes the ciphertext, so it needs no key (docs/privacy.md)."""
    from partnership_ledger.errors import StorageError
    from partnership_ledger.storage.cipher import check_cipher, cipher_key

    if chain_only and cipher_key() is None and "://" not in state.db and Path(state.db).is_file():
        try:
            check_cipher(state.db, None)
        except StorageError:
            from partnership_ledger.storage.sqlite import file_db

            with file_db(state.db) as db:
                yield _ChainOnly(db)
            return
    with state.open_ledger(readonly=True) as ledger:
        yield ledger


@click.command()
@click.option(
    "--checkpoint",
    "checkpoint_file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Also check that the ledger extends this earlier checkpoint (catches a truncated or "
    "replaced tail, and an edit with every later link recomputed). Example: --checkpoint 2024-03.checkpoint.json",
)
@public_key_option(
    "Check the checkpoint's signature with this trusted Ed25519 public key (PEM) rather than "
    "the key the checkpoint carries: only then does the checkpoint prove who made it. Example: --public-key office.pub"
)
@click.option(
    "--chain-only",
    is_flag=True,
    help="Walk the hash chain only; skip recomputing the read models and indexes from the events. "
    "Example: verify --chain-only",
)
@click.option(
    "--public",
    "public_folder",
    metavar="DIR",
    type=click.Path(path_type=Path, file_okay=False),
    help="Check a published ledger (a folder from 'publish') instead: its chain against its signed "
    "checkpoint, and every figure it shows recomputed from its events; needs neither the ledger nor "
    "its keys. Example: verify --public public --public-key office.pub",
)
@output_options()
@pass_state
def verify(
    state: CliState,
    out: Output,
    checkpoint_file: Path | None,
    public_key: Path | None,
    chain_only: bool,
    public_folder: Path | None = None,
) -> None:
    """Check that everything the ledger shows comes from its chained events; exit 1 if not.

    First the hash chain: each stored event is hashed with the hash of the one
    before it, in the same transaction that stored it, so an edit, an insertion,
    a reordering or a deletion inside the chain is found, and verify names the
    first bad position. Rows that are not chained events (at positions the chain
    does not cover, or of another storage type) are tampering too.

    Then, unless --chain-only, every read model and index (history, burden
    facts, submissions, the operation and key indexes, the tracking row) is
    recomputed from the events and compared with what is stored; the first
    difference is named (table, key, field, stored and recomputed values).

    What the chain alone does not prove: that its tail is the one recorded.
    Someone who can write the file can delete the last events, or edit one and
    recompute every later link. Only --checkpoint (an earlier checkpoint kept
    elsewhere) catches that, and only a signed checkpoint checked with
    --public-key proves who made it: an unsigned one proves nothing against
    someone who can also write the checkpoint file.

    \b
    Examples:
      partnership-ledger verify
      partnership-ledger verify --chain-only
      partnership-ledger verify --checkpoint march.checkpoint.json --public-key office.pub
      partnership-ledger verify --json
      partnership-ledger verify --public public --public-key office.pub
    """
    if public_folder is not None:
        if checkpoint_file is not None or chain_only:
            raise click.UsageError("--public checks a published folder: it takes no --checkpoint or --chain-only")
        from .privacy_cmds import verify_public_command

        verify_public_command(state, out, public_folder, public_key)
        return
    if public_key is not None and checkpoint_file is None:
        raise click.UsageError("--public-key needs --checkpoint (or --public)")
    trust: dict[str, Any] | None = None
    read_models: ReadModelCheck | None = None
    with _open_for_verify(state, chain_only) as ledger:
        if checkpoint_file is not None:
            cp = integrity.read_checkpoint(read_file(checkpoint_file, "checkpoint"))
            key = read_key(public_key, "public key")
            trust = integrity.checkpoint_trust(cp, key)
            result = integrity.verify_checkpoint(ledger.db, cp, key)
        else:
            with progress_bar("verifying the hash chain", ledger.event_count(), quiet=state.quiet) as advance:
                result = integrity.verify_chain(ledger.db, advance)
        if result.ok and not chain_only:
            with progress_bar("checking the read models", ledger.event_count(), quiet=state.quiet) as advance:
                read_models = check_read_models(ledger, progress=advance)
    if out.format == "json":
        data = result.to_dict()
        data["read_models"] = read_models.to_dict() if read_models is not None else None
        if trust is not None:
            data["checkpoint"] = trust
        if read_models is not None and not read_models.ok:
            data["ok"], data["problem"] = False, "read_model"
        out.json(data)
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
    if read_models is not None and not read_models.ok:
        message = (
            f"tampering found: the chain is intact but a read model differs from the events: {read_models.message}"
        )
        raise CommandFailed(
            message,
            payload={
                "kind": "tampering",
                "message": message,
                "position": None,
                "problem": "read_model",
                "difference": read_models.difference.to_dict() if read_models.difference else None,
            },
            as_json=state.json_errors,
        )
    if out.format != "json":
        if out.quiet:
            click.echo(f"{result.size} {result.root}")
        else:
            # The answer (stdout, as data is).
            out.answer(f"ok: {result.message}")
            if read_models is not None:
                out.answer(f"ok: {read_models.message}")
            else:
                out.answer("the read models and indexes were not checked (--chain-only)")
            if trust is not None:
                out.answer(trust["message"])


@click.command()
@click.option(
    "-o",
    "--output",
    "output",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write the checkpoint to this file instead of stdout. Example: -o 2024-03.checkpoint.json",
)
@signing_key_option("Sign with this Ed25519 private key (PEM, from 'keygen'). Example: --key office.key")
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
    key = read_key(key_file)
    with state.open_ledger() as ledger:
        cp = integrity.make_checkpoint(ledger.db, key)
    text = to_json(cp)
    if output is None:
        click.echo(text)
    else:
        write_output(output, [text + "\n"])
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
    made: list[Path] = []
    try:
        for path, data, mode in ((key_path, private, 0o600), (pub_path, public, 0o644)):
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
            made.append(path)
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
    except OSError as e:
        # No empty or half-written key left behind: a retry must work.
        for path in made:
            path.unlink(missing_ok=True)
        raise InvalidArgument(f"cannot write the key pair: {e.strerror}") from None
    state.note(f"private key: {key_path} (keep it secret)\npublic key:  {pub_path} (publish it)")


def register(cli: click.Group) -> None:
    for command in (verify, checkpoint, keygen):
        cli.add_command(command)
