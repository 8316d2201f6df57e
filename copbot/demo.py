"""`copbot demo`: seeds a realistic community by running real commands through the router.

Its rituals get a past too: the same commands run through a second core whose clock starts
some months back and walks forward meeting by meeting (facilitators confirm, a steward
records who came, people share wins, kudos and resources), so the history is what copbot
itself would have written. Each meeting's pulse (a poll tied to it) is written as rows.
Its last weeks hold warning signs for `stats`: fewer people at each show and tell, and two
newcomers who have not come to a meeting yet."""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import col, select

from bot.app import Core, build_core
from bot.clock import FixedClock
from bot.events import CommandInvoked, Origin
from bot.replies import Reply
from bot.router import Router
from bot.services.anonymity import VoterKeys
from storage.models import Occurrence, Poll, PollVote, Ritual

DEMO_CHANNEL = "data-science"
DEMO_PEOPLE: tuple[tuple[str, str, str], ...] = (
    # name, role, expertise
    ("alice", "steward", "Python, forecasting, causal inference"),
    ("bob", "core", "SQL, dbt, data modelling"),
    ("chen", "core", "MLOps, Kubernetes, feature stores"),
    ("dana", "member", "NLP, transformers, evaluation"),
    ("emeka", "member", "Bayesian statistics, A/B testing, forecasting"),
    ("fatima", "member", "computer vision, PyTorch"),
    ("gus", "member", "Spark, data engineering, Airflow"),
    ("hana", "member", "visualisation, storytelling, Tableau"),
    ("ivan", "member", "recommender systems, Python"),
    ("jo", "member", "privacy, differential privacy, governance"),
    ("kai", "sponsor", "analytics strategy"),
    ("lena", "member", "time series, anomaly detection, forecasting"),
)


# The rituals, added by these people as the history begins.
DEMO_RITUALS: tuple[tuple[str, str], ...] = (
    ("alice", 'ritual add deep-dive "Monthly deep dive"'),
    ("bob", 'ritual add show-and-tell "Show and tell" every 2 weeks on thu at 16:00'),
    ("chen", 'ritual add office-hours where="https://meet.example.com/ds-office-hours"'),
)
HISTORY = timedelta(weeks=18)  # how far back the rituals' history begins
NEWCOMERS = ("mia", "noah")  # joined six weeks ago, and have not come to a meeting since
FADING = (7, 5, 4, 2)  # how many came to the last show and tells
DEMO_WINS = (
    "Our churn model is now used by the retention team",
    "Cut the nightly pipeline from 3 hours to 40 minutes",
    "First open-source release of our feature store helpers",
    "The forecasting notebook saved finance a week of work",
)
DEMO_RESOURCES = (
    ("https://scikit-learn.org/stable/modules/cross_validation.html", "Cross-validation", "#ml"),
    ("https://docs.getdbt.com/docs/build/data-tests", "dbt data tests", "#dbt"),
    ("https://otexts.com/fpp3/", "Forecasting: principles and practice", "#forecasting"),
    ("https://mlflow.org/docs/latest/index.html", "MLflow docs", "#mlops"),
    ("https://huggingface.co/docs/transformers/index", "Transformers docs", "#nlp"),
    ("https://www.tableau.com/learn/articles/data-visualization", "Visualisation basics", "#viz"),
)
PULSE_OPTIONS = ["great", "useful", "meh", "not useful"]  # the pulse poll's options
SEED = 20261128

# What a second run of the demo meets, and may pass over.
ALREADY_DONE = frozenset({"already_member", "already_has_role"})


@dataclass(frozen=True, kw_only=True)
class DemoResult:
    channel: str
    people: int
    problems: tuple[str, ...]


async def seed_demo(
    core: Core, *, platform: str = "console", workspace: str = "local", channel: str = DEMO_CHANNEL
) -> DemoResult:
    """Create the Data Science CoP with a dozen members, roles and expertise (idempotent)."""
    problems: list[str] = []

    async def run(user: str, text: str, *, router: Router | None = None) -> list[Reply]:
        origin = Origin(
            platform=platform,
            workspace=workspace,
            channel=channel,
            channel_name=channel,
            user=user,
            user_name=user.capitalize(),
        )
        replies = await (router or core.router).handle(CommandInvoked(origin=origin, text=text))
        problems.extend(
            f"{user}: {text}: {r.data.get('error', r.kind)}"
            for r in replies
            if r.kind in {"error", "oops"} and r.data.get("error") not in ALREADY_DONE
        )
        return replies

    # The community begins a week before its rituals' history, through a core whose clock
    # walks forward from then (a second run only finds it all done).
    clock = FixedClock(core.clock.now() - HISTORY - timedelta(weeks=1))
    past = build_core(core.settings, database=core.database, clock=clock)
    await run(
        "alice",
        'setup "Data Science" kind=cop domain="Machine learning, statistics and '
        'analytics" mission="Share reusable patterns, review each other\'s work '
        'and grow new practitioners"',
        router=past.router,
    )
    for name, role, skills in DEMO_PEOPLE:
        if name != "alice":
            await run(name, "join", router=past.router)
        await run(name, f"skills {skills}", router=past.router)
        if role not in {"member", "steward"}:
            await run("alice", f"role <@{name}|{name.capitalize()}> {role}", router=past.router)
    [listing] = await run("alice", "ritual list")
    if not listing.data.get("rituals"):
        clock.when = core.clock.now() - HISTORY
        await _ritual_history(core, past, clock, run)
    return DemoResult(channel=channel, people=len(DEMO_PEOPLE), problems=tuple(problems))


