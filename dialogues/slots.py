"""The alert's fields as units: one class per slot, in the spirit of rasa-sdk's forms.

Each slot declares, in one place:
  - `stated`   — what any message says about it (the first one, a later one, an answer
                 to another question, a correction at the summary);
  - `read`     — how a typed answer to its own question is read when the parse found
                 nothing (whole sentences, FR/EN/SMS: « non, jamais réussi à les joindre »);
  - `question` — the question and its buttons; `choose` — what its buttons do;
  - `needed`   — when the dialogue must ask it (from the taxonomy's data: a category
                 `asks` for technology and location);
  - `problem`  — its consistency rule with the other slots (asked again when broken);
  - `shown`    — its line in the summary.
A slot's name is its field's in the registry (domain/fields.py): its draft attribute,
button prefix (`operator:free`), label key (`labels.yml`), correction target
(`fix:operator`) and alert column; the registry gives the orders (questions, summary,
corrections) and the problems that ask it. Adding a field is an entry there, one class
here, its texts, and a column (with its migration) in storage.
"""

from __future__ import annotations

import re
import dataclasses
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cached_property, lru_cache
from typing import Any, Iterator

import yaml

from dialogues.messages import button, day_text, label, text as text_of
from dialogues.replies import Choice
from dialogues.state import Draft
from domain.fields import CORRECTABLE, FIELD, NAMED_ORDER, QUESTION_ORDER, SUMMARY_ORDER
from domain.dates import paris_today
from domain.parse import ParseResult
from reading.interpret import FIXED_WIRELESS, MOBILE_EQUIVALENT, without_set_aside
from reading.dates import SPEAKS_OF_TIME, started_on
from reading.lexicon import EXAMPLES_DIR, Lexicon
from reading.names import NOT_A_PROVIDER, capitalised_name, named_in_sentence, operator_named
from domain.taxonomy import TECHNOLOGY_SECTOR, TECHNOLOGY_SECTORS, Taxonomy
from domain.text import fold, words

# Buttons for the operator question: the largest operators of each sector.
OPERATOR_BUTTONS = {
    "mobile": ("orange", "sfr", "bouygues", "free"),
    "fixed": ("orange", "sfr", "bouygues", "free"),
    "postal": ("la_poste", "chronopost", "colis_prive", "mondial_relay", "dpd", "ups"),
}
# The technologies offered for each sector, most frequent first.
SECTOR_TECHNOLOGIES = {
    "mobile": ("4g", "5g", "3g", "2g"),
    # 4G last: a home line over 4G (« la box 4G ») is a fixed line too.
    "fixed": ("fibre", "adsl", "vdsl", "cable", "satellite", "radio", "4g"),
}
SKIP_WORDS = frozenset(
    fold(w)
    for w in """passer passe skip next suivant aucun aucune non no nope nan pas
    rien nothing none""".split()
)
# « je ne sais pas », « aucune idée », « je ne saurais vous dire », "no idea", "jsp": the
# person does not know (the answer to a question, or a hedge inside one).
DONT_KNOW = (
    r"(?:(?:je |on |nous |j.?)?(?:ne |n.)?(?:sais|sait|savons|savez|savent|se) "
    r"(?:pas|plus)|j.?sais (?:pas|pa|plus)|chais pas|jsp|aucune id\w*|"
    r"(?:j.?en |je n.en )?sais (?:rien|trop rien)|(?:j.?en )?ai aucune id\w*|"
    r"pas la moindre idee|no idea|no clue|not sure|pas sur|"
    r"(?:i )?(?:don.?t|do not) (?:know|remember)|"
    r"saurai\w* (?:pas |)(?:vous |te |)(?:le |)dire|j.ignore)"
)
# The score a category needs among the definite problems when the message answers the
# question "what is the problem?" (a first message needs reading.interpret's threshold).
ANSWER_THRESHOLD = 0.6
CONVERSATIONAL = frozenset(
    {
        "greet",
        "thank",
        "goodbye",
        "chitchat",
        "out_of_scope",
        "consumer_dispute",
        "affirm",
        "deny",
        "dont_know",
        "cancel",
        "restart",
        "help",
    }
)


def first_reading(
    table: tuple[tuple[str, str], ...], folded: str, at_start: bool = False
) -> str | None:
    """The value of the first pattern of `table` found in the text (or that starts it)."""
    for value, pattern in table:
        if re.match(rf"\W*(?:{pattern})\b", folded) if at_start else re.search(pattern, folded):
            return value
    return None


def every_reading(table: tuple[tuple[str, str], ...], folded: str) -> list[str]:
    """The values of every pattern of `table` found in the text, in the text's order."""
    found = sorted(
        (m.start(), value) for value, pattern in table for m in re.finditer(pattern, folded)
    )
    return list(dict.fromkeys(value for _, value in found))


# « c'est un problème personnel » says who is writing, not that the problem is wrong.
_NOT_NAMING = re.compile(
    r"\b(?:un |mon |notre )?probleme (?:personnel|perso|prive|professionnel"
    r"|pro)\b|\b(?:pour|oubliez|oublie|oublier) la commune\b"
    r"|\b(?:numero|telephone|tel|standard|cote|pres|devant|derriere|"
    r"place|rue|ecole) de la mairie\b"
)


@dataclass(frozen=True)
class Question:
    """A message key, its buttons and the values its text needs."""

    key: str
    choices: tuple[Choice, ...] = ()
    values: dict[str, Any] = field(default_factory=dict)


# What `choose` returns when its button asks the slot's own question again.
REASK = Question("")


@dataclass
class Utterance:
    """One message as every slot reads it: the parse, the text, and readings of it."""

    parse: ParseResult
    text: str

    @cached_property
    def folded(self) -> str:
        return fold(self.text).strip(" .!?")

    @cached_property
    def today(self) -> date:
        """The day the message is read, in Paris (« hier » is the day before)."""
        return paris_today()

    @cached_property
    def skip(self) -> bool:
        """ "non", "passer", "je ne sais pas": the person declines the question."""
        return self.folded in SKIP_WORDS or self.parse.intent in ("deny", "dont_know")

    @cached_property
    def short(self) -> bool:
        return len(words(self.folded)) <= 5 and len(self.text) <= 60

    @cached_property
    def conversational(self) -> bool:
        return self.parse.intent in CONVERSATIONAL


