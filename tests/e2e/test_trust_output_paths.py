"""``-o PATH`` writes what a user means, wherever PATH leads (issue 14): a regular file is
replaced whole; a new path is created; a FIFO, a device or a symlink's target is written
through, never replaced; a write that fails (a full device, a read-only folder) exits 1 with
one sentence and leaves no empty or partial file behind."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from cli_invoke import invoke

from partnership_ledger.application import PartnershipLedger

JOURNAL = [{"op": "register_party", "key": "p", "name": "P", "sector": "npo"}]


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "ledger.sqlite"
    with PartnershipLedger.open(path) as ledger:
        ledger.import_journal(json.dumps(JOURNAL))
    return path


def run(db: Path, *args: str) -> tuple[int, str, str]:
    result = invoke(["-q", *args], db=db)
    return result.exit_code, result.stdout, result.stderr


def exported(path: Path) -> list[dict[str, object]]:
    ops = json.loads(path.read_text(encoding="utf-8"))
    return [{k: v for k, v in op.items() if k != "id"} for op in ops]


def test_a_new_path_is_created(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "new.json"
    assert run(db, "export", "-o", str(out))[0] == 0
    assert exported(out) == JOURNAL
    assert stat.S_IMODE(out.stat().st_mode) == 0o666 & ~_umask()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_a_regular_file_is_replaced_whole_and_keeps_its_permissions(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "old.json"
    out.write_text("x" * 100_000)
    out.chmod(0o640)
    assert run(db, "export", "-o", str(out))[0] == 0
    assert exported(out) == JOURNAL
    assert stat.S_IMODE(out.stat().st_mode) == 0o640
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_a_symlink_is_written_through(db: Path, tmp_path: Path) -> None:
    target = tmp_path / "real.json"
    target.write_text("old")
    link = tmp_path / "link.json"
    link.symlink_to(target)
    assert run(db, "export", "-o", str(link))[0] == 0
    assert link.is_symlink()
    assert exported(target) == JOURNAL
    # A dangling link: its target is created.
    gone = tmp_path / "gone.json"
    dangling = tmp_path / "dangling.json"
    dangling.symlink_to(gone)
    assert run(db, "export", "-o", str(dangling))[0] == 0
    assert dangling.is_symlink()
    assert exported(gone) == JOURNAL


def test_a_fifo_is_written_through_to_its_reader(db: Path, tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []

    def read() -> None:
        with open(fifo, "rb") as f:
            got.append(f.read())

    reader = threading.Thread(target=read)
    reader.start()
    code, _, err = run(db, "export", "-o", str(fifo))
    reader.join(timeout=30)
    assert code == 0, err
    assert stat.S_ISFIFO(fifo.lstat().st_mode), "the named pipe must stay a named pipe"
    ops = json.loads(got[0])
    assert [{k: v for k, v in op.items() if k != "id"} for op in ops] == JOURNAL


def test_dev_null_stays_a_device(db: Path) -> None:
    assert run(db, "export", "-o", os.devnull)[0] == 0
    assert stat.S_ISCHR(os.stat(os.devnull).st_mode)
    assert run(db, "checkpoint", "-o", os.devnull)[0] == 0
    assert stat.S_ISCHR(os.stat(os.devnull).st_mode)


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full on this system")
@pytest.mark.parametrize("command", [("export",), ("checkpoint",), ("report", "x", "--format", "md")])
def test_a_full_device_is_one_sentence_and_exit_1(db: Path, command: tuple[str, ...]) -> None:
    code, _, err = run(db, *command, "-o", "/dev/full")
    if command[0] == "report":  # no partnership x: refused before writing
        assert code == 1
        return
    assert code == 1
    assert err.startswith("error: cannot write /dev/full: no space left on device")
    assert len(err.strip().splitlines()) == 1
    assert stat.S_ISCHR(os.stat("/dev/full").st_mode)


@contextmanager
def small_tmpfs(tmp_path: Path, size: str = "64k") -> Iterator[Path]:
    folder = tmp_path / "small"
    folder.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    if subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)], check=False).returncode:
        pytest.skip("cannot mount a tmpfs here")
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=False)


def test_a_full_disk_leaves_no_partial_file(db: Path, tmp_path: Path) -> None:
    with small_tmpfs(tmp_path) as folder:
        (folder / "filler").write_bytes(b"\0" * (60 * 1024))  # what is left is less than the journal
        big = tmp_path / "big.sqlite"
        with PartnershipLedger.open(big) as ledger:
            ledger.import_journal(
                json.dumps(
                    [{"op": "register_party", "key": f"p{i}", "name": "N" * 200, "sector": "npo"} for i in range(200)]
                )
            )
        code, _, err = run(big, "export", "-o", str(folder / "out.json"))
        assert code == 1
        assert "no space left on device" in err
        assert sorted(p.name for p in folder.iterdir()) == ["filler"]
        # keygen and checkpoint leave nothing behind either, so a retry works.
        (folder / "filler").write_bytes(b"\0" * (64 * 1024 - 100))
        code, _, err = run(db, "keygen", "-o", str(folder / "office"))
        assert code == 1
        assert sorted(p.name for p in folder.iterdir()) == ["filler"]
        code, _, err = run(db, "checkpoint", "-o", str(folder / "cp.json"))
        assert code == 1
        assert sorted(p.name for p in folder.iterdir()) == ["filler"]
        (folder / "filler").unlink()
        assert run(db, "keygen", "-o", str(folder / "office"))[0] == 0
        assert run(db, "checkpoint", "-o", str(folder / "cp.json"))[0] == 0


def test_a_read_only_folder_is_one_sentence(db: Path, tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    if os.geteuid() == 0:
        with small_tmpfs(tmp_path) as mounted:
            subprocess.run(["mount", "-o", "remount,ro", str(mounted)], check=True)
            _refused(db, mounted)
        return
    folder.chmod(0o555)
    try:
        _refused(db, folder)
    finally:
        folder.chmod(0o755)


def _refused(db: Path, folder: Path) -> None:
    for command in (("export",), ("checkpoint",)):
        code, _, err = run(db, *command, "-o", str(folder / "out.json"))
        assert code == 1
        assert err.startswith(f"error: cannot write {folder / 'out.json'}:")
        assert len(err.strip().splitlines()) == 1
    code, _, err = run(db, "keygen", "-o", str(folder / "office"))
    assert code == 1
    assert list(folder.iterdir()) == []
