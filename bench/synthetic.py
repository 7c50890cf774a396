"""A realistic synthetic journal of any size, the same for the same seed.

Parties register, a few partnerships form (members join, the partnership is activated, an
agreement is drafted and signed by three of its members, a target is defined), then time
runs forward over twenty fiscal years: mostly pledges and deliveries spread over the
partnerships, with some decisions, measurements, corrections, withdrawals and yearly
resident evaluations. Every operation is valid, so the whole journal imports.

Used by the benchmarks in this folder; ``python bench/synthetic.py N > journal.json``
writes one on its own.
"""

from __future__ import annotations

import json
import random
import sys
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

SECTORS = (
    "npo",
    "npo",
    "npo",
    "municipality",
    "prefecture",
    "business",
    "public_agency",
    "resident_group",
    "chamber_of_commerce",
    "intermediary",
)
FIRST_DAY = date(2010, 6, 1)
LAST_DAY = date(2029, 12, 31)
CRITERIA = ["shared purpose achieved", "benefit to residents", "equal footing"]


def _jpy(amount: int) -> dict[str, str]:
    return {"amount": str(amount), "currency": "JPY"}


def _fiscal_year(day: date) -> int:
    return day.year if day.month >= 4 else day.year - 1


class _Partnership:
    def __init__(self, key: str, members: list[str], agreement: str, signatories: list[str]):
        self.key = key
        self.members = members
        self.agreement = agreement
        self.signatories = set(signatories)
        self.target = f"t-{key}"
        self.evaluation: str | None = None
        self.evaluation_year = 0
        self.evaluated: set[str] = set()


def synthetic_journal(ops: int, seed: int = 20080415) -> list[dict[str, Any]]:
    """A list of ``ops`` valid journal operations (JSON-ready dicts), deterministic in ``seed``."""
    return list(_operations(ops, random.Random(seed)))[:ops]


