"""``history`` filtered by key, partnership, party and dates equals the same filter over every row.

The history read model keeps no index of its own by key, partnership or party: a key's
operations are found through the events table's index of originator ids, a partnership's
through ``rm_aggregates``, and a party's through ``rm_history_parties`` plus the
contributions it owns (whose owner ``rm_history_parties`` leaves out). Here, for random
journals and the every-operation journal, each filtered history must be exactly the rows of
the unfiltered history that the filter names, with the parties of each row made again from
its event (``history_row``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from strategies import indicator_journals, valid_journals

from partnership_ledger.application import PartnershipLedger
from partnership_ledger.projections.history import history_row, with_info

NewLedger = Callable[[], AbstractContextManager[PartnershipLedger]]


def parties_by_position(ledger: PartnershipLedger) -> dict[int, set[str]]:
    stored = list(ledger.stored_events())
    positions = {id(e): p for p, e in stored}
    found: dict[int, set[str]] = {}
    for event, info in with_info(e for _, e in stored):
        position = positions[id(event)]
        made = history_row(position, event.timestamp, event, info)
        if made is not None:
            found[position] = set(made[1])
    return found


def assert_filters_equal_a_scan(ledger: PartnershipLedger) -> int:
    every = ledger.history()
    parties = parties_by_position(ledger)
    assert set(parties) == {h["position"] for h in every}
    kinds = {h["key"]: h["kind"] for h in every}
    named = sorted({p for ps in parties.values() for p in ps})
    checked = 0
    for key, kind in sorted(kinds.items()):
        if kind == "partnership":
            for children in (False, True):
                keys = {key, *(ledger.children(key) if children else [])}
                want = [h for h in every if h["partnership"] in keys or h["key"] in keys]
                assert ledger.history(key, include_children=children) == want, (key, children)
        elif kind == "party":
            want = [h for h in every if h["key"] == key or key in parties[h["position"]]]
            assert ledger.history(key) == want, key
        else:
            assert ledger.history(key) == [h for h in every if h["key"] == key], key
        checked += 1
    for party in named:
        want = [h for h in every if party in parties[h["position"]]]
        assert ledger.history(party=party) == want, party
        # With a key too: both filters hold.
        for key in sorted(kinds)[:3]:
            got = ledger.history(key, party=party)
            assert got == [h for h in ledger.history(key) if party in parties[h["position"]]], (key, party)
        checked += 1
    dates = sorted({h["effective"] for h in every if h["effective"]})
    if dates:
        since, until = dates[len(dates) // 3], dates[2 * len(dates) // 3]
        want = [h for h in every if h["effective"] and since <= h["effective"] <= until]
        assert ledger.history(since=since, until=until) == want
    return checked


def test_every_op_journal(any_ledger: PartnershipLedger, every_op_path: Path) -> None:
    # On each backend: the events table's originator ids are text in SQLite, uuids in PostgreSQL.
    any_ledger.import_journal(every_op_path.read_bytes())
    assert assert_filters_equal_a_scan(any_ledger) > 10


@settings(max_examples=10, deadline=None)
@given(valid_journals(min_ops=5, max_ops=40))
def test_valid_journals(new_ledger: NewLedger, ops: list[dict[str, Any]]) -> None:
    with new_ledger() as ledger:
        ledger.import_journal(json.dumps(ops))
        assert_filters_equal_a_scan(ledger)


@settings(max_examples=10, deadline=None)
@given(indicator_journals())
def test_indicator_journals(new_ledger: NewLedger, ops: list[dict[str, Any]]) -> None:
    with new_ledger() as ledger:
        ledger.import_journal(json.dumps(ops))
        assert assert_filters_equal_a_scan(ledger) > 0