class Slot:
    name: str = ""
    # Words that name this field in a correction: « le lieu est faux ».
    words: str = ""
    # Its reader may read a correction that names the field (« mettez professionnel »);
    # free-text readers (an operator's name, a place) would take any words.
    reads_corrections: bool = False

    def __init__(self, taxonomy: Taxonomy):
        self.taxonomy = taxonomy

    @property
    def fixable(self) -> bool:
        """Offered in « Modifier » at the summary (the field registry says)."""
        return FIELD[self.name].correctable

    # -- the value in the draft ---------------------------------------------------------
    def value(self, draft: Draft) -> Any:
        return getattr(draft, self.name)

    def set(self, draft: Draft, value: Any) -> None:
        setattr(draft, self.name, value)

    def empty(self, draft: Draft) -> bool:
        return self.value(draft) is None

    def recorded(self, draft: Draft) -> Any:
        """The value the saved alert records."""
        return self.value(draft)

    def same(self, draft: Draft, value: Any) -> bool:
        """Whether `value` is what the draft already says."""
        return bool(self.value(draft) == value)

    # -- reading messages ---------------------------------------------------------------
    def stated(self, said: Utterance) -> Any:
        """What any message states about this field, or None."""
        return None

    def late_answer(self, said: Utterance) -> Any:
        """An answer to this field's question typed once the summary is shown (« oui deux
        fois, sans réponse »), in words that can answer no other question; or None."""
        return None

    def mentioned(self, said: Utterance) -> list[Any]:
        """Every value the message names for this field, the ones it sets aside included
        (« j'ai quitté Orange pour Free » names both): at the summary, the one that is not
        the value noted is the correction."""
        value = self.stated(said)
        return [] if value is None else [value]

    def read(self, draft: Draft, said: Utterance) -> bool:
        """Reads a typed answer to this slot's own question beyond what the parse stated;
        True when the message answered it (a value, a skip)."""
        return False

    def answer(self, draft: Draft, said: Utterance) -> bool:
        value = self.stated(said)
        if value is not None:
            self.set(draft, value)
            return True
        return self.read(draft, said)

    def absorb(self, draft: Draft, said: Utterance, override: bool) -> None:
        """Takes what the message states, without overwriting unless `override`; a value
        stated after « je ne sais pas » (said, or taken when the question was given up)
        replaces it: « la 4G » typed one question later is the technology."""
        value = self.stated(said)
        unknown = self.value(draft) == "unknown" and value != "unknown"
        if value is not None and (override or self.empty(draft) or unknown):
            self.set(draft, value)

    # -- asking ---------------------------------------------------------------------------
    def needed(self, draft: Draft) -> bool:
        return False

    def problem(self, draft: Draft) -> str | None:
        """The message key explaining why the value no longer fits the others, or None."""
        return None

    def problem_values(self, draft: Draft, lang: str) -> dict[str, Any]:
        return {}

    def settle(self, draft: Draft) -> None:
        """Fills or clears what follows from the other fields."""

    def question(self, draft: Draft, lang: str) -> Question:
        raise NotImplementedError

    def question_again(self, draft: Draft, lang: str) -> Question:
        """The question asked a second time in a row, after an answer it could not read:
        with buttons for the likely answers."""
        return self.question(draft, lang)

    def give_up(self, draft: Draft, said: Utterance) -> None:
        """After two answers in a row it could not read, takes what it has (the text as
        typed, or « je ne sais pas » where the field allows it): never asked a third time."""
        draft.skip(self.name)

    def choose(self, draft: Draft, arg: str) -> bool | Question:
        """Applies one of this slot's buttons: True when set, False when the button is
        unknown, or a follow-up question to ask."""
        return False

    def follow_up(self, draft: Draft, question: Question, lang: str) -> Question:
        """The follow-up question `choose` returned, with its buttons in `lang`."""
        return question

    def shown(self, draft: Draft, lang: str) -> str | None:
        """The value in the summary, or None for no line."""
        value = self.value(draft)
        return label(self.name, value, lang) if value else None

    def button_for(self, value: Any, lang: str) -> Choice | None:
        """A button that sets this value (None when the value has none)."""
        if not isinstance(value, str) or self.choose(Draft(), value) is not True:
            return None  # « Lyon »: no button of this field sets it
        return self._buttons((value,), lang)[0]

    def _buttons(self, values: tuple[str, ...], lang: str) -> tuple[Choice, ...]:
        return tuple(Choice(label(self.name, v, lang), f"{self.name}:{v}") for v in values)

    def _asks(self, draft: Draft) -> bool:
        """Whether the draft's category calls for this follow-up question."""
        category = self.taxonomy.categories.get(draft.category or "")
        return category is not None and self.name in category.asks


# A question to the bot or the regulator (« l'Arcep peut obliger Free à répondre ? »).
_ASKS_US = re.compile(
    r"\b(?:l.?arcep|vous (?:pouvez|allez|faites)|pouvez.vous|allez.vous|peut.on|est.ce que vous|"
    r"can you|could you|do you|will you|does arcep|can arcep)\b"
)


class CategorySlot(Slot):
    name = "category"
    words = r"probleme|categorie|category|problem|type"

    def set(self, draft: Draft, value: Any) -> None:
        draft.category, draft.category_guesses = value, []

    def stated(self, said: Utterance) -> Any:
        if not said.parse.is_report or _only_contacted(said, said.parse.category):
            return None
        return said.parse.category

    def absorb(self, draft: Draft, said: Utterance, override: bool) -> None:
        # The parser gives a category only when it is confident; otherwise its
        # candidates are offered as buttons.
        if not said.parse.is_report or _only_contacted(said, said.parse.category):
            return
        if said.parse.category:
            super().absorb(draft, said, override)
        elif draft.category is None:
            draft.category_guesses = said.parse.category_choices()

    def read(self, draft: Draft, said: Utterance) -> bool:
        if "?" in said.text and _ASKS_US.search(said.folded):
            return False  # « Et l'Arcep peut obliger Free à répondre ? »: a question back
        # "J'ai compris qu'il s'agit peut-être de : panne. Est-ce bien ça ?" — "oui" takes
        # that guess; "non" shows every category.
        if draft.category_guesses and said.parse.intent in ("affirm", "deny"):
            if said.parse.intent == "affirm":
                draft.category = draft.category_guesses[0]
            draft.category_guesses = []
            return True
        # An answer to "what is the problem?" is about the problem alone: its likeliest
        # category is taken when it clearly leads (the summary shows it, one tap to fix).
        merged: dict[str, float] = {}
        for c, s in said.parse.category_candidates:  # « internet rame » on a phone: coverage
            c = MOBILE_EQUIVALENT.get(c, c) if draft.sector == "mobile" else c
            merged[c] = merged.get(c, 0.0) + s
        candidates = sorted(
            (
                (c, s)
                for c, s in merged.items()
                if draft.sector is None or draft.sector in self.taxonomy.categories[c].sectors
            ),
            key=lambda cs: -cs[1],
        )
        # « sa capte mal enfin internet rame a mort » on a mobile: the problems of the area
        # known share the whole score (slow home internet is no choice on a phone).
        # Only when those problems hold most of the score to begin with.
        total = sum(s for _, s in candidates) if draft.sector else 1.0
        if (
            said.parse.is_report
            and candidates
            and total >= 0.5
            and candidates[0][1] / total >= ANSWER_THRESHOLD
            and not _only_contacted(said, candidates[0][0])
        ):
            self.set(draft, candidates[0][0])
            return True
        return False

    def needed(self, draft: Draft) -> bool:
        return draft.category is None

    def problem(self, draft: Draft) -> str | None:
        if (
            draft.category
            and draft.sector
            and draft.sector not in self.taxonomy.categories[draft.category].sectors
        ):
            return "category_mismatch"
        return None

    def problem_values(self, draft: Draft, lang: str) -> dict[str, Any]:
        return {"sector": label("sector", draft.sector, lang)}

    def question(self, draft: Draft, lang: str) -> Question:
        allowed = tuple(
            c
            for c, cat in self.taxonomy.categories.items()
            if draft.sector is None or draft.sector in cat.sectors
        )
        guesses = tuple(g for g in draft.category_guesses if g in allowed)
        if guesses:
            choices = (
                *self._buttons(guesses, lang),
                Choice(button("other_category", lang), "category:?"),
            )
            return Question(
                "ask_category_guess",
                choices,
                {"guess": label("category", guesses[0], lang).lower()},
            )
        return Question("ask_category", self._buttons(allowed, lang))

    def give_up(self, draft: Draft, said: Utterance) -> None:
        # The model's likeliest guess, or « Autre problème » (one tap to fix at the summary).
        allowed = [
            c
            for c, cat in self.taxonomy.categories.items()
            if draft.sector is None or draft.sector in cat.sectors
        ]
        self.set(draft, next((g for g in draft.category_guesses if g in allowed), "other"))

    def choose(self, draft: Draft, arg: str) -> bool | Question:
        if arg == "?":
            draft.category_guesses = []  # « Autre » : every category
            return REASK
        if arg not in self.taxonomy.categories:
            return False
        self.set(draft, arg)
        if draft.sector and draft.sector not in self.taxonomy.categories[arg].sectors:
            draft.sector = None
        return True


_SECTOR_WORDS = (
    (
        "mobile",
        r"\b(?:internet mobile|data|donnees mobiles|mobile data|4g|5g|3g|portable|"
        r"mobile|smartphone|forfait|cell|cellphone|telephone portable|tel portable|"
        r"phone plan|mobile plan|cell plan|my plan)\b",
    ),
    (
        "fixed",
        r"\b(?:internet|box|fixe|fibre|adsl|vdsl|landline|wifi|wi-fi|broadband|"
        r"home internet|ligne fixe|modem|routeur|router|tele|tv)\b",
    ),
    (
        "postal",
        # (« relire le mail » is an e-mail; "the mail" is the post)
        r"\b(?:colis|courrier|courriers|lettre|lettres|parcel|parcels|package|"
        r"(?:my|the|our|no|any) mail|letters?|poste|facteur|recommande|recommandee)\b",
    ),
)


