"""Long messages read sentence by sentence as well as whole.

Real customers tell stories: « Le technicien devait passer mardi, personne. Depuis, plus
d'internet du tout. Et le service client me raccroche au nez. » Read whole, the model
hears three complaints at once; read sentence by sentence, each says one thing. The
parser shows the model the whole message and each sentence of a long one; the
interpreter can mix the two readings (`mix_ranking`, weighed by SENTENCE_WEIGHT: see
there why it is 0) and keeps the problems single sentences state besides the main one
as `other_categories` (shown to staff with the message).
"""
from __future__ import annotations

import re
from collections import Counter
from typing import Any, Mapping, Sequence

REPORT_PREFIX = "report_"
UNSPECIFIED = REPORT_PREFIX + "unspecified"
# A message is read sentence by sentence from this length and this many sentences.
MIN_CHARS = 140
MIN_SENTENCES = 2
MAX_SENTENCES = 12
# A sentence shorter than this (« Bref. », « Merci ! ») says nothing on its own.
MIN_SENTENCE_WORDS = 4
# The share of the sentences' reading in the category's score. Measured on the real-style
# calibration set (nlu/heldout/realstyle/calibration_c.yml) and the independent set a with
# bench/realstyle.py: at the same rate of confidently wrong categories, mixing in the
# sentences (0.3, 0.5, soft or one vote per sentence) gave no more categories right than
# the whole message alone (e.g. 2.9 % wrong: 0.871 right at weight 0 and threshold 0.8,
# 0.879 at weight 0.3 and 0.75; on set a 0.800 against 0.725). So the whole message
# decides the category and the sentences only note the other problems it states.
SENTENCE_WEIGHT = 0.0
# A sentence whose definite problems weigh less than this is no complaint of its own.
SENTENCE_REPORT_MASS = 0.5

_END = re.compile(r"(?<=[.!?…])\s+|\s*\n+\s*|(?<=[.!?…])(?=[A-ZÀ-Ý])|\s+(?:-|–)\s+")


def sentences(text: str) -> list[str]:
    """The sentences of a long message worth reading alone; [] for a short one."""
    if len(text) < MIN_CHARS:
        return []
    parts = [p.strip() for p in _END.split(text)]
    kept = [p for p in parts if len(p.split()) >= MIN_SENTENCE_WORDS]
    return kept[:MAX_SENTENCES] if len(kept) >= MIN_SENTENCES else []


def is_long(text: str) -> bool:
    """A message of several sentences worth reading alone."""
    return bool(sentences(text))


def _definite(raw: Mapping[str, Any]) -> dict[str, float]:
    return {r["name"]: float(r["confidence"]) for r in raw.get("intent_ranking") or []
            if r["name"].startswith(REPORT_PREFIX) and r["name"] != UNSPECIFIED}


def mix_ranking(ranking: Sequence[tuple[str, float]], parts: Sequence[Mapping[str, Any]],
                weight: float = SENTENCE_WEIGHT) -> tuple[tuple[tuple[str, float], ...],
                                                          tuple[str, ...]]:
    """The whole message's ranking with its definite problems re-weighed by the
    sentences' readings (the whole's report mass is unchanged), and the problems a
    single sentence states clearly besides (best first)."""
    votes: Counter[str] = Counter()
    total = 0.0
    tops: list[str] = []
    for raw in parts:
        definite = _definite(raw)
        mass = sum(definite.values())
        if mass < SENTENCE_REPORT_MASS:
            continue
        for name, conf in definite.items():
            votes[name] += conf
        total += mass
        best = max(definite, key=definite.__getitem__)
        if definite[best] / mass >= 0.75:
            tops.append(best[len(REPORT_PREFIX):])
    if not total or weight <= 0:
        return tuple(ranking), tuple(dict.fromkeys(tops))
    whole = dict(ranking)
    definite_whole = {n: c for n, c in whole.items()
                      if n.startswith(REPORT_PREFIX) and n != UNSPECIFIED}
    mass_whole = sum(definite_whole.values())
    if mass_whole <= 0:
        return tuple(ranking), tuple(dict.fromkeys(tops))
    mixed = dict(whole)
    for name in set(definite_whole) | set(votes):
        mixed[name] = mass_whole * ((1 - weight) * definite_whole.get(name, 0.0) / mass_whole
                                    + weight * votes[name] / total)
    ranked = tuple(sorted(mixed.items(), key=lambda kv: kv[1], reverse=True))
    return ranked, tuple(dict.fromkeys(tops))
