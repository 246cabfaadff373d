"""Personal data typed by the person, masked before anything is stored or parsed.

The bot never asks for a name, an e-mail address or a phone number, but people type
them anyway ("rappelez-moi au 06 12 34 56 78", "j'habite 12 rue des Lilas"). Every text
message goes through `mask` first: the transcript, the NLU record, the replies and the
alert only ever see « [téléphone retiré] ». Customer-service numbers (3900, 1023) and
postcodes are not personal and stay.
"""
from __future__ import annotations

import re

# (kind, pattern). Order matters: an IBAN holds digit runs a phone pattern would take.
_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("email", re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)),
    ("iban", re.compile(r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){2,7}(?:[ ]?[A-Z0-9]{1,3})?\b",
                        re.IGNORECASE)),
    # French numbers: 06 12 34 56 78, 06.12.34.56.78, 0612345678, +33 6 12 34 56 78,
    # 0033 612345678; and long international numbers.
    ("phone", re.compile(
        r"(?<![\w+])(?:(?:\+|00)33[\s.-]?\(?0?\)?[\s.-]?[1-9]|0[1-9])(?:[\s.-]?\d{2}){4}(?!\d)"
        r"|(?<![\w+])\+\d{1,3}(?:[\s.-]?\d{2,4}){3,5}(?!\d)")),
    # A street address: a number, an optional bis/ter, a street word and its name.
    ("address", re.compile(
        r"\b\d{1,4}(?:\s?(?:bis|ter|b|t))?,?\s+(?:rue|avenue|av\.?|boulevard|bd|chemin|allée|"
        r"allee|impasse|place|route|quai|cours|square|résidence|residence|lotissement|"
        r"hameau|lieu-dit|street|st\.?|road|rd\.?|lane|drive)\b"
        r"(?:\s+(?:de la|de l'|du|des|de|d'|la|le|les))?"
        # One to three words of name, stopping before "à Rennes", "depuis", "et"…
        r"(?:\s+(?!(?:à|a|au|aux|in|at|dans|sur|près|pres|vers|depuis|since|et|and|mais|"
        r"but|chez|pour|avec|with)\b)[\w'’-]+){1,3}",
        re.IGNORECASE)),
)

MARKS = {
    "fr": {"email": "[e-mail retiré]", "iban": "[IBAN retiré]",
           "phone": "[téléphone retiré]", "address": "[adresse retirée]"},
    "en": {"email": "[e-mail removed]", "iban": "[IBAN removed]",
           "phone": "[phone removed]", "address": "[address removed]"},
}


def mask(text: str, language: str = "fr") -> tuple[str, tuple[str, ...]]:
    """`text` with personal data replaced by marks, and the kinds that were removed."""
    found: list[str] = []
    marks = MARKS.get(language, MARKS["fr"])
    for kind, pattern in _PATTERNS:
        text, count = pattern.subn(marks[kind], text)
        if count:
            found.append(kind)
    return text, tuple(found)
