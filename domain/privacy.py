"""Personal data typed by the person, masked before anything is stored or parsed.

The bot never asks for a name, an e-mail address or a phone number, but people type
them anyway ("rappelez-moi au 06 12 34 56 78", "j'habite 12 rue des Lilas"). Every text
message goes through `mask` first: the transcript, the NLU record, the replies and the
alert only ever see « [téléphone retiré] ».

People write these as they come: « (06) 98 76 54 32 », « 07/11/22/33/44 », an IBAN
copied with dashes or double spaces, « 12 r. de la Paix », an e-mail typed on a
full-width keyboard (« ＠ »). The patterns read a folded view of the text (NFKC:
full-width and other compatibility characters made plain, non-breaking spaces made
spaces; invisible format characters left out) and each mark replaces the stretch of the
text as typed: the rest of the message is kept character for character.

What is not personal stays: customer-service numbers (3900, 1023), 08 numbers (services,
never a person's), postcodes, dates (07/11/2026), amounts, durations.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

# -- pieces the patterns share --------------------------------------------------------

# Between two groups of digits (or of an IBAN): spaces — two or three when the thumb
# slips — or a dot, dash or slash, maybe with spaces around. A newline is no separator:
# two numbers on two lines are two numbers.
_SEP = r"(?:[ \t]{1,3}|[ \t]?[./-][ \t]?)"

# -- e-mail ----------------------------------------------------------------------------

_EMAIL = r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"

# -- IBAN (ISO 13616) ----------------------------------------------------------------------

# A country, two check digits, then the account (BBAN) copied in groups of four or not.
# How far it goes is decided after the match (_iban_end): a pattern alone would take the
# word after a short IBAN (« BE68 5390 0754 7034 svp »).
_IBAN = rf"(?<!\w)[A-Z]{{2}}\d{{2}}(?:{_SEP}?[A-Z0-9]{{4}}){{2,7}}(?:{_SEP}?[A-Z0-9]{{1,4}})?"

# Lengths of the SWIFT IBAN registry for the countries whose accounts people in France
# hold; an IBAN from elsewhere is masked as far as its groups go.
_IBAN_LENGTHS = {
    "AD": 24,
    "AT": 20,
    "BE": 16,
    "CH": 21,
    "CZ": 24,
    "DE": 22,
    "DK": 18,
    "ES": 24,
    "FI": 18,
    "FR": 27,
    "GB": 22,
    "GR": 27,
    "IE": 22,
    "IT": 27,
    "LU": 20,
    "MC": 27,
    "NL": 18,
    "NO": 15,
    "PL": 28,
    "PT": 25,
    "RO": 24,
    "SE": 24,
    "SM": 27,
}
# An account number is mostly digits (the fewest: a Dutch IBAN, 12 of 18); « FR76 mais
# elle vient » has the shape of one, not the digits.
_IBAN_MIN_DIGITS = 10


def _iban_end(found: re.Match[str]) -> int | None:
    """Where the IBAN `found` ends in the text, or None when it is no IBAN."""
    text = found.group()
    kept = [i for i, ch in enumerate(text) if ch.isalnum()]
    kept = kept[: _IBAN_LENGTHS.get(text[:2].upper(), len(kept))]
    if sum(text[i].isdigit() for i in kept) < _IBAN_MIN_DIGITS:
        return None
    return found.start() + kept[-1] + 1


# -- phone numbers -----------------------------------------------------------------------

# French numbers (Arcep's numbering plan): 0, Z, eight digits. Z = 1–5 geographic,
# 6–7 mobile, 9 polyvalent (boxes): any may be a person's. Z = 8 is for services (free,
# shared-cost, premium), never a person's, and a complaint about a premium number needs it.
_Z = r"[1-79]"
_FR_NATIONAL = rf"(?:0{_Z}|\(0{_Z}\))"  # 06, (06)
_FR_COUNTRY = r"(?:\+[ \t]?33|0033|\(\+33\))"  # +33, 0033, (+33)
_FR_INTERNATIONAL = rf"{_FR_COUNTRY}{_SEP}?(?:\(0\)|0)?{_SEP}?{_Z}"  # +33 6, +33 (0)6
# The eight digits after Z in the groupings people use. In pairs, every separator after
# the first is there: « 07/11/2026 10h » (a date, then an hour) is not 07 11 20 26 10.
_FR_LAST_EIGHT = "|".join(
    (
        rf"{_SEP}?\d{{2}}(?:{_SEP}\d{{2}}){{3}}",  # 06 98 76 54 32, 07/11/22/33/44, 0698 76 54 32
        rf"{_SEP}?\d{{8}}",  # 0698765432, 06 98765432
        rf"{_SEP}?\d{{2}}(?:{_SEP}\d{{3}}){{2}}",  # +33 698 765 432
        rf"{_SEP}?\d{{4}}{_SEP}\d{{4}}",  # 06 9876 5432
    )
)
_FR_PHONE = rf"(?:{_FR_NATIONAL}|{_FR_INTERNATIONAL})(?:{_FR_LAST_EIGHT})"
# Elsewhere: + or 00, a country code, then groups of digits — the first maybe glued to
# the code, an area code maybe in brackets: « +1 (555) 123-4567 », « +44 (0)20 7946
# 0958 » — holding six digits at least, so that « +10 % » or « +3 jours » are no number.
# Groups are split where the person put a separator, never inside a run of digits: a
# pattern free to cut « +1222…2 » anywhere tries every cut (seconds for a long message).
# A French number _FR_PHONE missed (a digit short, grouped oddly) is taken here, unless
# it is an 08 one.
_FOREIGN_GROUP = rf"(?:\(\d{{1,4}}\){_SEP}?)?\d+"
_FOREIGN_PHONE = (
    rf"(?:\+|00)(?!33{_SEP}?(?:\(0\)|0)?{_SEP}?8)"  # a French 08, kept
    r"[1-9]\d{0,2}(?=(?:[ \t./()-]*\d){6})"
    rf"{_SEP}?{_FOREIGN_GROUP}(?:{_SEP}{_FOREIGN_GROUP}){{0,7}}"
)
_PHONE = rf"(?<!\d)(?:{_FR_PHONE}|{_FOREIGN_PHONE})(?!\d)"

# -- street addresses -----------------------------------------------------------------------

# A number, maybe a range (12-14) or bis/ter: « 12 », « 12bis », « 4 ter, ».
_HOUSE_NUMBER = r"\b\d{1,4}(?:-\d{1,4})?(?:[ \t]?(?:bis|ter|quater|b|t)\b)?,?"
# Street words in full, and their abbreviations. Those that are also a word or a letter
# (r, all, pl, qu, ch) count only with their dot.
_STREET_WORDS = (
    "rue|avenue|boulevard|chemin|allée|allee|impasse|place|route|quai|cours|"
    "square|résidence|residence|lotissement|hameau|lieu-dit|lieudit|passage|"
    "faubourg|sentier|villa|cité|cite|esplanade|promenade|parvis|rond-point"
)
_DOTTED = r"r|all|pl|qu|ch|pass|rés|res|lot|sq"
_ABBREVIATED = r"av|bd|bld|blvd|bvd|chem|imp|rte|fg|fbg|crs|ld"
_STREET = (
    rf"(?:(?:{_STREET_WORDS})\b|(?:{_DOTTED})\.|(?:{_ABBREVIATED})\b\.?)"
    r"(?:\s+|(?<=\.))"
)  # after a dot, the space may be missing: « av.Foch »
_PARTICLE = r"(?:de la|de l['’]|du|des|de|d['’]|la|le|les)\s+"
# One to three words of name, stopping before « à Rennes », « depuis », « et », and
# before a postcode (« 12 rue Pasteur 75011 Paris » keeps the postcode).
_NAME_WORD = (
    r"(?!(?:à|a|au|aux|in|at|dans|sur|près|pres|vers|depuis|since|et|and|mais|"
    r"but|chez|pour|avec|with)\b)(?!\d{5}\b)[\w'’-]+"
)
_ADDRESS_FR = rf"{_HOUSE_NUMBER}\s+{_STREET}(?:{_PARTICLE})?{_NAME_WORD}(?:\s+{_NAME_WORD}){{0,2}}"
# English puts the street word last: « 221B Baker Street ». The name's words have
# capitals, so that « 3 days on the road » is no address.
_ADDRESS_EN = (
    r"\b\d{1,4}[A-Za-z]?(?:[ \t]+[A-Z][\w'’-]*){1,3}[ \t]+"
    r"(?i:street|st|road|rd|avenue|ave|lane|drive|crescent|terrace)\b"
)

# (kind, pattern, where a match really ends or None when it is not the kind).
# Order matters: an e-mail holds what looks like a number, an IBAN holds digit runs a
# phone pattern would take, and what a pattern took no later one reads again.
_Check = Callable[[re.Match[str]], int | None] | None
_PATTERNS: tuple[tuple[str, re.Pattern[str], _Check], ...] = (
    ("email", re.compile(_EMAIL), None),
    ("iban", re.compile(_IBAN, re.IGNORECASE), _iban_end),
    ("phone", re.compile(_PHONE), None),
    ("address", re.compile(_ADDRESS_FR, re.IGNORECASE), None),
    ("address", re.compile(_ADDRESS_EN), None),
)

MARKS = {
    "fr": {
        "email": "[e-mail retiré]",
        "iban": "[IBAN retiré]",
        "phone": "[téléphone retiré]",
        "address": "[adresse retirée]",
    },
    "en": {
        "email": "[e-mail removed]",
        "iban": "[IBAN removed]",
        "phone": "[phone removed]",
        "address": "[address removed]",
    },
}


def _folded(text: str) -> tuple[str, list[int], list[int]]:
    """The text as the patterns read it (NFKC, format characters such as zero-width
    spaces left out) and, for each of its characters, the start and end in `text` of
    the character (with its combining accents) it comes from."""
    view: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    i = 0
    while i < len(text):
        j = i + 1
        while j < len(text) and unicodedata.combining(text[j]):
            j += 1
        piece = (
            ""
            if unicodedata.category(text[i]) == "Cf"
            else unicodedata.normalize("NFKC", text[i:j])
        )
        view.append(piece)
        starts += [i] * len(piece)
        ends += [j] * len(piece)
        i = j
    return "".join(view), starts, ends


def mask(text: str, language: str = "fr") -> tuple[str, tuple[str, ...]]:
    """`text` with personal data replaced by marks, and the kinds that were removed."""
    view, starts, ends = _folded(text)
    spans: list[tuple[int, int, str]] = []  # in `text`
    found: list[str] = []
    for kind, pattern, check in _PATTERNS:
        for match in list(pattern.finditer(view)):
            end = check(match) if check else match.end()
            if end is None:
                continue
            start = match.start()
            view = view[:start] + "\0" * (end - start) + view[end:]  # read by no other
            spans.append((starts[start], ends[end - 1], kind))
            if kind not in found:
                found.append(kind)
    marks = MARKS.get(language, MARKS["fr"])
    out, done = [], 0
    for start, end, kind in sorted(spans):
        if start < done:  # two matches from one folded character (rare): one mark
            done = max(done, end)
            continue
        out += [text[done:start], marks[kind]]
        done = end
    out.append(text[done:])
    return "".join(out), tuple(found)
