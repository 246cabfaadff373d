"""Operators outside the list, named as people name them: typed as the answer to « Quel
est l'opérateur concerné ? » (« c'est Kiwi Télécom, un petit opérateur local », « la puce
SRR »), or inside a sentence (« je suis chez Vialis maintenant », « mon opérateur Only a
augmenté mon forfait », « mon fournisseur d'accès c'est FAImaison »).

One reader for the dialogue (answers and corrections) and the interpreter (the first
message): the name as typed, or None when the words are no name.
"""

from __future__ import annotations

import re
from typing import Collection

from domain.text import fold, words

# "c'est Kiwi Télécom, un petit opérateur local" → "Kiwi Télécom": the name of an operator
# outside the list, once the words around it are gone.
OPERATOR_LEAD = re.compile(
    r"^(?:(?:bah|ben|euh|alors|non|oui|ok|en fait|enfait|well|so)[\s,]+)*"
    r"(?:c.est|c(?=\s)|ce sont|(?:mon|notre) (?:operateur|fournisseur|fai)(?: c.est| est)?|"
    r"l.operateur(?: c.est| est)?|(?:je suis|on est|nous sommes|c.est) (?:chez|avec)|"
    r"(?:nous passons|on passe|je passe|ca passe) par|(?:abonne|abonnee|client|cliente)s? chez|"
    r"chez|avec|it.s|it is|with|we.re with|we are with|we use|i use|i.m with|"
    r"(?:my|our) (?:provider|carrier|operator) is)?\s*"
    # « c'est la puce SRR », « une carte SIM Lebara », « le forfait Only »
    r"(?:(?:la|le|ma|mon|une|un) (?:puce|carte sim|sim|forfait|abonnement|box)(?: de| d.)?\s+)?",
    re.I,
)
OPERATOR_TAIL = re.compile(
    r"\s*(?:[,;:.!?(]|\s(?:un|une|qui|que|mais|et|pour|depuis|a|the|a small|which|who|but|"
    r"since)\s).*$",
    re.I,
)


def operator_named(text: str) -> str | None:
    """The operator's name in an answer to "which operator?", or None if it is no name."""
    folded = fold(text.strip())
    lead = OPERATOR_LEAD.match(folded)
    start = lead.end() if lead else 0
    rest = text.strip()[start:]
    tail = OPERATOR_TAIL.search(fold(rest))
    name = (rest[: tail.start()] if tail else rest).strip(" \"'«»")
    named = words(fold(name))
    if not named or len(named) > 4:
        return None  # no letters we can read, a sentence
    if named[0] in NOT_A_NAME and not _ARTICLE_AND_NAME.match(name):
        return None  # « ça sert à quoi… » (but « La Banque Postale » is a name)
    if all(w in NOT_A_PROVIDER for w in named):
        return None  # « ma box ADSL », « un forfait 5G », « la box internet »
    return name


# What a line is, never who provides it.
NOT_A_PROVIDER = frozenset(
    """adsl vdsl vdsl2 fibre fiber ftth 4g 5g 3g 2g 4g+ lte sms mms internet mobile fixe
    wifi wi-fi data tv tele television telephone portable box cable satellite radio
    optique""".split()
)


def capitalised_name(text: str) -> str | None:
    """« C'est le réseau public du département, Ardèche Drôme Numérique. »: two to four
    capitalised words inside a sentence, in an answer to "which operator?"."""
    for match in _CAPITALISED.finditer(text):
        start = text[: match.start()].rstrip()
        if start and start[-1] not in ".!?…":  # not the capital that opens a sentence
            return match.group(0)
    return None


_CAPITALISED = re.compile(r"[A-ZÀ-Ý][\w’'-]+(?:\s+(?:de |du |des |d’|d')?[A-ZÀ-Ý][\w’'-]+){1,3}")