class SectorSlot(Slot):
    name = "sector"
    reads_corrections = True
    words = r"secteur|domaine|sector|area"

    def stated(self, said: Utterance) -> Any:
        return said.parse.sector

    def read(self, draft: Draft, said: Utterance) -> bool:
        # An answer to "mobile, internet or mail?": « Internet de la maison, pas le
        # portable » — what is set aside does not count.
        found = first_reading(_SECTOR_WORDS, fold(without_set_aside(said.text)))
        if found and found in self.options(draft):
            draft.sector = found
            return True
        return False

    def mentioned(self, said: Utterance) -> list[Any]:
        return every_reading(_SECTOR_WORDS, said.folded)

    def needed(self, draft: Draft) -> bool:
        return draft.sector is None

    def settle(self, draft: Draft) -> None:
        """A single possible sector is taken: the category's, the operator's, the
        technology's."""
        if draft.sector is not None:
            return
        options = set(self.taxonomy.sectors)
        if draft.category:
            options &= set(self.taxonomy.categories[draft.category].sectors)
        if draft.operator and options & set(self.taxonomy.operators[draft.operator].sectors):
            options &= set(self.taxonomy.operators[draft.operator].sectors)
        if draft.technology in TECHNOLOGY_SECTOR and TECHNOLOGY_SECTOR[draft.technology] in options:
            options = {TECHNOLOGY_SECTOR[draft.technology]}
        if len(options) == 1:
            draft.sector = options.pop()

    def give_up(self, draft: Draft, said: Utterance) -> None:
        draft.sector = self.options(draft)[0]  # the likeliest, shown at the summary

    def options(self, draft: Draft) -> tuple[str, ...]:
        options = [
            s
            for s in self.taxonomy.sectors
            if not draft.category or s in self.taxonomy.categories[draft.category].sectors
        ]
        if draft.operator:
            narrowed = [s for s in options if s in self.taxonomy.operators[draft.operator].sectors]
            options = narrowed or options
        return tuple(options)

    def question(self, draft: Draft, lang: str) -> Question:
        return Question("ask_sector", self._buttons(self.options(draft), lang))

    def choose(self, draft: Draft, arg: str) -> bool | Question:
        if arg not in self.taxonomy.sectors:
            return False
        draft.sector = arg
        return True


@lru_cache(maxsize=1)
def _plain_phrases() -> frozenset[str]:
    """The examples the model learnt its conversational intents from (« oui », « merci »,
    « je sais pas »): typed alone, they are no operator's name."""
    phrases = set()
    for path in sorted(EXAMPLES_DIR.glob("*.yml")):
        for block in yaml.safe_load(path.read_text(encoding="utf-8")).get("nlu", []):
            if block.get("intent") in CONVERSATIONAL:
                for line in str(block.get("examples", "")).splitlines():
                    phrases.add(fold(line.lstrip(" -")).strip(" .!?"))
    return frozenset(phrases - {""})


# Words before a name that set it aside: « pas Orange », « sauf chez Free », "not SFR".
_SET_ASIDE = re.compile(
    r"\b(?:pas|plus|sauf|hormis|excepte|except|not|but)\W+(?:(?:chez|avec|"
    r"de|d|le|la|l|with|at)\W+)?$"
)


