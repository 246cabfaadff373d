"""Personal data typed as people type it never passes `mask`; what is not personal stays.

Hypothesis writes the data the ways people do (issue 18): French numbers from Arcep's
numbering plan in every grouping and with every prefix, foreign numbers, IBANs built by
the ISO 13616 rule (valid mod-97 check digits) and copied with spaces, double spaces,
dashes or nothing, e-mails typed on a full-width keyboard (« ＠ », « ． »), street
addresses with their abbreviations. Each is set in a sentence; the masked sentence must
be exactly the sentence with the mark in place of the data: nothing of the data is left,
and nothing around it is lost (a non-breaking space, a ligature, « 29,99 € »).
The last test types such messages to the real service and reads the database's own files.
"""

from __future__ import annotations

import json
import re
import string
import time
import unicodedata

import pytest
from hypothesis import given, settings, strategies as st

from dialogues.events import ChoiceEvent
from domain.privacy import MARKS, mask
from tests.conftest import to_the_summary

FR_MARK = MARKS["fr"]

# -- what people type ---------------------------------------------------------------------

SEPARATORS = (" ", "  ", ".", "-", "/")


def digits(count: int) -> st.SearchStrategy[str]:
    return st.text(string.digits, min_size=count, max_size=count)


@st.composite
def french_numbers(draw) -> str:
    """0 Z then eight digits; Z: 1–5 geographic, 6–7 mobile, 9 (boxes). 08 numbers are
    services, never a person's: test_the_examples_that_must_stay keeps them."""
    z = draw(st.sampled_from("12345679"))
    rest = draw(digits(8))
    sep = draw(st.sampled_from(SEPARATORS))
    head = draw(
        st.sampled_from(
            (
                f"0{z}",
                f"(0{z})",
                f"+33 {z}",
                f"+33{z}",
                f"0033 {z}",
                f"+33 (0){z}",
                f"+33 (0) {z}",
                f"+33(0){z}",
                f"(+33) {z}",
                f"+33 0{z}",
            )
        )
    )
    grouped = draw(
        st.sampled_from(
            (
                sep + sep.join(rest[i : i + 2] for i in range(0, 8, 2)),  # 06 98 76 54 32
                rest,  # 0698765432
                sep + rest,  # 06 98765432
                rest[:2] + sep + rest[2:5] + sep + rest[5:],  # +33 698 765 432
                sep + rest[:4] + sep + rest[4:],  # 06 9876 5432
            )
        )
    )
    if head.endswith(")") and grouped.startswith(sep):
        grouped = draw(st.sampled_from(("", " "))) + grouped[len(sep) :]  # (06) 98…
    return head + grouped


# (prefix, group sizes): how each country writes its numbers, more or less.
FOREIGN = (
    ("+44", (2, 4, 4)),
    ("+44 (0)", (2, 4, 4)),
    ("0044", (2, 4, 4)),
    ("+1", ("(3)", 3, 4)),
    ("+49", (2, 8)),
    ("+32", (3, 2, 2, 2)),
    ("+41", (2, 3, 2, 2)),
    ("+34", (3, 3, 3)),
    ("+39", (3, 3, 4)),
    ("+212", (6, 2, 2, 2)),
    ("+262", (692, 2, 2, 2)),
)


@st.composite
def foreign_numbers(draw) -> str:
    prefix, sizes = draw(st.sampled_from(FOREIGN))
    sep = draw(st.sampled_from((" ", "-", ".", "")))
    groups = []
    for size in sizes:
        if isinstance(size, str):  # an area code in brackets
            groups.append(f"({draw(digits(int(size[1])))})")
        elif size > 99:  # a fixed first group (Réunion's mobiles)
            groups.append(str(size))
        else:
            groups.append(draw(digits(size)))
    after_prefix = " " if prefix.endswith(")") else sep  # « +44 (0) 20… », « +44-20-… »
    return prefix + after_prefix + sep.join(groups)


# BBAN formats of the SWIFT IBAN registry: n digits, a letters, c letters or digits.
BBANS = {
    "FR": "10n11c2n",
    "MC": "10n11c2n",
    "DE": "18n",
    "BE": "12n",
    "ES": "20n",
    "IT": "1a10n12c",
    "GB": "4a14n",
    "NL": "4a10n",
    "CH": "5n12c",
    "LU": "3n13c",
    "PT": "21n",
}


