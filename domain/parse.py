"""The parse record: what one message means, in taxonomy ids.

The parse service (nlu/) produces it, the client (bot/process/nlu_client.py) carries it as JSON,
and the dialogue reads it. Plain data: no Rasa, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from domain.text import detect_language

# How many likely categories a report offers when the model is unsure.
CANDIDATES = 3
# The parse record's fields that the held-out sets check (`jalerte nlu eval`), and that the
# model's records keep figures for.
EVALUATED = (
    "intent",
    "is_report",
    "category",
    "sector",
    "operator",
    "operator_text",
    "user_type",
    "technology",
    "location",
)


class NluUnavailable(Exception):
    """The NLU could not answer (its service is down or restarting): nothing was parsed."""


@dataclass(frozen=True)
class ParseResult:
    """What a message means, in taxonomy ids (None where unknown)."""

    text: str
    intent: str | None
    confidence: float
    is_report: bool
    sector: str | None = None
    category: str | None = None
    operator: str | None = None
    operator_text: str | None = None
    user_type: str | None = None
    technology: str | None = None
    location: str | None = None
    language: str = "fr"
    # Probability of the category alone (`confidence` is that of the intent: for a
    # report, of all report intents together).
    category_confidence: float = 0.0
    # (intent, confidence) of the model's best guesses.
    ranking: tuple[tuple[str, float], ...] = field(default=())
    # The likely categories of a report, best first, with their probabilities: what the
    # dialogue offers when `category` is null (not confident enough to be given).
    category_candidates: tuple[tuple[str, float], ...] = field(default=())
    # A scam impersonating a brand: nobody's operator is at fault.
    scam: bool = False
    # Every operator named, in order: () when none is, (operator,) for one, several for
    # « ni Orange ni SFR » or « aucun opérateur ne capte » (then `operator` is null).
    operators: tuple[str, ...] = field(default=())
    # Every known operator named, with its relation to the complaint (current, former,
    # new, other): « j'étais chez SFR, Free coupe tous les soirs » → (sfr, former),
    # (free, current). `operator` is the one at fault.
    operator_roles: tuple[tuple[str, str], ...] = field(default=())
    # For a number-portability problem, the operator left (when it is not at fault).
    previous_operator: str | None = None
    # Other problems a sentence of a long message states clearly, besides `category`.
    other_categories: tuple[str, ...] = field(default=())

    CONTRACT_KEYS = (
        "text",
        "intent",
        "confidence",
        "is_report",
        "sector",
        "category",
        "operator",
        "operators",
        "operator_text",
        "user_type",
        "technology",
        "location",
    )

    def to_json(self) -> dict[str, Any]:
        """The `jalerte parse` record: the contract's keys, the candidates, then what the
        dialogue also reads (a scam's impersonated brand is no operator; the language)."""
        record = {k: getattr(self, k) for k in self.CONTRACT_KEYS}
        record["operators"] = list(self.operators)
        record["category_candidates"] = [
            {"category": c, "score": s} for c, s in self.category_candidates
        ]
        record["scam"] = self.scam
        record["language"] = self.language
        record["operator_roles"] = [{"operator": o, "role": r} for o, r in self.operator_roles]
        record["previous_operator"] = self.previous_operator
        record["other_categories"] = list(self.other_categories)
        return record

    @classmethod
    def from_json(cls, record: Mapping[str, Any]) -> "ParseResult":
        """The result a `to_json` record describes (what the parse service sends)."""
        candidates = tuple(
            (str(c["category"]), float(c["score"])) for c in record.get("category_candidates") or ()
        )
        category = record.get("category")
        optional: dict[str, Any] = {
            k: record.get(k)
            for k in cls.CONTRACT_KEYS
            if k not in ("text", "confidence", "is_report", "operators")
        }
        return cls(
            **optional,
            operators=tuple(str(o) for o in record.get("operators") or ()),
            text=str(record.get("text") or ""),
            confidence=float(record.get("confidence") or 0.0),
            is_report=bool(record.get("is_report")),
            language=str(record.get("language") or "fr"),
            category_confidence=dict(candidates).get(category, 0.0) if category else 0.0,
            category_candidates=candidates,
            scam=bool(record.get("scam")),
            operator_roles=tuple(
                (str(r["operator"]), str(r["role"])) for r in record.get("operator_roles") or ()
            ),
            previous_operator=record.get("previous_operator"),
            other_categories=tuple(str(c) for c in record.get("other_categories") or ()),
        )

    def category_choices(self, limit: int = CANDIDATES) -> list[str]:
        """The most likely report categories, best first (for 'did you mean…')."""
        return [c for c, _ in self.category_candidates][:limit]


def empty_result(text: str) -> ParseResult:
    return ParseResult(
        text=text, intent=None, confidence=0.0, is_report=False, language=detect_language(text)
    )
