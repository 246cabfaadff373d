"""Text helpers shared by the lexicon matcher and the post-processing."""

from __future__ import annotations

import re
import unicodedata

_FOLD_CACHE: dict[str, str] = {}


def _fold_char(ch: str) -> str:
    folded = _FOLD_CACHE.get(ch)
    if folded is None:
        base = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
        base = base.lower()
        # Keep one character per character so that match offsets stay valid in the original.
        folded = base if len(base) == 1 else ch.lower()[:1] or ch
        if ch in "’‘`´":
            folded = "'"
        _FOLD_CACHE[ch] = folded
    return folded


class _FoldTable(dict[int, str]):
    """code point → folded character, filled on first sight (for `str.translate`)."""

    def __missing__(self, code: int) -> str:
        folded = self[code] = _fold_char(chr(code))
        return folded


_FOLD_TABLE = _FoldTable()


def fold(text: str) -> str:
    """Lowercase and strip accents, keeping the same length as `text`."""
    return text.translate(_FOLD_TABLE)


_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")

_FRENCH = frozenset(
    """je j'ai j ai le la les de des du mon ma mes pas est et avec chez depuis c'est un une
    ne plus pour sur ca ai suis moi nous vous bonjour merci oui non svp sa son ses au aux
    qui que quoi il elle on y a toujours jamais rien mais ou donc car tres trop fait
    g jsuis jsui chui cest ya pk tjrs bcp slt stp rien n'est n'ai d'internet l'operateur
    toujours encore alors aucun aucune ils elles leur quand comme bien mal nul""".split()
)
_ENGLISH = frozenset(
    """the my is i i'm im have has had been since with and it it's this of to for not
    hello hi thanks thank please yes our we what can you your hey help am was there at
    in an any no nothing never still got get been doesn't don't didn't isn't can't cannot
    wont won't hasn't haven't from they them their out again phone company issue problem
    internet working work works down signal network bill charged parcel package""".split()
)


def words(folded_text: str) -> list[str]:
    """The words of an already folded text."""
    return _WORD.findall(folded_text)


def language_evidence(text: str) -> str | None:
    """'fr' or 'en' when the words clearly say so, None when they don't ("ok", "Free")."""
    tokens = words(fold(text))
    english = sum(1 for t in tokens if t in _ENGLISH)
    french = sum(1 for t in tokens if t in _FRENCH)
    if english > french:
        return "en"
    if french > english:
        return "fr"
    return None


def detect_language(text: str) -> str:
    """'en' when the message reads as English, else 'fr' (French is the default)."""
    return language_evidence(text) or "fr"