class OperatorSlot(Slot):
    """The value is the triple (operator id or None, operator as written or None, the ids
    when several: a dead zone where no network works is one alert about several)."""

    name = "operator"
    words = r"operateur|operator|fournisseur|transporteur|carrier|provider"

    def recorded(self, draft: Draft) -> Any:
        # An alert about several operators names them in `operators`, not here.
        return None if draft.operators else draft.operator

    def value(self, draft: Draft) -> Any:
        return (draft.operator, draft.operator_text, tuple(draft.operators))

    def set(self, draft: Draft, value: Any) -> None:
        operator, operator_text, *rest = value
        several = list(dict.fromkeys(rest[0])) if rest and rest[0] else []
        if len(several) > 1:
            draft.operator, draft.operator_text, draft.operators = None, None, several
        else:
            draft.operator = operator or (several[0] if several else None)
            draft.operator_text, draft.operators = operator_text, []
        draft.operator_guess = None

    def empty(self, draft: Draft) -> bool:
        return draft.operator is None and draft.operator_text is None and not draft.operators

    def same(self, draft: Draft, value: Any) -> bool:
        # « RED » and « RED by SFR » are one operator.
        return (value[0] is not None and value[0] == draft.operator) or bool(
            self.value(draft) == (*value[:2], tuple(value[2]) if len(value) > 2 else ())
        )

    def stated(self, said: Utterance) -> Any:
        if len(said.parse.operators) > 1:
            # « Bouygues et Orange ça capte pas. Enfin Free aussi en fait »: the other
            # networks the same message names join the list.
            sectors = set.intersection(
                *(
                    set(self.taxonomy.operators[o].sectors)
                    for o in said.parse.operators
                    if o in self.taxonomy.operators
                )
            )
            more = self._networks_named(said.text, "mobile" if "mobile" in sectors else None)
            return (None, None, tuple(dict.fromkeys([*said.parse.operators, *more])))
        if said.parse.operator or said.parse.operator_text:
            known = (
                None
                if said.parse.operator
                else self._brands.get(fold(said.parse.operator_text or ""))
            )
            if known and (said.parse.operator_text or "")[:1].isupper():
                # "Orange I think" in English: the brand, written as one, is the operator.
                return (known, self.taxonomy.operators[known].name, ())
            return (said.parse.operator, said.parse.operator_text, ())
        return None

    def absorb(self, draft: Draft, said: Utterance, override: bool) -> None:
        value = self.stated(said)
        if value is not None and value[2] and not self._several_may_fit(draft):
            return  # « aucun opérateur ne peut me raccorder » (fibre): the operator is asked
        super().absorb(draft, said, override)
        if value is None and said.parse.scam and self.empty(draft):
            draft.skip("operator")  # a scam's impersonated brand is no operator at fault

    def mentioned(self, said: Utterance) -> list[Any]:
        # Only single operators: « SFR c'était avant, c'est Free maintenant ».
        stated = self.stated(said)
        # Not those the sentence gives another role only ("our neighbour, who's with SFR",
        # « j'étais chez SFR avant », « je pars chez Free le mois prochain »), unless it
        # sets a name aside (« le forfait de mon fils est chez Bouygues, pas chez SFR »).
        roles: dict[str, set[str]] = {}
        if not self._sets_a_name_aside(said.parse.text):
            for operator, role in said.parse.operator_roles:
                roles.setdefault(operator, set()).add(role)
        named: list[tuple[str | None, str | None, tuple[Any, ...]]] = [
            (o, self.taxonomy.operators[o].name, ())
            for o in self._networks_named(said.text, None, keep_set_aside=True)
            if "current" in roles.get(o, {"current"})
        ]
        if stated is not None and not stated[2] and not any(v[0] == stated[0] for v in named):
            named.append(stated)
        unlisted = self._unlisted_named(said)
        if unlisted and not any(fold(unlisted) in fold(v[1] or "") for v in named):
            named.append((None, unlisted, ()))  # (not « NRJ » of « NRJ Mobile »)
        return named

    def button_for(self, value: Any, lang: str) -> Choice | None:
        operator = value[0] if not value[2] else None
        known = self.taxonomy.operators.get(operator) if isinstance(operator, str) else None
        return Choice(known.name, f"operator:{operator}") if known else None

    def _unlisted_named(self, said: Utterance) -> str | None:
        """An operator outside the list that a correction names, as typed."""
        return named_in_sentence(
            said.text, self._ordinary_words, self._brands, typed_in=said.parse.text or said.text
        )

    def _several_may_fit(self, draft: Draft) -> bool:
        """Whether several operators may still fit the problem known so far."""
        category = self.taxonomy.categories.get(draft.category or "")
        if category is None:
            return True
        return bool(category.several_operators) and (
            draft.sector is None or draft.sector in category.several_operators
        )

    def answer(self, draft: Draft, said: Utterance) -> bool:
        # Asked « quel opérateur ? » about a dead zone, people list the networks they
        # tried, however they write it: « moi c'est Orange… et mon fils SFR », a bulleted
        # list, « on a eu Orange, puis SFR, et là Bouygues ».
        if self.several_allowed(draft):
            named = self._networks_named(said.text, draft.sector)
            if len(named) > 1:
                self.set(draft, (None, None, tuple(named)))
                return True
        stated = self.stated(said)
        if (
            stated is not None
            and stated[0]
            and not stated[2]
            and stated[0] not in self._networks_named(said.text, None)
        ):
            # « C'est Alsatis, une petite société. Pas Orange. »: the name set aside is no
            # answer; the other one, even outside the list, is.
            unread = dataclasses.replace(
                said.parse, operator=None, operator_text=None, operators=()
            )
            return self.read(draft, Utterance(unread, said.text))
        return super().answer(draft, said)

    def _sets_a_name_aside(self, text: str) -> bool:
        """Whether a text sets an operator's name aside (« pas chez SFR »), anywhere."""
        folded = fold(text)
        return any(
            _SET_ASIDE.search(folded[: match.start()])
            for match in self._brand_pattern.finditer(folded)
        )

    def _networks_named(
        self, text: str, sector: str | None, keep_set_aside: bool = False
    ) -> list[str]:
        """The operators of `sector` a text names, in order, without those it sets
        aside (« c'est SFR pas Orange », « tous sauf Free ») unless `keep_set_aside`."""
        folded = fold(text)
        found = []
        for match in self._brand_pattern.finditer(folded):  # longest names first
            operator = self._brands[match.group(0)]
            if (
                sector
                and sector not in self.taxonomy.operators[operator].sectors
                or not keep_set_aside
                and _SET_ASIDE.search(folded[: match.start()])
            ):
                continue
            found.append(operator)
        return list(dict.fromkeys(found))

    @cached_property
    def _brand_pattern(self) -> re.Pattern[str]:
        """Every operator's name and brands, longest first (« red by sfr » before
        « sfr »), as whole words."""
        names = sorted(self._brands, key=len, reverse=True)
        return re.compile(r"(?<!\w)(?:" + "|".join(map(re.escape, names)) + r")(?!\w)")

    def read(self, draft: Draft, said: Utterance) -> bool:
        guess = draft.operator_guess
        if guess and said.parse.intent == "affirm":  # « Vous parlez de l'opérateur « Nova » ? »
            self.set(draft, (None, guess))
            return True
        if said.parse.intent == "dont_know" or (not guess and said.folded in SKIP_WORDS):
            self.set(draft, (None, None))
            draft.skip("operator")
            return True
        # An operator outside the list, written in a sentence: kept as written.
        if "?" in said.text:
            return False  # a question is no operator's name
        name = operator_named(said.text) or capitalised_name(said.text)
        whole = name == said.text.strip()
        known = self._brands.get(fold(name or ""))
        if known:  # « Zeop, c'est mon petit-fils qui l'a pris » read as small talk
            self.set(draft, (known, self.taxonomy.operators[known].name))
            return True
        if guess and (said.parse.intent == "deny" or said.folded in SKIP_WORDS):
            draft.operator_guess = ""  # « non » to « Nova ? »: the name is asked, then taken
            return True
        if (
            not name
            or said.folded in _plain_phrases()
            or (whole and said.parse.is_report and guess != "")
            or (guess and said.conversational)
        ):
            return False  # « oui », « merci », « plus rien ne marche »: no name
        if guess is None and self.may_be_a_word(name, said, whole):
            draft.operator_guess = name[:120]  # « Nova », « Neuf »: asked once, then taken
            return True
        self.set(draft, (None, name[:120]))
        return True

    def may_be_a_word(self, name: str, said: Utterance, whole: bool) -> bool:
        """Whether a name may be an ordinary word instead: every word of it is a word
        people use in reports, or the model reads the message as small talk (or, typed
        alone, as a report)."""
        if len(name) > 1 and name.isupper() and fold(name) not in NOT_A_PROVIDER:
            return False  # « SRR »: an acronym is a name (« SMS », « ADSL » are none)
        return (
            said.conversational
            or (whole and said.parse.is_report)
            or all(w in self._ordinary_words for w in words(fold(name)))
        )

    @cached_property
    def _ordinary_words(self) -> frozenset[str]:
        return Lexicon.load(self.taxonomy).ordinary_words

    def give_up(self, draft: Draft, said: Utterance) -> None:
        # The name awaiting a yes, what was typed if it may be a name at all, or else
        # « je ne sais pas ».
        text = said.text.strip()
        if draft.operator_guess:
            self.set(draft, (None, draft.operator_guess))
        elif (
            said.short
            and "?" not in text
            and any(c.isalpha() for c in text)
            and not (said.conversational or said.parse.is_report)
            and said.folded not in _plain_phrases()
            and said.folded not in SKIP_WORDS
        ):
            self.set(draft, (None, text[:120]))
        else:
            self.set(draft, (None, None))
            draft.skip("operator")

    @cached_property
    def _brands(self) -> dict[str, str]:
        return {
            fold(n): op.id for op in self.taxonomy.operators.values() for n in (op.name, *op.brands)
        }

    def several_allowed(self, draft: Draft) -> bool:
        """Whether this problem may name several operators (mobile coverage, outage)."""
        return self.taxonomy.allows_several(draft.sector, draft.category)

    def needed(self, draft: Draft) -> bool:
        return self.empty(draft) and "operator" not in draft.skipped

    def problem(self, draft: Draft) -> str | None:
        if draft.operators and draft.category and draft.sector and not self.several_allowed(draft):
            return "operators_mismatch"
        if (
            draft.operators
            and draft.sector
            and any(draft.sector not in self.taxonomy.operators[o].sectors for o in draft.operators)
        ):
            return "operators_mismatch"
        if (
            draft.operator
            and draft.sector
            and draft.sector not in self.taxonomy.operators[draft.operator].sectors
        ):
            return "operator_mismatch"
        return None

    def problem_values(self, draft: Draft, lang: str) -> dict[str, Any]:
        return {
            "operator": self.taxonomy.operators[draft.operator].name if draft.operator else "",
            "sector": label("sector", draft.sector, lang),
        }

    def question(self, draft: Draft, lang: str) -> Question:
        if draft.operator_guess:
            return Question(
                "ask_operator_guess",
                (
                    Choice(button("yes", lang), "operator:typed"),
                    Choice(button("no_specify", lang), "operator:other"),
                ),
                {"name": draft.operator_guess},
            )
        if draft.operator_guess == "":
            return Question(
                "ask_operator_name", (Choice(button("dont_know", lang), "operator:unknown"),)
            )
        ids = OPERATOR_BUTTONS.get(draft.sector or "", OPERATOR_BUTTONS["mobile"])
        several = (
            (Choice(button("several_operators", lang), "operator:several"),)
            if self.several_allowed(draft)
            else ()
        )
        choices = (
            *(Choice(self.taxonomy.operators[i].name, f"operator:{i}") for i in ids),
            *several,
            Choice(button("other_operator", lang), "operator:other"),
            Choice(button("dont_know", lang), "operator:unknown"),
        )
        return Question(
            "ask_operator_postal" if draft.sector == "postal" else "ask_operator", choices
        )

    def choose(self, draft: Draft, arg: str) -> bool | Question:
        if arg == "other":
            draft.operator_guess = ""  # the name typed next is taken as typed
            return REASK
        if arg == "typed":
            if not draft.operator_guess:
                return False
            self.set(draft, (None, draft.operator_guess))
            return True
        if arg == "unknown":
            self.set(draft, (None, None))
            draft.skip("operator")
            return True
        if arg in ("several", "all") and not self.several_allowed(draft):
            return False  # a button of another problem (an old keyboard): asked again
        if arg == "several":
            # « Lesquels ? » : typed (« Orange et SFR »), or every network at once.
            return Question("ask_operators")
        if arg == "all":
            self.set(draft, (None, None, self.taxonomy.ALL_NETWORKS))
            return True
        if arg not in self.taxonomy.operators:
            return False
        self.set(draft, (arg, self.taxonomy.operators[arg].name))
        return True

    def follow_up(self, draft: Draft, question: Question, lang: str) -> Question:
        if question.key == "ask_operators":
            return Question(
                question.key,
                (
                    Choice(button("all_operators", lang), "operator:all"),
                    Choice(button("dont_know", lang), "operator:unknown"),
                ),
            )
        return question

    def shown(self, draft: Draft, lang: str) -> str | None:
        if draft.operators:
            return ", ".join(self.taxonomy.operators[o].name for o in draft.operators)
        if draft.operator:
            return self.taxonomy.operators[draft.operator].name
        return draft.operator_text or button("dont_know", lang)


