"""A conversation's state: plain data, saved as JSON after every turn."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from enum import Enum
from typing import Any

from domain.fields import EXPECTING


class Phase(str, Enum):
    IDLE = "idle"  # no report in progress
    COLLECTING = "collecting"  # asking for missing fields
    CONFIRMING = "confirming"  # summary shown, waiting for "send" or a correction
    CANCELLING = "cancelling"  # "really drop it?" asked
    RATING = "rating"  # alert saved, "was the advice useful?" asked


# What `expecting` may name (a field the bot asks for, or a step): the contract of
# `jalerte chat --json`, from the field registry.
__all__ = ["EXPECTING", "MAX_DESCRIPTION", "MAX_PHOTOS", "DialogueState", "Draft", "Phase"]
MAX_PHOTOS = 3
MAX_DESCRIPTION = 2000


@dataclass
class Draft:
    """The alert being built."""

    category: str | None = None
    sector: str | None = None
    operator: str | None = None
    operator_text: str | None = None
    # Several operators (a dead zone where none works): their ids, `operator` then None.
    operators: list[str] = field(default_factory=list)
    user_type: str | None = None
    technology: str | None = None
    location: str | None = None
    # The day the problem started (ISO, « 2026-11-16 »).
    started_on: str | None = None
    description: str = ""
    contacted_customer_service: str | None = None
    photos: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # optional fields the person skipped
    # Categories the model hesitated between, best first (for "did you mean…").
    category_guesses: list[str] = field(default_factory=list)
    # An operator's name typed that is also an ordinary word (« Nova », « Neuf »), asked
    # once « Vous parlez de l'opérateur « Nova » ? »; "" once the person chose to type
    # the name: the name typed next is taken as typed.
    operator_guess: str | None = None
    # A number not carried over when moving between operators: the one left (the alert's
    # `operator` is the one at fault). Kept only for a number-portability problem.
    previous_operator: str | None = None

    def add_description(self, text: str) -> None:
        text = text.strip()
        if text and text not in self.description:
            joined = f"{self.description}\n{text}" if self.description else text
            self.description = joined[:MAX_DESCRIPTION]

    def skip(self, slot: str) -> None:
        if slot not in self.skipped:
            self.skipped.append(slot)


@dataclass
class DialogueState:
    phase: Phase = Phase.IDLE
    language: str = "fr"
    expecting: str | None = None
    draft: Draft | None = None
    # After a correction the bot returns to the summary instead of asking further.
    correcting: bool = False
    # Where to go back to when the person says "no, don't cancel".
    resume_phase: Phase | None = None
    last_alert_id: str | None = None
    # The words that sent the last alert ("oui"): the same words again are not a rating.
    confirmed_with: str | None = None
    # [label, value] of the buttons last shown: typing a label presses its button.
    offered: list[list[str]] = field(default_factory=list)
    # Messages in a row that did not answer the question asked (`expecting`): the
    # question comes back once with what it expects, then the bot takes what it has.
    unread: int = 0

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["phase"] = self.phase.value
        data["resume_phase"] = self.resume_phase.value if self.resume_phase else None
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> "DialogueState":
        if not data:
            return cls()
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        values["phase"] = Phase(values.get("phase") or Phase.IDLE.value)
        if values.get("resume_phase"):
            values["resume_phase"] = Phase(values["resume_phase"])
        if values.get("draft") is not None:
            draft_fields = {f.name for f in fields(Draft)}
            values["draft"] = Draft(
                **{k: v for k, v in values["draft"].items() if k in draft_fields}
            )
        return cls(**values)