Run = Callable[..., Awaitable[list[Reply]]]


async def _ritual_history(core: Core, past: Core, clock: FixedClock, run: Run) -> None:
    """Add the rituals through `past` at its clock's time and live through their meetings
    until now."""
    since = clock.when

    async def then(user: str, text: str) -> list[Reply]:
        return await run(user, text, router=past.router)

    for user, text in DEMO_RITUALS:
        await then(user, text)
    await then("dana", "rotation #2 volunteer")
    await then("emeka", "rotation #1 volunteer")
    await then("emeka", "rotation #1 cofacilitator")
    away_from = (since + timedelta(weeks=6)).date()
    await then("chen", f"away {away_from} {away_from + timedelta(days=13)}")
    rng = random.Random(SEED)
    people = [name for name, role, _ in DEMO_PEOPLE if role != "sponsor"]
    [agenda] = await then("alice", "ritual next 50")
    meetings = [m for m in agenda.data["meetings"] if _at(m["start"]) < core.clock.now()]
    shows = [i for i, m in enumerate(meetings) if m["ritual"]["number"] == 2]
    fading = dict(zip(shows[-len(FADING) :], FADING, strict=False))
    keys = VoterKeys(core.database, _secret(core))
    joined = False
    for index, meeting in enumerate(meetings):
        number, day = meeting["ritual"]["number"], meeting["day"]
        clock.when = _at(meeting["start"]) - timedelta(days=1)
        if not joined and core.clock.now() - clock.when < timedelta(weeks=6):
            joined = True
            for name in NEWCOMERS:
                await then(name, "join")
        if meeting["rotate"]:
            [plan] = await then("alice", f"rotation #{number} 1")
            facilitator = _who(plan.data["meetings"][0])
            if facilitator is not None:
                verb = "skip" if index == 5 else "confirm"  # one facilitator cannot make it
                await then(facilitator, f"rotation #{number} {verb} {day}")
        clock.when = _at(meeting["end"]) + timedelta(hours=1)
        came = rng.sample(people, k=fading.get(index) or rng.randint(3, 7))
        mentions = " ".join(f"<@{name}|{name.capitalize()}>" for name in came)
        await then("alice", f"ritual attended #{number} {day} {mentions}")
        await _pulse(core, keys, number, _at(meeting["start"]), came, rng)
        await _shared(then, index, came, rng)


async def _shared(
    then: Callable[..., Awaitable[list[Reply]]], index: int, came: list[str], rng: random.Random
) -> None:
    """After some meetings, someone who came shares a win, thanks another, or a link."""
    who, other = rng.sample(came, k=2)
    if index % 3 == 0:
        await then(who, f'win "{DEMO_WINS[index // 3 % len(DEMO_WINS)]}"')
    if index % 2 == 1:
        await then(who, f'kudos <@{other}|{other.capitalize()}> "for the great questions"')
    if index % 4 == 2 and index // 4 < len(DEMO_RESOURCES):
        url, title, tag = DEMO_RESOURCES[index // 4]
        await then(who, f'share {url} "{title}" {tag}')


async def _pulse(
    core: Core,
    keys: VoterKeys,
    number: int,
    start: datetime,
    came: list[str],
    rng: random.Random,
) -> None:
    """The meeting's pulse: an anonymous poll tied to it, answered by most who came (kept as
    rows: the pulse is posted by the deliveries, which the demo does not run)."""
    async with core.database.session() as session:
        occurrence = (
            await session.exec(
                select(Occurrence)
                .join(Ritual, col(Ritual.id) == Occurrence.ritual_id)
                .where(Ritual.number == number, Occurrence.starts_at == start)
            )
        ).first()
        if occurrence is None or occurrence.id is None:
            return
        ritual = await session.get(Ritual, occurrence.ritual_id)
        assert ritual is not None
        latest = (
            await session.exec(
                select(Poll.number)
                .where(Poll.community_id == ritual.community_id)
                .order_by(col(Poll.number).desc())
            )
        ).first()
        poll = Poll(
            community_id=ritual.community_id,
            number=(latest or 0) + 1,
            question=ritual.title,
            options=PULSE_OPTIONS,
            anonymous=True,
            created_by="copbot",
            created_at=start + timedelta(minutes=ritual.duration_minutes),
            closes_at=start + timedelta(days=2),
            closed_at=start + timedelta(days=2),
            occurrence_id=occurrence.id,
        )
        session.add(poll)
        await session.flush()
        assert poll.id is not None
    voters = came[: max(1, len(came) - 1)]  # most who came answer
    votes = [
        PollVote(
            poll_id=poll.id,
            voter=await keys.voter(poll.id, person),
            option=rng.choices((1, 2, 3, 4), weights=(4, 5, 2, 1))[0],
            chosen=True,
            at=poll.created_at + timedelta(minutes=minute + 1),
        )
        for minute, person in enumerate(voters)
    ]
    async with core.database.session() as session:
        session.add_all(votes)


def _secret(core: Core) -> str | None:
    key = core.settings.secret_key
    return key.get_secret_value() if key else None


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _who(meeting: dict[str, Any]) -> str | None:
    facilitator = meeting.get("facilitator")
    return None if facilitator is None else str(facilitator["id"])