# A technology in words, hedged or not: « la 4G je crois », « le vieux fil de cuivre »,
# « fibre optique normalement », "copper line". The parse's lexicon comes first.
TECHNOLOGY_WORDS = (
    ("5g", r"\b5 ?g\b|\b5g\+"),
    ("4g", r"\b4 ?g\b|\b4g\+|\blte\b"),
    ("3g", r"\b3 ?g\b|\bh\+|\bhspa|\bumts\b"),
    ("2g", r"\b2 ?g\b|\bedge\b|\bgprs\b"),
    ("fibre", r"\bfibre|\bfiber|\bftth\b|\bfttx\b"),
    ("vdsl", r"\bvdsl"),
    # « dsl » alone is SMS for « désolé »: a DSL line is named with a word around it.
    (
        "adsl",
        r"\badsl|\bcuivre\b|\bcopper\b|\bligne (?:telephonique|fixe|classique)\b|"
        r"\bligne (?:de )?telephon\w* (?:fixe )?classique\b|\btelephone (?:fixe )?classique\b|"
        r"\bfil du telephone\b|\b(?:en|la|une|ma|ligne|connexion|my|the|a|par)\W+dsl\b|"
        r"\bdsl\W+(?:line|connection|ligne|connexion)\b",
    ),
    ("cable", r"\bcable\b|\bcoax|\bfttla\b|\bnumericable\b"),
    ("satellite", r"\bsatellite|\bparabole\b|\bstarlink\b"),
    ("radio", r"\bthd radio\b|\bwimax\b|\bboucle locale radio\b|\bradio\b"),
)


# No technology to name: nothing shows on the phone.
_NO_SIGNAL = (
    r"sans objet|aucun (?:signal|reseau|reseaux)|pas de (?:signal|reseau)|rien ne "
    r"(?:capte|passe|s.affiche)|(?:il n.y a |y a |)rien du tout|no signal|no service|"
    r"nothing shows"
)


# « la fibre est annoncée pour l'an prochain », « en attendant la fibre »: a technology to come
# is not the line complained of.
_NOT_YET = re.compile(
    r"\b(?:la |le |du )?(?:fibre|fiber|5g|ftth)\b(?:\W+\w+){0,3}?\W+"
    r"(?:est |sera |serait |nous est |a ete |)(?:annoncee?|prevue?|promise?|attendue?|"
    r"arrive(?! pas)|arrivera|arriverait|pas encore|coming|planned|promised)\b"
    r"|\b(?:en attendant|on attend|attendons|j.attends|promet|promettent|promis|waiting for|until"
    r"|pour passer a|avant de passer a|pour migrer vers)"
    r"\W+(?:\w+\W+){0,2}?(?:fibre|fiber|5g)\b"
)


class TechnologySlot(Slot):
    name = "technology"
    reads_corrections = True
    words = r"technologie|techno|technology"

    def stated(self, said: Utterance) -> Any:
        # « Vous savez quand la fibre arrive ? »: a technology to come is not the line's.
        if (
            said.parse.technology
            and said.parse.technology not in self.mentioned(said)
            and _NOT_YET.search(said.folded)
        ):
            return None
        return said.parse.technology

    def read(self, draft: Draft, said: Utterance) -> bool:
        # « l'adsl par le fil, on a pas la fibre »: what is set aside does not count.
        found = first_reading(
            TECHNOLOGY_WORDS, _NOT_YET.sub(" ", fold(without_set_aside(said.text)))
        )
        allowed = SECTOR_TECHNOLOGIES.get(draft.sector or "", ())
        if found and (
            not allowed
            or found in allowed
            or (draft.sector == "fixed" and FIXED_WIRELESS.search(said.folded))
        ):
            draft.technology = found
            return True
        asking = "?" in said.text and not re.match(rf"\W*(?:{DONT_KNOW})\b", said.folded)
        if not asking and (
            said.skip or re.search(rf"\b(?:{DONT_KNOW}|{_NO_SIGNAL})\b", said.folded)
        ):
            # « sans objet, il n'y a aucun signal »: none to name. ("You speak Polish
            # maybe?" is a question back, no « I don't know ».)
            draft.technology = "unknown"
            return True
        return False

    def mentioned(self, said: Utterance) -> list[Any]:
        found = every_reading(TECHNOLOGY_WORDS, _NOT_YET.sub(" ", said.folded))
        if "vdsl" in found and "adsl" in found and not re.search(r"\badsl", said.folded):
            found.remove("adsl")  # « du VDSL sur la ligne téléphonique »: one line
        return found

    def needed(self, draft: Draft) -> bool:
        return (
            self._asks(draft) and draft.technology is None and draft.sector in SECTOR_TECHNOLOGIES
        )

    def give_up(self, draft: Draft, said: Utterance) -> None:
        draft.technology = "unknown"

    def settle(self, draft: Draft) -> None:
        category = self.taxonomy.categories.get(draft.category or "")
        implied = category.implies.get("technology") if category else None
        if implied and draft.technology is None:
            draft.technology = implied
        if draft.sector == "postal" or (
            draft.technology in TECHNOLOGY_SECTORS
            and draft.sector
            and draft.sector not in TECHNOLOGY_SECTORS[draft.technology]
        ):
            draft.technology = None  # ADSL on a mobile: asked again if the problem needs it

    def question(self, draft: Draft, lang: str) -> Question:
        techs = SECTOR_TECHNOLOGIES.get(draft.sector or "", ())
        return Question("ask_technology", self._buttons((*techs, "unknown"), lang))

    def choose(self, draft: Draft, arg: str) -> bool | Question:
        offered = SECTOR_TECHNOLOGIES.get(draft.sector or "")
        if arg not in self.taxonomy.technologies or (offered and arg not in (*offered, "unknown")):
            return False  # a button of another sector (an old keyboard): asked again
        draft.technology = arg
        return True


_PREPOSITION = re.compile(r"^(?:à|a|au|aux|dans|sur|vers|near|in|at)\s+", re.I)


class LocationSlot(Slot):
    name = "location"
    words = r"lieu|ville|commune|adresse|code postal|location|place|town|city|address"

    def stated(self, said: Utterance) -> Any:
        # The engine has already read the place into « Commune (postcode) ».
        return said.parse.location[:120] if said.parse.location else None

    def read(self, draft: Draft, said: Utterance) -> bool:
        if said.skip:
            draft.location = None
            draft.skip("location")
            return True
        text = said.text.strip()
        if (
            said.short
            and not said.conversational
            and not said.parse.is_report
            and any(c.isalnum() for c in text)
        ):
            draft.location = _PREPOSITION.sub("", text)[:120] or text[:120]
            return True
        return False

    def needed(self, draft: Draft) -> bool:
        return self._asks(draft) and draft.location is None and "location" not in draft.skipped

    def question(self, draft: Draft, lang: str) -> Question:
        return Question("ask_location", (Choice(button("skip", lang), "location:skip"),))

    def choose(self, draft: Draft, arg: str) -> bool | Question:
        if arg != "skip":
            return False
        draft.location = None
        draft.skip("location")
        return True

    def shown(self, draft: Draft, lang: str) -> str | None:
        return draft.location


class StartedSlot(Slot):
    """« Depuis quand ? »: the day the problem started, read from any message that says it
    with its anchor (« depuis 3 semaines », "since Monday") or typed as the answer
    (« hier », « le 12 novembre »); asked for the problems the field registry names."""

    name = "started_on"
    reads_corrections = True
    words = (
        r"depuis quand|date de debut|debut du probleme|(?:ca |le probleme )?a commence|"
        r"since when|start date|when (?:it|the problem) started"
    )
    # The buttons: how long ago, as a lower bound (« plus d'une semaine »: 7 days).
    AGO = {"today": 0, "yesterday": 1, "week": 7, "month": 30}

    def stated(self, said: Utterance) -> Any:
        day = started_on(said.text, said.today)
        return day.isoformat() if day else None

    def read(self, draft: Draft, said: Utterance) -> bool:
        day = started_on(said.text, said.today, answer=True)
        if day is not None:
            draft.started_on = day.isoformat()
            return True
        if (
            said.skip
            or re.search(rf"\b(?:{DONT_KNOW})\b", said.folded)
            or ("?" not in said.text and SPEAKS_OF_TIME.search(said.folded))
        ):
            # « depuis que le voisin a déménagé »: an answer, though no day can be placed
            # (an optional detail is not asked again).
            draft.skip(self.name)
            return True
        return False

    def needed(self, draft: Draft) -> bool:
        return self._asks(draft) and draft.started_on is None and self.name not in draft.skipped

    def question(self, draft: Draft, lang: str) -> Question:
        return Question("ask_started_on", self._choices(lang))

    def question_again(self, draft: Draft, lang: str) -> Question:
        return Question("ask_started_on_again", self._choices(lang))

    def _choices(self, lang: str) -> tuple[Choice, ...]:
        return (
            *(Choice(button(f"started_{key}", lang), f"{self.name}:{key}") for key in self.AGO),
            Choice(button("dont_know", lang), f"{self.name}:skip"),
        )

    def choose(self, draft: Draft, arg: str) -> bool | Question:
        if arg == "skip":
            draft.started_on = None
            draft.skip(self.name)
            return True
        if arg not in self.AGO:
            return False
        draft.started_on = (paris_today() - timedelta(days=self.AGO[arg])).isoformat()
        return True

    def shown(self, draft: Draft, lang: str) -> str | None:
        if not draft.started_on:
            return None
        return since_text(date.fromisoformat(draft.started_on), paris_today(), lang)


