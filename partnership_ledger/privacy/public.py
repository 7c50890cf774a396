"""The public ledger: ``publish`` writes it, ``verify --public`` checks it.

See docs/privacy.md.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import sqlite3
import tempfile
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
import orjson

from ..errors import IntegrityError, InvalidArgument
from .reveal import reveal_operation as reveal_operation  # where export found it before

if TYPE_CHECKING:
    from ..application import PartnershipLedger


# -- the public ledger ---------------------------------------------------------------------------

PUBLIC_FORMAT = "partnership-ledger public ledger v1"
EVENTS_FILE = "events.jsonl"
CHECKPOINT_FILE = "checkpoint.json"
FIGURES_FILE = "figures.json"
MANIFEST_FILE = "manifest.json"
SITE_DIR = "site"


def _state_text(state: bytes) -> dict[str, str]:
    try:
        return {"state": state.decode("utf-8")}
    except UnicodeDecodeError:
        return {"state_b64": base64.b64encode(state).decode("ascii")}


def _state_bytes(line: dict[str, Any]) -> bytes:
    state, b64 = line.get("state"), line.get("state_b64")
    if isinstance(state, str):
        return state.encode("utf-8", "surrogatepass")
    if isinstance(b64, str):
        return base64.b64decode(b64, validate=True)
    raise ValueError("no state")


def public_rows(ledger: PartnershipLedger, batch: int = 5000) -> Iterator[tuple[int, str, int, str, bytes]]:
    """Every stored event as (position, originator id hex, version, topic, public state): the
    stored state, or, for an encrypted ledger, the state decrypted (its private fields are
    commitments either way: no private value is in any event)."""
    cipher = getattr(ledger.mapper, "cipher", None)
    db, position = ledger.db, 0
    col, table = db.position_col, db.events_table
    while True:
        with db.transaction(commit=False) as c:
            c.execute(
                f"SELECT {col}, originator_id, originator_version, topic, state FROM {table} "
                f"WHERE {col} > ? ORDER BY {col} LIMIT ?",
                (position, batch),
            )
            rows = c.fetchall()
        for pos, oid, version, topic, state in rows:
            data = bytes(state)
            if cipher is not None:
                data = cipher.decrypt(data)
            oid_hex = oid.hex if isinstance(oid, uuid.UUID) else uuid.UUID(str(oid)).hex
            yield int(pos), oid_hex, int(version), str(topic), data
            position = int(pos)
        if len(rows) < batch:
            return


def figures(ledger: PartnershipLedger) -> dict[str, Any]:
    """Every figure the published report shows, by partnership: burden (delivered and
    pledged), voice, targets and evaluation means (the same queries the report makes)."""
    from ..journal import to_json_value

    out: dict[str, Any] = {}
    for p in ledger.partnerships():
        key = p["key"]
        out[key] = to_json_value(
            {
                "burden": ledger.burden_balance(key),
                "burden_pledged": ledger.burden_balance(key, basis="pledged"),
                "voice": ledger.voice(key),
                "targets": ledger.target_progress(key),
                "evaluations": ledger.evaluation_summary(key),
            }
        )
    return out


def _dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=1, sort_keys=True) + "\n"


def publish(
    ledger: PartnershipLedger,
    folder: Path,
    private_key_pem: bytes | None = None,
    *,
    site: bool = True,
    made_at: datetime | None = None,
) -> dict[str, Any]:
    """Write the public ledger into ``folder``; return its manifest.

    ``events.jsonl`` (every event in committed form, with its chain link), ``checkpoint.json``
    (the chain's size and root, signed with ``private_key_pem``), ``figures.json`` (every
    figure the report shows), ``site/`` (the report site) and ``manifest.json``. Anyone can
    check it with ``verify --public`` (:func:`verify_public`), without the ledger or its keys.
    """
    from ..integrity import GENESIS, chain_links
    from ..integrity import verify_chain as verify_ledger_chain
    from ..integrity.checkpoint import checkpoint_of, load_signing_key

    checked = verify_ledger_chain(ledger.db)
    if not checked.ok:
        raise IntegrityError(f"refusing to publish a broken chain: {checked.message}")
    key = load_signing_key(private_key_pem) if private_key_pem is not None else None
    folder.mkdir(parents=True, exist_ok=True)
    made = (made_at or datetime.now(UTC)).replace(microsecond=0)
    encrypted = getattr(ledger.mapper, "cipher", None) is not None
    size, prev_position, prev_hash = 0, 0, GENESIS
    tmp = folder / (EVENTS_FILE + ".tmp")
    with open(tmp, "w", encoding="utf-8", newline="\n") as f:
        chunk: list[tuple[int, str, int, str, bytes]] = []

        def flush() -> None:
            nonlocal prev_position, prev_hash, size
            links = chain_links(prev_position, prev_hash, chunk)
            lines = []
            for (position, oid, version, topic, state), (_, prev, h) in zip(chunk, links, strict=True):
                record = {
                    "position": position,
                    "prev_position": prev,
                    "originator_id": oid,
                    "originator_version": version,
                    "topic": topic,
                    **_state_text(state),
                    "hash": h.hex(),
                }
                lines.append(json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n")
            f.writelines(lines)
            if links:
                prev_position, prev_hash = links[-1][0], links[-1][2]
            size += len(chunk)
            chunk.clear()

        for row in public_rows(ledger):
            chunk.append(row)
            if len(chunk) >= 5000:
                flush()
        flush()
    os.replace(tmp, folder / EVENTS_FILE)
    root = prev_hash.hex()
    if not encrypted and (size != checked.size or root != checked.root):  # pragma: no cover - same rows
        raise IntegrityError("the published chain differs from the ledger's: the ledger changed while publishing")
    checkpoint = checkpoint_of(size, prev_position, root, key)
    (folder / CHECKPOINT_FILE).write_text(json.dumps(checkpoint, indent=2) + "\n", encoding="utf-8")
    (folder / FIGURES_FILE).write_text(_dump(figures(ledger)), encoding="utf-8")
    if site:
        from ..reports import write_site

        write_site(ledger, folder / SITE_DIR, made_at=made)
    from .registry import PRIVATE_FIELDS

    manifest = {
        "format": PUBLIC_FORMAT,
        "made_at": made.isoformat(timespec="seconds"),
        "events": size,
        "root": root,
        # The ledger's own chain (an unencrypted ledger: earlier checkpoints of the ledger
        # apply), or one made over the decrypted events (an encrypted ledger's chain hashes
        # ciphertext, which is not published).
        "chain": "ledger" if not encrypted else "public",
        "private_fields": [f"{p.op}.{p.field}: {p.description}" for p in PRIVATE_FIELDS],
        "files": {
            "events": EVENTS_FILE,
            "checkpoint": CHECKPOINT_FILE,
            "figures": FIGURES_FILE,
            "site": SITE_DIR if site else None,
        },
        "verify_command": "partnership-ledger verify --public DIR --public-key KEY.pub",
    }
    (folder / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return manifest


@attrs.frozen
class PublicVerifyResult:
    ok: bool
    size: int
    root: str
    message: str
    problem: str | None = None  # changed, inserted, missing, out_of_order, truncated, checkpoint, figure
    bad_position: int | None = None
    figure: str | None = None
    last_position: int = 0

    def to_dict(self) -> dict[str, Any]:
        """The shape of ``verify --json`` (docs/schemas/verify.json)."""
        return {
            "ok": self.ok,
            "size": self.size,
            "root": self.root or "0" * 64,
            "last_position": self.last_position,
            "bad_position": self.bad_position,
            "problem": self.problem,
            "message": self.message,
            "read_models": None,
            "public": {"figure": self.figure},
        }


def _first_difference(a: Any, b: Any, path: str = "") -> str | None:
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b), key=str):
            if k not in a or k not in b:
                return f"{path}/{k}"
            found = _first_difference(a[k], b[k], f"{path}/{k}")
            if found is not None:
                return found
        return None
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return f"{path} (length {len(a)} published, {len(b)} recomputed)"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            found = _first_difference(x, y, f"{path}/{i}")
            if found is not None:
                return found
        return None
    return None if a == b and type(a) is type(b) else path


def _read_json(path: Path, what: str) -> Any:
    try:
        return json.loads(path.read_bytes())
    except OSError as e:
        raise InvalidArgument(f"cannot read the {what} {path}: {e.strerror}") from None
    except (ValueError, UnicodeDecodeError):
        raise InvalidArgument(f"the {what} {path} is not JSON") from None


_KIND_OF_CLASS: dict[str, str] = {}


def _kind_of_topic(topic: str) -> str | None:
    if not _KIND_OF_CLASS:
        from ..domain import AGGREGATE_CLASSES

        _KIND_OF_CLASS.update({cls.__name__: kind for kind, cls in AGGREGATE_CLASSES.items()})
    return _KIND_OF_CLASS.get(topic.rpartition(":")[2].partition(".")[0])


def verify_public(
    folder: Path, public_key_pem: bytes | None = None, progress: Callable[[int], None] | None = None
) -> PublicVerifyResult:
    """Check a published ledger with nothing but the folder (and a trusted public key).

    The chain is recomputed from the published events (an edit, deletion, insertion or
    reordering breaks it) and must end at the checkpoint's root (whose signature is checked);
    then the events are loaded into a new ledger of their own, which recomputes every figure,
    and ``figures.json`` must hold exactly those."""
    from ..integrity import GENESIS, read_checkpoint
    from ..integrity.checkpoint import check_signature

    events = folder / EVENTS_FILE
    if not events.is_file():
        raise InvalidArgument(f"{folder} is not a published ledger: it has no {EVENTS_FILE}")
    try:
        cp = read_checkpoint((folder / CHECKPOINT_FILE).read_bytes())
    except OSError as e:
        raise InvalidArgument(f"cannot read the checkpoint {folder / CHECKPOINT_FILE}: {e.strerror}") from None
    try:
        check_signature(cp, public_key_pem)
    except IntegrityError as e:
        return PublicVerifyResult(False, 0, "", str(e), "checkpoint")
    published_figures = _read_json(folder / FIGURES_FILE, "figures file")
    manifest = _read_json(folder / MANIFEST_FILE, "manifest") if (folder / MANIFEST_FILE).is_file() else {}
    work = Path(tempfile.mkdtemp(prefix="partnership-ledger-public-", dir=_scratch_dir(events)))
    try:
        result = _verify_into(events, cp, published_figures, work / "public.sqlite", progress, GENESIS)
        if result.ok and (folder / SITE_DIR).is_dir():
            from .public_site import verify_site

            return verify_site(folder / SITE_DIR, work, manifest, result)
        return result
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _scratch_dir(events: Path) -> str | None:
    """Where to make the ledger of the published events: a tmpfs (``/dev/shm``) when it has
    room for about three times the events file (the events, their chain and read models),
    the system's temporary folder otherwise. Set ``TMPDIR`` to choose."""
    shm = Path("/dev/shm")
    if os.environ.get("TMPDIR") or not shm.is_dir() or not os.access(shm, os.W_OK):
        return None
    try:
        return str(shm) if shutil.disk_usage(shm).free > 3 * events.stat().st_size + (64 << 20) else None
    except OSError:
        return None


