"""`.env.example` lists every variable the server reads, and only those (issue 18, item 4).

The code is read as text: a variable read anywhere in bot/, storage/, nlu/ or dialogues/
is named there in full (never assembled from pieces, which no reader could find)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NAME = re.compile(r"JALERTE_[A-Z0-9_]*[A-Z0-9]\b")
# Set by jalerte itself, never by whoever runs it.
INTERNAL = {"JALERTE_WORKER": "each worker's number, set by `jalerte run --workers N`"}


def read_by_the_code() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for package in ("bot", "storage", "nlu", "dialogues"):
        for path in (ROOT / package).rglob("*.py"):
            for name in NAME.findall(path.read_text(encoding="utf-8")):
                found.setdefault(name, set()).add(str(path.relative_to(ROOT)))
    return found


def listed() -> dict[str, str]:
    """Each variable of .env.example and the comment just above it."""
    names: dict[str, str] = {}
    comment: list[str] = []
    for line in (ROOT / ".env.example").read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            comment.append(line)
        elif match := re.match(r"(JALERTE_[A-Z0-9_]+)=", line):
            names[match.group(1)] = " ".join(comment)
            comment = []  # each variable its own comment
        else:
            comment = []
    return names


def test_no_variable_name_is_assembled_from_pieces() -> None:
    for package in ("bot", "storage", "nlu", "dialogues"):
        for path in (ROOT / package).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            assert not re.search(r"JALERTE_[A-Z0-9_]*_?\{", text), path  # f"JALERTE_{x}"
            assert not re.search(r"[\"']JALERTE_[A-Z0-9_]*_[\"']", text), path  # "JALERTE_WEB_" +


def test_every_variable_the_server_reads_is_in_env_example() -> None:
    missing = {
        name: sorted(where)
        for name, where in read_by_the_code().items()
        if name not in listed() and name not in INTERNAL
    }
    assert not missing, f"add these to .env.example, with a comment: {missing}"


def test_env_example_lists_nothing_the_server_does_not_read() -> None:
    stale = set(listed()) - set(read_by_the_code())
    assert not stale, f"no code reads these any more: {sorted(stale)}"


def test_every_variable_is_explained() -> None:
    unexplained = [name for name, comment in listed().items() if not comment]
    assert not unexplained, unexplained
