"""Frequent questions (dialogues/faq.yml), answered without leaving the report."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from domain.text import fold

FAQ_PATH = Path(__file__).with_name("faq.yml")
# A question: a question mark, or a first word that asks.
_QUESTION = re.compile(
    r"\?|^\W*(?:comment|pourquoi|que|qu.est|quel|quelle|quels|quelles|ou|est-ce|est ce|"
    r"peut-on|puis-je|pouvez-vous|c.est quoi|a quoi|ca sert|how|what|why|where|who|can|could|will|"
    r"is|are|do|does)\b"
)


@dataclass(frozen=True)
class Answer:
    id: str
    fr: str
    en: str

    def text(self, language: str) -> str:
        return self.en if language == "en" else self.fr


class Faq:
    def __init__(self, entries: list[tuple[Answer, tuple[re.Pattern[str], ...]]]):
        self._entries = entries

    @classmethod
    def load(cls, path: Path = FAQ_PATH) -> "Faq":
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        return cls(
            [
                (Answer(key, e["fr"], e["en"]), tuple(re.compile(p) for p in e["patterns"]))
                for key, e in raw.items()
            ]
        )

    @staticmethod
    def is_question(text: str) -> bool:
        return bool(_QUESTION.search(fold(text).strip()))

    def answer(self, text: str) -> Answer | None:
        """The answer to `text` if it asks one of the frequent questions."""
        folded = fold(text).strip()
        if not _QUESTION.search(folded):
            return None
        for answer, patterns in self._entries:
            if any(p.search(folded) for p in patterns):
                return answer
        return None
