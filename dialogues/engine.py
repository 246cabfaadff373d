"""The dialogue engine: (state, event) -> replies + new state, one turn at a time.

Slot filling as data plus small functions: `_missing` decides the next question from
the draft alone, `_fill_expected` reads the answer to the question asked, `_absorb`
takes every other field a message gives. The engine never stores anything itself: a
turn returns the alert to save, and the service saves it before any reply is sent.
"""
from __future__ import annotations

import copy
import dataclasses
import re
import secrets
from dataclasses import dataclass, field
from typing import Callable, Protocol
from urllib.parse import quote, urlencode

from dialogues.events import (
    ChoiceEvent, CommandEvent, Event, LocationEvent, PhotoEvent, SharedEvent, TextEvent,
    UnsupportedEvent, command_from_text,
)
from dialogues import privacy
from dialogues.faq import Faq
from dialogues.messages import button, label, text as msg
from dialogues.replies import AdviceReply, Choice, Reply, ShareReply
from dialogues.state import MAX_DESCRIPTION, MAX_PHOTOS, DialogueState, Draft, Phase
from rapidfuzz.distance import DamerauLevenshtein

from nlu.interpret import ParseResult
from nlu.places import Places
from nlu.taxonomy import TECHNOLOGY_SECTOR, Taxonomy
from nlu.text import fold, language_evidence, words

TECHNOLOGY_CATEGORIES = frozenset({"coverage", "outage", "slow_speed", "fibre_connection"})
LOCATION_CATEGORIES = frozenset(
    {"coverage", "outage", "slow_speed", "fibre_connection", "parcel_delivery", "mail_delivery"}
)
# Buttons for the operator question: the largest operators of each sector.
OPERATOR_BUTTONS = {
    "mobile": ("orange", "sfr", "bouygues", "free"),
    "fixed": ("orange", "sfr", "bouygues", "free"),
    "postal": ("la_poste", "chronopost", "colis_prive", "mondial_relay", "dpd", "ups"),
}
SECTOR_TECHNOLOGIES = {
    "mobile": ("4g", "5g", "3g", "2g"),
    "fixed": ("fibre", "adsl", "vdsl", "cable", "satellite", "radio"),
}
SKIP_WORDS = frozenset(
    fold(w) for w in """passer passe skip next suivant aucun aucune non no nope nan pas
    rien nothing none""".split()
)
FIX_FIELDS = ("category", "operator", "sector", "technology", "location", "user_type",
              "contacted_customer_service", "description")
# Words naming a field, for "change the operator", "le lieu est faux"…
FIELD_WORDS = {
    "operator": r"operateur|operator|fournisseur|transporteur|carrier|provider",
    "category": r"probleme|categorie|category|problem|type",
    "sector": r"secteur|domaine|sector|area",
    "location": r"lieu|ville|commune|adresse|code postal|location|place|town|city|address",
    "technology": r"technologie|techno|technology",
    "user_type": r"statut|user type|particulier|entreprise|collectivite",
    "contacted_customer_service": r"service client|customer service",
    "description": r"description|descriptif",
}
_USER_TYPE_WORDS = (
    ("local_authority", r"collectivit|mairie|commune|maire|authority|council|municipal"),
    ("business", r"entreprise|societe|pro\b|professionnel|business|company|commer|artisan"),
    ("individual", r"particulier|individu|perso|private|myself|moi"),
)
def _user_type_in(folded: str) -> str | None:
    """A bare answer to "you are…": "entreprise", "particulier", "la mairie"."""
    return next((ut for ut, pattern in _USER_TYPE_WORDS if re.search(pattern, folded)), None)


_NBSP = "\u00a0"
# French typography: a non-breaking space before « ? ! : ; » and inside « », so that a
# phone never puts the mark alone at the start of a line. URLs have no space before ":".
_SPACE_BEFORE_MARK = re.compile(r" ([?!:;»])")
_SPACE_AFTER_QUOTE = re.compile(r"« ")


def french_spacing(text: str) -> str:
    return _SPACE_AFTER_QUOTE.sub("«" + _NBSP, _SPACE_BEFORE_MARK.sub(_NBSP + r"\1", text))