def since_text(start: date, today: date, lang: str) -> str:
    """« hier », « le 16 novembre (3 semaines) », "November 16 (3 weeks)"."""
    days = (today - start).days
    if days <= 1:
        return text_of("today" if days <= 0 else "yesterday", lang)
    when = day_text(start, lang, year=start.year != today.year)
    weeks, months = days // 7, days // 30
    if months >= 1:
        span = text_of("months_span" if months > 1 else "month_span", lang, n=months)
    elif weeks >= 1:
        span = text_of("weeks_span" if weeks > 1 else "week_span", lang, n=weeks)
    else:
        span = text_of("days_span", lang, n=days)
    return f"{'le ' if lang == 'fr' else ''}{when} ({span})"


class DescriptionSlot(Slot):
    name = "description"
    words = r"description|descriptif"

    def empty(self, draft: Draft) -> bool:
        return not draft.description

    def read(self, draft: Draft, said: Utterance) -> bool:
        if len(words(said.folded)) >= 2 or len(said.text) >= 8:
            draft.add_description(said.text)
            return True
        return False

    def needed(self, draft: Draft) -> bool:
        return not draft.description and "description" not in draft.skipped

    def give_up(self, draft: Draft, said: Utterance) -> None:
        if any(c.isalnum() for c in said.text):
            draft.add_description(said.text)  # what was typed, as typed
        else:
            draft.skip("description")

    def question(self, draft: Draft, lang: str) -> Question:
        return Question("ask_description" if draft.category else "describe")

    def question_again(self, draft: Draft, lang: str) -> Question:
        return Question(
            self.question(draft, lang).key, (Choice(button("skip", lang), "description:skip"),)
        )

    def choose(self, draft: Draft, arg: str) -> bool | Question:
        if arg != "skip":
            return False
        draft.skip("description")
        return True

    def shown(self, draft: Draft, lang: str) -> str | None:
        description = shorten(draft.description, 200)
        return f"« {description} »" if lang == "fr" else f'"{description}"'


# An answer to "have you contacted customer service?" in a sentence: its first words
# ("non, jamais réussi à les joindre", "oui deux fois par téléphone", "pas encore").
_CONTACTED_ANSWERS = (
    ("unknown", DONT_KNOW),
    (
        "no",
        r"(?:non|nan|no|nope|nao|jamais|never|pas encore|not yet|toujours pas|pas du tout|"
        r"aucun contact|impossible de les joindre|(?:j.?ai|on a|nous avons|j) pas pu\b|"
        r"(?:je |j.?)?(?:ne |n.)?(?:crois|pense) pas|je (?:crois|pense) que non|i don.?t think so)",
    ),
    (
        "yes",
        r"(?:oui|ouais|ouai|yes|yep|yeah|bien sur|evidemment|of course|plusieurs fois|"
        r"deja|already|a plusieurs reprises|j.?ai (?:appele|ecrit|telephone|envoye)|"
        r"(?:une|deux|trois|\d+) fois|je (?:crois|pense) que oui|i think so)",
    ),
)
# A message that says customer service was already tried: "j'ai déjà appelé le service
# client", "le 3900 ne répond jamais", "I called support twice".
# (« pas sur le portable » is no « pas sûr »)
_HEDGED = re.compile(
    r"\b(?:peut.?etre|je (?:ne )?sais pas|j.?sais pas|je ne sais plus|"
    r"pas sure?(?! (?:le|la|les|l|mon|ma|mes|son|sa|un|une|ce|cette|place)\b)|"
    r"aucune idee|je ne peux pas (?:vous )?(?:le )?dire|maybe|not sure|no idea|"
    r"don.?t know|can.?t tell)\b"
)
_CONTACTED_OFTEN = re.compile(
    r"\b(?:deja|already) (?:appele|appelee|contacte|contactee|relance|ecrit a|called|contacted)\b"
    # « je les ai appelés deux fois », « on les a contactées trois fois », "called them twice"
    r"|\b(?:(?:appele|contacte|relance)(?:e|s|es)?|called|contacted|rang|phoned)"
    r"(?:\W+\w+){0,2}?\W+(?:(?:plusieurs|\d+|deux|trois|quatre|cinq|six|dix|many|several|"
    r"two|three) (?:fois|times)|twice)\b"
)
# « donc oui contacté », "so yes, they've been called": the answer itself, at the summary.
CONTACTED_SAID = re.compile(
    r"\b(?:oui|si|yes|bien)\W+(?:\w+\W+)?(?:contacte|contactes|contactee|"
    r"appele|appeles|appelee|joints?|contacted|called)\b"
)
_CONTACTED_FACT = re.compile(
    r"\b(?:envoye (?:un |des |plusieurs )?(?:mails?|courriers?|messages?|lettres?) (?:au|a)|"
    r"appele|appelee|appelle|contacte|contactee|ecrit|relance|joint|telephone|"
    r"called|contacted|rang|phoned|emailed|wrote to)\b(?:\W+\w+){0,4}?\W+(?:le |au |the |)"
    r"(?:service client|service clients|serv client|sav|hotline|support|conseiller|"
    r"customer service|customer support|helpline|3900|1023|1064|3244|3631)\b"
    r"|\b(?:service client|customer service|hotline|sav)\b(?:\W+\w+){0,3}?\W+(?:injoignable|"
    r"ne repond|repond pas|raccroche|m.a raccroche|never answers|doesn.?t answer|hangs up)"
)


# Words before the answer: « mais oui justement », « ben non », « ah bah oui ».
_FILLERS = re.compile(
    r"^\W*(?:(?:mais|ben|bah|bein|eh|ah|oh|euh|alors|bon|eh bien|hmm|well|"
    r"so|oh well|ha|hein|si)\W+)+"
)
# The same facts anywhere in an answer, when its first words do not say: « Monsieur le
# Maire a adressé un courrier à SFR », « nn j'ai contacté personne ».
_CONTACTED_ANYWHERE = (
    (
        "no",
        r"\b(?:(?:n.?ai|n.?avons|n.?a) (?:pas|jamais|encore pas) (?:\w+ )?(?:appele|contacte|"
        r"ecrit|joint|essaye|eu le temps)|(?:appele|contacte|ecrit a|joint) personne|"
        r"pas (?:encore |)(?:appele|contacte|ecrit)|jamais (?:appele|contacte|ecrit)|"
        r"(?:didn.?t|did not|haven.?t|have not|never) (?:\w+ )?(?:call|contact|write|email|"
        r"ring|phone|reach)|not yet|pas encore|nn|nope|nan)\b",
    ),
    (
        "unknown",
        r"\b(?:(?:sais|sait|se|sé) (?:pas|pa|plus) si|je ne sais (?:pas|plus)|"
        r"chais pas|jsp|jsais pas|aucune idee|not sure (?:if|whether)|"
        r"(?:don.?t|do not) (?:know|remember) (?:if|whether))\b",
    ),
    (
        "yes",
        r"\b(?:appele|appelee|telephone|ecrit|envoye|adresse (?:un|une|plusieurs)|"
        # (« reçu le courrier de Bouygues » is their letter, not a contact)
        r"reclamation|reclamations|ticket|formulaire|chat|tchat|"
        r"(?<!recu )(?<!recu le )(?<!recu un )(?<!recu leur )(?<!received )(?<!got )"
        r"(?<!got a )(?<!got their )(?<!eu un )(?<!eu le )(?<!un e-)(?<!un e)"
        r"(?:courrier|courriel|mail)|"
        r"boutique|agence|guichet|accueil|conseiller|hotline|plusieurs fois|"
        r"called|rang|phoned|wrote|emailed|complained|complaint|ticket|chatted|"
        r"(?:une|deux|trois|quatre|cinq|dix|\d+) (?:fois|appels|reclamations)|"
        r"(?:once|twice|three times|\d+ times))\b",
    ),
)


