"""The Teams app package: manifest fields, icon formats and the zip layout Teams accepts."""

from __future__ import annotations

import json
import re
import struct
import zipfile
import zlib
from pathlib import Path
from typing import Any

import pytest

from adapters.teams.package import (
    MANIFEST_VERSION,
    app_manifest,
    color_icon,
    outline_icon,
    write_package,
)

APP_ID = "9f1c2d3e-4b5a-4c6d-8e7f-1a2b3c4d5e6f"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAIN_COMMANDS = {
    "help",
    "setup",
    "about",
    "join",
    "leave",
    "members",
    "who",
    "skills",
    "communities",
    "menu",
}


def png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    assert data[:8] == PNG_SIGNATURE
    chunks, offset = [], 8
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        tag = data[offset + 4 : offset + 8]
        body = data[offset + 8 : offset + 8 + length]
        (crc,) = struct.unpack(">I", data[offset + 8 + length : offset + 12 + length])
        assert crc == zlib.crc32(tag + body) & 0xFFFFFFFF, tag
        chunks.append((tag, body))
        offset += 12 + length
    return chunks


def png_header(data: bytes) -> dict[str, int]:
    tag, body = png_chunks(data)[0]
    assert tag == b"IHDR"
    width, height, depth, color_type, _, _, interlace = struct.unpack(">IIBBBBB", body)
    return {
        "width": width,
        "height": height,
        "depth": depth,
        "color_type": color_type,
        "interlace": interlace,
    }


def rgba_pixels(data: bytes) -> list[tuple[int, int, int, int]]:
    """Decode an unfiltered 8-bit RGBA PNG, as outline_icon() writes it."""
    header = png_header(data)
    assert header["color_type"] == 6 and header["depth"] == 8
    raw = zlib.decompress(b"".join(body for tag, body in png_chunks(data) if tag == b"IDAT"))
    stride = 1 + header["width"] * 4
    pixels: list[tuple[int, int, int, int]] = []
    for y in range(header["height"]):
        row = raw[y * stride : (y + 1) * stride]
        assert row[0] == 0, "rows are written without a filter"
        for x in range(header["width"]):
            red, green, blue, alpha = row[1 + x * 4 : 5 + x * 4]
            pixels.append((red, green, blue, alpha))
    return pixels


@pytest.fixture
def manifest() -> dict[str, Any]:
    return app_manifest(APP_ID, base_url="https://copbot.example.org/api/messages")


def test_manifest_names_the_schema_and_the_app(manifest: dict[str, Any]) -> None:
    assert manifest["$schema"] == (
        f"https://developer.microsoft.com/json-schemas/teams/v{MANIFEST_VERSION}/"
        "MicrosoftTeams.schema.json"
    )
    assert manifest["manifestVersion"] == MANIFEST_VERSION
    assert tuple(int(part) for part in MANIFEST_VERSION.split(".")) >= (1, 17)
    assert manifest["id"] == APP_ID
    assert manifest["version"] == "1.0.0"
    assert manifest["name"]["short"] == "copbot"
    assert len(manifest["name"]["short"]) <= 30
    assert len(manifest["description"]["short"]) <= 80
    assert len(manifest["description"]["full"]) <= 4000
    assert re.fullmatch(r"#[0-9A-Fa-f]{6}", manifest["accentColor"])
    assert manifest["icons"] == {"color": "color.png", "outline": "outline.png"}


def test_developer_urls_are_https(manifest: dict[str, Any]) -> None:
    developer = manifest["developer"]
    assert developer["name"] == "copbot contributors"
    for key in ("websiteUrl", "privacyUrl", "termsOfUseUrl"):
        assert developer[key].startswith("https://"), key


def test_bot_is_conversational_in_every_scope(manifest: dict[str, Any]) -> None:
    [bot] = manifest["bots"]
    assert bot["botId"] == APP_ID
    assert bot["scopes"] == ["personal", "team", "groupChat"]
    assert bot["supportsFiles"] is False
    assert bot["isNotificationOnly"] is False
    lists = bot["commandLists"]
    assert sorted(scope for entry in lists for scope in entry["scopes"]) == sorted(bot["scopes"])
    for entry in lists:
        assert len(entry["commands"]) <= 10
        assert {command["title"] for command in entry["commands"]} == MAIN_COMMANDS
        for command in entry["commands"]:
            assert 0 < len(command["title"]) <= 32
            assert 0 < len(command["description"]) <= 128


