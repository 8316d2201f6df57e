"""Peer-mentoring pairs for one cycle, keeping people apart who met before for as long as possible.

The cost of putting two people together grows with the square of how often they met and with
how recently; a random grouping is improved by swapping people between groups until no swap
helps, from several random starts, and the cheapest grouping wins. A grouping without repeats
is taken at once if the same people could still meet new partners next cycle. Given the same
`random.Random` state and inputs, the result is the same.
"""

from __future__ import annotations

import random
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from itertools import combinations

REPEAT_COST = 1_000  # per meeting squared; above any recency cost, so fewer repeats win first
RECENT_CYCLES = 26  # a meeting this many cycles ago or longer no longer counts as recent
RESTARTS = 12
LOOKAHEAD_STEPS = 20_000  # search budget for "can the next cycle still avoid repeats?"


@dataclass(frozen=True, kw_only=True)
class Pairing:
    """One cycle's groups (pairs, and one trio when the count is odd); `unpaired` holds a lone
    person when only one is available."""

    groups: tuple[tuple[str, ...], ...]
    unpaired: tuple[str, ...] = ()


def pair_people(
    people: Collection[str],
    *,
    history: Sequence[Sequence[Collection[str]]],
    rng: random.Random,
    away: Collection[str] = (),
    restarts: int = RESTARTS,
) -> Pairing:
    """Groups everyone in `people` who is not `away` for this cycle.

    `history` lists earlier cycles, oldest first, each as its groups; everyone in a group has
    met everyone else in it."""
    present = sorted(set(people) - set(away))
    if len(present) < 2:
        return Pairing(groups=(), unpaired=tuple(present))
    cost = _costs(present, history)
    best: list[list[int]] = []
    best_total = -1
    for _ in range(max(restarts, 1)):
        order = list(range(len(present)))
        rng.shuffle(order)
        groups = [order[i : i + 2] for i in range(0, len(order) - len(order) % 2, 2)]
        if len(order) % 2:
            groups[-1].append(order[-1])
        _improve(groups, cost)
        total = sum(cost[a][b] for group in groups for a, b in combinations(group, 2))
        if total == 0 and _leaves_strangers(groups, cost):
            best = groups
            break
        if best_total < 0 or total < best_total:
            best, best_total = groups, total
    named = sorted(tuple(sorted(present[i] for i in group)) for group in best)
    return Pairing(groups=tuple(named))


def _costs(present: list[str], history: Sequence[Sequence[Collection[str]]]) -> list[list[int]]:
    index = {person: i for i, person in enumerate(present)}
    met = [[0] * len(present) for _ in present]
    recency = [[0] * len(present) for _ in present]
    for age, cycle in enumerate(reversed(history)):
        for group in cycle:
            known = sorted(index[person] for person in group if person in index)
            for a, b in combinations(known, 2):
                met[a][b] += 1
                met[b][a] += 1
                recency[a][b] += max(RECENT_CYCLES - age, 0)
                recency[b][a] = recency[a][b]
    return [
        [REPEAT_COST * met[a][b] ** 2 + recency[a][b] for b in range(len(present))]
        for a in range(len(present))
    ]


def _improve(groups: list[list[int]], cost: list[list[int]]) -> None:
    """Swaps people between groups while any swap lowers the total cost."""

    def joining(person: int, group: list[int], leaving: int) -> int:
        return sum(cost[person][other] for other in group if other != leaving)

    improved = True
    while improved:
        improved = False
        for first, second in combinations(groups, 2):
            for i, x in enumerate(first):
                for j, y in enumerate(second):
                    before = joining(x, first, x) + joining(y, second, y)
                    after = joining(y, first, x) + joining(x, second, y)
                    if after < before:
                        first[i], second[j] = y, x
                        x = y
                        improved = True


def _leaves_strangers(groups: list[list[int]], cost: list[list[int]]) -> bool:
    """Whether, after `groups` meet, the same people could still be grouped once more with no
    repeat (True as well when the bounded search cannot tell). Choosing such a grouping keeps
    a steady group from painting itself into a corner before everyone has met everyone."""
    size = len(cost)
    fresh = [0] * size
    for a, b in combinations(range(size), 2):
        if cost[a][b] == 0:
            fresh[a] |= 1 << b
            fresh[b] |= 1 << a
    for group in groups:
        for a, b in combinations(group, 2):
            fresh[a] &= ~(1 << b)
            fresh[b] &= ~(1 << a)
    steps = 0

    def search(left: int, trio: bool) -> bool:
        nonlocal steps
        steps += 1
        if left == 0 or steps > LOOKAHEAD_STEPS:
            return True
        first = (left & -left).bit_length() - 1
        rest = left & ~(1 << first)
        partners = fresh[first] & rest
        while partners:
            second = (partners & -partners).bit_length() - 1
            partners &= partners - 1
            remaining = rest & ~(1 << second)
            if search(remaining, trio):
                return True
            thirds = fresh[first] & fresh[second] & remaining if trio else 0
            while thirds:
                third = (thirds & -thirds).bit_length() - 1
                thirds &= thirds - 1
                if search(remaining & ~(1 << third), False):
                    return True
        return False

    return search((1 << size) - 1, size % 2 == 1)
