"""The bot's environment is at or above README's security floor, and holds no Rasa."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

from packaging.version import Version

README = Path(__file__).resolve().parent.parent / "README.md"
EXPECTED = {"aiohttp", "Pillow", "python-telegram-bot", "SQLAlchemy", "Jinja2", "cryptography"}


def floor_table() -> dict[str, Version]:
    """package → floor, from the README's « Security floor » table."""
    section = README.read_text(encoding="utf-8").split("## Security floor", 1)[1]
    section = section.split("\n## ", 1)[0]
    rows = re.findall(r"^\| ([A-Za-z0-9_.-]+) \| .+ \| ([0-9][0-9.]*) \|$", section, re.M)
    return {name: Version(floor) for name, floor in rows}


def test_the_table_covers_what_the_public_server_exposes() -> None:
    assert set(floor_table()) == EXPECTED


def test_installed_versions_are_at_or_above_the_floor() -> None:
    below = {
        name: (version(name), str(floor))
        for name, floor in floor_table().items()
        if Version(version(name)) < floor
    }
    assert below == {}, f"installed below the security floor: {below}"


def test_the_bot_runs_on_a_supported_python_without_rasa() -> None:
    assert sys.version_info >= (3, 12)
    for heavy in ("rasa", "tensorflow", "sanic"):
        assert importlib.util.find_spec(heavy) is None, heavy


def test_starting_the_bot_imports_no_rasa_and_prints_no_warning() -> None:
    """Everything `jalerte run` imports, in a fresh interpreter with warnings shown."""
    probe = (
        "import sys, bot.process.cli, bot.channels.web.app, bot.process.wiring, bot.channels.telegram, bot.console.views;"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('rasa', 'tensorflow', 'sanic', 'uvloop')))"
    )
    done = subprocess.run(
        [sys.executable, "-W", "default", "-c", probe],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert done.stdout.strip() == "[]"
    assert done.stderr == ""