def test_the_save_to_library_message_action(manifest: dict[str, Any]) -> None:
    [extension] = manifest["composeExtensions"]
    assert extension["botId"] == manifest["bots"][0]["botId"]
    [command] = extension["commands"]
    assert command["id"] == "saveToLibrary" and command["type"] == "action"
    assert command["context"] == ["message"] and command["fetchTask"] is True
    assert command["title"] == "Save to library" and command["description"]


def test_permissions_and_domains(manifest: dict[str, Any]) -> None:
    assert manifest["permissions"] == ["identity", "messageTeamMembers"]
    assert manifest["validDomains"] == ["copbot.example.org"]
    assert app_manifest(APP_ID)["validDomains"] == []


def test_name_and_version_are_passed_through() -> None:
    manifest = app_manifest(APP_ID, name="CoP helper", version="2.3.4")
    assert manifest["name"]["short"] == "CoP helper"
    assert manifest["version"] == "2.3.4"


@pytest.mark.parametrize(
    "app_id",
    ["", "copbot", "9f1c2d3e4b5a4c6d8e7f1a2b3c4d5e6f", "{9f1c2d3e-4b5a-4c6d-8e7f-1a2b3c4d5e6f}"],
)
def test_app_id_must_be_a_guid(app_id: str, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="GUID"):
        app_manifest(app_id)
    with pytest.raises(ValueError, match="GUID"):
        write_package(tmp_path / "copbot.zip", app_id)
    assert not (tmp_path / "copbot.zip").exists()


def test_upper_case_guid_is_accepted() -> None:
    assert app_manifest(APP_ID.upper())["id"] == APP_ID.upper()


@pytest.mark.parametrize("version", ["1.0", "v1.0.0", "1.0.0-beta", "01.0.0"])
def test_version_must_be_three_numbers(version: str) -> None:
    with pytest.raises(ValueError, match=r"MAJOR\.MINOR\.PATCH"):
        app_manifest(APP_ID, version=version)


def test_color_icon_is_192_square_and_opaque() -> None:
    header = png_header(color_icon())
    assert (header["width"], header["height"]) == (192, 192)
    assert header["depth"] == 8
    assert header["color_type"] in (2, 6)
    assert header["interlace"] == 0
    assert png_chunks(color_icon())[-1] == (b"IEND", b"")


def test_outline_icon_is_white_on_transparent() -> None:
    header = png_header(outline_icon())
    assert (header["width"], header["height"]) == (32, 32)
    assert header["color_type"] == 6
    pixels = rgba_pixels(outline_icon())
    assert len(pixels) == 32 * 32
    drawn = [pixel for pixel in pixels if pixel[3] != 0]
    assert all(pixel[:3] == (255, 255, 255) for pixel in drawn)
    assert 0.1 < len(drawn) / len(pixels) < 0.6, "the outline shows a shape, not a blank or a block"


def test_package_zip_holds_manifest_and_icons_at_the_root(tmp_path: Path) -> None:
    path = write_package(tmp_path / "copbot.zip", APP_ID, version="1.2.0")

    with zipfile.ZipFile(path) as archive:
        assert sorted(archive.namelist()) == ["color.png", "manifest.json", "outline.png"]
        manifest = json.loads(archive.read("manifest.json"))
        assert archive.read("color.png") == color_icon()
        assert archive.read("outline.png") == outline_icon()
    assert manifest == app_manifest(APP_ID, version="1.2.0")


def test_package_bytes_are_reproducible(tmp_path: Path) -> None:
    first = write_package(tmp_path / "a.zip", APP_ID).read_bytes()
    second = write_package(tmp_path / "b.zip", APP_ID).read_bytes()
    assert first == second