def _verify_into(
    events: Path,
    cp: dict[str, Any],
    published_figures: Any,
    db_path: Path,
    progress: Callable[[int], None] | None,
    genesis: bytes,
) -> PublicVerifyResult:
    from ..application import PartnershipLedger
    from ..integrity import chain_links
    from ..storage.cipher import ENV_CIPHER_KEY

    saved = os.environ.pop(ENV_CIPHER_KEY, None)  # the public events are not encrypted
    try:
        PartnershipLedger.open(db_path).close()  # the tables of an empty ledger
        con = sqlite3.connect(db_path, isolation_level=None)
        size, last, prev = 0, 0, genesis

        def fail(position: int | None, problem: str, message: str) -> PublicVerifyResult:
            return PublicVerifyResult(False, size, prev.hex(), message, problem, position, last_position=last)

        try:
            con.execute("PRAGMA synchronous=OFF")  # a scratch copy: nothing to keep if it fails
            con.execute("BEGIN")
            batch: list[tuple[int, str, int, str, bytes]] = []
            published: list[tuple[Any, Any]] = []  # each event's published (prev_position, hash)
            file_last = 0

            def settle() -> PublicVerifyResult | None:
                """Hash the pending events after the last verified one, compare with their
                published links, and store them with their index rows."""
                nonlocal size, last, prev
                computed = chain_links(last, prev, batch)
                links: list[tuple[int, int, bytes]] = []
                keys: list[tuple[str, str, str]] = []
                ops: list[tuple[str, int]] = []
                for (position, oid, version, topic, state), (pub_prev, pub_hash), link in zip(
                    batch, published, computed, strict=True
                ):
                    if pub_prev != last:
                        return fail(
                            position,
                            "missing",
                            f"the published event at position {position} does not follow the event before "
                            "it: an event was deleted or inserted",
                        )
                    if pub_hash != link[2].hex():
                        return fail(position, "changed", f"the published event at position {position} was changed")
                    links.append(link)
                    size, last, prev = size + 1, position, link[2]
                    if version == 1:
                        kind = _kind_of_topic(topic)
                        key = _json_field(state, "key")
                        if kind is not None and isinstance(key, str):
                            keys.append((key, kind, oid))
                    op_id = _op_id(state)
                    if op_id is not None:
                        ops.append((op_id, position))
                _insert(con, batch, links, keys, ops)
                if progress is not None and batch:
                    progress(len(batch))
                batch.clear()
                published.clear()
                return None

            with open(events, "rb") as f:
                for number, raw in enumerate(f, 1):
                    try:
                        line = orjson.loads(raw)  # (a kept C parser: 1.43M lines a run)
                        position, oid = int(line["position"]), str(line["originator_id"])
                        version, topic, state = int(line["originator_version"]), str(line["topic"]), _state_bytes(line)
                    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
                        return fail(None, "changed", f"line {number} of {EVENTS_FILE} is not a published event")
                    if position <= file_last:
                        return fail(
                            position,
                            "out_of_order",
                            f"the event at line {number} (position {position}) comes after position {file_last}: "
                            "events were reordered or inserted",
                        )
                    file_last = position
                    batch.append((position, oid, version, topic, state))
                    published.append((line.get("prev_position"), line.get("hash")))
                    if len(batch) >= 5000:
                        failed = settle()
                        if failed is not None:
                            return failed
            failed = settle()
            if failed is not None:
                return failed
            if size != cp["size"] or prev.hex() != cp["root"] or (cp.get("position") and cp["position"] != last):
                problem = "truncated" if size < cp["size"] else "changed"
                return fail(
                    None,
                    problem,
                    f"the published events ({size}, root {prev.hex()}) are not the ones the checkpoint "
                    f"signs ({cp['size']}, root {cp['root']}): events were added, removed or changed",
                )
            con.execute("COMMIT")
        finally:
            con.close()
        with _opened_to_rebuild(db_path) as public:
            try:
                # A rebuild, not the catch-up of opening: the read models are made in big
                # batches with their indexes made once at the end (several times quicker for
                # a large ledger; see docs/performance.md, "Publish and verify --public").
                public.rebuild()
            except Exception as e:
                return fail(None, "changed", f"the published events cannot be read: {type(e).__name__}: {e}")
            recomputed = figures(public)
        where = _first_difference(published_figures, recomputed)
        if where is not None:
            return PublicVerifyResult(
                False,
                size,
                prev.hex(),
                f"the published figure {FIGURES_FILE}:{where} is not what the published events give",
                "figure",
                figure=where,
                last_position=last,
            )
        return PublicVerifyResult(
            True,
            size,
            prev.hex(),
            f"the {size} published events are intact and end at the checkpoint's root {prev.hex()}; "
            f"every figure in {FIGURES_FILE} is what they give",
            last_position=last,
        )
    finally:
        if saved is not None:
            os.environ[ENV_CIPHER_KEY] = saved


