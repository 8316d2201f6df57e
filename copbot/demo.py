"""`copbot demo`: seeds a realistic community by running real commands through the router.

Its rituals get a past too: the same commands run through a second core whose clock starts
some months back and walks forward meeting by meeting (facilitators confirm, a steward
records who came and answers each meeting's pulse, people share wins, kudos and resources), so
the history is what copbot itself would have written. Then polls of the present: one closed,
two open. Its last weeks hold warning signs for `stats`: fewer people at each show and tell,
and two newcomers who have not come to a meeting yet."""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import col, select

from bot.app import Core, build_core
from bot.clock import FixedClock
from bot.commands.pulses import PULSE_OPEN, pulse_draft
from bot.events import CommandInvoked, Origin
from bot.replies import Reply
from bot.router import Router
from storage.models import Poll

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
# How people answer a pulse (great, useful, meh, not useful): mostly well.
PULSE_WEIGHTS = (5, 4, 2, 1)
# Polls of the present: (author, poll command, votes as (voter, option)), closed at the end
# when `close` says so.
DEMO_POLLS: tuple[tuple[str, str, tuple[tuple[str, int], ...], bool], ...] = (
    (
        "alice",
        'poll "Which day suits the deep dive best?" "Tuesday" "Wednesday" "Thursday"',
        (("bob", 1), ("chen", 3), ("dana", 1), ("emeka", 2), ("gus", 1), ("lena", 3)),
        True,
    ),
    (
        "chen",
        'poll "Next deep-dive topic?" "Causal inference" "LLM evaluation" "Feature stores" '
        "closes=7d",
        (("alice", 2), ("dana", 2), ("fatima", 3), ("ivan", 2), ("jo", 1)),
        False,
    ),
    (
        "bob",
        'poll "Is the show and tell too long?" "Yes" "No" "About right" anonymous=yes closes=3d',
        (("dana", 3), ("hana", 3), ("gus", 1)),
        False,
    ),
)
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
        await _polls(core, run, platform=platform, workspace=workspace, channel=channel)
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
    pulsed = [i for i, m in enumerate(meetings) if _at(m["end"]) < core.clock.now()]
    shows = [i for i, m in enumerate(meetings) if m["ritual"]["number"] == 2]
    fading = dict(zip(shows[-len(FADING) :], FADING, strict=False))
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
        if index in pulsed:
            latest = index == pulsed[-1]
            await _pulse(past, meeting, came, rng, now=core.clock.now(), latest=latest)
        await _shared(then, index, came, rng)
    await core.feedback.polls.close_due()  # the older pulses have closed by now


async def _shared(then: Run, index: int, came: list[str], rng: random.Random) -> None:
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
    past: Core,
    meeting: dict[str, Any],
    came: list[str],
    rng: random.Random,
    *,
    now: datetime,
    latest: bool,
) -> None:
    """The meeting's pulse, as the delivery runner makes it, answered by those who came;
    the latest meeting's stays open for a while yet."""
    origin = Origin(platform="console", workspace="local", channel=DEMO_CHANNEL, user="alice")
    community, _ = await past.communities.where_and_who(origin)
    assert community is not None
    open_for = now + PULSE_OPEN - past.clock.now() if latest else PULSE_OPEN
    polls = past.feedback.polls
    poll = await polls.pulse(
        community, int(meeting["id"]), pulse_draft(meeting["ritual"]["title"], open_for=open_for)
    )
    for name in came:
        option = rng.choices(range(1, 5), weights=PULSE_WEIGHTS)[0]
        await polls.choose(poll, replace(origin, user=name), option)


async def _polls(core: Core, run: Run, *, platform: str, workspace: str, channel: str) -> None:
    """Polls of the present: one closed with its results, two open (one anonymous)."""
    origin = Origin(platform=platform, workspace=workspace, channel=channel, user="alice")
    community, _ = await core.communities.where_and_who(origin)
    assert community is not None
    for author, text, votes, close in DEMO_POLLS:
        await run(author, text)
        async with core.database.session() as session:
            number = (  # this community's newest: polls are numbered per community
                await session.exec(
                    select(Poll.number)
                    .where(Poll.community_id == community.id)
                    .order_by(col(Poll.number).desc())
                )
            ).first()
        for voter, option in votes:
            await run(voter, f"vote #{number} {option}")
        if close:
            await run(author, f"poll close #{number}")


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _who(meeting: dict[str, Any]) -> str | None:
    facilitator = meeting.get("facilitator")
    return None if facilitator is None else str(facilitator["id"])
