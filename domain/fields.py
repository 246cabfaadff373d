"""The alert's fields, in one registry: every list of fields elsewhere is derived from it.

A field's `name` is its draft attribute, its button prefix (`operator:free`), the key of its
values in dialogues/labels.yml (`operator`), its correction target (`fix:operator`) and
its column in the alert record. The registry is listed in the record's order (the order of
the alert's JSON and of the export columns); the dialogue's orders are ranks:

- `question` — when the dialogue asks it, lowest first (None: never in the sequence);
- `summary`  — its line in the summary, lowest first (None: no line);
- `named`    — which field a correction means when it names several (« l'opérateur et
               le lieu sont faux » changes the operator first); None: a correction
               cannot name it;
- `categories` — the problems that ask it (None: asked whatever the problem, when needed);
- `incidental` — a value sentences state in passing, weaker than the others at the summary.

Adding a field: an entry here, its slot class (dialogues/slots.py), its texts
(dialogues/labels.yml, dialogues/messages.py) and a migration (storage/).
"""

from __future__ import annotations

from dataclasses import dataclass

# Problems located in time and space: a network or a delivery that fails somewhere.
_NETWORK = ("coverage", "outage", "slow_speed")


@dataclass(frozen=True)
class Field:
    name: str
    question: int | None = None
    summary: int | None = None
    named: int | None = None
    # Offered among « Modifier »'s buttons at the summary.
    correctable: bool = True
    # May be the question the bot waits for (`expecting`, the contract of `jalerte chat
    # --json`).
    expects: bool = True
    # A column of the alert record (the saved alert's JSON and the staff pages).
    stored: bool = True
    # Its columns in the CSV and JSON exports, in order (default: its name).
    export: tuple[str, ...] | None = None
    # Its title: the key in labels.yml `fields` (default: its name), and on staff pages.
    label: str = ""
    staff: str = ""
    categories: tuple[str, ...] | None = None
    # Said in passing while correcting another field (« non, on a Free depuis mars »): at
    # the summary it changes only when the sentence changes nothing else or names it.
    incidental: bool = False

    @property
    def label_key(self) -> str:
        return self.label or self.name

    @property
    def columns(self) -> tuple[str, ...]:
        return (self.name,) if self.export is None else self.export


def _record(
    name: str, staff: str, export: tuple[str, ...] | None = None, stored: bool = True
) -> Field:
    """A field of the saved alert that the dialogue neither asks nor shows."""
    return Field(name, correctable=False, expects=False, stored=stored, export=export, staff=staff)


FIELDS: tuple[Field, ...] = (
    _record("language", "Langue"),
    Field(
        "user_type", summary=7, named=6, export=("user_type", "user_type_label"), staff="Déclarant"
    ),
    Field(
        "sector", question=2, summary=2, named=3, export=("sector", "sector_label"), staff="Secteur"
    ),
    Field(
        "category",
        question=1,
        summary=1,
        named=2,
        export=("category", "category_label"),
        staff="Problème",
    ),
    Field(
        "operator",
        question=3,
        summary=3,
        named=1,
        export=("operator", "operator_label", "operator_group"),
        staff="Opérateur",
    ),
    _record("operator_text", "Opérateur (tel qu'écrit)"),
    # Every operator of an alert about several (a row each in storage, not a column).
    _record("operators", "Opérateurs", stored=False),
    _record("previous_operator", "Opérateur quitté"),
    Field(
        "technology",
        question=4,
        summary=4,
        named=5,
        staff="Technologie",
        categories=(*_NETWORK, "fibre_connection"),
    ),
    Field(
        "location",
        question=5,
        summary=5,
        named=4,
        export=("location", "department"),
        staff="Lieu",
        categories=(*_NETWORK, "fibre_connection", "parcel_delivery", "mail_delivery"),
    ),
    Field(
        "started_on",
        question=6,
        summary=6,
        named=9,
        staff="Début du problème",
        categories=(*_NETWORK, "parcel_delivery", "mail_delivery"),
        incidental=True,
    ),
    Field("description", question=7, summary=10, named=8, staff="Description"),
    Field(
        "contacted_customer_service",
        question=8,
        summary=8,
        named=7,
        staff="Service client contacté",
    ),
    _record("advice_sheet", "Fiche conseil"),
    _record("advice_rating", "Avis sur la fiche"),
    _record("shared", "Partagée"),
    Field(
        "photo",
        summary=9,
        correctable=False,
        stored=False,
        export=("photo_count",),
        label="photos",
        staff="Photos",
    ),
)
FIELD = {f.name: f for f in FIELDS}
# Steps the bot may wait for besides a field.
STEPS = ("confirmation", "rating")


def _ranked(rank: str) -> tuple[str, ...]:
    ranked = [f for f in FIELDS if getattr(f, rank) is not None]
    return tuple(f.name for f in sorted(ranked, key=lambda f: getattr(f, rank)))


# The order questions are asked in (a category before its follow-ups).
QUESTION_ORDER = _ranked("question")
# The order of the summary's lines.
SUMMARY_ORDER = _ranked("summary")
# The fields a correction may name, the one it means first when it names several.
NAMED_ORDER = _ranked("named")
# What `expecting` may name: a field the bot asks for, or a step.
EXPECTING = tuple(f.name for f in FIELDS if f.expects) + STEPS
# The questions, in the order the dialogue asks them, then the ones asked on request.
QUESTIONS = QUESTION_ORDER + tuple(
    n for n in SUMMARY_ORDER if n not in QUESTION_ORDER and FIELD[n].expects
)
# The columns of the alert record.
ALERT_FIELDS = tuple(f.name for f in FIELDS if f.stored)
# The fields « Modifier » offers at the summary, in the order of the questions.
CORRECTABLE = tuple(n for n in QUESTIONS if FIELD[n].correctable)


def export_columns() -> list[str]:
    """The fields' columns in the exports, in the record's order."""
    return [column for f in FIELDS for column in f.columns]


def asked_by(category: str) -> tuple[str, ...]:
    """The follow-up questions a problem asks (when not already answered), in order."""
    return tuple(n for n in QUESTION_ORDER if category in (FIELD[n].categories or ()))