def _opened_to_rebuild(db_path: Path) -> PartnershipLedger:
    """The scratch ledger of the published events, opened without catching its read models
    up (``PARTNERSHIP_LEDGER_READ_MODELS=follow`` while it opens), to rebuild them."""
    from ..application import ENV_READ_MODELS, PartnershipLedger

    saved = os.environ.get(ENV_READ_MODELS)
    os.environ[ENV_READ_MODELS] = "follow"
    try:
        return PartnershipLedger.open(db_path)
    finally:
        if saved is None:
            del os.environ[ENV_READ_MODELS]
        else:
            os.environ[ENV_READ_MODELS] = saved


def _insert(
    con: sqlite3.Connection,
    batch: list[tuple[int, str, int, str, bytes]],
    links: list[Any],
    keys: list[tuple[str, str, str]],
    ops: list[tuple[str, int]],
) -> None:
    """One stretch of published events, their links and index rows (an operation's first
    event names it: later ones of the same operation are ignored)."""
    con.executemany(
        "INSERT INTO stored_events (rowid, originator_id, originator_version, topic, state) VALUES (?,?,?,?,?)",
        batch,
    )
    con.executemany("INSERT INTO ledger_chain VALUES (?,?,?)", links)
    con.executemany("INSERT OR IGNORE INTO ledger_keys VALUES (?,?,?)", keys)
    con.executemany("INSERT OR IGNORE INTO ledger_ops VALUES (?,?)", ops)


def _json_field(state: bytes, name: str) -> Any:
    try:
        return json.loads(state).get(name)
    except (ValueError, AttributeError, UnicodeDecodeError):
        return None


def _op_id(state: bytes) -> str | None:
    i = state.find(b'"op_id":"')
    if i < 0:
        return None
    j = state.find(b'"', i + 9)
    return state[i + 9 : j].decode("utf-8", "replace") if j > 0 else None