def with_check_digits(country: str, bban: str) -> str:
    """ISO 13616: the BBAN, the country and 00 read as one number (A=10 … Z=35); the
    check digits are 98 minus that number modulo 97."""
    number = int("".join(str(int(ch, 36)) for ch in bban + country + "00"))
    return f"{country}{98 - number % 97:02d}{bban}"


def is_valid_iban(iban: str) -> bool:
    moved = iban[4:] + iban[:4]
    return int("".join(str(int(ch, 36)) for ch in moved)) % 97 == 1


@st.composite
def bbans(draw, spec: str) -> str:
    out = ""
    for count, kind in re.findall(r"(\d+)([nac])", spec):
        count = int(count)
        if kind == "a":
            out += draw(st.text(string.ascii_uppercase, min_size=count, max_size=count))
        else:
            chunk = list(draw(digits(count)))
            if kind == "c":  # an account number holds a letter or two, rarely more
                for index in draw(st.lists(st.integers(0, count - 1), max_size=2)):
                    chunk[index] = draw(st.sampled_from(string.ascii_uppercase))
            out += "".join(chunk)
    return out


@st.composite
def ibans(draw) -> str:
    country = draw(st.sampled_from(sorted(BBANS)))
    compact = with_check_digits(country, draw(bbans(BBANS[country])))
    sep = draw(st.sampled_from((" ", "  ", "-", "")))
    written = sep.join(compact[i : i + 4] for i in range(0, len(compact), 4))
    return written.lower() if draw(st.booleans()) else written


NAMES = ("jean", "marie", "dupont", "le.goff", "nguyen", "o-brien", "k.martin", "zoe")
DOMAINS = (
    "example.org",
    "orange.fr",
    "free.fr",
    "gmail.com",
    "laposte.net",
    "wanadoo.fr",
    "yahoo.co.uk",
    "mairie-plouha.bzh",
)


def full_width(ch: str) -> str:
    return chr(ord(ch) + 0xFEE0) if "!" <= ch <= "~" else ch


@st.composite
def emails(draw) -> str:
    local = draw(st.sampled_from(NAMES)) + draw(st.sampled_from(("", ".", "_", "-", "+")))
    local += draw(st.sampled_from(NAMES)) + draw(st.sampled_from(("", "1985", "22", "7")))
    address = f"{local}@{draw(st.sampled_from(DOMAINS))}"
    at = draw(st.sampled_from(("@", "＠", "﹫")))  # full-width and small commercial at
    dot = draw(st.sampled_from((".", "．")))
    wide = draw(st.booleans())  # a full-width keyboard, letters included
    typed = "".join(
        at
        if ch == "@"
        else dot
        if ch == "."
        else full_width(ch)
        if wide and draw(st.booleans())
        else ch
        for ch in address
    )
    assert unicodedata.normalize("NFKC", typed) == address
    return typed


STREETS = (
    "rue",
    "Rue",
    "r.",
    "R.",
    "avenue",
    "av.",
    "av",
    "Av.",
    "boulevard",
    "bd",
    "Bd",
    "bld",
    "blvd",
    "allée",
    "all.",
    "impasse",
    "imp.",
    "place",
    "pl.",
    "chemin",
    "chem.",
    "ch.",
    "route",
    "rte",
    "quai",
    "qu.",
    "cours",
    "square",
    "résidence",
    "lotissement",
    "faubourg",
    "fbg",
    "lieu-dit",
    "passage",
)
STREET_NAMES = (
    "de la Paix",
    "des Lilas",
    "du Général de Gaulle",
    "Victor Hugo",
    "Jean-Jaurès",
    "de l'Église",
    "de l’Église",
    "des Trois-Lutins",
    "du 8 Mai 1945",
    "Saint-Exupéry",
    "de Verdun",
    "Pasteur",
    "du Port",
    "des Écoles",
    "Kerloc'h",
)
ENGLISH = (
    "12 Baker Street",
    "221B Baker St",
    "4 Privet Drive",
    "10 Downing Street",
    "7 Abbey Road",
    "42 Wallaby Way Lane",
)


