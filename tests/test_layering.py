"""The core never imports a platform SDK; only adapters/ may."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CORE_PACKAGES = ("bot", "rituals", "storage", "messages")
PLATFORM_SDKS = ("slack_bolt", "slack_sdk", "botbuilder", "botframework")


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("package", CORE_PACKAGES)
def test_core_packages_do_not_import_platform_sdks(package: str) -> None:
    offenders = []
    for path in sorted((ROOT / package).rglob("*.py")):
        for name in imported_modules(path):
            if name.split(".")[0] in PLATFORM_SDKS:
                offenders.append(f"{path.relative_to(ROOT)} imports {name}")
    assert offenders == []


def test_loading_the_core_loads_no_platform_sdk() -> None:
    probe = (
        "import sys, bot.app, bot.router, copbot.cli, copbot.demo, storage.database, "
        "messages.rendering, rituals\n"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {PLATFORM_SDKS!r}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert result.stdout.strip() == "[]"


def test_the_layering_check_would_catch_a_leak(tmp_path: Path) -> None:
    leaky = tmp_path / "leaky.py"
    leaky.write_text("from slack_sdk.web.async_client import AsyncWebClient\n")
    assert "slack_sdk.web.async_client" in imported_modules(leaky)


def _imports_under(package: str) -> list[tuple[str, str]]:
    """Every (file, module) import in a package, lazy imports inside functions included."""
    found = []
    for path in sorted((ROOT / package).rglob("*.py")):
        for name in imported_modules(path):
            found.append((str(path.relative_to(ROOT)), name))
    return found


@pytest.mark.parametrize("package", CORE_PACKAGES)
def test_the_core_imports_no_adapter_and_not_the_entry_point(package: str) -> None:
    upward = [
        f"{path} imports {name}"
        for path, name in _imports_under(package)
        if name.split(".")[0] in ("adapters", "copbot")
    ]
    assert upward == []


@pytest.mark.parametrize("package", ("bot", "adapters", "storage", "messages", "copbot"))
def test_only_rituals_imports_apscheduler(package: str) -> None:
    leaks = [
        f"{path} imports {name}"
        for path, name in _imports_under(package)
        if name.split(".")[0] == "apscheduler"
    ]
    assert leaks == []


def test_adapters_import_no_entry_point() -> None:
    assert [n for _, n in _imports_under("adapters") if n.split(".")[0] == "copbot"] == []
