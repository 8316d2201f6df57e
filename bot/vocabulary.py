"""The words of the domain in one place: roles, community kinds, field limits, form fields.

Services check against these, commands parse with them, reply data carries their labels
to the templates, and adapters size their form inputs from them."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from storage.models import CommunityKind, Role

# Roles in the order the directory lists them: `Role`'s own order, which the directory's
# index spells in SQL (storage.models.ROLE_RANK_SQL).
ROLES = tuple(Role)
ROLE_LABELS: Mapping[str, str] = MappingProxyType(
    {
        Role.STEWARD: "steward",
        Role.CORE: "core team",
        Role.MEMBER: "member",
        Role.SPONSOR: "sponsor",
    }
)
ROLE_PLURALS: Mapping[str, str] = MappingProxyType(
    {
        Role.STEWARD: "stewards",
        Role.CORE: "the core team",
        Role.MEMBER: "members",
        Role.SPONSOR: "sponsors",
    }
)
# How a sentence says someone holds a role: "@bob is now on the core team of DS".
ROLE_PHRASES: Mapping[str, str] = MappingProxyType(
    {
        Role.STEWARD: "a steward",
        Role.CORE: "on the core team",
        Role.MEMBER: "a member",
        Role.SPONSOR: "a sponsor",
    }
)
# What one person in a role is called when people are counted: "2 core team members".
ROLE_NOUNS: Mapping[str, str] = MappingProxyType(
    {
        Role.STEWARD: "steward",
        Role.CORE: "core team member",
        Role.MEMBER: "member",
        Role.SPONSOR: "sponsor",
    }
)
# What people may type for a role (`role @bob core`, `members stewards`).
ROLE_WORDS: Mapping[str, Role] = MappingProxyType(
    {
        **{str(role): role for role in ROLES},
        "stewards": Role.STEWARD,
        "members": Role.MEMBER,
        "sponsors": Role.SPONSOR,
    }
)

KINDS = tuple(CommunityKind)
KIND_LABELS: Mapping[str, str] = MappingProxyType(
    {
        CommunityKind.COP: "Community of Practice",
        CommunityKind.GUILD: "Guild",
        CommunityKind.ERG: "Employee Resource Group",
    }
)

# The charter's fields as the setup form shows them, and how long each may be.
SETUP_FIELDS = ("name", "kind", "domain", "mission")
SETUP_OPTIONS = (*SETUP_FIELDS, "timezone")  # the command also takes the community's zone
FIELD_LABELS: Mapping[str, str] = MappingProxyType(
    {"name": "Name", "kind": "Kind", "domain": "Domain", "mission": "Mission"}
)
FIELD_LIMITS: Mapping[str, int] = MappingProxyType({"name": 80, "domain": 300, "mission": 1000})

# The word that confirms a command asking first (`leave confirm`, `archive confirm`).
CONFIRM_WORD = "confirm"

SKILLS_MAX = 20
SKILL_LENGTH_MAX = 40

# Names platforms send, cut to the sizes of their columns in storage/models.py.
DISPLAY_NAME_MAX = 200
CHANNEL_NAME_MAX = 200


def role_label(role: str) -> str:
    """`core` -> `core team`; an unknown value is shown as it is."""
    return ROLE_LABELS.get(role, role)


def role_phrase(role: str) -> str:
    """`core` -> `on the core team`, `steward` -> `a steward`."""
    return ROLE_PHRASES.get(role, role)


# Reactions in the core's words: every platform has these (Teams names exactly these);
# adapters map their own names onto them (Slack `+1` and `thumbsup` are `like`), and any
# other emoji keeps its own name.
REACTIONS = ("like", "heart", "laugh", "surprised", "sad", "angry")

# The post-session pulse: its question and its options, best first. Analytics rely on the
# order: option 1 is the best, and a vote scores `PULSE_SCORE_TOP - option` (4 best .. 1 worst).
PULSE_QUESTION = "How was {title}?"
PULSE_OPTIONS = ("great", "useful", "meh", "not useful")
PULSE_SCORE_TOP = len(PULSE_OPTIONS) + 1

# The menu's buttons (`menu` in a direct message). `{ref}` is a ritual's `#N`; with several
# communities in one menu each label says which it acts in (`MENU_LABEL_IN`).
MENU_LABELS: Mapping[str, str] = MappingProxyType(
    {
        "schedule": "Schedule a ritual",
        "poll": "Start a poll",
        "rotation": "Rotation {ref}",
        "stats": "Health report",
        "roles": "Manage roles",
        "export": "Export",
        "volunteer": "Volunteer to facilitate {ref}",
    }
)
MENU_LABEL_IN = "{community}: {label}"
# The schedule-a-ritual form's fields, as `ritual add` takes them, and their labels.
RITUAL_FORM_FIELDS = ("template", "title", "schedule", "duration", "remind", "where", "rotate")
POLL_FORM_FIELDS = ("question", "options", "anonymous", "closes")
FORM_LABELS: Mapping[str, str] = MappingProxyType(
    {
        "template": "Template",
        "title": "Title",
        "schedule": "When",
        "duration": "Duration",
        "remind": "Reminders",
        "where": "Where",
        "rotate": "Rotate the facilitator",
        "question": "Question",
        "options": "Options, one per line",
        "anonymous": "Anonymous",
        "closes": "Closes after",
    }
)
