"""Plain data for reply templates, built from stored rows (templates never see rows)."""

from __future__ import annotations

from typing import Any

from bot.services.membership import Listing
from bot.vocabulary import KIND_LABELS, role_label, role_phrase
from storage.models import Community, Member


def user_data(user_id: str, name: str) -> dict[str, str]:
    return {"id": user_id, "name": name or user_id}


def member_data(member: Member, skills: tuple[str, ...] = ()) -> dict[str, Any]:
    return {
        **user_data(member.user_id, member.display_name),
        "role": member.role,
        "role_label": role_label(member.role),
        "role_phrase": role_phrase(member.role),
        "skills": list(skills),
    }


def listing_data(listing: Listing) -> dict[str, Any]:
    return {
        **user_data(listing.user_id, listing.display_name),
        "role": listing.role,
        "role_label": role_label(listing.role),
        "skills": list(listing.skills),
    }


def community_data(community: Community) -> dict[str, Any]:
    return {
        "id": community.id,
        "name": community.name,
        "kind": community.kind,
        "kind_label": KIND_LABELS.get(community.kind, community.kind),
        "domain": community.domain,
        "mission": community.mission,
        "channel": community.channel_id,
        "channel_name": community.channel_name or community.channel_id,
        "timezone": community.timezone,
    }
