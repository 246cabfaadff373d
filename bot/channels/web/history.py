"""A conversation's transcript as the widget shows it after a reload."""

from __future__ import annotations

from typing import Any, Iterable

from storage.models import Message


def history(messages: Iterable[Message]) -> list[dict[str, Any]]:
    """User messages (a button as its label) and bot replies, oldest first."""
    items: list[dict[str, Any]] = []
    labels: dict[str, str] = {}
    for message in messages:
        if message.sender == "bot":
            reply = message.payload or {"type": "text", "text": message.text, "choices": []}
            labels.update({c["value"]: c["label"] for c in reply.get("choices", [])})
            items.append({"from": "bot", "reply": reply})
        elif message.kind == "choice":
            value = (message.payload or {}).get("value", "")
            items.append({"from": "user", "kind": "choice", "text": labels.get(value, value)})
        elif message.kind in ("text", "command"):
            items.append({"from": "user", "kind": message.kind, "text": message.text})
        elif message.kind in ("photo", "location"):
            items.append({"from": "user", "kind": message.kind, "text": None})
    return items