def _shorten(text: str, limit: int) -> str:
    """`text` cut at a word boundary to at most `limit` characters, with "…"."""
    if len(text) <= limit:
        return text
    cut = text[:limit - 1]
    if " " in cut[limit // 2:]:
        cut = cut[:cut.rindex(" ")]
    return cut.rstrip(" ,;:.") + "…"


# Words that press a button when typed, beside the button's own label.
_CHOICE_WORDS = {
    "confirm:send": ("envoyer", "envoie", "envoyez", "envoie la", "envoyer l alerte", "valider",
                     "valide", "je valide", "c est bon envoie", "send", "send it", "submit"),
    "action:fix": ("corriger", "modifier", "je veux corriger", "edit", "fix"),
    "action:photo": ("ajouter une photo", "add a photo"),
}


def _typed_choice(text: str, offered: list[list[str]]) -> str | None:
    """The value of the offered button whose words `text` types ("envoyer", "mobil")."""
    typed = " ".join(re.findall(r"[a-z0-9]+", fold(text)))
    if not typed or len(typed) > 40:
        return None
    for label_text, value in offered:
        name = " ".join(re.findall(r"[a-z0-9]+", fold(label_text)))
        if not name:
            continue
        if typed == name or typed in _CHOICE_WORDS.get(value, ()):
            return value
        # One slip in a word of five letters or more: "mobil", "fibr", "entreprse".
        if len(typed) >= 5 and (DamerauLevenshtein.distance(typed, name) <= 1
                                or (len(typed) >= 4 and name.startswith(typed)
                                    and len(typed) >= len(name) - 2)):
            return value
    return None


# An opinion on the advice, in words: "pas vraiment utile", "super clair merci".
_RATINGS = (
    ("not_useful", r"\b(?:pas (?:tres |vraiment |du tout |)(?:utile|clair|aidant)|inutile|"
                   r"sert a rien|servent a rien|nul|nulle|bof|pas top|ne m.aide pas|"
                   r"not (?:very |really |)(?:useful|helpful)|useless|unhelpful|"
                   r"doesn.?t help|did not help|didn.?t help)\b"),
    ("useful", r"\b(?:utile|utiles|tres utile|clair|claire|parfait|super|top|genial|"
               r"merci (?:c.est|pour les conseils|beaucoup)|ca m.aide|m.a aide|"
               r"useful|helpful|great|perfect|very clear|thanks? (?:a lot|for the advice))\b"),
)


def _first_reading(table: tuple[tuple[str, str], ...], folded: str,
                   at_start: bool = False) -> str | None:
    """The value of the first pattern of `table` found in the text (or that starts it)."""
    for value, pattern in table:
        if re.match(rf"\W*(?:{pattern})\b", folded) if at_start else re.search(pattern, folded):
            return value
    return None


def _rating_in(folded: str) -> str | None:
    return _first_reading(_RATINGS, folded)


# An answer to "have you contacted customer service?" in a sentence: its first words
# ("non, jamais réussi à les joindre", "oui deux fois par téléphone", "pas encore").
_CONTACTED_ANSWERS = (
    ("unknown", r"(?:je (?:ne )?(?:sais|sait|se) (?:plus|pas)|aucune idee|j.?sais plus|"
                r"(?:i )?(?:don.?t|do not) (?:know|remember)|not sure|pas sur)"),
    ("no", r"(?:non|nan|no|nope|jamais|never|pas encore|not yet|toujours pas|pas du tout|"
           r"aucun contact|impossible de les joindre)"),
    ("yes", r"(?:oui|ouais|ouai|yes|yep|yeah|bien sur|evidemment|of course|plusieurs fois|"
            r"deja|already|a plusieurs reprises|j.?ai (?:appele|ecrit|telephone|envoye)|"
            r"(?:une|deux|trois|\d+) fois)"),
)


def _contacted_answer(folded: str) -> str | None:
    """The answer a sentence starts with: yes, no or unknown."""
    return _first_reading(_CONTACTED_ANSWERS, folded, at_start=True)


# A message that says customer service was already tried: "j'ai déjà appelé le service
# client", "le 3900 ne répond jamais", "I called support twice".
_CONTACTED_FACT = re.compile(
    r"\b(?:appele|appelee|appelle|contacte|contactee|ecrit|relance|joint|telephone|"
    r"called|contacted|rang|phoned|emailed|wrote to)\b(?:\W+\w+){0,4}?\W+(?:le |au |the |)"
    r"(?:service client|service clients|serv client|sav|hotline|support|conseiller|"
    r"customer service|customer support|helpline|3900|1023|1064|3244|3631)\b"
    r"|\b(?:service client|customer service|hotline|sav)\b(?:\W+\w+){0,3}?\W+(?:injoignable|"
    r"ne repond|repond pas|raccroche|m.a raccroche|never answers|doesn.?t answer|hangs up)"
)


def _contacted_in(folded: str) -> str | None:
    """'yes' when the text says customer service was already contacted."""
    return "yes" if _CONTACTED_FACT.search(folded) else None


# "c'est Kiwi Télécom, un petit opérateur local" → "Kiwi Télécom": the name of an operator
# outside the list, once the words around it are gone.
_OPERATOR_LEAD = re.compile(
    r"^(?:(?:bah|ben|euh|alors|non|oui|ok|en fait|enfait|well|so)[\s,]+)*"
    r"(?:c.est|c|ce sont|mon (?:operateur|fournisseur|fai)(?: c.est| est)?|"
    r"l.operateur(?: c.est| est)?|je suis (?:chez|avec)|chez|avec|it.s|it is|with|"
    r"my (?:provider|carrier|operator) is)?\s*", re.I)
_OPERATOR_TAIL = re.compile(
    r"\s*(?:[,;:.!?(]|\s(?:un|une|qui|que|mais|et|pour|depuis|a|the|a small|which|who|but|"
    r"since)\s).*$", re.I)


def _operator_named(text: str) -> str | None:
    """The operator's name in an answer to "which operator?", or None if it is no name."""
    folded = fold(text.strip())
    lead = _OPERATOR_LEAD.match(folded)
    start = lead.end() if lead else 0
    rest = text.strip()[start:]
    tail = _OPERATOR_TAIL.search(fold(rest))
    name = (rest[:tail.start()] if tail else rest).strip(" \"'«»")
    if not name or not any(c.isalpha() for c in name) or len(words(fold(name))) > 4:
        return None
    return name


_POSTCODES = re.compile(r"(?<!\d)\d{5}(?!\d)")
_PREPOSITION = re.compile(r"^(?:à|a|au|aux|dans|sur|vers|near|in|at)\s+", re.I)
_REFERENCE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
# What to say when an answer to this question could not be read.
EXPECTED_HINTS = {slot: f"hint_{slot}" for slot in (
    "category", "sector", "operator", "technology", "location", "contacted_customer_service",
    "user_type", "description", "photo")}
SMALL_TALK = {"greet": "welcome", "thank": "thanks", "goodbye": "goodbye",
              "chitchat": "chitchat", "out_of_scope": "out_of_scope",
              "consumer_dispute": "consumer_dispute"}


def new_reference() -> str:
    """A short reference a person can note down: JA-XXXXXXXX (no 0/O or 1/I)."""
    return "JA-" + "".join(secrets.choice(_REFERENCE_ALPHABET) for _ in range(8))


class Understanding(Protocol):
    async def parse(self, text: str) -> ParseResult: ...


class AdviceSheetLike(Protocol):
    id: str
    title: str
    body: str

    def plain_text(self) -> str: ...


class AdviceLibrary(Protocol):
    def sheet_for(self, sector: str | None, category: str, language: str) -> AdviceSheetLike: ...


@dataclass
class Turn:
    """The outcome of one event."""

    replies: list[Reply]
    state: DialogueState
    parse: ParseResult | None = None
    # A new alert to save (all fields), or changes to the last saved one.
    alert: dict | None = None
    alert_update: dict | None = None
    # The event as it may be stored: typed personal data already masked.
    event: Event | None = None

    @property
    def expecting(self) -> str | None:
        return self.state.expecting


@dataclass
class _Work:
    state: DialogueState
    replies: list[Reply] = field(default_factory=list)
    parse: ParseResult | None = None
    alert: dict | None = None
    alert_update: dict | None = None

    @property
    def lang(self) -> str:
        return self.state.language

    def say(self, key: str, choices: tuple[Choice, ...] = (), **values) -> None:
        self.ask(msg(key, self.lang, **values), choices)

    def ask(self, text: str, choices: tuple[Choice, ...] = ()) -> None:
        self.replies.append(Reply(french_spacing(text) if self.lang == "fr" else text, choices))
        if choices:
            # Remembered so that typing a button's words is the same as pressing it.
            self.state.offered = [[c.label, c.value] for c in choices]


class DialogueEngine:
    def __init__(
        self,
        nlu: Understanding,
        advice: AdviceLibrary,
        taxonomy: Taxonomy,
        public_url: str = "https://jalerte.arcep.fr",
        make_reference: Callable[[], str] = new_reference,
        faq: Faq | None = None,
        places: Places | None = None,
    ):
        self.faq = faq or Faq.load()
        self.places = places or Places.load()
        names = {n for op in taxonomy.operators.values() for n in (op.name, *op.brands)}
        self._brands = re.compile(
            r"(?<!\w)(?:" + "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
            + r")(?!\w)", re.IGNORECASE)
        self.nlu = nlu
        self.advice = advice
        self.taxonomy = taxonomy
        self.public_url = public_url
        self.make_reference = make_reference

    async def handle(self, state: DialogueState, event: Event,
                     language: str | None = None) -> Turn:
        """Runs one turn; `state` is not modified (the new one is in the result).

        `language` is the channel's hint (the widget's data-lang, Telegram's app
        language): it sets the language of a new conversation; the words typed decide
        after that.
        """
        work = _Work(copy.deepcopy(state))
        if language in ("fr", "en") and state == DialogueState():
            work.state.language = language
        offered, work.state.offered = work.state.offered, []
        if isinstance(event, TextEvent):
            # Nothing personal goes further than this line: not the parser, not the
            # transcript, not the alert.
            masked, removed = privacy.mask(event.text, work.state.language)
            event = TextEvent(masked)
            if removed:
                work.say("personal_data_removed")
            await self._on_text(work, event.text, offered)
        elif isinstance(event, ChoiceEvent):
            self._on_choice(work, event.value)
        elif isinstance(event, CommandEvent):
            self._on_command(work, event.name)
        elif isinstance(event, PhotoEvent):
            self._on_photo(work, event)
        elif isinstance(event, LocationEvent):
            self._on_location(work, event)
        elif isinstance(event, SharedEvent):
            if work.state.last_alert_id:
                work.alert_update = {"id": work.state.last_alert_id, "shared": True}
        elif isinstance(event, UnsupportedEvent):
            work.say("unsupported")
            self._reask(work)
        return Turn(work.replies, work.state, work.parse, work.alert, work.alert_update, event)

    # -- text -----------------------------------------------------------------------
    async def _on_text(self, w: _Work, raw_text: str, offered: list[list[str]]) -> None:
        command = command_from_text(raw_text)
        if command:
            self._on_command(w, command.name)
            return
        text = raw_text.strip()
        if not text:
            w.say("empty")
            self._reask(w)
            return
        if len(text) > MAX_DESCRIPTION:
            w.say("too_long", limit=MAX_DESCRIPTION)
            text = text[:MAX_DESCRIPTION]
        repeated = (w.state.phase is Phase.RATING and w.state.confirmed_with is not None
                    and fold(text).strip(" .!") == w.state.confirmed_with)
        typed = None if repeated else _typed_choice(text, offered)
        if typed:
            self._on_choice(w, typed)
            return
        p = await self.nlu.parse(text)
        place = self._place(p, text, answering=w.state.expecting == "location")
        if place != p.location:
            p = dataclasses.replace(p, location=place)
        w.parse = p
        self._follow_language(w, text)
        phase = w.state.phase
        if phase is Phase.CANCELLING:
            self._on_cancel_answer(w, p.intent)
            return
        # The catalogue's patterns are questions about the service; a long report that
        # names an operator and ends with "?" is still a report.
        long_report = p.is_report and p.operator and len(words(fold(text))) > 12
        answer = None if long_report else self.faq.answer(text)
        if answer:
            # A question mid-way is answered, and the report stays where it was.
            w.ask(answer.text(w.lang))
            self._reask(w)
        elif p.intent == "cancel":
            self._ask_cancel(w)
        elif p.intent == "restart":
            self._restart(w)
        elif p.intent == "help":
            w.say("help")
            self._reask(w)
        elif phase in (Phase.IDLE, Phase.RATING):
            self._on_idle_text(w, p, text)
        elif phase is Phase.CONFIRMING:
            self._on_summary_text(w, p, text)
        else:
            self._on_collect_text(w, p, text)

    def _place(self, p: ParseResult, text: str, answering: bool) -> str | None:
        """The place a message gives, as « Commune (postcode) » when the communes know
        it: "st flour 15", "Saint-Flour 15100" and "15100 Saint-Flour" are one place."""
        if p.location:
            pinned = " ".join([p.location, *_POSTCODES.findall(text)])
            found = self.places.read(pinned, answer=True)
            if found and not found.isdigit():
                return found
        # Operators' names are no places, even when a town bears one (Orange): only a
        # postcode or a département next to it makes it the town.
        cleaned = self._brands.sub(" ", text.replace(p.operator_text or "\0", " "))
        found = self.places.read(cleaned, answer=answering)
        if found and (answering or p.location or not found.isdigit()):
            return found
        return p.location[:120] if p.location else None

    def _follow_language(self, w: _Work, text: str) -> None:
        evidence = language_evidence(text)
        if evidence and evidence != w.state.language:
            first_contact = w.state.phase is Phase.IDLE and w.state.draft is None
            if first_contact or len(words(fold(text))) >= 3:
                w.state.language = evidence

    def _on_idle_text(self, w: _Work, p: ParseResult, text: str) -> None:
        if w.state.phase is Phase.RATING and self._on_rating_text(w, p, text):
            return
        gives_fields = p.intent == "inform" and (p.operator or p.operator_text or p.sector)
        if p.is_report or gives_fields:
            draft = Draft()
            self._absorb(draft, p, override=True)
            # "colis Chronopost écrasé à Nantes" may read as a mere answer to the model:
            # a sentence is still the person's description, and its likely categories
            # are offered rather than guessed.
            if p.is_report or len(words(fold(text))) >= 4:
                draft.add_description(text)
            if draft.category is None and not draft.category_guesses:
                draft.category_guesses = p.category_choices()
            self._start(w, draft)
            return
        w.state.phase, w.state.expecting = Phase.IDLE, None
        if p.intent == "greet":
            self._ask_what(w, "welcome")
        elif p.intent in SMALL_TALK:
            w.say(SMALL_TALK[p.intent])
            if p.intent in ("chitchat", "out_of_scope", "consumer_dispute"):
                self._ask_what(w)
        else:
            w.say("not_understood")
            self._ask_what(w)

    def _on_rating_text(self, w: _Work, p: ParseResult, text: str) -> bool:
        """Reads a rating from words; True when the text was about the advice."""
        folded = fold(text).strip(" .!")
        if w.state.confirmed_with and folded == w.state.confirmed_with:
            # The "oui" that sent the alert, sent twice: not an opinion on the advice.
            w.state.confirmed_with = None
            w.say("already_saved", ref=w.state.last_alert_id)
            self._ask_rating(w)
            return True
        rating = _rating_in(folded)
        if rating is None and p.intent in ("affirm", "deny"):
            rating = "useful" if p.intent == "affirm" else "not_useful"
        # A new problem starts a new report; an opinion on the advice does not.
        describes_problem = p.is_report and bool(p.category or p.operator)
        if rating and not (describes_problem and len(words(folded)) > 6):
            self._rate(w, rating)
            return True
        return False

    def _ask_what(self, w: _Work, key: str = "describe") -> None:
        """Invites a description, with the three sectors as a shortcut."""
        choices = tuple(
            Choice(label("sectors", s, w.lang), f"sector:{s}") for s in self.taxonomy.sectors
        )
        w.say(key, choices)

    def _on_collect_text(self, w: _Work, p: ParseResult, text: str) -> None:
        draft = w.state.draft
        assert draft is not None
        slot = w.state.expecting
        before = copy.deepcopy(draft)
        if slot == "description" and w.state.correcting:
            draft.description = ""  # "Modifier → Description" replaces it
        answered = self._fill_expected(draft, slot, p, text)
        if not answered and slot == "description":
            draft.description = before.description
        self._absorb(draft, p, override=False)
        if p.is_report and slot != "description":
            draft.add_description(text)
        if answered or draft != before:
            if slot == "photo" and answered:
                self._summary(w)
            else:
                self._next(w)
            return
        if p.intent in SMALL_TALK and p.intent != "greet":
            w.say(SMALL_TALK[p.intent])
        elif slot in EXPECTED_HINTS:
            # Never the bare question again: say what kind of answer is expected.
            w.say(EXPECTED_HINTS[slot])
        else:
            w.say("not_understood")
        self._reask(w)

    def _on_summary_text(self, w: _Work, p: ParseResult, text: str) -> None:
        draft = w.state.draft
        assert draft is not None
        if p.intent == "affirm" and not (p.operator or p.operator_text or p.location):
            w.state.confirmed_with = fold(text).strip(" .!")
            self._save(w)
            return
        named = self._field_named(text)
        given = self._facts_given(p)
        if named:
            # "non, le lieu c'est Lyon": only the field named changes.
            changes = {named: given[named]} if named in given else {}
        else:
            # "c'est SFR pas Orange", "à Lyon": the facts the message states, and its
            # problem only when it states nothing else.
            changes = {k: v for k, v in given.items() if k not in ("category", "sector")}
            if not changes and "category" in given:
                changes = {"category": given["category"]}
        if changes:
            self._apply_changes(w, draft, changes)
            return
        if named:
            w.state.correcting = True
            self._ask(w, named)
            return
        if p.intent == "deny":
            self._ask_fix(w)
            return
        w.say("not_understood")
        self._summary(w)

    @staticmethod
    def _facts_given(p: ParseResult) -> dict[str, object]:
        """The fields a message states outright (the model's category only if sure)."""
        given: dict[str, object] = {}
        if p.operator or p.operator_text:
            given["operator"] = (p.operator, p.operator_text)
        for name in ("location", "technology", "user_type", "sector"):
            if getattr(p, name):
                given[name] = getattr(p, name)
        if p.is_report and p.category:
            given["category"] = p.category
        return given

    def _apply_changes(self, w: _Work, draft: Draft, changes: dict[str, object]) -> None:
        """Changes only these fields, says what changed, re-asks what they made invalid."""
        lang = w.lang
        before = dict(self._summary_fields(draft, lang))
        for name, value in changes.items():
            if name == "operator":
                draft.operator, draft.operator_text = value  # type: ignore[misc]
            else:
                setattr(draft, name, value)
            if name == "category":
                draft.category_guesses = []
        self._settle(draft)
        after = dict(self._summary_fields(draft, lang))
        lines = [f"{label('fields', name, lang)}{' :' if lang == 'fr' else ':'} "
                 f"{before.get(name, '—')} → {value}"
                 for name, value in after.items() if before.get(name) != value]
        if lines:
            w.ask("\n".join([msg("updated", lang), *lines]))
        else:
            w.say("nothing_changed")
        w.state.correcting = True
        self._next(w)

    @staticmethod
    def _field_named(text: str) -> str | None:
        folded = fold(text)
        for slot, pattern in FIELD_WORDS.items():
            if re.search(rf"\b(?:{pattern})", folded):
                return slot
        return None

    # -- reading answers ---------------------------------------------------------------
    def _fill_expected(self, d: Draft, slot: str | None, p: ParseResult, text: str) -> bool:
        """Reads the answer to the question asked; True if it answered it."""
        folded = fold(text).strip(" .!?")
        skip = folded in SKIP_WORDS or p.intent in ("deny", "dont_know")
        short = len(words(folded)) <= 5 and len(text) <= 60
        conversational = p.intent in SMALL_TALK or p.intent in ("affirm", "deny", "dont_know")
        # Slots the parse answers directly when it found the field.
        found = {
            "category": p.category if p.is_report else None,
            "sector": p.sector,
            "technology": p.technology,
            "location": p.location[:120] if p.location else None,
            "user_type": p.user_type or (_user_type_in(folded) if slot == "user_type" else None),
        }
        if slot in found and found[slot]:
            setattr(d, slot, found[slot])
            return True
        if slot == "category" and d.category_guesses and p.intent in ("affirm", "deny"):
            # "J'ai compris qu'il s'agit peut-être de : panne. Est-ce bien ça ?" — "oui"
            # takes that guess; "non" shows every category.
            if p.intent == "affirm":
                d.category = d.category_guesses[0]
            d.category_guesses = []
            return True
        if slot == "operator":
            if p.operator or p.operator_text:
                d.operator, d.operator_text = p.operator, p.operator_text
                return True
            if p.intent == "dont_know":
                d.operator = d.operator_text = None
                d.skip("operator")
                return True
            name = _operator_named(text)
            whole = name == text.strip()
            if name and not (whole and (conversational or p.is_report)):
                d.operator, d.operator_text = None, name[:120]
                return True
            return False
        if slot == "technology":
            if p.intent == "dont_know" or skip:
                d.technology = "unknown"
                return True
            return False
        if slot == "location":
            if skip:
                d.location = None
                d.skip("location")
                return True
            if short and not conversational and not p.is_report and any(c.isalnum() for c in text):
                d.location = _PREPOSITION.sub("", text.strip())[:120] or text.strip()[:120]
                return True
            return False
        if slot == "description":
            if len(words(folded)) >= 2 or len(text) >= 8:
                d.add_description(text)
                return True
            return False
        if slot == "contacted_customer_service":
            value = (_contacted_answer(folded)
                     or {"affirm": "yes", "deny": "no", "dont_know": "unknown"}.get(p.intent or "")
                     or _contacted_in(folded))
            if value:
                d.contacted_customer_service = value
                return True
            return False
        if slot == "photo":
            if skip:
                d.skip("photo")
                return True
            return False
        return False

    def _absorb(self, d: Draft, p: ParseResult, override: bool) -> None:
        """Takes every field the message gives (without overwriting, unless `override`)."""
        if p.is_report:
            # The parser gives a category only when it is confident; otherwise its
            # candidates are offered as buttons.
            if p.category:
                if override or d.category is None:
                    d.category = p.category
                    d.category_guesses = []
            elif d.category is None:
                d.category_guesses = p.category_choices()
        if p.operator or p.operator_text:
            if override or (d.operator is None and d.operator_text is None):
                d.operator, d.operator_text = p.operator, p.operator_text
        elif p.scam and d.operator is None and d.operator_text is None:
            d.skip("operator")  # a scam's impersonated brand is no operator at fault
        for name in ("sector", "technology", "location", "user_type"):
            value = getattr(p, name)
            if value and (override or getattr(d, name) is None):
                setattr(d, name, value)
        # "j'ai déjà appelé trois fois le service client": nothing to ask about it later.
        if d.contacted_customer_service is None and p.is_report:
            d.contacted_customer_service = _contacted_in(fold(p.text))

    def _settle(self, d: Draft) -> None:
        """Fills what follows from the rest: a single possible sector, fibre's technology."""
        if d.sector is None:
            options = set(self.taxonomy.sectors)
            if d.category:
                options &= set(self.taxonomy.categories[d.category].sectors)
            if d.operator and options & set(self.taxonomy.operators[d.operator].sectors):
                options &= set(self.taxonomy.operators[d.operator].sectors)
            if d.technology in TECHNOLOGY_SECTOR and TECHNOLOGY_SECTOR[d.technology] in options:
                options = {TECHNOLOGY_SECTOR[d.technology]}
            if len(options) == 1:
                d.sector = options.pop()
        if d.category == "fibre_connection" and d.technology is None:
            d.technology = "fibre"
        if d.sector == "postal" or (d.technology in TECHNOLOGY_SECTOR and d.sector
                                    and TECHNOLOGY_SECTOR[d.technology] != d.sector):
            d.technology = None  # 4G on a fixed line: asked again if the problem needs it

    # -- asking ------------------------------------------------------------------------
    def _missing(self, d: Draft) -> tuple[str, str | None]:
        """The next question and, if the answers so far disagree, why it is asked."""
        if d.category is None and not d.description and not d.category_guesses:
            return "description", None
        if d.category is None:
            return "category", None
        if d.sector is None:
            return "sector", None
        if d.sector not in self.taxonomy.categories[d.category].sectors:
            return "category", "category_mismatch"
        if d.operator is None and d.operator_text is None and "operator" not in d.skipped:
            return "operator", None
        if d.operator and d.sector not in self.taxonomy.operators[d.operator].sectors:
            return "operator", "operator_mismatch"
        if (d.category in TECHNOLOGY_CATEGORIES and d.technology is None
                and d.sector in SECTOR_TECHNOLOGIES):
            return "technology", None
        if d.category in LOCATION_CATEGORIES and d.location is None and "location" not in d.skipped:
            return "location", None
        if not d.description:
            return "description", None
        if d.contacted_customer_service is None:
            return "contacted_customer_service", None
        return "confirmation", None

    def _start(self, w: _Work, draft: Draft) -> None:
        w.state.draft = draft
        w.state.phase = Phase.COLLECTING
        w.state.correcting = False
        self._next(w)

    def _next(self, w: _Work) -> None:
        draft = w.state.draft
        assert draft is not None
        self._settle(draft)
        slot, why = self._missing(draft)
        complete = draft.category is not None and draft.sector is not None
        if slot == "confirmation" or (w.state.correcting and why is None and complete and
                                      slot not in ("category", "sector", "operator")):
            self._summary(w)
        else:
            self._ask(w, slot, why)

    def _ask(self, w: _Work, slot: str, why: str | None = None) -> None:
        d = w.state.draft
        assert d is not None
        lang = w.lang
        w.state.phase = Phase.COLLECTING
        w.state.expecting = slot
        if why == "operator_mismatch" and d.operator:
            w.say(why, operator=self.taxonomy.operators[d.operator].name,
                  sector=label("sectors", d.sector, lang))
        elif why == "category_mismatch":
            w.say(why, sector=label("sectors", d.sector, lang))
        if slot == "category":
            self._ask_category(w, d)
        elif slot == "sector":
            options = self._sector_options(d)
            w.say("ask_sector", tuple(
                Choice(label("sectors", s, lang), f"sector:{s}") for s in options
            ))
        elif slot == "operator":
            ids = OPERATOR_BUTTONS.get(d.sector or "", OPERATOR_BUTTONS["mobile"])
            choices = [Choice(self.taxonomy.operators[i].name, f"operator:{i}") for i in ids]
            choices.append(Choice(button("other_operator", lang), "operator:other"))
            choices.append(Choice(button("dont_know", lang), "operator:unknown"))
            w.say("ask_operator_postal" if d.sector == "postal" else "ask_operator",
                  tuple(choices))
        elif slot == "user_type":
            w.say("ask_user_type", tuple(
                Choice(label("user_types", u, lang), f"user_type:{u}")
                for u in self.taxonomy.user_types
            ))
        elif slot == "technology":
            techs = SECTOR_TECHNOLOGIES.get(d.sector or "", ())
            w.say("ask_technology", tuple(
                Choice(label("technologies", t, lang), f"technology:{t}")
                for t in (*techs, "unknown")
            ))
        elif slot == "location":
            w.say("ask_location", (Choice(button("skip", lang), "location:skip"),))
        elif slot == "description":
            w.say("ask_description" if d.category else "describe")
        elif slot == "contacted_customer_service":
            w.say("ask_contacted", tuple(
                Choice(label("contacted", v, lang), f"contacted:{v}")
                for v in ("yes", "no", "unknown")
            ))
        elif slot == "photo":
            w.say("ask_photo", (Choice(button("skip", lang), "photo:skip"),))

    def _sector_options(self, d: Draft) -> list[str]:
        options = list(self.taxonomy.sectors)
        if d.category:
            options = [s for s in options if s in self.taxonomy.categories[d.category].sectors]
        if d.operator:
            narrowed = [s for s in options if s in self.taxonomy.operators[d.operator].sectors]
            options = narrowed or options
        return options

    def _ask_category(self, w: _Work, d: Draft) -> None:
        lang = w.lang
        allowed = [c for c, cat in self.taxonomy.categories.items()
                   if d.sector is None or d.sector in cat.sectors]
        guesses = [g for g in d.category_guesses if g in allowed]
        if guesses:
            choices = [Choice(label("categories", g, lang), f"category:{g}") for g in guesses]
            choices.append(Choice(button("other_category", lang), "category:?"))
            w.say("ask_category_guess", tuple(choices),
                  guess=label("categories", guesses[0], lang).lower())
            return
        w.say("ask_category", tuple(
            Choice(label("categories", c, lang), f"category:{c}") for c in allowed
        ))

    def _summary(self, w: _Work) -> None:
        d = w.state.draft
        assert d is not None
        lang = w.lang
        if d.user_type is None:
            d.user_type = "individual"  # shown in the summary, one tap to change
        w.state.phase = Phase.CONFIRMING
        w.state.expecting = "confirmation"
        w.state.correcting = False
        lines = [msg("summary_intro", lang)]
        for name, value in self._summary_fields(d, lang):
            lines.append(f"• {label('fields', name, lang)} : {value}" if lang == "fr"
                         else f"• {label('fields', name, lang)}: {value}")
        lines.append(msg("summary_question", lang))
        choices = [Choice(button("send", lang), "confirm:send")]
        if len(d.photos) < MAX_PHOTOS:
            choices.append(Choice(button("add_photo", lang), "action:photo"))
        choices += [Choice(button("fix", lang), "action:fix"),
                    Choice(button("cancel", lang), "action:cancel")]
        w.ask("\n".join(lines), tuple(choices))

    def _summary_fields(self, d: Draft, lang: str) -> list[tuple[str, str]]:
        rows: list[tuple[str, str]] = []
        if d.category:
            rows.append(("category", label("categories", d.category, lang)))
        if d.sector:
            rows.append(("sector", label("sectors", d.sector, lang)))
        operator = (self.taxonomy.operators[d.operator].name if d.operator
                    else d.operator_text or button("dont_know", lang))
        rows.append(("operator", operator))
        if d.technology:
            rows.append(("technology", label("technologies", d.technology, lang)))
        if d.location:
            rows.append(("location", d.location))
        rows.append(("user_type", label("user_types", d.user_type or "individual", lang)))
        if d.contacted_customer_service:
            rows.append(("contacted_customer_service",
                         label("contacted", d.contacted_customer_service, lang)))
        rows.append(("photos", str(len(d.photos))))
        description = _shorten(d.description, 200)
        rows.append(("description", f"« {description} »" if lang == "fr" else f"\"{description}\""))
        return rows

    def _ask_fix(self, w: _Work) -> None:
        lang = w.lang
        w.state.phase = Phase.CONFIRMING
        w.state.expecting = "confirmation"
        w.say("ask_fix", tuple(
            Choice(label("fields", f, lang), f"fix:{f}") for f in FIX_FIELDS
        ))

    def _reask(self, w: _Work) -> None:
        """Asks the current question again (after help, a bad file, an unknown button…)."""
        state = w.state
        if state.phase is Phase.COLLECTING and state.draft is not None and state.expecting:
            self._ask(w, state.expecting)
        elif state.phase is Phase.CONFIRMING and state.draft is not None:
            self._summary(w)
        elif state.phase is Phase.CANCELLING:
            self._ask_cancel(w)
        elif state.phase is Phase.RATING:
            self._ask_rating(w)
        else:
            self._ask_what(w)

    # -- buttons -----------------------------------------------------------------------
    def _on_choice(self, w: _Work, value: str) -> None:
        kind, _, arg = (value or "").partition(":")
        state = w.state
        d = state.draft
        if kind == "confirm" and arg == "send":
            if state.phase is Phase.CONFIRMING and d is not None:
                self._save(w)
            elif state.last_alert_id and d is None:
                w.say("already_saved", ref=state.last_alert_id)
            else:
                self._stale(w)
        elif kind == "action" and d is not None and state.phase is Phase.CONFIRMING:
            if arg == "photo":
                self._ask(w, "photo")
            elif arg == "fix":
                self._ask_fix(w)
            elif arg == "cancel":
                self._ask_cancel(w)
            else:
                self._stale(w)
        elif kind == "fix" and arg in FIX_FIELDS and d is not None:
            state.correcting = True
            self._ask(w, arg)
        elif kind == "cancel" and state.phase is Phase.CANCELLING:
            self._on_cancel_answer(w, "affirm" if arg == "yes" else "deny")
        elif kind == "rating" and arg in ("useful", "not_useful") and state.last_alert_id:
            self._rate(w, arg)
        elif kind == "new":
            state.draft = None
            state.phase = Phase.IDLE
            state.expecting = None
            self._ask_what(w)
        elif kind == "sector" and arg in self.taxonomy.sectors and d is None:
            self._start(w, Draft(sector=arg))
        elif d is not None:
            outcome = self._choose_value(w, d, kind, arg)
            if outcome == "invalid":
                self._stale(w)
            elif outcome == "set":
                self._after_value(w, d, kind)
        else:
            self._stale(w)

    def _after_value(self, w: _Work, d: Draft, kind: str) -> None:
        """Where to go once a button filled a field: the summary or the next question."""
        state = w.state
        if state.phase is Phase.CONFIRMING or state.correcting or kind == "photo":
            self._settle(d)
            if self._missing(d)[1] is not None:  # the correction made answers disagree
                self._next(w)
            else:
                self._summary(w)
        else:
            self._next(w)

    def _choose_value(self, w: _Work, d: Draft, kind: str, arg: str) -> str:
        """Applies a field button: "set", "asked" (a follow-up question) or "invalid"."""
        tax = self.taxonomy
        if kind == "category" and arg == "?":
            d.category_guesses = []
            w.state.phase, w.state.expecting = Phase.COLLECTING, "category"
            self._ask_category(w, d)
            return "asked"
        if kind == "operator" and arg == "other":
            w.state.phase, w.state.expecting = Phase.COLLECTING, "operator"
            w.say("ask_operator_name")
            return "asked"
        if kind == "category" and arg in tax.categories:
            d.category, d.category_guesses = arg, []
            if d.sector and d.sector not in tax.categories[arg].sectors:
                d.sector = None
        elif kind == "sector" and arg in tax.sectors:
            d.sector = arg
        elif kind == "operator" and arg in tax.operators:
            d.operator, d.operator_text = arg, tax.operators[arg].name
        elif kind == "operator" and arg == "unknown":
            d.operator = d.operator_text = None
            d.skip("operator")
        elif kind == "user_type" and arg in tax.user_types:
            d.user_type = arg
        elif kind == "technology" and arg in tax.technologies:
            d.technology = arg
        elif kind == "location" and arg == "skip":
            d.location = None
            d.skip("location")
        elif kind == "contacted" and arg in ("yes", "no", "unknown"):
            d.contacted_customer_service = arg
        elif kind == "photo" and arg == "skip":
            d.skip("photo")
        else:
            return "invalid"
        return "set"

    def _stale(self, w: _Work) -> None:
        w.say("stale_choice")
        self._reask(w)

    # -- commands, cancel, restart -------------------------------------------------------
    def _on_command(self, w: _Work, name: str) -> None:
        if name == "start":
            if w.state.draft is not None and w.state.phase is not Phase.IDLE:
                w.say("in_progress")
                self._reask(w)
            else:
                w.state.phase, w.state.expecting = Phase.IDLE, None
                self._ask_what(w, "welcome")
        elif name == "help":
            w.say("help")
            self._reask(w)
        elif name == "cancel":
            self._ask_cancel(w)
        elif name == "new":
            self._restart(w)

    def _ask_cancel(self, w: _Work) -> None:
        state = w.state
        if state.draft is None:
            w.say("nothing_to_cancel")
            state.phase, state.expecting = Phase.IDLE, None
            self._ask_what(w)
            return
        if state.phase is not Phase.CANCELLING:
            state.resume_phase = state.phase
        state.phase, state.expecting = Phase.CANCELLING, "confirmation"
        w.say("confirm_cancel", (Choice(button("yes_cancel", w.lang), "cancel:yes"),
                                 Choice(button("no_continue", w.lang), "cancel:no")))

    def _on_cancel_answer(self, w: _Work, intent: str | None) -> None:
        state = w.state
        if intent in ("affirm", "cancel"):
            state.draft = None
            state.phase, state.expecting, state.resume_phase = Phase.IDLE, None, None
            w.say("cancelled")
        elif intent in ("deny", "restart"):
            resume = state.resume_phase or Phase.COLLECTING
            state.resume_phase = None
            w.say("not_cancelled")
            if resume is Phase.CONFIRMING:
                self._summary(w)
            else:
                state.phase = Phase.COLLECTING
                self._next(w)
        else:
            self._ask_cancel(w)

    def _restart(self, w: _Work) -> None:
        state = w.state
        state.draft = None
        state.phase, state.expecting, state.correcting = Phase.IDLE, None, False
        w.say("restarted")
        self._ask_what(w)

    # -- photos and places ---------------------------------------------------------------
    def _on_photo(self, w: _Work, event: PhotoEvent) -> None:
        state = w.state
        if event.error or not event.photo:
            w.say(f"photo_{event.error}" if f"photo_{event.error}" in _PHOTO_ERRORS
                  else "photo_not_image")
            self._reask(w)
            return
        if state.draft is None or state.phase in (Phase.IDLE, Phase.RATING):
            state.draft = Draft(photos=[event.photo])
            state.phase = Phase.COLLECTING
            w.say("photo_first")
            self._next(w)
            return
        d = state.draft
        if len(d.photos) >= MAX_PHOTOS:
            w.say("photo_limit", max=MAX_PHOTOS)
        elif all(p["sha256"] != event.photo["sha256"] for p in d.photos):
            d.photos.append(event.photo)
            w.say("photo_added", count=len(d.photos), max=MAX_PHOTOS)
        else:
            w.say("photo_added", count=len(d.photos), max=MAX_PHOTOS)
        if state.expecting == "photo" or state.phase is Phase.CONFIRMING:
            self._summary(w)
        else:
            self._reask(w)

    def _on_location(self, w: _Work, event: LocationEvent) -> None:
        # Rounded to 0.01° (about 1 km): enough for coverage maps, not an address.
        place = f"{round(event.latitude, 2):.2f}, {round(event.longitude, 2):.2f}"
        state = w.state
        w.say("location_saved")
        if state.draft is None or state.phase in (Phase.IDLE, Phase.RATING):
            self._start(w, Draft(location=place))
            return
        state.draft.location = place
        if state.phase is Phase.CONFIRMING or state.correcting:
            self._summary(w)
        elif state.phase is Phase.CANCELLING:
            self._ask_cancel(w)
        else:
            self._next(w)

    # -- saving ------------------------------------------------------------------------
    def _save(self, w: _Work) -> None:
        state = w.state
        d = state.draft
        assert d is not None
        if d.category is None or d.sector is None:
            state.correcting = False
            self._next(w)  # asks for what is missing; nothing is saved
            return
        lang = w.lang
        self._settle(d)
        reference = self.make_reference()
        alert = {
            "id": reference,
            "language": lang,
            "user_type": d.user_type or "individual",
            "sector": d.sector,
            "operator": d.operator,
            "operator_text": d.operator_text,
            "category": d.category,
            "technology": d.technology,
            "location": d.location,
            "description": d.description,
            "contacted_customer_service": d.contacted_customer_service or "unknown",
            "photos": list(d.photos),
            "advice_rating": None,
            "shared": False,
        }
        if self.taxonomy.alert_problems(alert):
            # Fields that contradict each other are never saved: ask again what is wrong.
            w.state.correcting = True
            self._next(w)
            return
        sheet = self.advice.sheet_for(d.sector, d.category, lang)
        w.alert = {**alert, "advice_sheet": sheet.id}
        w.say("saved", ref=reference)
        w.replies.append(AdviceReply(text=sheet.plain_text(), sheet_id=sheet.id,
                                     title=sheet.title, markdown=sheet.body))
        w.say("no_follow_up")
        if d.category == "unsolicited_sales":
            w.say("spam_pointer")
        w.replies.append(self._share(d, lang))
        state.draft = None
        state.last_alert_id = reference
        self._ask_rating(w)

    def _share(self, d: Draft, lang: str) -> ShareReply:
        operator = self.taxonomy.operators[d.operator].name if d.operator else None
        category = label("categories", d.category or "other", lang).lower()
        share = msg("share_text", lang, category=category,
                    operator=f", {operator}" if operator else "")
        full = f"{share} {self.public_url}"
        links = (
            ("X", "https://x.com/intent/tweet?" + urlencode({"text": full})),
            ("Facebook", "https://www.facebook.com/sharer/sharer.php?"
             + urlencode({"u": self.public_url})),
            ("Telegram", "https://t.me/share/url?"
             + urlencode({"url": self.public_url, "text": share})),
            ("WhatsApp", "https://wa.me/?text=" + quote(full)),
        )
        return ShareReply(text=msg("share_intro", lang), links=links, share_text=full)

    def _ask_rating(self, w: _Work) -> None:
        lang = w.lang
        w.state.phase = Phase.RATING
        w.state.expecting = "rating"
        w.say("ask_rating", (Choice(button("useful", lang), "rating:useful"),
                             Choice(button("not_useful", lang), "rating:not_useful"),
                             Choice(button("new_alert", lang), "new:alert")))

    def _rate(self, w: _Work, rating: str) -> None:
        state = w.state
        state.confirmed_with = None
        w.alert_update = {"id": state.last_alert_id, "advice_rating": rating}
        state.phase, state.expecting = Phase.IDLE, None
        w.say("rated")
        w.say("offer_new", (Choice(button("new_alert", w.lang), "new:alert"),))


_PHOTO_ERRORS = {"photo_too_large", "photo_not_image", "photo_corrupt", "photo_too_many_pixels"}
