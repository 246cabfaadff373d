"""`jalerte chat`: the bot in the terminal, interactive or one JSON event per line."""

from __future__ import annotations

import getpass
import json
import sys
from pathlib import Path
from typing import Any, BinaryIO, TextIO

from bot.process.config import Config
from bot.process.wiring import runtime
from dialogues.events import ChoiceEvent, CommandEvent, Event, LocationEvent, TextEvent
from dialogues.replies import render_plain
from dialogues.service import IncomingPhoto, TurnOutput
from storage.photos import MAX_BYTES

CHANNEL = "cli"


def read_photo(path: str) -> IncomingPhoto:
    """The file's bytes, never more than the size limit + 1 (so that too big is told)."""
    try:
        with open(Path(path).expanduser(), "rb") as fh:
            return IncomingPhoto(fh.read(MAX_BYTES + 1), Path(path).name)
    except OSError:
        return IncomingPhoto(b"", Path(path).name)


def event_from_json_line(line: str) -> Event | IncomingPhoto:
    """Plain text, or {"choice": v}, {"photo": path}, {"location": [lat, lon]}, {"command": c}."""
    stripped = line.strip()
    if stripped.startswith("{"):
        try:
            data: Any = json.loads(stripped)
        except ValueError:
            data = None
        if isinstance(data, dict):
            if isinstance(data.get("choice"), str):
                return ChoiceEvent(data["choice"])
            if isinstance(data.get("photo"), str):
                return read_photo(data["photo"])
            if isinstance(data.get("command"), str):
                return CommandEvent(data["command"])
            loc = data.get("location")
            if (
                isinstance(loc, list)
                and len(loc) == 2
                and all(isinstance(v, (int, float)) for v in loc)
            ):
                return LocationEvent(float(loc[0]), float(loc[1]))
            if isinstance(data.get("text"), str):
                return TextEvent(data["text"])
    return TextEvent(line.rstrip("\r\n"))


async def chat_json(config: Config, source: BinaryIO, out: TextIO, user: str) -> None:
    """One JSON object out per line in, flushed; logs go to stderr."""
    async with runtime(config) as rt:
        for raw in iter(source.readline, b""):
            line = raw.decode("utf-8", errors="replace")
            output = await rt.service.handle(CHANNEL, user, event_from_json_line(line))
            out.write(json.dumps(output.to_json(), ensure_ascii=False) + "\n")
            out.flush()


async def chat_interactive(config: Config, user: str | None) -> None:
    user = user or getpass.getuser()
    async with runtime(config) as rt:
        output = await rt.service.handle(CHANNEL, user, CommandEvent("start"))
        _show(output)
        print(
            "(Tapez le numéro d'un choix, « /photo chemin » pour joindre une photo, "
            "Ctrl-D pour quitter.)",
            file=sys.stderr,
        )
        while True:
            try:
                line = input("> ")
            except (EOFError, KeyboardInterrupt):
                print()
                return
            event = _interactive_event(line, output)
            output = await rt.service.handle(CHANNEL, user, event)
            _show(output)


def _interactive_event(line: str, last: TurnOutput) -> Event | IncomingPhoto:
    stripped = line.strip()
    if stripped.startswith("/photo "):
        return read_photo(stripped[len("/photo ") :].strip())
    choices = [c for r in last.replies for c in r.choices]
    if stripped.isdigit() and 1 <= int(stripped) <= len(choices):
        return ChoiceEvent(choices[int(stripped) - 1].value)
    return TextEvent(line)


def _show(output: TurnOutput) -> None:
    print()
    print(render_plain(output.replies))
    print()
