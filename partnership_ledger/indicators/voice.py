"""Voice: each party's say in decisions, set against its share of the burden
(Loosemore–Hanby disproportionality, alignment, money without voice)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal

from .exact import ONE, ZERO, exact_shares, exact_sum, finite, mul, sub

_HALF = Decimal("0.5")


def voice_counts(
    decisions: Iterable[tuple[str, Iterable[str]]],
    parties: Iterable[str] = (),
) -> dict[str, int]:
    """Count each party's voice in decisions.

    Each decision is ``(proposer, voters)``: the proposer gets 1 and each distinct
    voter gets 1, so a proposer who also votes gets 2. Pass ``parties`` (e.g. all
    members) to list parties without any voice with 0. Keys: ``parties`` in order,
    then others as first seen.
    """
    counts: dict[str, int] = dict.fromkeys(parties, 0)
    for proposer, voters in decisions:
        counts[proposer] = counts.get(proposer, 0) + 1
        for voter in dict.fromkeys(voters):
            counts[voter] = counts.get(voter, 0) + 1
    return counts


def voice_shares(counts: Mapping[str, int]) -> dict[str, Decimal | None]:
    """Each party's share of all voice counts (see :func:`voice_counts`).

    All ``None`` when there are no counts at all; otherwise the shares sum to
    exactly 1, with the same rounding rule as :func:`burden_shares`.
    """
    return exact_shares({key: Decimal(count) for key, count in counts.items()})


def _defined(shares: Mapping[str, Decimal | None]) -> dict[str, Decimal] | None:
    defined = {k: finite(v, f"share of {k!r}") for k, v in shares.items() if v is not None}
    return defined or None


def disproportionality(
    voice_shares: Mapping[str, Decimal | None],
    burden_shares: Mapping[str, Decimal | None],
) -> Decimal | None:
    """Loosemore–Hanby disproportionality ``½ Σ_i |voice_share_i − share_i|``.

    Taken over the union of parties, a missing (or ``None``) share counting as 0.
    ``None`` when either side is empty or entirely ``None``. Exact; for two sets of
    shares that each sum to 1 it lies in ``[0, 1]``.
    """
    voice = _defined(voice_shares)
    burden = _defined(burden_shares)
    if voice is None or burden is None:
        return None
    keys = [*voice, *(k for k in burden if k not in voice)]
    gaps = (sub(voice.get(k, ZERO), burden.get(k, ZERO)).copy_abs() for k in keys)
    return mul(_HALF, exact_sum(gaps))


def alignment(disproportionality: Decimal | None) -> Decimal | None:
    """``1 − disproportionality``: 1 when voice mirrors burden exactly; ``None`` stays."""
    if disproportionality is None:
        return None
    return sub(ONE, finite(disproportionality, "disproportionality"))


def money_without_voice(
    money_delivered: Mapping[str, Decimal],
    voters: Iterable[str],
) -> list[str]:
    """Parties that put in money but no voice ("put in money, put in your voice").

    ``money_delivered`` maps party to money delivered in the period; ``voters`` are
    the parties that cast a vote in it. Returns, sorted, the parties with money
    above 0 that are not among the voters.
    """
    voted = set(voters)
    return sorted(
        key for key, money in money_delivered.items() if finite(money, f"money of {key!r}") > 0 and key not in voted
    )