def _operations(ops: int, rnd: random.Random) -> Iterator[dict[str, Any]]:
    n_parties = max(12, min(300, ops // 400))
    n_partnerships = max(3, min(40, ops // 4000))

    parties = [f"party-{i:03d}" for i in range(n_parties)]
    for i, key in enumerate(parties):
        op: dict[str, Any] = {
            "op": "register_party",
            "key": key,
            "name": f"Party {i}",
            "sector": SECTORS[i % len(SECTORS)],
        }
        if i % 3 == 0:
            op["capacity"] = _jpy(rnd.randrange(10, 5000) * 1_000_000)
        yield op

    partnerships: list[_Partnership] = []
    for i in range(n_partnerships):
        key = f"pship-{i:02d}"
        members = rnd.sample(parties, rnd.randint(5, 8))
        signatories = members[:3]
        p = _Partnership(key, members, f"a-{key}", signatories)
        partnerships.append(p)
        proposed = date(2010, 4, 1) + timedelta(days=i % 20)  # joins (10 days on) precede May 1st
        yield {
            "op": "propose_partnership",
            "key": key,
            "title": f"Partnership {i}",
            "purpose": "that residents are better off than any member could make them alone",
            "proposed_by": members[0],
            "members": members[:2],
            "on": proposed.isoformat(),
        }
        for m in members[2:]:
            yield {
                "op": "join_partnership",
                "partnership": key,
                "party": m,
                "role": "member",
                "on": (proposed + timedelta(days=10)).isoformat(),
            }
        yield {"op": "activate_partnership", "partnership": key, "on": "2010-05-01"}
        yield {
            "op": "draft_agreement",
            "key": p.agreement,
            "partnership": key,
            "title": f"Agreement of partnership {i}",
            "parties": signatories,
            "start": "2010-04-01",
            "end": "2031-03-31",
            "shares": {signatories[0]: "0.5", signatories[1]: "0.3", signatories[2]: "0.2"},
        }
        for s in signatories:
            yield {"op": "sign_agreement", "agreement": p.agreement, "party": s, "on": "2010-05-10"}
        yield {
            "op": "define_target",
            "key": p.target,
            "partnership": key,
            "indicator": "residents reached",
            "unit": "people",
            "direction": "increase",
            "baseline": {"period": "2009", "value": rnd.randrange(100, 1000)},
            "targets": [{"period": str(y), "value": 1000 + 200 * (y - 2010)} for y in range(2010, 2030)],
        }

    # -- twenty years of activity -------------------------------------------------------
    open_contributions: list[tuple[str, int]] = []  # (key, still to deliver)
    delivered: dict[str, int] = {}
    n_pledges = n_decisions = n_residents = 0
    span = (LAST_DAY - FIRST_DAY).days
    stream = max(1, ops - n_parties)  # a little too many; the caller keeps the first ops
    for i in range(stream):
        day = FIRST_DAY + timedelta(days=span * i // stream)
        on = day.isoformat()
        p = partnerships[rnd.randrange(len(partnerships))]
        roll = rnd.random()
        if roll < 0.60 and open_contributions:
            j = rnd.randrange(len(open_contributions))
            key, left = open_contributions[j]
            amount = left if left <= 200_000 else rnd.randrange(1, left // 1000 + 1) * 1000
            left -= amount
            delivered[key] = delivered.get(key, 0) + amount
            if left:
                open_contributions[j] = (key, left)
            else:
                open_contributions[j] = open_contributions[-1]
                open_contributions.pop()
            yield {
                "op": "deliver",
                "contribution": key,
                "value": _jpy(amount),
                "on": on,
                "evidence": f"transfer {i:07d}",
            }
        elif roll < 0.61 and delivered:
            # a signed correction of something delivered earlier
            key = rnd.choice(list(delivered)[-50:])
            delta = rnd.choice((1, -1)) * rnd.randrange(1, 50) * 1000
            if delivered[key] + delta < 0:
                delta = -delta
            delivered[key] += delta
            yield {
                "op": "correct_contribution",
                "contribution": key,
                "delta": _jpy(delta),
                "reason": "receipt re-checked",
                "on": on,
            }
        elif roll < 0.615 and open_contributions:
            j = rnd.randrange(len(open_contributions))
            key, _ = open_contributions[j]
            open_contributions[j] = open_contributions[-1]
            open_contributions.pop()
            yield {
                "op": "withdraw_pledge",
                "contribution": key,
                "reason": "plans changed",
                "on": on,
            }
        elif roll < 0.66:
            n_decisions += 1
            voters = rnd.sample(p.members, 3)
            yield {
                "op": "record_decision",
                "partnership": p.key,
                "key": f"d-{n_decisions:06d}",
                "subject": "next season's programme",
                "proposed_by": voters[0],
                "rule": "majority",
                "votes": {v: rnd.choice(("for", "for", "against", "abstain")) for v in voters},
                "on": on,
            }
        elif roll < 0.69:
            yield {
                "op": "record_measurement",
                "target": p.target,
                "period": str(day.year),
                "value": rnd.randrange(500, 6000),
                "source": "attendance sheets",
                "on": on,
            }
        elif roll < 0.72:
            if p.evaluation_year != day.year:
                if p.evaluation is not None:
                    yield {"op": "close_evaluation", "evaluation": p.evaluation, "on": on}
                p.evaluation = f"e-{p.key}-{day.year}"
                p.evaluation_year = day.year
                p.evaluated = set()
                yield {
                    "op": "open_evaluation",
                    "key": p.evaluation,
                    "partnership": p.key,
                    "period": str(day.year),
                    "criteria": CRITERIA,
                    "scale_max": 5,
                }
            n_residents += 1
            yield {
                "op": "submit_evaluation",
                "evaluation": p.evaluation,
                "evaluator": f"r-{n_residents:06x}",
                "role": "resident",
                "scores": {c: rnd.randint(1, 5) for c in CRITERIA},
                "comment": "the children loved it",
                "on": on,
            }
        else:
            n_pledges += 1
            key = f"c-{n_pledges:06d}"
            party = rnd.choice(p.members)
            amount = rnd.randrange(100, 5000) * 1000
            op = {
                "op": "pledge",
                "key": key,
                "partnership": p.key,
                "party": party,
                "fiscal_year": _fiscal_year(day),
                "value": _jpy(amount),
            }
            if party in p.signatories:
                op["agreement"] = p.agreement
            if rnd.random() < 0.7:
                op.update(kind="money", instrument="contribution")
            else:
                hours = amount // 2500
                op.update(
                    kind="staff_time",
                    quantity=hours,
                    unit="hours",
                    valuation_basis="2,500 JPY per hour",
                )
            open_contributions.append((key, amount))
            yield op


def main() -> None:
    ops = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    json.dump(synthetic_journal(ops), sys.stdout, ensure_ascii=False, indent=0)


if __name__ == "__main__":
    main()