@st.composite
def addresses(draw) -> str:
    if draw(st.integers(0, 9)) == 0:
        return draw(st.sampled_from(ENGLISH))
    number = str(draw(st.integers(1, 350)))
    number += draw(st.sampled_from(("", "", " bis", "bis", " ter", "ter", "B", " b", "-14")))
    comma = draw(st.sampled_from(("", ",")))
    return f"{number}{comma} {draw(st.sampled_from(STREETS))} {draw(st.sampled_from(STREET_NAMES))}"


# Sentences around the data, with what must survive masking: typographic apostrophes,
# non-breaking spaces (U+00A0, U+202F), a ligature NFKC would unfold, amounts, durations.
SENTENCES = (
    "Free me prélève encore alors que j’ai résilié, rappelez-moi au {} svp",
    "Mon numéro\u00a0: {}. La ligne est coupée depuis 2 semaines.",
    "plus de réseau Orange depuis 3 jours, joignable au {} ou par mail",
    "SFR m'a facturé 29,99 € en trop, voici {} pour le remboursement",
    "Vous pouvez me joindre ({}) après 18h\u202f?",
    "{}",
    "la ﬁbre ne marche plus, contact\u00a0: {}, merci",
    "No signal with Bouygues for 2 weeks, call me on {} please",
    "My details: {}. They charged me twice, 45 € each time.",
)
# An address ends where the sentence says so: a comma, a full stop, « à Lyon », « depuis ».
ADDRESS_SENTENCES = (
    "j'habite au {}, la ﬁbre est coupée depuis 10 jours",
    "colis jamais livré au {} à Rennes (35000)",
    "Adresse\u00a0: {}. Internet coupé.",
    "pas de réseau SFR {} depuis lundi",
    "plus d’ADSL au {} et personne ne répond au 3900",
    "I live at {}, no 4G since Monday",
    "{}",
)


def masks_exactly(value: str, kind: str, sentences=SENTENCES):
    """A strategy of (typed text, what `mask` must return)."""
    return st.tuples(st.sampled_from(sentences), st.sampled_from(("fr", "en"))).map(
        lambda drawn: (
            drawn[0].format(value),
            drawn[1],
            (drawn[0].format(MARKS[drawn[1]][kind]), (kind,)),
        )
    )


# -- the formats of the issue, one by one -------------------------------------------------


@pytest.mark.parametrize(
    "typed,kind",
    [
        ("(06) 98 76 54 32", "phone"),
        ("07/11/22/33/44", "phone"),
        ("FR76-3000-6000-0112-3456-7890-189", "iban"),
        ("FR76  3000  6000  0112  3456  7890  189", "iban"),
        ("jean.dupont＠example.org", "email"),
        ("12 r. de la Paix", "address"),
        ("+33 (0)6 98 76 54 32", "phone"),
        ("06 98  76 54 32", "phone"),  # a slip of the thumb: one double space
        ("06\u200b98\u200b76\u200b54\u200b32", "phone"),  # zero-width spaces pasted along
        ("０６ ９８ ７６ ５４ ３２", "phone"),  # full-width digits
        ("06\u00a098\u00a076\u00a054\u00a032", "phone"),  # non-breaking spaces
        ("BE68 5390 0754 7034", "iban"),
        ("12 av. Jean-Jaurès", "address"),
        ("4 bis, imp. des Trois-Lutins", "address"),
    ],
)
def test_the_formats_of_the_issue_are_masked(typed: str, kind: str) -> None:
    text = f"rappelez-moi, {typed}, merci"
    assert mask(text) == (f"rappelez-moi, {FR_MARK[kind]}, merci", (kind,))


def test_the_generated_ibans_follow_the_registry() -> None:
    """The registry's own example, so that the generator is known to make real IBANs."""
    assert with_check_digits("GB", "WEST12345698765432") == "GB82WEST12345698765432"
    assert is_valid_iban("FR7630006000011234567890189")


# -- properties ---------------------------------------------------------------------------

PERSONAL = {
    "French number": (french_numbers(), "phone", SENTENCES),
    "foreign number": (foreign_numbers(), "phone", SENTENCES),
    "IBAN": (ibans(), "iban", SENTENCES),
    "e-mail": (emails(), "email", SENTENCES),
    "address": (addresses(), "address", ADDRESS_SENTENCES),
}


