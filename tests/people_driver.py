"""Realistic people played against the bot (tests/people/*.yml, by independent writers).

A person is a first message and the way they would answer each question, in their own
words. `play` sends the first message; whenever the bot asks for a field it sends that
person's answer; a question mid-way is sent once, the first time the bot asks
something; at the summary it sends the person's correction (once), then their
confirmation. A patient person who is asked the same question twice presses the
button that matches what they meant (or types the bare value), as the issue's hidden
people do. The outcome says what was saved, which fields are wrong, and which
questions came twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Awaitable, Callable

import re

import yaml

from dialogues.events import ChoiceEvent, TextEvent
from dialogues.slots import TECHNOLOGY_WORDS, first_reading
from domain.taxonomy import Taxonomy
from domain.text import fold

PEOPLE_DIR = Path(__file__).with_name("people")
TAXONOMY = Taxonomy.load()
CHECKED = (
    "category",
    "sector",
    "operator",
    "operators",
    "operator_text",
    "user_type",
    "technology",
    "location",
    "contacted_customer_service",
)
MAX_MESSAGES = 16
_NAME_WORDS = {
    "saint",
    "sainte",
    "st",
    "ste",
    "le",
    "la",
    "les",
    "sur",
    "en",
    "de",
    "du",
    "des",
    "l",
    "d",
    "sous",
    "lez",
    "les",
}


@dataclass
class Person:
    name: str
    writer: str
    first: str
    answers: dict[str, str]
    expect: dict[str, Any]
    confirm: str = "oui"
    question: str | None = None
    correction: str | None = None
    style: str = ""


@dataclass
class Outcome:
    person: Person
    saved: dict | None = None
    asked: list[str] = field(default_factory=list)
    repeated: list[str] = field(default_factory=list)
    messages: int = 0
    extra: int = 0  # of which the person's mid-way question and correction
    transcript: list[tuple[str, str]] = field(default_factory=list)
    problem: str | None = None  # the conversation went astray: how

    def said(self, name: str) -> bool:
        """Whether the person conveyed this field: place and technology are checked only
        when the bot asked for them or the person's own messages name them (writers gave
        every person an answer for every question, asked or not)."""
        if name not in ("location", "technology") or name in self.asked:
            return True
        meant = str(self.person.expect[name])
        sent = " ".join(fold(text) for who, text in self.transcript if who == "person")
        if name == "technology":
            # Only where it applies: the bot never asks it for a billing problem.
            asks = TAXONOMY.categories[self.person.expect["category"]].asks
            return "technology" in asks and first_reading(TECHNOLOGY_WORDS, sent) == meant
        tokens = [t for t in re.findall(r"[a-z0-9]+", fold(meant)) if t not in _NAME_WORDS]
        return any(re.search(rf"\b{t}", sent) for t in tokens)

    @property
    def wrong(self) -> dict[str, tuple[Any, Any]]:
        """Fields saved differently from what the person meant: {field: (meant, saved)}."""
        if self.saved is None:
            return {}
        wrong = {}
        for name in CHECKED:
            if name not in self.person.expect or not self.said(name):
                continue
            meant, got = self.person.expect[name], self.saved.get(name)
            if name == "operators":  # several operators: which ones, in any order
                ok = sorted(meant or []) == sorted(got or [])
            elif name in ("location", "operator_text"):
                # « Le Guilvinec » is the commune officially named « Guilvinec ».
                bare = re.sub(r"^(?:le|la|les|l')\s*", "", fold(str(meant))) if meant else ""
                ok = (
                    meant is None
                    and got is None
                    or (meant is not None and got is not None and bare in fold(got))
                )
            else:
                ok = meant == got
            if not ok:
                wrong[name] = (meant, got)
        return wrong

    @property
    def right(self) -> bool:
        return self.saved is not None and not self.wrong

    def story(self) -> str:
        lines = [f"{self.person.writer}/{self.person.name}: {self.problem or ''}"]
        lines += [f"  {who}: {text}" for who, text in self.transcript]
        if self.saved:
            lines.append(f"  wrong: {self.wrong}  repeated: {self.repeated}")
        return "\n".join(lines)


def load_people(directory: Path = PEOPLE_DIR) -> list[Person]:
    people = []
    for path in sorted(directory.glob("*.yml")):
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        for entry in raw["people"]:
            expect = dict(entry["expect"])
            if expect.get("operator_text") and "operator" not in expect:
                expect["operator"] = None
            people.append(
                Person(
                    name=entry["name"],
                    writer=str(raw["writer"]),
                    first=entry["first"],
                    answers=dict(entry["answers"]),
                    expect=expect,
                    confirm=entry.get("confirm") or "oui",
                    question=entry.get("question"),
                    correction=entry.get("correction"),
                    style=entry.get("style", ""),
                )
            )
    return people


def _button_for(person: Person, slot: str) -> ChoiceEvent | TextEvent | None:
    """What a patient person presses when a question comes back: the matching button."""
    meant = person.expect.get(slot)
    if slot == "operator":
        several = person.expect.get("operators") or []
        if len(several) > 1:  # the names, typed: « Orange et SFR »
            names = [TAXONOMY.operators[o].name for o in several]
            return TextEvent(", ".join(names[:-1]) + " et " + names[-1])
        if meant:
            return ChoiceEvent(f"operator:{meant}")
        return (
            ChoiceEvent("operator:unknown")
            if not person.expect.get("operator_text")
            else TextEvent(person.expect["operator_text"])
        )
    if slot == "technology":
        return ChoiceEvent(f"technology:{meant or 'unknown'}")
    if slot == "location":
        return TextEvent(meant) if meant else ChoiceEvent("location:skip")
    if slot in ("category", "sector", "user_type", "contacted_customer_service") and meant:
        return ChoiceEvent(f"{slot}:{meant}")
    return None


Send = Callable[[Any], Awaitable[Any]]


def values_of(out: Any) -> set[str]:
    return {c.value for r in out.replies for c in r.choices}


def _offered_match(person: Person, offered: set[str]) -> str | None:
    """The button, among those offered after a correction, that says what the person
    meant (« Facturation » when they meant billing), if any."""
    if any(v.startswith("confirm:") for v in offered):
        return None  # the summary again: the correction was taken
    for name, meant in person.expect.items():
        if isinstance(meant, str) and f"{name}:{meant}" in offered:
            return f"{name}:{meant}"
    return None


async def play(send: Send, person: Person) -> Outcome:
    outcome = Outcome(person)

    async def say(event) -> Any:
        outcome.messages += 1
        shown = event.text if isinstance(event, TextEvent) else f"[{event.value}]"
        outcome.transcript.append(("person", shown))
        out = await send(event)
        said = " / ".join(r.plain_text().replace("\n", " ")[:160] for r in out.replies)
        outcome.transcript.append((f"bot ({out.expecting})", said))
        return out

    out = await say(TextEvent(person.first))
    question_sent = correction_sent = False
    while outcome.messages < MAX_MESSAGES:
        if out.alert is not None:
            outcome.saved = out.alert
            return outcome
        slot = out.expecting
        values = {c.value for r in out.replies for c in r.choices}
        if slot is None:
            outcome.problem = "the bot dropped the report"
            return outcome
        if "cancel:yes" in values:
            outcome.problem = "the bot asked whether to cancel"
            return outcome
        if question_sent is False and person.question and slot != "confirmation":
            question_sent = True
            outcome.extra += 1
            after = await say(TextEvent(person.question))
            if after.expecting != slot:
                outcome.problem = f"the question moved the bot from {slot} to {after.expecting}"
            out = after
            continue
        if slot == "confirmation":
            if person.correction and not correction_sent:
                correction_sent = True
                outcome.extra += 1
                out = await say(TextEvent(person.correction))
                pressed = _offered_match(person, values_of(out))
                if pressed:
                    # « Que dois-je noter à la place ? » with the value meant as a button:
                    # the person presses it, as anyone would.
                    out = await say(ChoiceEvent(pressed))
                continue
            out = await say(TextEvent(person.confirm))
            if out.alert is None and out.expecting == "confirmation":
                outcome.repeated.append("confirmation")
                out = await say(ChoiceEvent("confirm:send"))
            continue
        if slot in outcome.asked:
            outcome.repeated.append(slot)
            event = _button_for(person, slot) or TextEvent(
                person.answers.get(slot, "je ne sais pas")
            )
        else:
            event = TextEvent(person.answers.get(slot) or "je ne sais pas")
        outcome.asked.append(slot)
        out = await say(event)
    outcome.problem = outcome.problem or "no alert after many messages"
    return outcome


def first_message_complete(person: Person) -> bool:
    """The first message names the place (when there is one) — writers were asked to give
    operator, problem and place in the first message for about a third of the people."""
    place = person.expect.get("location")
    operator = person.expect.get("operator") or person.expect.get("operator_text")
    first = fold(person.first)
    return bool(place and fold(place).split("-")[0] in first and operator)
