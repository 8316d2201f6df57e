"""copbot's Slack app manifest: the packaged Socket Mode file and its HTTP variant."""

from __future__ import annotations

import copy
from importlib import resources
from typing import Any
from urllib.parse import urlsplit

import yaml

MANIFEST_FILE = "manifest.yml"
EVENTS_PATH = "/slack/events"
OAUTH_REDIRECT_PATH = "/slack/oauth_redirect"


def load_manifest() -> dict[str, Any]:
    """The manifest shipped inside the package (Socket Mode, no request URLs)."""
    text = resources.files(__package__ or "adapters.slack").joinpath(MANIFEST_FILE).read_text()
    manifest = yaml.safe_load(text)
    if not isinstance(manifest, dict):
        raise ValueError(f"{MANIFEST_FILE} does not hold a mapping")
    return manifest


def manifest_for_url(base_url: str, manifest: dict[str, Any] | None = None) -> dict[str, Any]:
    """A copy of the manifest for HTTP mode: every request URL points at `base_url`/slack/events."""
    parts = urlsplit(base_url)
    if parts.scheme != "https" or not parts.netloc:
        # Slack refuses request URLs that are not HTTPS.
        raise ValueError(f"Slack needs an https:// base URL, got {base_url!r}")
    root = base_url.rstrip("/")
    events_url = root + EVENTS_PATH
    result = copy.deepcopy(manifest if manifest is not None else load_manifest())
    for command in result.get("features", {}).get("slash_commands", []):
        command["url"] = events_url
    settings = result.setdefault("settings", {})
    settings.setdefault("event_subscriptions", {})["request_url"] = events_url
    settings.setdefault("interactivity", {})["request_url"] = events_url
    settings["socket_mode_enabled"] = False
    result.setdefault("oauth_config", {})["redirect_urls"] = [root + OAUTH_REDIRECT_PATH]
    return result


def dump_manifest(manifest: dict[str, Any]) -> str:
    """The manifest as YAML, keys in the order they were given, ready to paste into Slack."""
    return yaml.safe_dump(manifest, sort_keys=False, allow_unicode=True, width=100)
