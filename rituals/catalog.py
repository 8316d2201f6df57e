"""The ritual templates a community can start from, and finding one by name."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from datetime import timedelta

from bot.errors import UserError


@dataclass(frozen=True, kw_only=True)
class RitualTemplate:
    """A kind of ritual: its defaults (title, length, cadence as a schedule phrase without a
    zone) and what the bot does around it (an agenda to post, a facilitator to rotate, people
    to pair)."""

    key: str
    aliases: tuple[str, ...]
    title: str
    duration: timedelta
    cadence: str
    agenda: tuple[str, ...]
    rotates_facilitator: bool
    pairs_people: bool = False


CATALOG: tuple[RitualTemplate, ...] = (
    RitualTemplate(
        key="deep-dive",
        aliases=("deepdive", "dive", "deep-dives"),
        title="Monthly deep dive",
        duration=timedelta(minutes=60),
        cadence="every month on first tue at 15:00",
        agenda=(
            "The facilitator frames one topic and why it matters to the community (5 min)",
            "Walk-through of the topic in depth, with examples from real work (30 min)",
            "Questions and discussion (20 min)",
            "What we take away, and a volunteer for next month's topic (5 min)",
        ),
        rotates_facilitator=True,
    ),
    RitualTemplate(
        key="show-and-tell",
        aliases=("show-tell", "show", "demo", "demos", "show-and-share"),
        title="Show and tell",
        duration=timedelta(minutes=45),
        cadence="every 2 weeks on thu at 16:00",
        agenda=(
            "Three or four people each show something they made, found or learned (5 min each)",
            "Questions after each one",
            "Sign-ups for next time",
        ),
        rotates_facilitator=True,
    ),
    RitualTemplate(
        key="peer-mentoring",
        aliases=("mentoring", "peer-mentors", "pairs", "pairing", "buddies"),
        title="Peer mentoring",
        duration=timedelta(minutes=30),
        cadence="every 2 weeks on mon at 10:00",
        agenda=(
            "Meet your partner for this cycle at a time that suits you both",
            "Each of you brings one question you are stuck on or one goal",
            "Share one thing you learned with the community afterwards, if you like",
        ),
        rotates_facilitator=False,
        pairs_people=True,
    ),
    RitualTemplate(
        key="case-study",
        aliases=("case", "case-studies", "casestudy", "retro"),
        title="Case study",
        duration=timedelta(minutes=60),
        cadence="every month on third wed at 15:00",
        agenda=(
            "The facilitator presents a real project: context, decisions, outcome (15 min)",
            "Small groups: what would you have done differently? (20 min)",
            "Groups report back (15 min)",
            "Lessons worth writing down for the community (10 min)",
        ),
        rotates_facilitator=True,
    ),
    RitualTemplate(
        key="problem-solving",
        aliases=("problem-solving-circle", "circle", "troubleshooting", "problems"),
        title="Problem-solving circle",
        duration=timedelta(minutes=45),
        cadence="every week on wed at 11:00",
        agenda=(
            "One person describes a problem they are facing (5 min)",
            "Clarifying questions only (5 min)",
            "The circle offers ideas while the owner listens (20 min)",
            "The owner says what they will try next (5 min)",
        ),
        rotates_facilitator=True,
    ),
    RitualTemplate(
        key="office-hours",
        aliases=("office-hour", "officehours", "drop-in", "ask-us"),
        title="Office hours",
        duration=timedelta(minutes=60),
        cadence="every week on fri at 14:00",
        agenda=(
            "Drop in with any question about our practice; no agenda, no slides",
            "Post your question in the thread beforehand if you want it answered first",
        ),
        rotates_facilitator=False,
    ),
    RitualTemplate(
        key="fireside-chat",
        aliases=("fireside", "expert-chat", "ask-the-expert", "ama", "guest"),
        title="Fireside chat with an expert",
        duration=timedelta(minutes=60),
        cadence="every month on last thu at 17:00",
        agenda=(
            "The host introduces the guest and why we invited them (5 min)",
            "A conversation between host and guest (25 min)",
            "Questions from the community (25 min)",
            "Thanks, and where to follow up (5 min)",
        ),
        rotates_facilitator=False,
    ),
)


def _normalise(name: str) -> str:
    return "-".join(name.lower().replace("_", " ").replace("-", " ").split())


def _names() -> dict[str, RitualTemplate]:
    names: dict[str, RitualTemplate] = {}
    for template in CATALOG:
        for name in (template.key, *template.aliases):
            names[_normalise(name)] = template
    return names


def find_template(name: str) -> RitualTemplate:
    """The template called `name` (its key or an alias, any case, spaces or hyphens).

    Refuses with the closest keys ("did you mean") and the list of keys."""
    names = _names()
    wanted = _normalise(name)
    if wanted in names:
        return names[wanted]
    close = difflib.get_close_matches(wanted, list(names), n=5, cutoff=0.6)
    suggestions = list(dict.fromkeys(names[match].key for match in close))[:3]
    raise UserError(
        "ritual_unknown",
        name=name.strip(),
        suggestions=suggestions,
        known=[template.key for template in CATALOG],
    )