@pytest.mark.parametrize("name", list(PERSONAL))
@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_personal_data_never_passes(name: str, data) -> None:
    strategy, kind, sentences = PERSONAL[name]
    value = data.draw(strategy, label=name)
    typed, language, expected = data.draw(masks_exactly(value, kind, sentences))
    assert mask(typed, language) == expected, typed


@given(ibans())
def test_the_generated_ibans_have_valid_check_digits(iban: str) -> None:
    assert is_valid_iban(iban.upper().replace(" ", "").replace("-", ""))


# -- what is not personal stays -----------------------------------------------------------


def _date(day: int, month: int, year: int, style: str) -> str:
    return {
        "dd/mm/yyyy": f"{day:02d}/{month:02d}/{year}",
        "d/m": f"{day}/{month}",
        "dd/mm": f"{day:02d}/{month:02d}",
        "dd.mm.yyyy": f"{day:02d}.{month:02d}.{year}",
        "dd-mm-yyyy": f"{day:02d}-{month:02d}-{year}",
        "iso": f"{year}-{month:02d}-{day:02d}",
        "dd/mm/yy": f"{day:02d}/{month:02d}/{year % 100:02d}",
    }[style]


DATE_STYLES = ("dd/mm/yyyy", "d/m", "dd/mm", "dd.mm.yyyy", "dd-mm-yyyy", "iso", "dd/mm/yy")

dates = st.builds(
    _date,
    st.integers(1, 31),
    st.integers(1, 12),
    st.integers(1990, 2099),
    st.sampled_from(DATE_STYLES),
)
times = st.builds(
    lambda h, m, style: style.format(h=h, m=m),
    st.integers(0, 23),
    st.integers(0, 59),
    st.sampled_from(("{h}h{m:02d}", "{h:02d}:{m:02d}", "{h}h", "à {h:02d}h{m:02d}")),
)
KEPT = st.one_of(
    st.builds("{:05d}".format, st.integers(1000, 98890)),  # postcodes
    st.sampled_from(
        (
            "3900",
            "39 00",
            "1023",
            "10 23",
            "3970",
            "3244",
            "1036",
            "3639",
            "0 800 05 10 10",
            "0800 05 10 10",
            "08 99 12 34 56",
            "+33 8 00 12 34 56",
            "112",
            "15",
            "17",
        )
    ),  # services
    dates,
    st.builds(lambda d, t: f"{d} {t}", dates, times),  # date, then hour
    st.builds(lambda e, c: f"{e},{c:02d} €", st.integers(0, 2000), st.integers(0, 99)),
    st.builds("{} € par mois".format, st.integers(1, 300)),  # amounts
    st.builds(
        lambda n, u: f"{n} {u}",
        st.integers(1, 60),
        st.sampled_from(
            (
                "jours",
                "semaines",
                "mois",
                "ans",
                "h",
                "minutes",
                "fois",
                "personnes",
                "enfants",
                "barres",
                "Mb/s",
                "Gb/s",
                "km",
                "days",
                "weeks",
                "people",
            )
        ),
    ),  # durations, counts
    st.builds("depuis {} semaines".format, st.integers(1, 12)),
    st.sampled_from(("4G", "5G", "3G", "4G+", "FTTH", "ADSL", "VDSL2", "Wi-Fi 6", "1 Gb/s")),
    st.builds("nous sommes {} à la maison".format, st.integers(2, 9)),
)


@settings(max_examples=500, deadline=None)
@given(
    st.lists(KEPT, min_size=1, max_size=4),
    st.sampled_from(("Orange coupé depuis le {}", "{}", "colis perdu, {}", "SFR: {}.")),
)
def test_what_is_not_personal_stays(pieces: list[str], sentence: str) -> None:
    text = sentence.format(", ".join(pieces))
    assert mask(text) == (text, ()), text


