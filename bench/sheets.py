"""Import speed and memory of a workbook against the same operations as JSON Lines.

The synthetic bench journal (bench/synthetic.py) of N operations is written twice: as JSON
Lines, and as a workbook in the template's shape (one sheet per op, each row numbered in
``seq``, as ``export --format xlsx`` writes it). Each is imported into a fresh SQLite ledger
by the command line, in a child process of its own, ``--repeat`` times; the best wall time and
the child's peak RSS are reported, then how long ``template`` takes. With ``--libreoffice``
the workbook is also opened and saved again by LibreOffice (``soffice --convert-to xlsx``),
as a clerk's spreadsheet program saves it (strings in a shared table, which openpyxl reads
faster than the inline strings it writes itself), and that copy is imported too.

    python bench/sheets.py 100000            # the goal: xlsx >= 0.5x JSON Lines, < 400 MB
    python bench/sheets.py 20000 --repeat 1  # a quicker look

Prints one JSON object. Run from the repository with the project installed (or PYTHONPATH).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from synthetic import synthetic_journal  # noqa: E402  (bench/ is not a package)


def run(args: list[str], cwd: Path) -> dict[str, Any]:
    """Run the CLI in a child process: its wall time (s) and peak RSS (MB)."""
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "partnership_ledger_cli", *args],
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, "PARTNERSHIP_LEDGER_LOCK_TIMEOUT": "60"},
    )
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    stderr = process.stderr.read().decode() if process.stderr else ""
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(args)} failed: {stderr}")
    return {"seconds": round(seconds, 2), "peak_rss_mb": round(usage.ru_maxrss / 1024, 1)}


def best(runs: list[dict[str, Any]]) -> dict[str, Any]:
    return min(runs, key=lambda r: r["seconds"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("ops", type=int, nargs="?", default=100_000)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--libreoffice", action="store_true", help="also import a copy LibreOffice saved")
    args = parser.parse_args(argv)
    from partnership_ledger.spreadsheets import write_workbook

    with tempfile.TemporaryDirectory(prefix="bench-sheets-") as tmp:
        folder = Path(tmp)
        ops = synthetic_journal(args.ops)
        jsonl = folder / "journal.jsonl"
        jsonl.write_text("".join(json.dumps(op, ensure_ascii=False) + "\n" for op in ops), encoding="utf-8")
        started = time.perf_counter()
        workbook = folder / "journal.xlsx"
        write_workbook(workbook, ops, numbered=True)
        written = time.perf_counter() - started
        del ops
        files = [("jsonl", jsonl), ("xlsx", workbook)]
        resaved_seconds = None
        if args.libreoffice:
            started = time.perf_counter()
            subprocess.run(
                [
                    "soffice",
                    f"-env:UserInstallation=file://{folder}/lo",
                    "--headless",
                    "--convert-to",
                    "xlsx",
                    "--outdir",
                    str(folder / "lo"),
                    str(workbook),
                ],
                check=True,
                capture_output=True,
            )
            resaved_seconds = round(time.perf_counter() - started, 1)
            files.append(("xlsx_libreoffice", folder / "lo" / workbook.name))
        results: dict[str, list[dict[str, Any]]] = {kind: [] for kind, _ in files}
        for n in range(args.repeat):
            for kind, path in files:
                db = folder / f"{kind}-{n}.sqlite"
                results[kind].append(run(["--db", str(db), "-q", "import", str(path)], folder))
                db.unlink()
                for extra in ("-wal", "-shm"):
                    Path(f"{db}{extra}").unlink(missing_ok=True)
        template = best([run(["template", "-o", str(folder / "t.xlsx")], folder) for _ in range(args.repeat)])
        json_best, xlsx_best = best(results["jsonl"]), best(results["xlsx"])
        report = {
            "operations": args.ops,
            "workbook_mb": round(workbook.stat().st_size / 1e6, 1),
            "jsonl_mb": round(jsonl.stat().st_size / 1e6, 1),
            "write_workbook_seconds": round(written, 2),
            "import_jsonl": json_best,
            "import_xlsx": xlsx_best,
            "xlsx_speed_vs_jsonl": round(json_best["seconds"] / xlsx_best["seconds"], 2),
            "template": template,
        }
        if args.libreoffice:
            lo_best = best(results["xlsx_libreoffice"])
            report["libreoffice_resave_seconds"] = resaved_seconds
            report["import_xlsx_libreoffice"] = lo_best
            report["xlsx_libreoffice_speed_vs_jsonl"] = round(json_best["seconds"] / lo_best["seconds"], 2)
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
