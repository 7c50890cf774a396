"""Write the sources LibreOffice converts into this folder's fixtures (see README.md).

every-op.json is the shared sample journal with every decimal written as a string (the
form a spreadsheet row gives); every-op.csv holds the same operations, one row each, with an
``op`` column, flattened by hand here (not by partnership_ledger's writer, which the tests
check): money as field/amount + field/currency, lists joined by "; ", maps as
"name=value; name=value".
"""

import csv
import json
import sys
from pathlib import Path

HERE = Path(__file__).parent
ops = json.loads((HERE / "every-op.json").read_text(encoding="utf-8"))


def flat(value):
    if isinstance(value, list):
        if value and isinstance(value[0], dict):
            return "; ".join(f"{v['period']}={v['value']}" for v in value)
        return "; ".join(value)
    if isinstance(value, dict):
        return "; ".join(
            f"{k}={v['amount'] + ' ' + v['currency'] if isinstance(v, dict) else v}" for k, v in value.items()
        )
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    return str(value)


rows = []
for op in ops:
    row = {}
    for name, value in op.items():
        if isinstance(value, dict) and set(value) <= {"amount", "currency", "period", "value"}:
            for sub, v in value.items():
                row[f"{name}/{sub}"] = str(v)
        elif name == "changes":
            for sub, v in value.items():
                row[f"changes/{sub}"] = flat(v)
        else:
            row[name] = flat(value)
    rows.append(row)
names = list(dict.fromkeys(n for r in rows for n in r))
with open(HERE / "every-op.csv", "w", encoding="utf-8", newline="") as f:
    writer = csv.DictWriter(f, names)
    writer.writeheader()
    writer.writerows(rows)
print(f"wrote every-op.csv ({len(rows)} rows, {len(names)} columns)", file=sys.stderr)
