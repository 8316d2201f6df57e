"""Build the Teams app package (manifest.json and two icons in a zip) that installs copbot."""

from __future__ import annotations

import json
import math
import re
import struct
import zipfile
import zlib
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from messages.commands import command_texts

# The message action "Save to library"; its invokes carry this as `commandId`.
SAVE_COMMAND = "saveToLibrary"

MANIFEST_VERSION = "1.22"
SCHEMA_URL = (
    f"https://developer.microsoft.com/json-schemas/teams/v{MANIFEST_VERSION}/"
    "MicrosoftTeams.schema.json"
)
PROJECT_URL = "https://github.com/copbot/copbot"
ACCENT_COLOR = "#1F7A8C"
SCOPES = ("personal", "team", "groupChat")
COLOR_ICON_SIZE = 192
OUTLINE_ICON_SIZE = 32

_GUID = re.compile(r"^[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
_SEMVER = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$")
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # fixed, so the same inputs give the same zip bytes


def app_manifest(
    app_id: str,
    *,
    name: str = "copbot",
    version: str = "1.0.0",
    base_url: str | None = None,
) -> dict[str, Any]:
    """The manifest.json content for a bot registered under ``app_id`` (a Microsoft App ID)."""
    _check_app_id(app_id)
    if not _SEMVER.match(version):
        raise ValueError(f"Teams needs the app version as MAJOR.MINOR.PATCH, got {version!r}")
    if not 0 < len(name) <= 30:
        raise ValueError(f"Teams needs a short app name of 1 to 30 characters, got {name!r}")
    # Teams shows a command's description in a menu, 128 characters at most.
    commands = [
        {"title": text.name, "description": text.summary[:128]}
        for text in command_texts().values()
        if text.teams
    ]
    return {
        "$schema": SCHEMA_URL,
        "manifestVersion": MANIFEST_VERSION,
        "version": version,
        "id": app_id,
        "developer": {
            "name": "copbot contributors",
            "websiteUrl": PROJECT_URL,
            "privacyUrl": f"{PROJECT_URL}/blob/main/PRIVACY.md",
            "termsOfUseUrl": f"{PROJECT_URL}/blob/main/LICENSE",
        },
        "name": {"short": name, "full": f"{name}: a helper for Communities of Practice"},
        "description": {
            "short": "Keeps your Community of Practice connected and active",
            "full": (
                "copbot helps a Community of Practice run itself: members join and find "
                "colleagues by skill; rituals such as deep dives and office hours get reminders, "
                "RSVPs and a fair facilitator rotation; polls and a pulse after each session "
                "gather feedback; a library keeps what the community learns; stewards see the "
                "community's health and get a menu of what needs them."
            ),
        },
        "icons": {"color": "color.png", "outline": "outline.png"},
        "accentColor": ACCENT_COLOR,
        "bots": [
            {
                "botId": app_id,
                "scopes": list(SCOPES),
                "supportsFiles": False,
                "isNotificationOnly": False,
                "commandLists": [
                    {"scopes": [scope], "commands": [dict(command) for command in commands]}
                    for scope in SCOPES
                ],
            }
        ],
        "composeExtensions": [
            {
                "botId": app_id,
                "commands": [
                    {
                        "id": SAVE_COMMAND,
                        "type": "action",
                        "context": ["message"],
                        "fetchTask": True,
                        "title": "Save to library",
                        "description": "Draft a library entry from this message",
                    }
                ],
            }
        ],
        "permissions": ["identity", "messageTeamMembers"],
        "validDomains": _valid_domains(base_url),
    }


def write_package(
    path: str | Path,
    app_id: str,
    *,
    name: str = "copbot",
    version: str = "1.0.0",
    base_url: str | None = None,
) -> Path:
    """Write the app package zip to ``path``, ready to upload to Teams, and return its path."""
    manifest = app_manifest(app_id, name=name, version=version, base_url=base_url)
    target = Path(path)
    files = {
        "manifest.json": json.dumps(manifest, indent=2).encode() + b"\n",
        "color.png": color_icon(),
        "outline.png": outline_icon(),
    }
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for member, content in files.items():
            info = zipfile.ZipInfo(member, date_time=_ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, content)
    return target


@cache
def color_icon() -> bytes:
    """A 192x192 RGB PNG: a white "C" ring on the accent color, as Teams' color icon."""
    size = COLOR_ICON_SIZE
    background = _hex_rgb(ACCENT_COLOR)
    inside = _c_shape(size, outer=0.30, inner=0.19)
    samples = 3  # supersampling per axis, to smooth the ring's edges
    rows = []
    for y in range(size):
        row = bytearray()
        for x in range(size):
            hits = sum(
                inside(x + (i + 0.5) / samples, y + (j + 0.5) / samples)
                for i in range(samples)
                for j in range(samples)
            )
            cover = hits / (samples * samples)
            row += bytes(round(c + (255 - c) * cover) for c in background)
        rows.append(bytes(row))
    return _png(size, size, color_type=2, rows=rows)


@cache
def outline_icon() -> bytes:
    """A 32x32 RGBA PNG: the same "C" in white on a transparent background, as Teams requires."""
    size = OUTLINE_ICON_SIZE
    inside = _c_shape(size, outer=0.42, inner=0.25)
    rows = []
    for y in range(size):
        row = bytearray()
        for x in range(size):
            row += b"\xff\xff\xff\xff" if inside(x + 0.5, y + 0.5) else b"\x00\x00\x00\x00"
        rows.append(bytes(row))
    return _png(size, size, color_type=6, rows=rows)


def _check_app_id(app_id: str) -> None:
    if not _GUID.match(app_id):
        raise ValueError(
            "The Teams app id must be the bot's Microsoft App ID, a GUID such as "
            f"'00000000-0000-0000-0000-000000000000'; got {app_id!r}"
        )


def _valid_domains(base_url: str | None) -> list[str]:
    if base_url is None:
        return []
    host = urlsplit(base_url).netloc
    if not host:
        raise ValueError(
            f"base_url must be an absolute URL like https://bot.example.org: {base_url!r}"
        )
    return [host]


def _c_shape(size: int, *, outer: float, inner: float) -> Callable[[float, float], bool]:
    """A ring centered in a size x size square, open towards the right like a letter C."""
    center = size / 2
    outer_radius, inner_radius = outer * size, inner * size
    opening = math.radians(40)

    def inside(x: float, y: float) -> bool:
        dx, dy = x - center, y - center
        if not inner_radius <= math.hypot(dx, dy) <= outer_radius:
            return False
        return abs(math.atan2(dy, dx)) > opening

    return inside


def _hex_rgb(color: str) -> tuple[int, int, int]:
    return int(color[1:3], 16), int(color[3:5], 16), int(color[5:7], 16)


def _png(width: int, height: int, *, color_type: int, rows: list[bytes]) -> bytes:
    """Encode 8-bit rows (RGB for color type 2, RGBA for 6) as a PNG, no filtering."""

    def chunk(tag: bytes, data: bytes) -> bytes:
        checksum = zlib.crc32(tag + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", checksum)

    header = struct.pack(">IIBBBBB", width, height, 8, color_type, 0, 0, 0)
    pixels = b"".join(b"\x00" + row for row in rows)  # filter type 0 before each row
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(pixels, 9))
        + chunk(b"IEND", b"")
    )