# How often they tried (« oui deux fois »), not how often it fails (« deux fois par jour »).
_CONTACT_COUNT = re.compile(
    r"\b(?:(?:une|deux|trois|quatre|cinq|dix|plusieurs|\d+) (?:fois|appels|"
    r"reclamations)|a plusieurs reprises|once|twice|three times|"
    r"\d+ times)\b(?! par| a day| a week)"
)
# « je n'ai jamais appelé », "I never contacted them": said of customer service only.
# (« SFR je les ai jamais contacter »: the infinitive for the participle is common)
_NEVER_CONTACTED = re.compile(
    r"\b(?:(?:n.?ai|n.?avons|n.?a) (?:pas|jamais|encore pas) (?:\w+ )?(?:appel|contact|ecrit)\w*|"
    r"(?:appele|contacte|ecrit a|joint) personne|jamais (?:appel|contact|ecrit)\w*|"
    # « je ne les ai pas encore contactés », with or without its « ne »
    r"(?:les|l|leur) ?(?:ai|avons|a) (?:pas encore|pas|jamais|encore pas) (?:\w+ )?"
    r"(?:appel|contact|ecrit|joint)\w*|"
    r"(?:didn.?t|did not|haven.?t|have not|never) (?:\w+ )?(?:call|contact|write to|email))\b"
)

_CHANGE_OF_MIND = re.compile(
    r"\b(?:enfin|donc|finalement|en fait|actually|i mean|no wait|"
    r"so(?=\W+(?:yes|no)\s*(?:[,.!;]|$)))\W+"
    r"(non|no|nope|oui|yes|si)\b"
    # « ah si pardon, j'ai fait le chat » (not « mais si ça continue je résilie »)
    r"|^\W*(?:ah|oh|ha|ben|bah|ah ben|ah bah|ah mais|mais)\W+(si)\b"
    r"(?=\s*(?:[,.!;]|$)|\W+(?:pardon|j|je|on|il|ils|elle|mon|ma|mes|nous|en fait)\b)"
)
# At the summary, the answer to « avez-vous contacté le service client ? » written out.
_PUT_DOWN = re.compile(
    r"\b(?:mettre|mettez|mets|met|cochez|cocher|indiquez|indiquer|repondre|"
    r"put|mark|tick|change it to|make it)\W+(oui|non|yes|no)\b"
)
_CONTACT_WORDS = re.compile(
    r"\b(?:appel\w*|contact\w*|telephon\w*|joint|joindre|ecrit|tel|service client|sav|"
    r"chat|tchat|reclamation|"
    r"hotline|called|rang|phoned|contacted|reached|emailed|wrote|customer service)\b"
)
# Someone did: « mon mari les a appelés », « Jean-Pierre a eu Bouygues au tel », « on les a
# bien contactés », « ma fille a téléphoné à Colissimo », "my wife called them".
_SOMEONE_CONTACTED = re.compile(
    r"\b(?:les|l|leur|them)\W+(?:a|ai|avons|avez|ont|as)\W+(?:\w+\W+)?(?:appele|contacte|eu|"
    r"joint|telephone|ecrit)"
    r"|\b(?:a|ai|avons|ont) (?:bien |deja |aussi |)(?:telephone|appele|ecrit|contacte)\w* "
    r"(?:a|au|aux|chez|le|la|l)\b"
    r"|\b(?:a|ai|avons|ont) (?:bien |deja |aussi |)eu (?:\w+ ){1,3}(?:au tel|au telephone|en ligne)\b"
    r"|\b(?:a|ai|avons|ont) (?:bien |deja |aussi |)(?:fait|utilise|essaye) (?:le|leur|un) (?:chat|tchat)\b"
    r"|\b(?:called|phoned|rang|contacted|emailed|reached) (?:them|the|customer|support|their)\b"
    # "she did call Orange last Tuesday", "they've been contacted"
    r"|\b(?:did|has|have|had) (?:already |actually |indeed )?(?:call|phone|ring|contact|email)\w*\b"
    r"|\b(?:have|has|had|ve|were|was) (?:already )?been (?:called|contacted|phoned|emailed)\b"
    # « ils ont bien été contactés »
    r"|\b(?:ont|sont) (?:bien |deja |)ete (?:contacte|appele|joint|relance)\w*"
)
# « je suis allée deux fois au bureau de poste pour réclamer », « j'ai fait une
# réclamation »: a complaint made in person or in writing is a contact.
_COMPLAINED = re.compile(
    r"\b(?:suis|sommes|est|etais|etait) (?:alle|allee|alles|allees|passe|passee|passes|"
    r"retourne|retournee)s? (?:\w+ ){0,3}?(?:au bureau de poste|a la poste|en boutique|"
    r"a la boutique|en agence|a l.agence|au guichet|au magasin)\b(?=.*\b(?:reclam|plaindre|"
    r"demander|signaler|expliquer|rien pu|rien fait|note))"
    r"|\b(?:ai|avons|a) (?:fait|depose|deposee|envoye|ouvert|redige) (?:une|des|plusieurs|deux|"
    r"trois|\d+) (?:reclamations?|plaintes?|tickets?)\b"
    r"|\b(?:went|been) (?:\w+ ){0,2}?to the (?:post office|shop|store) to complain\b"
)
# « je ne les ai jamais eus », "never got through".
_NEVER_REACHED = re.compile(
    r"\b(?:ne |n.)?(?:les |l.)(?:ai|avons|a) jamais eue?s?\b"
    r"|\b(?:ai|avons|a) jamais (?:pu (?:les |le )?joindre|reussi a (?:les |le )?joindre)"
    r"|\bnever (?:got through|reached them|managed to reach)\b"
    r"|\b(?:on|je|il|elle) (?:ne |n.)(?:les |l.)?(?:a|ai|avons) (?:pas|jamais) (?:appele|contacte)"
)


def _changed_mind(folded: str) -> str | None:
    said = [m.group(1) or m.group(2) for m in _CHANGE_OF_MIND.finditer(folded)]
    return ("yes" if said[-1] in ("oui", "yes", "si") else "no") if said else None


# What makes customer service the problem itself, not just who was called.
_SERVICE_COMPLAINT = re.compile(
    r"injoignable|ne repond|repond pas|repondent pas|raccroch|aucune (?:solution|reponse)|"
    r"sans (?:solution|reponse)|personne ne|impossible de (?:les |le )?joindre|attente|"
    r"balade|renvoie|incompetent|mal (?:reçu|recu|accueilli)|never answer|no answer|"
    r"unreachable|hangs? up|can.?t reach|no solution|useless|rude"
)


def _only_contacted(said: Utterance, category: str | None) -> bool:
    """« oui j'ai appelé le service client deux fois »: the message says they called
    customer service, not that customer service is the problem."""
    return (
        category == "customer_service"
        and bool(_CONTACTED_FACT.search(said.folded))
        and not _SERVICE_COMPLAINT.search(said.folded)
    )


def contacted_answer(folded: str) -> str | None:
    """The answer a sentence starts with: yes, no or unknown."""
    return first_reading(_CONTACTED_ANSWERS, _FILLERS.sub("", folded), at_start=True)


