"""Tests of partnership_ledger.indicators: properties (hypothesis) and worked examples.

Expected values in the worked examples are computed by hand (arithmetic in comments)
and written as literals. Property tests compare against exact rational arithmetic
(``fractions.Fraction``), never floats.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, localcontext
from fractions import Fraction

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from partnership_ledger.indicators import (
    CriterionSummary,
    Direction,
    TargetProgress,
    alignment,
    burden_shares,
    capacity_burdens,
    deviations,
    disproportionality,
    evaluation_summary,
    excessive_burden,
    gini,
    hhi,
    money_without_voice,
    quantize6,
    target_progress,
    voice_counts,
    voice_shares,
)

# ----------------------------------------------------------------------- strategies
# Decimals are built from integers only (Decimal(int) / 10**k, exact for these sizes).


def decimals(min_int: int = 0, max_int: int = 10**12, max_places: int = 4) -> st.SearchStrategy[Decimal]:
    return st.builds(
        lambda i, k: Decimal(i) / 10**k,
        st.integers(min_int, max_int),
        st.integers(0, max_places),
    )


ZEROS = st.sampled_from([Decimal(0), Decimal("0.00"), Decimal("-0"), Decimal("0E+3")])
amounts = st.one_of(ZEROS, decimals())  # non-negative, zeros frequent
signed_amounts = st.one_of(ZEROS, decimals(-(10**12), 10**12))
positive_amounts = decimals(1, 10**12)
party_keys = st.text(alphabet="abcdefgh-", min_size=1, max_size=6)
values_by_party = st.dictionaries(party_keys, amounts, max_size=10)
value_lists = st.lists(amounts, max_size=30)
counts_by_party = st.dictionaries(party_keys, st.integers(0, 50), max_size=10)
directions: st.SearchStrategy[Direction] = st.sampled_from(["increase", "decrease"])
roles = st.sampled_from(["party", "resident", "external"])


def as_fraction(d: Decimal) -> Fraction:
    return Fraction(d)


def exact_sum(ds: Mapping[str, Decimal | None]) -> Fraction:
    return sum((Fraction(d) for d in ds.values() if d is not None), Fraction(0))


def total_is_zero(values: Mapping[str, Decimal]) -> bool:
    return sum((Fraction(v) for v in values.values()), Fraction(0)) == 0


# ------------------------------------------------------------------------ quantize6


def test_quantize6_rounds_half_even_to_six_places() -> None:
    assert quantize6(None) is None
    assert quantize6(Decimal("0.3")) == "0.300000"
    assert quantize6(Decimal("0.0000005")) == "0.000000"  # half to even (0)
    assert quantize6(Decimal("0.0000015")) == "0.000002"  # half to even (2)
    assert quantize6(Decimal("0.00000251")) == "0.000003"
    assert quantize6(Decimal("-0.0000001")) == "0.000000"  # no "-0.000000"
    assert quantize6(Decimal("-0.25")) == "-0.250000"
    assert quantize6(Decimal("1E+2")) == "100.000000"  # never an exponent
    assert quantize6(Decimal(1) / Decimal(3)) == "0.333333"


# --------------------------------------------------------------------------- shares


@settings(deadline=None)
@given(values_by_party)
def test_shares_sum_to_exactly_one_when_total_positive(values: dict[str, Decimal]) -> None:
    assume(not total_is_zero(values))
    shares = burden_shares(values)
    assert list(shares) == list(values)
    assert exact_sum(shares) == 1
    # Even summed in the default context (precision 28), the sum is exactly 1.
    assert sum((s for s in shares.values() if s is not None), Decimal(0)) == Decimal(1)
    total = sum((Fraction(v) for v in values.values()), Fraction(0))
    for key, share in shares.items():
        assert share is not None
        assert 0 <= share <= 1
        assert abs(Fraction(share) - Fraction(values[key]) / total) < Fraction(1, 10**25)


@settings(deadline=None)
@given(st.dictionaries(party_keys, signed_amounts, min_size=1, max_size=10))
def test_shares_of_signed_values_still_sum_to_one(values: dict[str, Decimal]) -> None:
    assume(not total_is_zero(values))
    assert exact_sum(burden_shares(values)) == 1


@settings(deadline=None)
@given(st.dictionaries(party_keys, ZEROS, max_size=10))
def test_shares_are_all_none_when_total_is_zero(values: dict[str, Decimal]) -> None:
    shares = burden_shares(values)
    assert shares == dict.fromkeys(values)
    assert hhi(shares) is None
    assert gini(list(values.values())) is None


def test_shares_are_exact_where_division_terminates() -> None:
    assert burden_shares({"a": Decimal(1), "b": Decimal(7)}) == {
        "a": Decimal("0.125"),
        "b": Decimal("0.875"),
    }
    assert burden_shares({}) == {}


def test_share_residue_goes_to_largest_share_ties_by_key() -> None:
    # 1/3 each, rounded to 27 places: 3 × 0.333…333 = 0.999…999, residue 1e-27,
    # which goes to the first key among the (equal) largest.
    shares = burden_shares({"c": Decimal(5), "a": Decimal(5), "b": Decimal(5)})
    assert shares == {
        "c": Decimal("0.333333333333333333333333333"),
        "a": Decimal("0.333333333333333333333333334"),
        "b": Decimal("0.333333333333333333333333333"),
    }
    # 2/3 and 1/3: 0.666…667 + 0.333…333 = 1 already, nothing to distribute.
    assert burden_shares({"x": Decimal(1), "y": Decimal(2)}) == {
        "x": Decimal("0.333333333333333333333333333"),
        "y": Decimal("0.666666666666666666666666667"),
    }


@settings(deadline=None)
@given(counts_by_party)
def test_voice_shares_sum_to_exactly_one(counts: dict[str, int]) -> None:
    shares = voice_shares(counts)
    assert list(shares) == list(counts)
    if sum(counts.values()) == 0:
        assert all(s is None for s in shares.values())
    else:
        assert exact_sum(shares) == 1


# ----------------------------------------------------------------------------- gini


def gini_by_definition(values: list[Decimal]) -> Fraction:
    """Σ_i Σ_j |v_i − v_j| / (2 n² mean), the O(n²) way, exactly."""
    vs = [Fraction(v) for v in values]
    n = len(vs)
    mean = sum(vs, Fraction(0)) / n
    return sum((abs(a - b) for a in vs for b in vs), Fraction(0)) / (2 * n * n * mean)


@settings(deadline=None)
@given(st.lists(amounts, min_size=1, max_size=8))
def test_gini_matches_quadratic_definition(values: list[Decimal]) -> None:
    g = gini(values)
    if sum(Fraction(v) for v in values) == 0:
        assert g is None
    else:
        assert g is not None
        assert abs(Fraction(g) - gini_by_definition(values)) < Fraction(1, 10**45)


@settings(deadline=None)
@given(value_lists)
def test_gini_lies_in_zero_to_n_minus_one_over_n(values: list[Decimal]) -> None:
    g = gini(values)
    if g is None:
        assert not values or sum(Fraction(v) for v in values) == 0
        return
    n = len(values)
    # The result is correctly rounded to 50 digits, so allow half an ulp above.
    assert g >= 0
    assert Fraction(g) <= Fraction(n - 1, n) + Fraction(1, 10**45)


@settings(deadline=None)
@given(st.lists(amounts, min_size=1, max_size=30), st.data())
def test_gini_is_exactly_invariant_under_permutation(values: list[Decimal], data: st.DataObject) -> None:
    shuffled = data.draw(st.permutations(values))
    assert gini(shuffled) == gini(values)


@settings(deadline=None)
@given(st.lists(amounts, min_size=1, max_size=30), positive_amounts)
def test_gini_is_exactly_invariant_under_positive_scaling(values: list[Decimal], factor: Decimal) -> None:
    with localcontext() as ctx:
        ctx.prec = 100  # the products are exact at this precision
        scaled = [v * factor for v in values]
    assert gini(scaled) == gini(values)


@settings(deadline=None)
@given(positive_amounts, st.integers(1, 40))
def test_gini_is_zero_when_all_equal(value: Decimal, n: int) -> None:
    assert gini([value] * n) == 0


def test_gini_of_large_input_is_computed_by_sorting() -> None:
    # n/2 parties carry 0 and n/2 carry 1 → Σ_iΣ_j|vi−vj| = 2·(n/2)·(n/2) = n²/2,
    # 2n²·mean = 2n²·½ = n² → Gini = ½. (Quadratic code would take minutes here.)
    n = 20_000
    assert gini([Decimal(0)] * (n // 2) + [Decimal(1)] * (n // 2)) == Decimal("0.5")
    assert gini([]) is None


# ------------------------------------------------------------------------------ hhi


@settings(deadline=None)
@given(values_by_party)
def test_hhi_lies_between_one_over_n_and_one(values: dict[str, Decimal]) -> None:
    assume(not total_is_zero(values))
    h = hhi(burden_shares(values))
    assert h is not None
    assert Fraction(1, len(values)) <= Fraction(h) <= 1


def test_hhi_is_none_without_shares() -> None:
    assert hhi({}) is None
    assert hhi({"a": None, "b": None}) is None


# ------------------------------------------------------------------------ capacity


@settings(deadline=None)
@given(
    values_by_party,
    st.dictionaries(party_keys, st.one_of(st.none(), ZEROS, amounts), max_size=10),
)
def test_relative_capacity_burdens_average_one(
    values: dict[str, Decimal], capacities: dict[str, Decimal | None]
) -> None:
    burden, relative = capacity_burdens(values, capacities)
    assert list(burden) == list(values) == list(relative)
    for key, b in burden.items():
        capacity = capacities.get(key)
        assert (b is None) == (capacity is None or capacity == 0)
        if relative[key] is not None:
            assert b is not None
    defined = [r for r in relative.values() if r is not None]
    if defined:
        mean = sum((Fraction(r) for r in defined), Fraction(0)) / len(defined)
        assert abs(mean - 1) < Fraction(1, 10**40)


# --------------------------------------------------------------------------- voice


@settings(deadline=None)
@given(values_by_party, counts_by_party)
def test_disproportionality_and_alignment_lie_in_zero_to_one(
    values: dict[str, Decimal], counts: dict[str, int]
) -> None:
    voice = voice_shares(counts)
    burden = burden_shares(values)
    d = disproportionality(voice, burden)
    a = alignment(d)
    if all(s is None for s in voice.values()) or all(s is None for s in burden.values()):
        assert d is None
        assert a is None
        return
    assert d is not None
    assert a is not None
    assert 0 <= d <= 1
    assert 0 <= a <= 1
    assert a + d == 1


@settings(deadline=None)
@given(counts_by_party, positive_amounts)
def test_alignment_is_exactly_one_when_voice_mirrors_burden(counts: dict[str, int], unit: Decimal) -> None:
    assume(sum(counts.values()) > 0)
    with localcontext() as ctx:
        ctx.prec = 60
        values = {key: Decimal(c) * unit for key, c in counts.items()}
    voice = voice_shares(counts)
    burden = burden_shares(values)
    assert voice == burden
    assert disproportionality(voice, burden) == 0
    assert alignment(disproportionality(voice, burden)) == 1


@settings(deadline=None)
@given(
    st.lists(
        st.tuples(party_keys, st.lists(party_keys, max_size=5)),
        max_size=10,
    ),
    st.lists(party_keys, max_size=5),
)
def test_voice_counts_count_proposer_and_each_voter(decisions: list[tuple[str, list[str]]], parties: list[str]) -> None:
    counts = voice_counts(decisions, parties)
    assert sum(counts.values()) == sum(1 + len(set(voters)) for _, voters in decisions)
    for party in parties:
        assert party in counts


# ------------------------------------------------------------------------- targets


@settings(deadline=None)
@given(
    directions,
    signed_amounts,
    st.lists(signed_amounts, min_size=1, max_size=6),
    st.data(),
)
def test_progress_is_exactly_one_at_the_target(
    direction: Direction, baseline: Decimal, target_values: list[Decimal], data: st.DataObject
) -> None:
    targets = [(str(2000 + i), v) for i, v in enumerate(target_values)]
    i = data.draw(st.integers(0, len(targets) - 1))
    period, target = targets[i]
    result = target_progress(direction, baseline, targets, {period: target})
    assert result.period == period
    assert result.latest == target
    assert result.target == target
    assert result.progress == 1
    assert result.status == "achieved"


@settings(deadline=None)
@given(
    directions,
    signed_amounts,
    st.lists(signed_amounts, min_size=1, max_size=6),
    st.dictionaries(st.sampled_from([str(y) for y in range(1998, 2008)]), signed_amounts),
)
def test_target_status_follows_the_rules(
    direction: Direction,
    baseline: Decimal,
    target_values: list[Decimal],
    measurements: dict[str, Decimal],
) -> None:
    targets = [(str(2000 + i), v) for i, v in enumerate(target_values)]
    result = target_progress(direction, baseline, targets, measurements)
    measured = [i for i, (p, _) in enumerate(targets, start=1) if p in measurements]
    if not measured:
        assert result == TargetProgress(None, None, None, None, None, "no_data")
        return
    i, n = measured[-1], len(targets)
    assert result.period == targets[i - 1][0]
    assert result.progress is not None
    m = Fraction(measurements[targets[i - 1][0]])
    b, t, final = Fraction(baseline), Fraction(targets[i - 1][1]), Fraction(targets[-1][1])
    expected = b + (final - b) * i / n
    assert result.expected is not None
    assert abs(Fraction(result.expected) - expected) <= abs(expected) / 10**45 + Fraction(1, 10**45)
    if t != b:
        assert abs(Fraction(result.progress) - (m - b) / (t - b)) <= abs((m - b) / (t - b)) / 10**45
    if result.progress >= 1:
        assert result.status == "achieved"
    elif i == n:
        assert result.status == "off_track"
    else:
        meets = m >= expected if direction == "increase" else m <= expected
        assert result.status == ("on_track" if meets else "off_track")


def test_target_decrease_two_periods() -> None:
    targets = [("2008", Decimal(90)), ("2009", Decimal(80))]
    # P = 2008 (i=1, n=2): progress = (92−100)/(90−100) = −8/−10 = 0.8;
    # expected = 100 + (80−100)·1/2 = 90; 92 is above 90 (decrease wants ≤) → off_track.
    assert target_progress("decrease", Decimal(100), targets, {"2008": Decimal(92)}) == (
        TargetProgress("2008", Decimal(92), Decimal(90), Decimal("0.8"), Decimal(90), "off_track")
    )
    # P = 2009 (final): progress = (78−100)/(80−100) = −22/−20 = 1.1 → achieved.
    result = target_progress("decrease", Decimal(100), targets, {"2008": Decimal(92), "2009": Decimal(78)})
    assert (result.period, result.progress, result.status) == ("2009", Decimal("1.1"), "achieved")
    assert result.expected == 80
    # P = 2009 (final): progress = (85−100)/(80−100) = 0.75 → off_track (no time left).
    result = target_progress("decrease", Decimal(100), targets, {"2009": Decimal(85)})
    assert (result.progress, result.status) == (Decimal("0.75"), "off_track")


def test_target_decrease_front_loaded_is_on_track() -> None:
    targets = [("2008", Decimal(85)), ("2009", Decimal(80)), ("2010", Decimal(70))]
    # P = 2008 (i=1, n=3): progress = (88−100)/(85−100) = −12/−15 = 0.8;
    # expected = 100 + (70−100)·1/3 = 90; 88 ≤ 90 → on_track.
    assert target_progress("decrease", Decimal(100), targets, {"2008": Decimal(88)}) == (
        TargetProgress("2008", Decimal(88), Decimal(85), Decimal("0.8"), Decimal(90), "on_track")
    )
    # 94: progress = −6/−15 = 0.4; 94 > 90 → off_track.
    result = target_progress("decrease", Decimal(100), targets, {"2008": Decimal(94)})
    assert (result.progress, result.expected, result.status) == (
        Decimal("0.4"),
        Decimal(90),
        "off_track",
    )
    # P = 2010 (final): progress = (75−100)/(70−100) = 25/30 = 0.8333… → off_track.
    result = target_progress("decrease", Decimal(100), targets, {"2010": Decimal(75)})
    assert quantize6(result.progress) == "0.833333"
    assert result.status == "off_track"
    # A measurement for a period without a target is not progress.
    assert target_progress("decrease", Decimal(100), targets, {"2007": Decimal(50)}).status == ("no_data")
    assert target_progress("decrease", Decimal(100), [], {"2007": Decimal(50)}).status == ("no_data")


def test_target_increase() -> None:
    back_loaded = [("2024", Decimal(30)), ("2025", Decimal(35)), ("2026", Decimal(40))]
    # progress = (25−10)/(30−10) = 0.75; expected = 10 + 30·1/3 = 20; 25 ≥ 20 → on_track.
    assert target_progress("increase", Decimal(10), back_loaded, {"2024": Decimal(25)}) == (
        TargetProgress("2024", Decimal(25), Decimal(30), Decimal("0.75"), Decimal(20), "on_track")
    )
    linear = [("2024", Decimal(20)), ("2025", Decimal(30)), ("2026", Decimal(40))]
    # P = 2025 (i=2): progress = (23−10)/(30−10) = 0.65; expected = 10 + 30·2/3 = 30;
    # 23 < 30 → off_track.
    result = target_progress("increase", Decimal(10), linear, {"2024": Decimal(14), "2025": Decimal(23)})
    assert (result.period, result.progress, result.expected, result.status) == (
        "2025",
        Decimal("0.65"),
        Decimal(30),
        "off_track",
    )


def test_target_equal_to_baseline() -> None:
    keep = [("2024", Decimal(50))]
    assert target_progress("decrease", Decimal(50), keep, {"2024": Decimal(49)}).progress == 1
    assert target_progress("decrease", Decimal(50), keep, {"2024": Decimal(51)}).progress == 0
    assert target_progress("increase", Decimal(50), keep, {"2024": Decimal(51)}).progress == 1
    assert target_progress("increase", Decimal(50), keep, {"2024": Decimal(50)}).status == ("achieved")


def test_on_track_comparison_is_exact() -> None:
    # expected = 0 + (1−0)·1/3 = 1/3 exactly; a measurement of 0.333…3 (50 threes)
    # equals the 50-digit rounding of 1/3 but is below 1/3 itself → off_track.
    targets = [("a", Decimal(1)), ("b", Decimal(1)), ("c", Decimal(1))]
    thirds = Decimal("0." + "3" * 50)
    result = target_progress("increase", Decimal(0), targets, {"a": thirds})
    assert result.expected == thirds
    assert result.status == "off_track"


def test_target_rejects_unknown_direction() -> None:
    with pytest.raises(ValueError, match="direction"):
        target_progress("sideways", Decimal(0), [], {})  # type: ignore[arg-type]


# --------------------------------------------------------------------- evaluations


@settings(deadline=None)
@given(
    st.lists(
        st.tuples(roles, st.dictionaries(st.sampled_from(["x", "y", "z"]), st.integers(1, 5))),
        max_size=12,
    ),
    st.integers(0, 10).map(lambda k: Decimal(k) / 10),
)
def test_combined_lies_between_resident_and_others(
    submissions: list[tuple[str, dict[str, int]]], weight: Decimal
) -> None:
    for summary in evaluation_summary(["x", "y"], submissions, weight):
        means = [m for m in (summary.resident_mean, summary.others_mean) if m is not None]
        if not means:
            assert summary.combined is None
            continue
        assert summary.combined is not None
        assert min(means) <= summary.combined <= max(means)
        assert sum(summary.counts.values()) == sum(1 for _, scores in submissions if summary.criterion in scores)


def test_evaluation_summary_worked_example() -> None:
    submissions = [
        ("party", {"cause_achieved": 5, "benefit_to_residents": 4}),
        ("party", {"cause_achieved": 4, "benefit_to_residents": 4}),
        ("resident", {"cause_achieved": 3, "benefit_to_residents": 2}),
        ("resident", {"cause_achieved": 4}),
        ("external", {"cause_achieved": 3, "benefit_to_residents": 5, "learning": 4, "x": 1}),
    ]
    criteria = ["cause_achieved", "benefit_to_residents", "learning", "trust"]
    cause, benefit, learning, trust = evaluation_summary(criteria, submissions, Decimal("0.6"))
    # cause: party (5+4)/2 = 4.5; resident (3+4)/2 = 3.5; external 3;
    # others (5+4+3)/3 = 4; combined 0.6·3.5 + 0.4·4 = 2.1 + 1.6 = 3.7; gap 4.5−3.5 = 1.
    assert cause == CriterionSummary(
        criterion="cause_achieved",
        party_mean=Decimal("4.5"),
        resident_mean=Decimal("3.5"),
        external_mean=Decimal(3),
        others_mean=Decimal(4),
        combined=Decimal("3.7"),
        gap=Decimal(1),
        counts={"party": 2, "resident": 2, "external": 1},
    )
    # benefit: party 4; resident 2; external 5; others (4+4+5)/3 = 13/3 = 4.333…;
    # combined 0.6·2 + 0.4·13/3 = 18/15 + 26/15 = 44/15 = 2.9333…; gap 4−2 = 2.
    assert (benefit.party_mean, benefit.resident_mean, benefit.external_mean) == (
        Decimal(4),
        Decimal(2),
        Decimal(5),
    )
    assert quantize6(benefit.others_mean) == "4.333333"
    assert quantize6(benefit.combined) == "2.933333"
    assert benefit.combined is not None
    assert abs(Fraction(benefit.combined) - Fraction(44, 15)) < Fraction(1, 10**48)
    assert benefit.gap == 2
    assert benefit.counts == {"party": 2, "resident": 1, "external": 1}
    # learning: only an external score → combined is others' mean alone; no gap.
    assert (learning.party_mean, learning.resident_mean, learning.external_mean) == (
        None,
        None,
        Decimal(4),
    )
    assert (learning.others_mean, learning.combined, learning.gap) == (
        Decimal(4),
        Decimal(4),
        None,
    )
    # trust: nobody scored it.
    assert trust == CriterionSummary(
        "trust", None, None, None, None, None, None, {"party": 0, "resident": 0, "external": 0}
    )


def test_evaluation_only_residents_and_bad_input() -> None:
    (only,) = evaluation_summary(["c"], [("resident", {"c": 2}), ("resident", {"c": 5})], Decimal(0))
    assert (only.resident_mean, only.others_mean, only.combined) == (
        Decimal("3.5"),
        None,
        Decimal("3.5"),
    )
    with pytest.raises(ValueError, match="role"):
        evaluation_summary(["c"], [("mayor", {"c": 1})], Decimal("0.5"))
    with pytest.raises(ValueError, match="resident_weight"):
        evaluation_summary(["c"], [], Decimal("1.5"))


# ---------------------------------------------------------- worked burden examples


def test_three_party_worked_example() -> None:
    npo, pref, city = "npo-puppets", "pref-fukushima", "city-koriyama"
    values = {npo: Decimal(3_000_000), pref: Decimal(6_000_000), city: Decimal(1_000_000)}
    # total 10,000,000 → shares 0.3, 0.6, 0.1
    shares = burden_shares(values)
    assert shares == {npo: Decimal("0.3"), pref: Decimal("0.6"), city: Decimal("0.1")}
    # sorted 1, 3, 6 (millions): Σ_iΣ_j|vi−vj| = 2·(2 + 5 + 3) = 20;
    # 2·n²·mean = 2·9·(10/3) = 60 → Gini = 20/60 = 1/3
    assert quantize6(gini(list(values.values()))) == "0.333333"
    # HHI = 0.3² + 0.6² + 0.1² = 0.09 + 0.36 + 0.01 = 0.46
    assert hhi(shares) == Decimal("0.46")
    # agreed 0.3 / 0.5 / 0.2 → deviations 0.3−0.3 = 0, 0.6−0.5 = 0.1, 0.1−0.2 = −0.1
    agreed = {npo: Decimal("0.3"), pref: Decimal("0.5"), city: Decimal("0.2")}
    devs = deviations(shares, agreed)
    assert devs == {npo: Decimal(0), pref: Decimal("0.1"), city: Decimal("-0.1")}
    # capacity burdens: 3M/12M = 0.25, 6M/200M = 0.03, 1M/50M = 0.02;
    # mean (0.25 + 0.03 + 0.02)/3 = 0.1 → relative 2.5, 0.3, 0.2
    capacities = {npo: Decimal(12_000_000), pref: Decimal(200_000_000), city: Decimal(50_000_000)}
    burden, relative = capacity_burdens(values, capacities)
    assert burden == {npo: Decimal("0.25"), pref: Decimal("0.03"), city: Decimal("0.02")}
    assert relative == {npo: Decimal("2.5"), pref: Decimal("0.3"), city: Decimal("0.2")}
    # excessive: pref (deviation 0.1 > 0.05), npo (relative 2.5 > 2)
    assert excessive_burden(devs, relative) == [npo, pref]
    assert excessive_burden(devs, relative, relative_capacity_threshold=Decimal(3)) == [pref]
    assert excessive_burden(devs, relative, deviation_threshold=Decimal("0.1")) == [npo]
    # voice: d1 npo proposes, all three vote → npo 2, pref 1, city 1;
    # d2 pref proposes, npo + pref vote → npo 1, pref 2; d3 npo proposes, npo + pref vote
    # → npo 2, pref 1. Totals npo 5, pref 4, city 1 (10) → 0.5, 0.4, 0.1.
    decisions = [
        (npo, [npo, pref, city]),
        (pref, [npo, pref]),
        (npo, [npo, pref]),
    ]
    counts = voice_counts(decisions, [npo, pref, city, "biz-sponsor"])
    assert counts == {npo: 5, pref: 4, city: 1, "biz-sponsor": 0}
    del counts["biz-sponsor"]
    voice = voice_shares(counts)
    assert voice == {npo: Decimal("0.5"), pref: Decimal("0.4"), city: Decimal("0.1")}
    # ½(|0.5−0.3| + |0.4−0.6| + |0.1−0.1|) = ½(0.2 + 0.2 + 0) = 0.2; alignment 0.8
    d = disproportionality(voice, shares)
    assert d == Decimal("0.2")
    assert alignment(d) == Decimal("0.8")
    # money without voice: biz-sponsor delivered money and never voted; npo put in none.
    money = {npo: Decimal(0), pref: Decimal(6_000_000), "biz-sponsor": Decimal(500_000)}
    assert money_without_voice(money, [npo, pref, city]) == ["biz-sponsor"]


def test_zero_contribution_party() -> None:
    values = {"npo": Decimal(0), "pref": Decimal(500)}
    shares = burden_shares(values)
    assert shares == {"npo": Decimal(0), "pref": Decimal(1)}
    assert [quantize6(s) for s in shares.values()] == ["0.000000", "1.000000"]
    # Σ|vi−vj| = 2·500 = 1000; 2·n²·mean = 2·4·250 = 2000 → 0.5 = (n−1)/n
    assert gini(list(values.values())) == Decimal("0.5")
    assert hhi(shares) == 1  # 0² + 1²
    # burdens 0/1000 = 0 and 500/1000 = 0.5, mean 0.25 → relative 0 and 2 (not > 2)
    burden, relative = capacity_burdens(values, {"npo": Decimal(1000), "pref": Decimal(1000)})
    assert burden == {"npo": Decimal(0), "pref": Decimal("0.5")}
    assert relative == {"npo": Decimal(0), "pref": Decimal(2)}
    # agreed 50/50 → deviations −0.5 and 0.5; only pref is over.
    devs = deviations(shares, {"npo": Decimal("0.5"), "pref": Decimal("0.5")})
    assert devs == {"npo": Decimal("-0.5"), "pref": Decimal("0.5")}
    assert excessive_burden(devs, relative) == ["pref"]
    # Party absent from the agreement, or no agreement at all → no deviation.
    assert deviations(shares, {"pref": Decimal(1)}) == {"npo": None, "pref": Decimal(0)}
    assert deviations(shares, None) == {"npo": None, "pref": None}
    assert deviations({"a": None}, {"a": Decimal(1), "b": Decimal(0)}) == {"a": None, "b": None}


def test_all_zero_partnership() -> None:
    values = {"a": Decimal(0), "b": Decimal("0.00")}
    shares = burden_shares(values)
    assert shares == {"a": None, "b": None}
    assert gini(list(values.values())) is None
    assert hhi(shares) is None
    burden, relative = capacity_burdens(values, {"a": Decimal(10), "b": Decimal(0)})
    assert burden == {"a": Decimal(0), "b": None}
    assert relative == {"a": None, "b": None}  # mean capacity burden is 0
    assert capacity_burdens(values, {}) == ({"a": None, "b": None}, {"a": None, "b": None})
    assert deviations(shares, {"a": Decimal("0.5")}) == {"a": None, "b": None}
    assert excessive_burden(deviations(shares, None), relative) == []
    voice = voice_shares(voice_counts([], ["a", "b"]))
    assert voice == {"a": None, "b": None}
    assert disproportionality(voice, shares) is None
    assert disproportionality({}, {}) is None
    assert disproportionality({"a": Decimal(1)}, shares) is None
    assert alignment(None) is None
    assert money_without_voice(values, []) == []


def test_floats_are_refused() -> None:
    with pytest.raises(TypeError, match="Decimal"):
        burden_shares({"a": 0.5})  # type: ignore[dict-item]
    with pytest.raises(ValueError, match="finite"):
        gini([Decimal("NaN")])


# ------------------------------------------------------- no ZeroDivisionError, ever


@settings(deadline=None)
@given(
    st.dictionaries(party_keys, signed_amounts, max_size=6),
    st.dictionaries(party_keys, st.one_of(st.none(), ZEROS, signed_amounts), max_size=6),
    st.one_of(st.none(), st.dictionaries(party_keys, st.one_of(ZEROS, amounts), max_size=6)),
    st.lists(st.tuples(party_keys, st.lists(party_keys, max_size=3)), max_size=4),
    directions,
    st.one_of(ZEROS, signed_amounts),
    st.lists(st.one_of(ZEROS, signed_amounts), max_size=4),
    st.lists(st.tuples(roles, st.dictionaries(st.sampled_from(["x", "y"]), st.integers(1, 5)))),
    st.sampled_from([Decimal(0), Decimal("0.5"), Decimal(1)]),
)
def test_no_input_raises_zero_division(
    values: dict[str, Decimal],
    capacities: dict[str, Decimal | None],
    agreed: dict[str, Decimal] | None,
    decisions: list[tuple[str, list[str]]],
    direction: Direction,
    baseline: Decimal,
    target_values: list[Decimal],
    submissions: list[tuple[str, dict[str, int]]],
    weight: Decimal,
) -> None:
    shares = burden_shares(values)
    gini(list(values.values()))
    hhi(shares)
    devs = deviations(shares, agreed)
    _, relative = capacity_burdens(values, capacities)
    excessive_burden(devs, relative)
    voice = voice_shares(voice_counts(decisions, values))
    alignment(disproportionality(voice, shares))
    money_without_voice(values, [v for _, voters in decisions for v in voters])
    targets = [(str(2000 + i), v) for i, v in enumerate(target_values)]
    for measured in (baseline, *target_values):
        for period, _ in targets:
            target_progress(direction, baseline, targets, {period: measured})
    evaluation_summary(["x", "y", "z"], submissions, weight)
    for d in (*shares.values(), *devs.values(), *relative.values()):
        quantize6(d)
