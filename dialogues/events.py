"""What a person can send, whatever the channel."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Union


@dataclass(frozen=True)
class TextEvent:
    text: str


@dataclass(frozen=True)
class ChoiceEvent:
    """A button pressed: the `value` of a `Choice` the bot offered."""

    value: str


@dataclass(frozen=True)
class CommandEvent:
    """A command: start, help, cancel, new (channels map /aide, /annuler… onto these)."""

    name: str


@dataclass(frozen=True)
class PhotoEvent:
    """A picture, already checked and cleaned by the service: `photo` or `error` is set."""

    photo: dict[str, Any] | None = None  # StoredPhoto.to_dict()
    error: str | None = None  # PhotoRejected.reason


@dataclass(frozen=True)
class LocationEvent:
    latitude: float
    longitude: float


@dataclass(frozen=True)
class SharedEvent:
    """The person opened a share link (channels that can tell report it)."""

    network: str


@dataclass(frozen=True)
class UnsupportedEvent:
    """Anything else: a sticker, a voice note, a video…"""

    kind: str


Event = Union[
    TextEvent, ChoiceEvent, CommandEvent, PhotoEvent, LocationEvent, SharedEvent, UnsupportedEvent
]

# Command words people type, per language, mapped onto the commands.
COMMAND_ALIASES = {
    "start": "start",
    "demarrer": "start",
    "aide": "help",
    "help": "help",
    "annuler": "cancel",
    "cancel": "cancel",
    "nouveau": "new",
    "new": "new",
    "oublier": "forget",
    "oubliez-moi": "forget",
    "forget": "forget",
    "confidentialite": "privacy",
    "donnees": "privacy",
    "privacy": "privacy",
}


def command_from_text(text: str) -> CommandEvent | None:
    """'/aide', '/annuler@jalerte_bot'… as a command; None if not a known command."""
    stripped = text.strip()
    if not stripped.startswith("/"):
        return None
    word = stripped[1:].split()[0].split("@")[0].lower() if len(stripped) > 1 else ""
    name = COMMAND_ALIASES.get(word)
    return CommandEvent(name) if name else None