class ContactedSlot(Slot):
    name = "contacted_customer_service"
    reads_corrections = True
    words = r"service client|customer service"

    def recorded(self, draft: Draft) -> Any:
        return draft.contacted_customer_service or "unknown"

    def stated(self, said: Utterance) -> Any:
        # "j'ai déjà appelé trois fois le service client", « on a déjà appelé SFR plusieurs
        # fois », « je n'ai pas encore contacté Orange »: nothing to ask about it later.
        folded = fold(said.text)
        if _NEVER_CONTACTED.search(folded):
            return "no"  # « je n'ai pas contacté leur service client »
        if (
            _CONTACTED_FACT.search(folded)
            or _CONTACTED_OFTEN.search(folded)
            or _COMPLAINED.search(folded)
        ):
            return "yes"
        return None

    def read(self, draft: Draft, said: Utterance) -> bool:
        # A question back (« l'Arcep va transmettre mon mail ? ») is no answer, whatever
        # words it contains.
        anywhere = None if "?" in said.text else first_reading(_CONTACTED_ANYWHERE, said.folded)
        value = (
            _changed_mind(said.folded)
            or contacted_answer(said.folded)
            or anywhere
            or {"affirm": "yes", "deny": "no", "dont_know": "unknown"}.get(said.parse.intent or "")
        )
        if value:
            draft.contacted_customer_service = value
            return True
        return False

    def late_answer(self, said: Utterance) -> Any:
        if "?" in said.text:
            return None
        put = _PUT_DOWN.search(said.folded)  # « pour le service client il faut mettre non »
        if put:
            return "yes" if put.group(1) in ("oui", "yes") else "no"
        if _NEVER_REACHED.search(said.folded):
            return "no"
        if _CONTACT_WORDS.search(said.folded):
            if _HEDGED.search(said.folded):
                return "unknown"  # « elle les a peut-être appelés, je ne sais pas »
            # « mon mari les a appelés hier, donc si », « ma fille a téléphoné à Colissimo »
            changed = _changed_mind(said.folded)
            if changed:
                return changed
            if _NEVER_CONTACTED.search(said.folded):
                return "no"  # « c'est la banque que j'ai appelée, SFR jamais »
            if _SOMEONE_CONTACTED.search(said.folded):
                return "yes"
        if _COMPLAINED.search(said.folded) and not _NEVER_CONTACTED.search(said.folded):
            return "yes"
        if self.stated(said) or (
            contacted_answer(said.folded) == "yes" and _CONTACT_COUNT.search(said.folded)
        ):
            return "yes"
        return "no" if _NEVER_CONTACTED.search(said.folded) else None

    def answer(self, draft: Draft, said: Utterance) -> bool:
        # The first words decide (« non, mais j'ai écrit au service client » is still
        # no), unless the person changes their mind (« Oui. Enfin non… donc non »).
        value = _changed_mind(said.folded) or contacted_answer(said.folded) or self.stated(said)
        if value:
            draft.contacted_customer_service = value
            return True
        return self.read(draft, said)

    def needed(self, draft: Draft) -> bool:
        return draft.contacted_customer_service is None

    def question(self, draft: Draft, lang: str) -> Question:
        return Question("ask_contacted", self._buttons(("yes", "no", "unknown"), lang))

    def give_up(self, draft: Draft, said: Utterance) -> None:
        draft.contacted_customer_service = "unknown"

    def choose(self, draft: Draft, arg: str) -> bool | Question:
        if arg not in ("yes", "no", "unknown"):
            return False
        draft.contacted_customer_service = arg
        return True


_USER_TYPE_WORDS = (
    ("local_authority", r"collectivit|mairie|commune|maire|authority|council|municipal"),
    (
        "business",
        r"entreprise|societe|pro\b|professionn?el|business|company|commer|artisan|"
        r"gaec|exploitation|boutique|magasin|cabinet|garage|gite|atelier|restaurant|"
        r"hotel|camping",
    ),
    ("individual", r"particulier|individu|perso|private|myself|moi"),
)
# The same, as whole words anywhere in a sentence (« excusez-moi », « depuis 3 mois » and
# « ma fille » say nothing about who reports).
# « le numéro de la mairie », « dans ma commune » name no one who reports.
_USER_TYPE_MENTIONS = tuple(
    (value, rf"\b(?:{pattern})")
    for value, pattern in (
        (
            "local_authority",
            r"collectivit|(?:(?:ecris|signale|ecrivons|signalons|appelle) pour|"
            r"c.est|de la part de|au nom de|nous sommes|chez|je suis|"
            r"je travaille (?:a|pour)|mais|plutot) (?:a |de )?(?:la |notre )?"
            r"commune\b|(?<!\bde )(?<!\bdu )(?<!\bde la )(?<!\bde notre )(?:la |notre |ma )?mairie\b|"
            r"maire\b|"
            r"authority|council|municipal",
        ),
        _USER_TYPE_WORDS[1],
        # (« mon portable personnel qui est chez Orange » says whose phone, not who writes)
        (
            "individual",
            r"particulier|individuel|(?<!portable )(?<!telephone )(?<!tel )(?<!numero )"
            r"(?<!ligne )(?<!forfait )(?<!mail )perso(?:nnel|nal|nnelle)?\b|private",
        ),
    )
)


_PUT_USER_TYPE = re.compile(
    r"\b(?:mettez|mettre|mets|met|cochez|cocher|indiquez|notez|put|mark|tick)\W+(?:en |as |comme )?"
    r"((?:particulier|individuel|perso|entreprise|professionnel|pro|collectivite|mairie|commune|"
    r"business|individual|private|local authority|council)\w*)"
)


class UserTypeSlot(Slot):
    """Never asked: the summary shows « Particulier » unless a message said otherwise."""

    name = "user_type"
    reads_corrections = True
    words = r"statut|user type|particulier|entreprise|collectivite|professionn?el|pro\b|mairie"

    def recorded(self, draft: Draft) -> Any:
        return draft.user_type or "individual"

    def stated(self, said: Utterance) -> Any:
        # « pas moi à titre perso. Mettez collectivité »: the value to put, said outright.
        put = _PUT_USER_TYPE.search(said.folded)
        if put:
            return first_reading(_USER_TYPE_WORDS, put.group(1))
        return said.parse.user_type

    def read(self, draft: Draft, said: Utterance) -> bool:
        found = first_reading(_USER_TYPE_WORDS, said.folded)
        if found:
            draft.user_type = found
            return True
        return False

    def mentioned(self, said: Utterance) -> list[Any]:
        return every_reading(_USER_TYPE_MENTIONS, said.folded)

    def question(self, draft: Draft, lang: str) -> Question:
        return Question("ask_user_type", self._buttons(tuple(self.taxonomy.user_types), lang))

    def give_up(self, draft: Draft, said: Utterance) -> None:
        draft.user_type = draft.user_type or "individual"

    def choose(self, draft: Draft, arg: str) -> bool | Question:
        if arg not in self.taxonomy.user_types:
            return False
        draft.user_type = arg
        return True

    def shown(self, draft: Draft, lang: str) -> str | None:
        return label(self.name, draft.user_type or "individual", lang)


class PhotoSlot(Slot):
    """Asked only from the summary's « Ajouter une photo »."""

    name = "photo"

    def value(self, draft: Draft) -> Any:
        return draft.photos

    def empty(self, draft: Draft) -> bool:
        return not draft.photos

    def read(self, draft: Draft, said: Utterance) -> bool:
        if said.skip:
            draft.skip("photo")
            return True
        return False

    def absorb(self, draft: Draft, said: Utterance, override: bool) -> None:
        pass

    def question(self, draft: Draft, lang: str) -> Question:
        return Question("ask_photo", (Choice(button("skip", lang), "photo:skip"),))

    def choose(self, draft: Draft, arg: str) -> bool | Question:
        if arg != "skip":
            return False
        draft.skip("photo")
        return True

    def shown(self, draft: Draft, lang: str) -> str | None:
        return str(len(draft.photos))


def shorten(text: str, limit: int) -> str:
    """`text` cut at a word boundary to at most `limit` characters, with "…"."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut[limit // 2 :]:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:.") + "…"


class Slots:
    """Every slot of the alert, by name, in the orders the dialogue uses them."""

    # The order questions are asked in and the summary's lines: the field registry's.
    ASKED = QUESTION_ORDER
    SHOWN = SUMMARY_ORDER
    # Button prefixes of earlier releases, still on keyboards people have on screen.
    ALIASES = {"contacted": "contacted_customer_service"}

    def __init__(self, taxonomy: Taxonomy):
        units = (
            CategorySlot,
            SectorSlot,
            OperatorSlot,
            TechnologySlot,
            LocationSlot,
            StartedSlot,
            DescriptionSlot,
            ContactedSlot,
            UserTypeSlot,
            PhotoSlot,
        )
        self.by_name: dict[str, Slot] = {u.name: u(taxonomy) for u in units}

    def __getitem__(self, name: str) -> Slot:
        return self.by_name[self.ALIASES.get(name, name)]

    def get(self, name: str | None) -> Slot | None:
        return self.by_name.get(self.ALIASES.get(name or "", name or ""))

    def __iter__(self) -> Iterator[Slot]:
        return iter(self.by_name.values())

    @property
    def fixable(self) -> tuple[str, ...]:
        return tuple(name for name in CORRECTABLE if name in self.by_name)

    def named_in(self, text: str) -> str | None:
        """The field a correction names: « le lieu est faux » → location."""
        named = self.all_named_in(text)
        return named[0] if named else None

    def all_named_in(self, text: str) -> list[str]:
        folded = fold(text)
        return [
            name
            for name in NAMED_ORDER
            if re.search(rf"\b(?:{self.by_name[name].words})", _NOT_NAMING.sub(" ", folded))
        ]
