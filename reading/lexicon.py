"""Spellings and keywords from reading/lexicon.yml, and the matchers built on them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

import yaml

from domain.taxonomy import Taxonomy
from domain.text import fold

LEXICON_PATH = Path(__file__).with_name("lexicon.yml")
# The training examples (nlu/data/, read as data: no import of nlu): their words are the
# ordinary words that the typo-tolerant readers never take for an operator.
EXAMPLES_DIR = Path(__file__).resolve().parent.parent / "nlu" / "data"
_OPERATOR_SPAN = re.compile(r"\[[^\]]*\]\(operator\)")
_ANNOTATION = re.compile(r"\[([^\]]*)\]\([a-z_]+\)")
_WORD = re.compile(r"[a-z0-9]+")


def training_vocabulary(directory: Path = EXAMPLES_DIR) -> frozenset[str]:
    """The words of the training examples outside operator spans: ordinary words. A word
    always written with a capital inside a sentence there is a name (« Alsatis », a small
    operator left unannotated because the taxonomy does not list it), not an ordinary
    word; a capital at a sentence's start tells nothing."""
    vocabulary: set[str] = set()
    for path in sorted(directory.glob("*.yml")):
        for block in yaml.safe_load(path.read_text(encoding="utf-8")).get("nlu", []):
            for line in str(block.get("examples", "")).splitlines():
                line = _ANNOTATION.sub(r"\1", _OPERATOR_SPAN.sub(" ", line))
                line = line.strip().removeprefix("- ")
                vocabulary.update(
                    word
                    for found in _CASED_WORD.finditer(line)
                    if not found.group(0)[0].isupper()
                    or _SENTENCE_START.search(line[: found.start()])
                    for word in _WORD.findall(fold(found.group(0)))
                )
    return frozenset(vocabulary)


_CASED_WORD = re.compile(r"[^\W_]+")
# A capital that only opens a sentence (« Euh, je sais plus ») says nothing of a name.
_SENTENCE_START = re.compile(r"(?:^|[.!?…]\s*)\W*$")


@dataclass(frozen=True)
class Match:
    start: int
    end: int
    value: str  # taxonomy id (or the commune as written)
    surface: str  # the text as the person wrote it


class PhraseMatcher:
    """Finds known phrases in a text, accent- and case-insensitively, longest first."""

    def __init__(self, phrases: Mapping[str, str]):
        self._values = {fold(p).strip(): v for p, v in phrases.items() if p.strip()}
        alternatives = sorted(self._values, key=len, reverse=True)
        body = "|".join(re.escape(a) for a in alternatives)
        self._pattern = re.compile(rf"(?<![\w&+-])(?:{body})(?![^\W_]|[&+]|-\w)")

    def find(self, text: str) -> list[Match]:
        folded = fold(text)
        return [
            Match(m.start(), m.end(), self._values[m.group(0)], text[m.start() : m.end()])
            for m in self._pattern.finditer(folded)
        ]


@dataclass(frozen=True)
class Lexicon:
    operator_spellings: Mapping[str, str]  # spelling -> operator id
    technology_spellings: Mapping[str, str]  # spelling -> technology id
    user_type_patterns: Mapping[str, tuple[re.Pattern[str], ...]]
    sector_hints: Mapping[str, tuple[str, ...]]
    communes: tuple[str, ...]
    english_homographs: frozenset[str]
    service_numbers: Mapping[str, str]  # number as written -> operator id
    ordinary_words: frozenset[str]
    fuzzy_min_length: int
    mail_words: tuple[str, ...]
    parcel_words: tuple[str, ...]
    scam_words: tuple[str, ...]
    scam_channels: tuple[str, ...]
    other_companies: tuple[str, ...]

    @classmethod
    def load(cls, taxonomy: Taxonomy, path: Path = LEXICON_PATH) -> "Lexicon":
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        ambiguous = {fold(b) for b in raw.get("ambiguous_brands", [])}
        spellings: dict[str, str] = {}
        for op in taxonomy.operators.values():
            for name in (op.name, *op.brands):
                if fold(name) not in ambiguous:
                    spellings[name] = op.id
        for op_id, aliases in raw["operator_aliases"].items():
            if op_id not in taxonomy.operators:
                raise ValueError(f"lexicon.yml: unknown operator id {op_id!r}")
            for alias in aliases:
                spellings[str(alias)] = op_id
        technologies: dict[str, str] = {}
        for tech, aliases in raw["technologies"].items():
            if str(tech) not in taxonomy.technologies:
                raise ValueError(f"lexicon.yml: unknown technology id {tech!r}")
            for alias in aliases:
                technologies[str(alias)] = str(tech)
        patterns = {
            ut: tuple(re.compile(p) for p in pats) for ut, pats in raw["user_types"].items()
        }
        numbers: dict[str, str] = {}
        for op_id, values in raw["service_numbers"].items():
            if op_id not in taxonomy.operators:
                raise ValueError(f"lexicon.yml: unknown operator id {op_id!r}")
            numbers.update({str(n): op_id for n in values})
        for ut in patterns:
            if ut not in taxonomy.user_types:
                raise ValueError(f"lexicon.yml: unknown user type {ut!r}")
        return cls(
            operator_spellings=spellings,
            technology_spellings=technologies,
            user_type_patterns=patterns,
            sector_hints={s: tuple(fold(w) for w in ws) for s, ws in raw["sector_hints"].items()},
            communes=tuple(raw["communes"]),
            english_homographs=frozenset(fold(w) for w in raw["english_homographs"]),
            service_numbers=numbers,
            ordinary_words=frozenset(fold(str(w)) for w in raw["ordinary_words"])
            | training_vocabulary(),
            fuzzy_min_length=int(raw["fuzzy_min_length"]),
            mail_words=tuple(fold(str(w)) for w in raw["mail_words"]),
            parcel_words=tuple(fold(str(w)) for w in raw["parcel_words"]),
            scam_words=tuple(fold(str(w)) for w in raw["scam_words"]),
            scam_channels=tuple(fold(str(w)) for w in raw["scam_channels"]),
            other_companies=tuple(fold(str(w)) for w in raw["other_companies"]),
        )
