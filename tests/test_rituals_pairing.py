"""Peer-mentoring pairs: no one away, one trio when odd, no repeats while they can be avoided."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Collection, Sequence
from itertools import combinations

import pytest

from rituals.pairing import Pairing, pair_people

History = list[list[tuple[str, ...]]]


def met_pairs(history: Sequence[Sequence[Collection[str]]]) -> Counter[frozenset[str]]:
    return Counter(
        frozenset(p) for cycle in history for group in cycle for p in combinations(group, 2)
    )


def repeats(pairing: Pairing, history: History) -> int:
    met = met_pairs(history)
    return sum(1 for group in pairing.groups for p in combinations(group, 2) if met[frozenset(p)])


def repeat_free_exists(people: list[str], met: Counter[frozenset[str]]) -> bool:
    """Whether `people` can be grouped (pairs, one trio if odd) with no pair that met before."""

    def fresh(*group: str) -> bool:
        return not any(met[frozenset(p)] for p in combinations(group, 2))

    def search(rest: tuple[str, ...], trio_left: bool) -> bool:
        if not rest:
            return True
        first, others = rest[0], rest[1:]
        for i, second in enumerate(others):
            if not fresh(first, second):
                continue
            remaining = others[:i] + others[i + 1 :]
            if search(remaining, trio_left):
                return True
            if trio_left:
                for j, third in enumerate(remaining):
                    if fresh(first, second, third) and search(
                        remaining[:j] + remaining[j + 1 :], False
                    ):
                        return True
        return False

    return search(tuple(sorted(people)), len(people) % 2 == 1)


def check_cycle(pairing: Pairing, present: set[str]) -> None:
    grouped = [person for group in pairing.groups for person in group]
    assert sorted(grouped + list(pairing.unpaired)) == sorted(present)
    sizes = Counter(len(group) for group in pairing.groups)
    assert set(sizes) <= {2, 3} and sizes[3] == len(present) % 2


def test_same_random_state_same_pairs_whatever_the_input_order() -> None:
    people = [f"p{i}" for i in range(10)]
    first = pair_people(people, history=[], rng=random.Random(7))
    again = pair_people(list(reversed(people)), history=[], rng=random.Random(7))
    assert first == again
    others = {pair_people(people, history=[], rng=random.Random(seed)) for seed in range(5)}
    assert len(others) > 1


def test_odd_counts_make_one_trio_and_a_lone_person_is_unpaired() -> None:
    pairing = pair_people(["a", "b", "c", "d", "e"], history=[], rng=random.Random(1))
    check_cycle(pairing, {"a", "b", "c", "d", "e"})
    assert pair_people(["a"], history=[], rng=random.Random(1)) == Pairing(
        groups=(), unpaired=("a",)
    )
    assert pair_people([], history=[], rng=random.Random(1)) == Pairing(groups=())
    three = pair_people(["a", "b", "c"], history=[], rng=random.Random(1))
    assert three.groups == (("a", "b", "c"),)


def test_people_away_are_never_paired() -> None:
    pairing = pair_people(["a", "b", "c", "d"], away={"b", "z"}, history=[], rng=random.Random(3))
    check_cycle(pairing, {"a", "c", "d"})


@pytest.mark.parametrize("seed", range(6))
def test_a_steady_group_of_eight_meets_everyone_once_before_any_repeat(seed: int) -> None:
    rng = random.Random(seed)
    people = [f"p{i}" for i in range(8)]
    history: History = []
    for _ in range(7):
        pairing = pair_people(people, history=history, rng=rng)
        assert repeats(pairing, history) == 0
        history.append(list(pairing.groups))
    assert set(met_pairs(history).values()) == {1}  # all 28 pairs, once each


def test_when_a_repeat_is_forced_the_oldest_meeting_repeats() -> None:
    history: History = [
        [("a", "b"), ("c", "d")],
        [("a", "c"), ("b", "d")],
        [("a", "d"), ("b", "c")],
    ]
    pairing = pair_people(["a", "b", "c", "d"], history=history, rng=random.Random(0))
    assert pairing.groups == (("a", "b"), ("c", "d"))


def test_a_simulated_year_of_weekly_cycles() -> None:
    rng = random.Random(2025)
    people = {f"p{i}" for i in range(10)}
    history: History = []
    forced = 0
    for week in range(52):
        if week in (6, 19, 33):
            people.add(f"new{week}")
        if week == 12:
            people.discard("p0")
        if week == 27:
            people.discard("new6")
        away = {sorted(people)[week % len(people)], sorted(people)[(week * 3) % len(people)]}
        pairing = pair_people(people, away=away, history=history, rng=rng)
        present = people - away
        check_cycle(pairing, present)
        if repeats(pairing, history):
            # A repeat only when every grouping of the people present would have one.
            assert not repeat_free_exists(sorted(present), met_pairs(history)), week
            forced += 1
        history.append(list(pairing.groups))
    assert forced > 0  # ten-odd people over a year cannot all stay strangers
    # Repeats are spread out: among those there all year, every pair met about equally often.
    counts = met_pairs(history)
    stayed = [f"p{i}" for i in range(1, 10)]
    spread = [counts[frozenset(p)] for p in combinations(stayed, 2)]
    assert max(spread) - min(spread) <= 2, sorted(spread)