@pytest.mark.parametrize(
    "text",
    [
        "colis jamais arrivé au 75011 Paris, appelé le 3900 puis le 39 00",
        "le 07/11/2026 à 10h30, puis le 7/11 et le 07/11/2026 10 30",
        "facture du 07.11.2026 10h : 29,99 € au lieu de 19,99 €",
        "depuis 2 semaines, 4 personnes sans 4G ni 5G, la FTTH promise pour le 01/12",
        "appel au 1023 et au 3970, ticket n° 2026-11-07",
        "j'ai payé 12 € pour 3 mois",
        "le 08 99 12 34 56 m'a été facturé 3 €",  # a premium number, the subject of the complaint
    ],
)
def test_the_examples_that_must_stay(text: str) -> None:
    assert mask(text) == (text, ()), text


@pytest.mark.parametrize(
    "hostile",
    [
        ("+1" + "2" * 48 + " ") * 80,
        ("+1" + "2" * 45 + "a") * 80,
        "+" + "1" * 4000,
        "a." * 2000 + "@",
        "07/" * 1500,
    ],
)
def test_a_long_hostile_message_is_masked_at_once(hostile: str) -> None:
    """Every message goes through `mask` before its turn: a pattern that backtracks over
    a long run of digits would hold the conversation (it took 8 s here once)."""
    started = time.perf_counter()
    mask(hostile)
    assert time.perf_counter() - started < 2


def test_a_date_is_no_phone_but_five_pairs_are() -> None:
    assert mask("le 07/11/2026") == ("le 07/11/2026", ())
    assert mask("le 07/11/22/33/44") == ("le [téléphone retiré]", ("phone",))


# -- storage: the real service, the database's own files ----------------------------------

# Issue 18's formats as one person types them through a conversation: (sentence, the
# data typed in it, parts of the data that must not be found either).
TYPED = (
    (
        "Orange me facture encore ma box, rappelez-moi au {}",
        "(06) 98 76 54 32",
        ("98 76 54 32", "98765432"),
    ),
    ("ou au {} le soir", "07/11/22/33/44", ("22/33/44", "0711223344")),
    (
        "mon IBAN {} pour le remboursement",
        "-".join(
            with_check_digits("FR", "11112222333344445555097")[i : i + 4] for i in range(0, 27, 4)
        ),
        ("1111-2222", "111122223333"),
    ),
    ("ou celui-ci : {}", "FR76  3000  6000  0112  3456  7890  189", ("3456  7890", "34567890")),
    ("écrivez à {}", "jean.dupont＠example．org", ("jean.dupont", "example")),
    ("j'habite au {} à Lyon", "12 r. de la Paix", ("de la Paix",)),
)


def _forms(needle: str) -> set[bytes]:
    """The bytes a stored copy of `needle` could take: UTF-8, JSON's \\u escapes, NFKC."""
    return {
        form.encode()
        for form in (needle, json.dumps(needle)[1:-1], unicodedata.normalize("NFKC", needle))
    }


async def test_what_people_type_reaches_no_stored_file(sqlite_bot, tmp_path, monkeypatch) -> None:
    """Through the real service and model: not in the database, not in its log (-wal)
    while the service runs, not after; and not sent to the parser either."""
    bot = sqlite_bot
    needles = set()
    for _, typed, parts in TYPED:
        needles |= _forms(typed).union(*map(_forms, parts))
    parsed: list[str] = []
    parse = bot.nlu.parse

    async def recording(text, *args, **kwargs):
        parsed.append(text)
        return await parse(text, *args, **kwargs)

    monkeypatch.setattr(bot.nlu, "parse", recording)
    sentence, typed, _ = TYPED[0]
    await to_the_summary(bot, sentence.format(typed))
    for sentence, typed, _ in TYPED[1:]:
        await bot.send(sentence.format(typed))
    await to_the_summary(bot, "et toujours pas de réponse")
    saved = await bot.send(ChoiceEvent("confirm:send"))
    assert saved.alert_id

    def leaks() -> list[tuple[str, bytes]]:
        return [
            (path.name, needle)
            for path in sorted(tmp_path.rglob("*"))
            if path.is_file()
            for needle in sorted(needles)
            if needle in path.read_bytes()
        ]

    assert "jalerte.db-wal" in {path.name for path in tmp_path.rglob("*")}
    assert leaks() == []  # the files as the running service left them, its log included
    assert FR_MARK["phone"] in (await bot.repository.alert(saved.alert_id))["description"]
    await bot.db.close()
    assert leaks() == []
    assert [text for text in parsed if any(n.decode() in text for n in needles)] == []
