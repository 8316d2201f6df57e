"""`copbot demo`: seeds a realistic community by running real commands through the router."""

from __future__ import annotations

from dataclasses import dataclass

from bot.app import Core
from bot.events import CommandInvoked, Origin
from bot.replies import Reply

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

    async def run(user: str, text: str) -> list[Reply]:
        origin = Origin(
            platform=platform,
            workspace=workspace,
            channel=channel,
            channel_name=channel,
            user=user,
            user_name=user.capitalize(),
        )
        replies = await core.router.handle(CommandInvoked(origin=origin, text=text))
        problems.extend(
            f"{user}: {text}: {r.data.get('error', r.kind)}"
            for r in replies
            if r.kind in {"error", "oops"} and r.data.get("error") not in ALREADY_DONE
        )
        return replies

    await run(
        "alice",
        'setup "Data Science" kind=cop domain="Machine learning, statistics and '
        'analytics" mission="Share reusable patterns, review each other\'s work '
        'and grow new practitioners"',
    )
    for name, role, skills in DEMO_PEOPLE:
        if name != "alice":
            await run(name, "join")
        await run(name, f"skills {skills}")
        if role not in {"member", "steward"}:
            await run("alice", f"role <@{name}|{name.capitalize()}> {role}")
    return DemoResult(channel=channel, people=len(DEMO_PEOPLE), problems=tuple(problems))
