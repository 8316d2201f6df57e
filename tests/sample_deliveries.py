"""Real replies of every delivery kind, made by the delivery runner for rituals due now."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlmodel import select

from bot.app import Core
from bot.events import ButtonPressed, CommandInvoked, Origin
from bot.replies import Reply
from rituals.schedule import Schedule
from rituals.walltime import to_wall
from storage.models import Community, FacilitatorPool, Member, Occurrence, Ritual


async def delivery_replies(core: Core, origin: Origin) -> list[Reply]:
    """Sets up two rituals in the community of `origin` (a meeting half an hour away whose
    facilitator has not confirmed, and a peer-mentoring cycle starting now), runs the
    deliveries due, an RSVP and `ritual remind #1`; the replies the commands answered with. What the
    runner posted reaches the outbox's registered platform."""
    now = core.clock.now()
    database = core.database
    async with database.session() as session:
        community = (
            await session.exec(select(Community).where(Community.channel_id == origin.channel))
        ).one()
        session.add(
            Member(
                community_id=community.id,
                user_id="carol",
                display_name="Carol <3",
                joined_at=now,
            )
        )
        rituals = []
        for number, (title, template, start, rotate) in enumerate(
            (
                ("Deep <dive> & *more*", "deep-dive", now + timedelta(minutes=30), True),
                ("Peer mentoring", "peer-mentoring", now - timedelta(minutes=1), False),
            ),
            start=1,
        ):
            wall = to_wall(start, ZoneInfo("Europe/Berlin")).replace(microsecond=0)
            schedule = Schedule(start=wall, zone="Europe/Berlin")
            ritual = Ritual(
                community_id=community.id,
                number=number,
                template=template,
                title=title,
                agenda="Frame the <topic>\nQuestions & answers",
                location="https://meet.example.org/a_b",
                schedule=schedule.to_json(),
                reminders=[60],
                rotate=rotate,
                uid=f"sample-{number}",
                created_by=origin.user,
                created_at=now - timedelta(days=10),
                updated_at=now - timedelta(days=10),
            )
            session.add(ritual)
            rituals.append(ritual)
        await session.flush()
        for user in ("bob", "carol"):
            session.add(FacilitatorPool(ritual_id=rituals[1].id, user_id=user, joined_at=now))
    await core.deliveries.plan_ahead()
    async with database.session() as session:
        meeting = (
            await session.exec(select(Occurrence).where(Occurrence.ritual_id == rituals[0].id))
        ).one()
        meeting.facilitator_id = "bob"
        session.add(meeting)
    await core.deliveries.run_due()
    answers = await core.router.handle(
        ButtonPressed(origin=origin, action="rsvp", value=f"{meeting.id} maybe")
    )
    steward = Origin(**{**origin.__dict__, "user": "bob"})
    answers += await core.router.handle(CommandInvoked(origin=steward, text="ritual remind #1"))
    return answers
