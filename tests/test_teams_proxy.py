"""Teams connector calls go through the proxy the environment names, as `requests` sent them."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from adapters.teams.sending import _proxy_for_host, proxy_for


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    for name in list(os.environ):
        if name.lower().endswith("_proxy"):
            monkeypatch.delenv(name)
    _proxy_for_host.cache_clear()
    yield monkeypatch
    _proxy_for_host.cache_clear()


def test_calls_take_the_proxy_for_their_scheme_except_for_no_proxy_hosts(
    environment: pytest.MonkeyPatch,
) -> None:
    environment.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    environment.setenv("NO_PROXY", "127.0.0.1,localhost,.corp.example")
    assert proxy_for("https://smba.trafficmanager.net/amer/") == "http://proxy.internal:3128"
    assert proxy_for("http://127.0.0.1:3978/v3/conversations") is None
    assert proxy_for("https://bots.corp.example/v3/") is None
    assert proxy_for("http://smba.trafficmanager.net/amer/") is None  # no HTTP_PROXY named


def test_without_a_proxy_in_the_environment_calls_go_direct(
    environment: pytest.MonkeyPatch,
) -> None:
    assert proxy_for("https://smba.trafficmanager.net/amer/") is None
