"""Finds the operators a message names, as people write them.

Exact spellings from the lexicon first (longest phrase wins), then the forms an exact
list cannot hold: letters spaced out ("S F R"), customer-service numbers ("le 3900"),
and typos ("bouygeus", "chronopst", "la poste mobil"), matched with rapidfuzz against
the same spellings. A typo match needs a word that is not an ordinary word (the
training examples' vocabulary plus the lexicon's `ordinary_words`), the same first
letter, and one edit (two from nine letters on), so "orage" never becomes Orange.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Mapping

from rapidfuzz.distance import DamerauLevenshtein
from rapidfuzz.process import extractOne

from reading.lexicon import Match, PhraseMatcher
from domain.text import fold

_TOKEN = re.compile(r"[a-z0-9][a-z0-9&+]*")


@dataclass(frozen=True)
class _Token:
    start: int
    end: int
    text: str


def _max_edits(length: int) -> int:
    return 1 if length < 9 else 2


def _squeeze(word: str) -> str:
    """The word without repeated letters: "freee" and "free" are both "fre"."""
    return re.sub(r"(.)\1+", r"\1", word)


# Digits typed for letters: "0range", "0rang3".
_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s"})
_TYPOS_KEPT = 50_000  # words remembered by OperatorFinder._typo_of (a few MB)
# A brand after these words is a place: "rue de la Poste", "la ville d'Orange".
_PLACE_BEFORE = re.compile(
    r"(?:\b(?:rue|avenue|av|place|boulevard|bd|chemin|allee|impasse|quai|route|square|cours)"
    r"(?: de| du| des)?|\b(?:ville|commune) d'|\b(?:habite|habitons|vais|va|allons|vacances|"
    r"sejour|week-end|weekend|ne|nee|vis|vit|vivons) (?:a|pres d')|\b(?:devant|derriere|"
    r"pres de|a cote de|en face de)) ?$"
)


class OperatorFinder:
    """Operator mentions in a text, best first by position."""

    def __init__(
        self,
        spellings: Mapping[str, str],
        service_numbers: Mapping[str, str],
        ordinary_words: Iterable[str],
        min_length: int = 5,
    ):
        self._exact = PhraseMatcher(spellings)
        folded = {fold(s).strip(): v for s, v in spellings.items() if s.strip()}
        self._min_length = min_length
        # Spellings long enough to be compared letter by letter; short ones ("sfr",
        # "ups") are too close to ordinary words for typo tolerance.
        self._fuzzy = {s: v for s, v in folded.items() if len(s.replace(" ", "")) >= min_length}
        # A multi-word spelling typed as one word ("redbysfr") is a single-word one too.
        for spelling, value in list(self._fuzzy.items()):
            self._fuzzy.setdefault(spelling.replace(" ", ""), value)
        self._fuzzy_single = [s for s in self._fuzzy if " " not in s]
        self._squeezed = {
            _squeeze(s): v
            for s, v in folded.items()
            if " " not in s and s.isalpha() and len(s) >= 3
        }
        self._fuzzy_multi = [s for s in self._fuzzy if " " in s]
        self._ordinary = frozenset(fold(w) for w in ordinary_words)
        self._typos: dict[str, str | None] = {}  # word -> the operator it misspells
        # "S F R", "s.f.r": the letters of a short spelling, each separated.
        short = sorted(
            {s for s in folded if s.isalpha() and 2 < len(s) <= 4}, key=len, reverse=True
        )
        spaced = "|".join(r"[\s.]+".join(map(re.escape, s)) for s in short)
        self._spaced = re.compile(rf"(?<![\w]){'(?:' + spaced + ')'}(?![\w])") if short else None
        self._spaced_values = folded
        numbers = "|".join(
            re.escape(n).replace(r"\ ", r"[\s.]?")
            for n in sorted(service_numbers, key=len, reverse=True)
        )
        self._numbers = {re.sub(r"\D", "", n): v for n, v in service_numbers.items()}
        # A number on its own, not an amount, a duration or part of a longer number.
        self._number_pattern = (
            re.compile(
                rf"(?<![\d,.€$])(?:{numbers})(?!\d|,\d|\s*(?:€|e\b|eur|euros?|h\b|min|ko|mo|go|"
                rf"gb|mb|km|ans?\b|jours?\b|fois|%))"
            )
            if numbers
            else None
        )

    def find(self, text: str) -> list[Match]:
        """Every operator mention, left to right, overlaps resolved longest first."""
        folded = fold(text)
        found = list(self._exact.find(text))
        found += self._find_spaced(text, folded)
        found += self._find_numbers(text, folded)
        found += self._find_typos(text, folded, found)
        kept: list[Match] = []
        for m in sorted(found, key=lambda m: (-(m.end - m.start), m.start)):
            if all(m.end <= k.start or m.start >= k.end for k in kept):
                kept.append(m)
        return sorted(
            (m for m in kept if not _PLACE_BEFORE.search(folded[: m.start])), key=lambda m: m.start
        )

    def _find_spaced(self, text: str, folded: str) -> list[Match]:
        if self._spaced is None:
            return []
        out = []
        for m in self._spaced.finditer(folded):
            key = re.sub(r"[\s.]", "", m.group(0))
            if key in self._spaced_values:
                out.append(
                    Match(m.start(), m.end(), self._spaced_values[key], text[m.start() : m.end()])
                )
        return out

    def _find_numbers(self, text: str, folded: str) -> list[Match]:
        if self._number_pattern is None:
            return []
        return [
            Match(
                m.start(),
                m.end(),
                self._numbers[re.sub(r"\D", "", m.group(0))],
                text[m.start() : m.end()],
            )
            for m in self._number_pattern.finditer(folded)
        ]

    def _find_typos(self, text: str, folded: str, exact: list[Match]) -> list[Match]:
        tokens = [_Token(m.start(), m.end(), m.group(0)) for m in _TOKEN.finditer(folded)]
        words = [t.text for t in tokens]
        out: list[Match] = []
        # "la poste mobil", "cdiscount mobil": the first words exactly (at least four
        # letters of them, so "la porte" stays a door), a typo in the last one.
        for spelling in self._fuzzy_multi:
            head, last = spelling.split()[:-1], spelling.split()[-1]
            if sum(map(len, head)) < 4 or len(last) < 3:
                continue
            for i in range(len(words) - len(head)):
                if words[i : i + len(head)] != head:
                    continue
                typed = words[i + len(head)]
                if 0 < DamerauLevenshtein.distance(typed, last) <= _max_edits(len(last)):
                    start, end = tokens[i].start, tokens[i + len(head)].end
                    out.append(Match(start, end, self._fuzzy[spelling], text[start:end]))
        covered = [(m.start, m.end) for m in exact + out]
        for t in tokens:
            if (
                len(t.text) < 4
                or t.text in self._ordinary
                or t.text.isdigit()
                or any(s <= t.start < e for s, e in covered)
            ):
                continue
            value = self._typo_of(t.text)
            if value:
                out.append(Match(t.start, t.end, value, text[t.start : t.end]))
        return out

    def _typo_of(self, word: str) -> str | None:
        """The operator a word misspells, if any. Remembered per word (words recur: a
        fuzzy search of every spelling was a tenth of a parse), up to _TYPOS_KEPT."""
        if word in self._typos:
            return self._typos[word]
        typed = word.translate(_LEET) if not word.isalpha() else word
        value = self._fuzzy.get(typed) or self._squeezed.get(_squeeze(typed))
        if value is None and len(typed) >= self._min_length:
            best = extractOne(
                typed,
                self._fuzzy_single,
                scorer=DamerauLevenshtein.distance,
                score_cutoff=_max_edits(len(typed)),
            )
            if best and best[0][0] == typed[0]:
                value = self._fuzzy[best[0]]
        if len(self._typos) >= _TYPOS_KEPT:
            self._typos.clear()
        self._typos[word] = value
        return value