# « La Banque Postale », « Le Réseau Breton »: an article, then capitalised words.
_ARTICLE_AND_NAME = re.compile(r"^(?i:la|le|les|l[’'])\s*[A-ZÀ-Ý]")


# First words that start a sentence, never an operator's name.
NOT_A_NAME = frozenset(
    """a au aux le la les l de du des d un une je j il elle on nous vous
    ils elles ca sert est sont pas ne n quoi comment pourquoi quand ou si mais et donc car
    ce cet cette ces mon ma mes ton ta tes son sa ses notre votre leur y en the i it is a an
    what why how when where who my your we you they this that there""".split()
)


# An operator outside the list in a correction at the summary: « je suis chez Vialis
# maintenant », « c'est Only mon opérateur maintenant », "I'm with Vialis now".
_ELSEWHERE = re.compile(r"\b(?:chez|i.?m with|we.?re with|switched to|moved to)\s+([\w&+-]+)")
_NOW_NAMED = re.compile(
    r"\b(?:c.?est|it.?s)\s+([\w&+-]+)\s+(?:(?:mon|notre|my|our)\s+"
    r"(?:operateur|fournisseur|operator|provider)\s+)?"
    r"(?:maintenant|desormais|now|depuis|since)\b"
)
# « mon fournisseur d'accès c'est FAImaison », « notre internet est chez Alsatis », "my
# provider is Zen".
_PROVIDER_IS = re.compile(
    r"\b(?:mon|ma|notre|my|our) (?:fournisseur(?: d.acces)?|operateur|fai|"
    r"box|internet|provider|operator|isp)\W+(?:c.?est|est|is|:)\W+"
    r"(?:(?:de|chez|avec|with)\W+)?([\w&+-]+)"
)
# « mon opérateur Only a augmenté mon forfait », "my provider Zen": the name right after.
_MY_OPERATOR_NAMED = re.compile(
    r"\b(?:mon|notre|my|our) (?:operateur|fournisseur(?: d.acces)?|fai|provider|operator|isp)"
    r"\s+([\w&+-]+)"
)
_NOT_AN_OPERATOR = frozenset("moi toi lui eux nous vous elle elles me you us them".split())


# (pattern, whether the name needs its capital: « Only » is a word too, but not with one)
_IN_A_SENTENCE = (
    (_ELSEWHERE, False),
    (_NOW_NAMED, True),
    (_PROVIDER_IS, True),
    (_MY_OPERATOR_NAMED, True),
)


def named_in_sentence(
    text: str,
    ordinary_words: Collection[str],
    brands: Collection[str],
    patterns: tuple[tuple[re.Pattern[str], bool], ...] = _IN_A_SENTENCE,
    typed_in: str | None = None,
) -> str | None:
    """An operator outside the list that a sentence names, as typed: « c'est Only
    maintenant », « je suis chez Vialis » (not a brand of the list, not a pronoun).
    `typed_in`: the whole message, where the name's spelling is taken when `text` is a
    part of it (what is left once « plus chez Vialis » is set aside)."""
    folded = fold(text)
    typed: dict[str, str] = {fold(w): w for w in re.findall(r"[\w&+-]+", typed_in or text)}
    for pattern, capital in patterns:
        for match in pattern.finditer(folded):
            name = typed.get(match.group(1))
            if (
                name
                and (name[0].isupper() or not capital and match.group(1) not in ordinary_words)
                and match.group(1) not in NOT_A_NAME | _NOT_AN_OPERATOR
                and match.group(1) not in brands
            ):
                return name
    return None


def named_after_my_operator(
    text: str, ordinary_words: Collection[str], brands: Collection[str]
) -> str | None:
    """« mon opérateur Only a augmenté mon forfait », « mon fournisseur d'accès c'est
    FAImaison »: a name with its capital right after « mon opérateur » (a first message)."""
    return named_in_sentence(
        text, ordinary_words, brands, ((_MY_OPERATOR_NAMED, True), (_PROVIDER_IS, True))
    )
