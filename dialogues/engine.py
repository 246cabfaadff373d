"""The dialogue engine: (state, event) -> replies + new state, one turn at a time.

Slot filling with one unit per field (`dialogues/slots.py`): `_missing` decides the next
question from the draft alone, the asked slot reads its answer, and every slot takes
what any message states about it (`_absorb`). The engine never stores anything itself: a
turn returns the alert to save, and the service saves it before any reply is sent.
"""

from __future__ import annotations

import copy
import dataclasses
import os
import re
import secrets
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Callable, Protocol, Sequence
from urllib.parse import quote, urlencode

from dialogues.events import (
    ChoiceEvent,
    CommandEvent,
    Event,
    LocationEvent,
    PhotoEvent,
    SharedEvent,
    TextEvent,
    UnsupportedEvent,
    command_from_text,
)
from domain import privacy
from dialogues.faq import Faq
from dialogues.messages import button, label, text as msg
from dialogues.replies import AdviceReply, Choice, Reply, ShareReply
from dialogues.slots import (
    CONTACTED_SAID,
    REASK,
    Utterance,
    Question,
    Slot,
    Slots,
    every_reading,
    first_reading,
)
from dialogues.state import MAX_DESCRIPTION, MAX_PHOTOS, DialogueState, Draft, Phase
from rapidfuzz.distance import DamerauLevenshtein

from domain.fields import FIELD
from domain.parse import NluUnavailable, ParseResult, empty_result
from reading.places import COUNTRIES, Places
from domain.taxonomy import Taxonomy
from domain.text import fold, language_evidence, words

# « ce qui me reste en travers, c'est leur service client »: the service is the problem.
_SERVICE_IS_THE_PROBLEM = re.compile(
    r"\bc.est (?:surtout |plutot |vraiment )?(?:leur|le|son|votre) (?:service client|sav)\b"
    r"|\b(?:probleme|souci|plainte)\W+(?:\w+\W+)?(?:c.est|est) (?:leur|le|son) (?:service client|sav)\b"
    r"|\b(?:it.?s|is) (?:really |mainly )?(?:their|the) customer service\b"
)

# « j'ai mis Colomiers parce que… », "I put SFR because…": a value given before, now
# explained away (read in the text as typed and in the folded text alike).
_GIVEN_BEFORE = re.compile(
    r"\bj.ai (?:mis|dit|[ée]crit|indiqu[ée]|tap[ée]|marqu[ée])"
    r"\s+\S+(?:[\s-]\S+)?\s+(?=parce|car\b|mais\b|alors\b)"
    r"|\bI (?:put|said|wrote|typed)\s+\S+(?:\s\S+)?\s+(?=because|but\b)",
    re.IGNORECASE,
)
_STATES_A_VALUE = re.compile(r"\b(?:c.?est|it.?s|its)\b")
_BUT = re.compile(r"\b(?:mais|sauf|but|except|however|par contre)\b")

# Words that say a message corrects what was said before.
_CORRECTING = re.compile(
    r"\b(?:non|pardon|en fait|plutot|je me suis trompee?|erreur|je voulais dire|correction|"
    r"je rectifie|rectification|(?:je me suis |me suis )?mal (?:explique|exprime)e?s?|"
    r"sorry|actually|i meant|rather|my mistake)\b"
)

# « non, c'est SFR… »: a « non » that leads into a correction (not one that ends a
# sentence, « Non. C'est SFR »).
_CORRECTION_LEAD = re.compile(r"^\W*(?:non|nan|no|nope)\b(?![.!?…])[\s,;:–-]*", re.IGNORECASE)

# The texts parsed for the turn under way, before it (preparse) and in it: a turn run
# again (dialogues.service) parses none of them again. This task's own (contexts are per
# task); emptied when the next turn begins.
_PREPARSED: ContextVar[dict[str, ParseResult] | None] = ContextVar("preparsed", default=None)

_NBSP = "\u00a0"
# French typography: a non-breaking space before « ? ! : ; » and inside « », so that a
# phone never puts the mark alone at the start of a line. URLs have no space before ":".
_SPACE_BEFORE_MARK = re.compile(r" ([?!:;»])")
_SPACE_AFTER_QUOTE = re.compile(r"« ")


def french_spacing(text: str) -> str:
    return _SPACE_AFTER_QUOTE.sub("«" + _NBSP, _SPACE_BEFORE_MARK.sub(_NBSP + r"\1", text))


# Words that press a button when typed, beside the button's own label.
_CHOICE_WORDS = {
    "confirm:send": (
        "envoyer",
        "envoie",
        "envoyez",
        "envoie la",
        "envoyer l alerte",
        "valider",
        "valide",
        "je valide",
        "c est bon envoie",
        "send",
        "send it",
        "submit",
    ),
    "action:fix": ("corriger", "modifier", "je veux corriger", "edit", "fix"),
    "action:photo": ("ajouter une photo", "add a photo"),
    "operator:several": ("plusieurs", "plusieurs operateurs", "several", "several operators"),
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
        if len(typed) >= 5 and (
            DamerauLevenshtein.distance(typed, name) <= 1
            or (len(typed) >= 4 and name.startswith(typed) and len(typed) >= len(name) - 2)
        ):
            return value
    return None


# Words that say what follows them is not so (« pas une panne », "no connection"), up to
# the next punctuation mark; and words too common to name a button.
_NEGATION = frozenset(
    "ne n pas non ni jamais sans aucun aucune rien no not nor never without none nothing".split()
)
_COMMON = frozenset(
    "avec pour dans plus tout tous toute toutes tres trop autre chose "
    "probleme problemes souci soucis service services with that this have "
    "other problem issue thing "
    # (in many operators' names: « l'ancien Outremer Telecom » is no Bouygues Telecom)
    "telecom telecoms".split()
)


def _content(text: str) -> list[tuple[str, bool]]:
    """The telling words of a text, each with whether a negation comes before it in its
    clause: « Pas de réseau mobile / mauvaise couverture » → (reseau, True), (mobile,
    True), (mauvaise, False), (couverture, False)."""
    found = []
    for clause in re.split(r"[,.;:!?/()]", fold(text)):
        negated = False
        for word in re.findall(r"[a-z0-9]+", clause):
            if word in _NEGATION:
                negated = True
            elif len(word) >= 4 and word not in _COMMON:
                found.append((word, negated))
    return found


def _same_word(a: str, b: str) -> bool:
    """« connexion » and "connection", « facture » and « facturation », « lent » and
    « lente »: one word, give or take its ending."""
    common = len(os.path.commonprefix((a, b)))
    return common >= 5 or common == min(len(a), len(b)) >= 4


def _named_choice(
    text: str, offered: Sequence[Sequence[str]], first_wins: bool = False
) -> str | None:
    """The value of the offered button whose telling words a short answer uses, said the
    same way (« An outage, no connection at all. » for "Outage, service down"; never
    « pas une panne » for « Panne, service coupé »): the one clear best, or None.
    `first_wins`: a tie that includes the first button offered (the guess being
    confirmed: « internet lent, ça coupe » for « débit trop lent ou instable ? ») is it."""
    typed = _content(text)
    if not typed or len(words(fold(text))) > 12 or "?" in text:
        return None  # (« Vous savez quand la fibre arrive ? » presses no « Fibre »)
    scores: dict[str, int] = {}
    for label_text, value in offered:
        matches = [
            t_neg == l_neg
            for t, t_neg in typed
            for lw, l_neg in _content(label_text)
            if _same_word(t, lw)
        ]
        if matches and all(matches):
            scores[value] = len(matches)
    best = sorted(scores.values(), reverse=True)
    first = offered[0][1] if offered else None
    if first_wins and best and scores.get(first or "") == best[0]:
        return first
    if not best or (len(best) > 1 and best[0] == best[1]):
        return None
    return next(v for v, n in scores.items() if n == best[0])


# An opinion on the advice, in words: "pas vraiment utile", "super clair merci".
_RATINGS = (
    (
        "not_useful",
        r"\b(?:pas (?:tres |vraiment |du tout |)(?:utile|clair|aidant)|inutile|"
        r"sert a rien|servent a rien|nul|nulle|bof|pas top|ne m.aide pas|"
        r"not (?:very |really |)(?:useful|helpful)|useless|unhelpful|"
        r"doesn.?t help|did not help|didn.?t help)\b",
    ),
    (
        "useful",
        r"\b(?:utile|utiles|tres utile|clair|claire|parfait|super|top|genial|"
        r"merci (?:c.est|pour les conseils|beaucoup)|ca m.aide|m.a aide|"
        r"useful|helpful|great|perfect|very clear|thanks? (?:a lot|for the advice))\b",
    ),
)


# « Oui, c'est parfait, vous pouvez l'envoyer », "yes that's all correct, send it".
_CONFIRM_START = re.compile(
    r"^\W*(?:(?:mais|ben|bah|ah|oh|alors|bon|eh bien|well|so)\W+)*(?:ok|okay|oki|oui|yes|yep|"
    r"yeah|ouais|oe|ouep|wi|voila|parfait|exact|exactement|tres bien|super|nickel|impec\w*|"
    r"d.?accord|daccord|c.?est (?:bon|ok|correct|exact|juste|parfait|tout bon|ca|bien ca|"
    r"bien cela|cela)|"
    r"c bon|cest bon|tout est (?:bon|ok|correct|juste)|that.?s (?:right|correct|fine|it|all)|"
    r"all (?:good|correct)|looks (?:good|right)|correct|valide|go ahead|great|perfect|fine|"
    r"sounds good)\b"
)
# (not a participle: « une carte SIM envoyée chez moi », « la ligne enregistrée à mon nom »)
_SEND_WORDS = re.compile(
    r"\b(?:envoy(?!ees?\b|es\b)\w*|envoi\w*|transmet\w*|valid\w*|"
    r"enregistr(?!ee?s\b|ee\b)\w*|"
    r"send|submit|go ahead|vas[- ]y)\b"
)
# « oui c'est bon, ils ont bien été contactés »: the summary judged right, in so many words.
_ALL_GOOD = re.compile(
    r"\b(?:c.?est (?:bon|ok|correct|exact|juste|parfait|tout bon)|parfait|correct|exact|"
    r"tout est (?:bon|ok|correct|juste)|nickel|impec\w*|d.?accord|ok|okay|"
    r"that.?s (?:right|correct|fine)|all good|looks good|perfect)\b"
)
_NOT_SENDING = re.compile(
    r"\b(?:pas|ne|n|don.?t|do not|not|never|jamais)\b\W+(?:\w+\W+){0,2}"
    r"(?:envoy|transmet|valid|enregistr|send|submit)"
)


# « le problème est le même », "the problem is the same": a field named, not changed.
_SAME = re.compile(
    r"\b(?:est|reste|restent|sont) (?:le meme|la meme|les memes|pareils?|inchange\w*)"
    r"|\b(?:is|are|stays?) (?:the same|unchanged)\b"
)


# « pas une entreprise », « plus le satellite », "not Lyca", « j'ai quitté Orange », "it
# isn't weak signal any longer".
_SET_ASIDE_WORDS = re.compile(
    r"\b(?:pas|plus|non|not|isn\W?t|no longer|plutot que|au lieu de|instead of|rather than|"
    r"quitte)\s+(?:(?:vraiment|really|exactement|exactly|tout a fait)\s+)?"
    r"(?:(?:de|d|du|sur|pour|chez|avec|un|une|le|la|les|l|mon|ma|mes|my|the|a|an|titre|en tant que|as)\W+)*[\w-]+"
    r"(?:(?:\s+[\w-]+){0,2}\s+any\s?(?:longer|more)\b)?"
)

# « la box qui ne donne plus internet »: a verb's negation, not a value set aside (but
# « ce n'est plus le satellite » sets it aside).
_NEGATED_VERB_BEFORE = re.compile(r"\bn(?:e\s+|\W)(?!est\b|etait\b|sont\b)\w+\s*$")


# « oubliez la commune », « la Bbox du magasin va très bien »: put aside as well.
_PUT_ASIDE = re.compile(
    r"\b(?:oubliez|oublie|oublier|forget|scratch|ignore)\W+(?:(?:le|la|les|l|mon|ma|mes|the|my)\W+)?"
    r"[\w-]+(?:\W+part)?"
    r"|\b(?:le|la|les|l|mon|ma|mes|the|my)\W+[\w-]+(?:\W+(?!va\b|vont\b)[\w-]+){0,3}\W+"
    r"(?:va|vont|marche|marchent|fonctionne|fonctionnent|is|are|works?)\W+"
    r"(?:(?:tres|super|parfaitement|tout a fait|tres tres|really|perfectly)\W+)?"
    r"(?:bien|fine|ok|nickel)\b"
)


def _without_set_aside(folded: str) -> str:
    folded = _GIVEN_BEFORE.sub(" ", folded)
    kept = _SET_ASIDE_WORDS.sub(
        lambda m: m.group(0) if _NEGATED_VERB_BEFORE.search(folded[: m.start()]) else " ", folded
    )
    return _PUT_ASIDE.sub(lambda m: " " * len(m.group(0)), kept)


# « c'est pas vraiment une panne », "it's not really an outage": the word after the denial.
_PROBLEM_DENIED = re.compile(
    r"\b(?:pas|not|isn.t|non)\s+(?:(?:vraiment|really|exactement|exactly|du tout)\s+)?"
    r"(?:(?:un|une|le|la|l|a|an|the|de|d|du)\W+)?([a-z]+)"
)

_FROM_PLACE = re.compile(r"\b(?:depuis|from)\s+[A-ZÀ-Ý][\w'’-]*")

# What a postal problem is about, in so many words.
_POSTAL_THINGS = (
    ("mail_delivery", r"\b(?:lettres?|courriers?|recommandee?s?|plis?|letters?)\b"),
    ("parcel_delivery", r"\b(?:colis|paquets?|parcels?|packages?)\b"),
)

# A problem offered instead of one set aside when the model is unsure: likely enough.
_PROBLEM_OFFERED = 0.1

_RESTART_WORDS = re.compile(
    r"\b(?:recommenc\w*|reprendre|depuis le debut|de zero|start (?:over|again)|"
    r"restart|from scratch)\b"
)


def _words_set_aside(text: str, kept: ParseResult) -> str:
    """The words of a sentence that its reading without what it sets aside lacks."""
    return " ".join(set(words(fold(text))) - set(words(fold(kept.text))))


def _no_fields(parse: ParseResult) -> ParseResult:
    """The parse without the fields the model read in the whole message (to read a part
    of it on its own words)."""
    return dataclasses.replace(
        parse,
        intent=None,
        sector=None,
        category=None,
        operator=None,
        operator_text=None,
        user_type=None,
        technology=None,
        location=None,
        operators=(),
    )


def _confirms(said: Utterance) -> bool:
    """Whether a message at the summary says "yes, send it" (and corrects nothing)."""
    if said.parse.intent in ("deny", "cancel") or _NOT_SENDING.search(said.folded):
        return False
    return (
        said.parse.intent == "affirm"
        or bool(_CONFIRM_START.match(said.folded))
        or bool(_SEND_WORDS.search(said.folded))
    )


def _rating_in(folded: str) -> str | None:
    return first_reading(_RATINGS, folded)


_POSTCODES = re.compile(r"(?<!\d)\d{5}(?!\d)")
_REFERENCE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
SMALL_TALK = {
    "greet": "welcome",
    "thank": "thanks",
    "goodbye": "goodbye",
    "chitchat": "chitchat",
    "out_of_scope": "out_of_scope",
    "consumer_dispute": "consumer_dispute",
}


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
    alert: dict[str, Any] | None = None
    alert_update: dict[str, Any] | None = None
    # The event as it may be stored: typed personal data already masked.
    event: Event | None = None
    # The person dropped their draft (« Abandonner »): its photos, and its transcript,
    # are to be erased, as the question promised. None when nothing was dropped.
    dropped: list[dict[str, Any]] | None = None
    # The person asked to be forgotten: erase their conversation, photos and the free
    # text of their alerts (counts stay).
    forget: bool = False

    @property
    def expecting(self) -> str | None:
        return self.state.expecting


@dataclass
class _Work:
    state: DialogueState
    replies: list[Reply] = field(default_factory=list)
    parse: ParseResult | None = None
    alert: dict[str, Any] | None = None
    alert_update: dict[str, Any] | None = None
    dropped: list[dict[str, Any]] | None = None
    forget: bool = False

    @property
    def lang(self) -> str:
        return self.state.language

    def say(self, key: str, choices: tuple[Choice, ...] = (), **values: Any) -> None:
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
        retention: tuple[int, int] = (90, 365),
    ):
        # (transcript days, free-text days): what the privacy notice tells.
        self.retention = retention
        self.faq = faq or Faq.load()
        self.places = places or Places.load()
        names = {n for op in taxonomy.operators.values() for n in (op.name, *op.brands)}
        self._brands = re.compile(
            r"(?<!\w)(?:"
            + "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
            + r")(?!\w)",
            re.IGNORECASE,
        )
        self.nlu = nlu
        self.advice = advice
        self.taxonomy = taxonomy
        self.slots = Slots(taxonomy)
        self.public_url = public_url
        self.make_reference = make_reference

    async def preparse(self, event: Event) -> None:
        """Parses a typed message ahead of its turn, before the conversation is locked
        for writing (the lock is then held for less time). The turn uses the result if
        it parses that same text, as often as the turn runs (a turn run again after a
        conflict with another worker, see dialogues.service, does not parse again); a
        failure here is met again, and told, in the turn."""
        parsed: dict[str, ParseResult] = {}
        _PREPARSED.set(parsed)  # not what an earlier turn of this task parsed
        if not isinstance(event, TextEvent) or command_from_text(event.text):
            return
        # Masked as the turn masks it: the parser sees nothing personal here either (the
        # conversation's language is not known yet; an English one parses again).
        text = privacy.mask(event.text)[0].strip()[:MAX_DESCRIPTION]
        if text:
            try:
                parsed[text] = await self.nlu.parse(text)
            except NluUnavailable:
                pass

    async def _parse(self, text: str) -> ParseResult:
        parsed = _PREPARSED.get()
        if parsed is None:  # a turn run without preparse (bench/turn_cpu.py)
            return await self.nlu.parse(text)
        found = parsed.get(text)
        if found is None:
            found = parsed[text] = await self.nlu.parse(text)
        return found

    async def handle(self, state: DialogueState, event: Event, language: str | None = None) -> Turn:
        """Runs one turn; `state` is not modified (the new one is in the result).

        `language` is the channel's hint (the widget's data-lang, Telegram's app
        language): it sets the language of a new conversation; the words typed decide
        after that.
        """
        work = _Work(copy.deepcopy(state))
        asked = (state.phase, state.expecting)
        if language in ("fr", "en") and state == DialogueState():
            work.state.language = language
        offered, work.state.offered = work.state.offered, []
        if isinstance(event, TextEvent):
            # Nothing personal goes further than this line: not the parser (local, it
            # stores nothing, yet it sees masked text only; `preparse` masks the same
            # way), not the transcript, not the alert (tests/test_parser_sees_masked_text).
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
        if (work.state.phase, work.state.expecting) != asked:
            work.state.unread = 0  # another question: its own count
        return Turn(
            work.replies,
            work.state,
            work.parse,
            work.alert,
            work.alert_update,
            event,
            work.dropped,
            work.forget,
        )

    # -- text -----------------------------------------------------------------------
    async def _on_text(self, work: _Work, raw_text: str, offered: list[list[str]]) -> None:
        command = command_from_text(raw_text)
        if command:
            self._on_command(work, command.name)
            return
        text = raw_text.strip()
        if not text:
            self._again(work, None, msg("empty", work.lang))
            return
        if len(text) > MAX_DESCRIPTION:
            work.say("too_long", limit=MAX_DESCRIPTION)
            text = text[:MAX_DESCRIPTION]
        repeated = (
            work.state.phase is Phase.RATING
            and work.state.confirmed_with is not None
            and fold(text).strip(" .!") == work.state.confirmed_with
        )
        typed = None if repeated else _typed_choice(text, offered)
        if typed:
            self._on_choice(work, typed)
            return
        try:
            p = await self._parse(text)
        except NluUnavailable:
            # Nothing is lost: the draft stays as it was, and the person sends again.
            work.say("nlu_unavailable")
            self._reask(work)
            return
        draft = work.state.draft if work.state.phase is Phase.CONFIRMING else None
        place = self._place(
            p,
            text,
            # (« c'est un robot ou un vrai gars ki répond ? » names no commune Gars)
            answering=work.state.expecting == "location"
            and not ("?" in text and p.intent in ("chitchat", "help", "out_of_scope")),
            current=draft.location if draft is not None else None,
        )
        if place != p.location:
            p = dataclasses.replace(p, location=place)
        work.parse = p
        self._follow_language(work, text)
        phase = work.state.phase
        if phase is Phase.CANCELLING:
            self._on_cancel_answer(work, p.intent)
            return
        # The catalogue's patterns are questions about the service; a long report that
        # names an operator and ends with "?" is still a report.
        long_report = p.is_report and p.operator and len(words(fold(text))) > 12
        answer = None if long_report else self.faq.answer(text)
        if answer:
            # A question mid-way is answered, and the report stays where it was.
            work.ask(answer.text(work.lang))
            self._reask(work)
        elif p.intent == "cancel" and not self._answers_question(work, p, text):
            self._ask_cancel(work)
        elif (
            p.intent == "restart"
            and not self._answers_question(work, p, text)
            and (
                work.state.draft is None
                or len(words(fold(text))) <= 4
                or _RESTART_WORDS.search(fold(text))
            )
        ):
            # « On recommence » drops a report: only a short command does that, never an
            # answer the model mistook for one.
            self._restart(work)
        elif p.intent == "help" and not self._answers_question(work, p, text):
            work.say("help")
            self._reask(work)
        elif phase in (Phase.IDLE, Phase.RATING):
            self._on_idle_text(work, p, text)
        elif phase is Phase.CONFIRMING:
            self._on_summary_text(work, p, text, await self._parse_kept(text), offered)
        else:
            self._on_collect_text(work, p, text, offered)

    async def _parse_kept(self, text: str) -> ParseResult | None:
        """« ce n'est plus lent, c'est carrément coupé »: the parse of what a sentence says
        once what it sets aside is taken out; None when it sets nothing aside."""
        folded = fold(text)
        kept = _without_set_aside(folded)
        if kept == folded or not words(kept):
            return None
        try:
            return await self._parse(kept)
        except NluUnavailable:
            return None

    def _place(
        self, p: ParseResult, text: str, answering: bool, current: str | None = None
    ) -> str | None:
        """The place a message gives, as « Commune (postcode) » when the communes know
        it: "st flour 15", "Saint-Flour (15100)" and "15100 Saint-Flour" are one place.
        `current`: the place already noted; a correction names another one."""
        # Operators' names are no places, even when a town bears one (Orange): only a
        # postcode or a département next to it makes it the town.
        cleaned = self._brands.sub(" ", text.replace(p.operator_text or "\0", " "))
        # « ma fille gère le forfait depuis Paris »: where someone is, not the place.
        cleaned = _FROM_PLACE.sub(" ", cleaned)
        # « j'ai mis Colomiers parce que j'y ai habité, mais j'habite à Blagnac »: the
        # place given before, now explained away.
        cleaned = _GIVEN_BEFORE.sub(" ", cleaned)
        name = current.split(" (")[0] if current else ""
        if current and fold(name) in fold(text) and name not in text:
            # « c'est pas strasbourg c'est schiltigheim »: about the place, in lower case
            # (one who writes « c'est bien à Chaville » writes communes with a capital).
            answering = True
        found = [
            label
            for _, label in self.places.read_all(cleaned, answer=answering)
            if label != current
        ]
        if found:
            # « c'est toujours Marseille » at « Marseille (13005) »: the same commune.
            return current if name and found[0].split(" (")[0] == name else found[0]
        if p.location and not re.search(
            rf"\b(?:depuis|from)\s+{re.escape(p.location)}", text, re.IGNORECASE
        ):
            # The model's place ("a plouha" in a sentence), with the postcodes around it.
            pinned = " ".join([p.location, *_POSTCODES.findall(text)])
            named = self.places.read(pinned, answer=True)
            if named and not named.isdigit() and named != current:
                return named
        # The communes were all read above: only a bare postcode is left to look at.
        found_code = self.places.read_postcode(cleaned)
        if found_code and found_code != current and (answering or p.location):
            return found_code
        if (
            not p.location
            or fold(p.location) in COUNTRIES  # « vivo in Francia da 40 anni »
            or (current and fold(p.location) in fold(current))
            or re.search(rf"\b(?:depuis|from)\s+{re.escape(p.location)}", text, re.IGNORECASE)
        ):
            return None
        return p.location[:120]

    def _answers_question(self, work: _Work, p: ParseResult, text: str) -> bool:
        """Whether the text answers the question asked (« nn j'ai contacté personne » may
        read as a call for help to the model)."""
        if work.state.phase is Phase.CONFIRMING and work.state.draft is not None:
            # « Parfait, vous pouvez valider », or a correction
            return _confirms(Utterance(p, text)) or self._corrects_summary(
                work.state.draft, Utterance(p, text)
            )
        slot = self.slots.get(work.state.expecting)
        if work.state.phase is not Phase.COLLECTING or slot is None or work.state.draft is None:
            return False
        return slot.answer(copy.deepcopy(work.state.draft), Utterance(p, text))

    def _follow_language(self, work: _Work, text: str) -> None:
        evidence = language_evidence(text)
        if evidence and evidence != work.state.language:
            first_contact = work.state.phase is Phase.IDLE and work.state.draft is None
            if first_contact or len(words(fold(text))) >= 3:
                work.state.language = evidence

    def _on_idle_text(self, work: _Work, p: ParseResult, text: str) -> None:
        if work.state.phase is Phase.RATING and self._on_rating_text(work, p, text):
            return
        gives_fields = p.intent == "inform" and (p.operator or p.operator_text or p.sector)
        if p.is_report or gives_fields:
            draft = Draft()
            self._absorb(draft, Utterance(p, text), override=True)
            # "colis Chronopost écrasé à Nantes" may read as a mere answer to the model:
            # a sentence is still the person's description, and its likely categories
            # are offered rather than guessed.
            if p.is_report or len(words(fold(text))) >= 4:
                draft.add_description(text)
            if draft.category is None and not draft.category_guesses:
                draft.category_guesses = p.category_choices()
            self._start(work, draft)
            return
        work.state.phase, work.state.expecting = Phase.IDLE, None
        if p.intent == "greet":
            self._ask_what(work, "welcome")
        elif p.intent in SMALL_TALK:
            work.say(SMALL_TALK[p.intent])
            if p.intent in ("chitchat", "out_of_scope", "consumer_dispute"):
                self._ask_what(work)
        else:
            work.say("not_understood")
            self._ask_what(work)

    def _on_rating_text(self, work: _Work, p: ParseResult, text: str) -> bool:
        """Reads a rating from words; True when the text was about the advice."""
        folded = fold(text).strip(" .!")
        if work.state.confirmed_with and folded == work.state.confirmed_with:
            # The "oui" that sent the alert, sent twice: not an opinion on the advice.
            work.state.confirmed_with = None
            work.say("already_saved", ref=work.state.last_alert_id)
            self._ask_rating(work)
            return True
        rating = _rating_in(folded)
        if rating is None and p.intent in ("affirm", "deny"):
            rating = "useful" if p.intent == "affirm" else "not_useful"
        # A new problem starts a new report; an opinion on the advice does not.
        describes_problem = p.is_report and bool(p.category or p.operator)
        if rating and not (describes_problem and len(words(folded)) > 6):
            self._rate(work, rating)
            return True
        return False

    def _ask_what(self, work: _Work, key: str = "describe") -> None:
        """Invites a description, with the three sectors as a shortcut."""
        choices = tuple(
            Choice(label("sector", s, work.lang), f"sector:{s}") for s in self.taxonomy.sectors
        )
        work.say(key, choices)

    def _on_collect_text(
        self, work: _Work, p: ParseResult, text: str, offered: list[list[str]]
    ) -> None:
        draft = work.state.draft
        assert draft is not None
        slot = self.slots.get(work.state.expecting)
        m = Utterance(p, text)
        if (
            slot is not None
            and not self._gives_value(slot, draft, m)
            and all(self.slots[k].same(draft, v) for k, v in self._facts_given(m).items())
        ):
            # « An outage, no connection at all. » for "Outage, service down": the words
            # of a button offered, when the answer gives no value of its own.
            named = _named_choice(
                text,
                [o for o in offered if o[1].startswith(f"{slot.name}:")],
                first_wins=slot.name == "category" and bool(draft.category_guesses),
            )
            if named:
                self._on_choice(work, named)
                return
        before = copy.deepcopy(draft)
        describing = slot is not None and slot.name == "description"
        if describing and work.state.correcting:
            draft.description = ""  # "Modifier → Description" replaces it
        # « non j'ai pas pu, … »: a leading « non » whose clause answers the question (read
        # once, for the answer and for the corrections).
        lead = _CORRECTION_LEAD.match(text)
        lead_answers = bool(
            slot is not None
            and not describing
            and lead
            and self._clause_answers(slot, before, m, lead.end())
        )
        answered = slot is not None and slot.answer(
            draft, self._answer_part(slot, before, m, lead_answers)
        )
        if describing and not answered:
            draft.description = before.description
        self._absorb(draft, m, override=False)
        self._take_corrections(
            work, draft, before, m, slot.name if answered and slot else None, lead_answers
        )
        if p.is_report and not describing:
            draft.add_description(text)
        # (the model's guesses at the problem may move with any message)
        only_described = (
            dataclasses.replace(
                before, description=draft.description, category_guesses=draft.category_guesses
            )
            == draft
        )
        if answered:
            work.state.unread = 0
        if not answered and only_described and self.faq.is_question(text):
            # A question the catalogue does not know: said so, and the report goes on.
            self._again(work, m, msg("question_unknown", work.lang), *self._hint(work, slot))
            return
        if answered or draft != before:
            if slot is not None and slot.name == "photo" and answered:
                self._summary(work)
            else:
                # The message said something else: if the question comes back, it
                # says what is still expected.
                self._next(work, unanswered=not answered and slot is not None)
            return
        if p.intent in SMALL_TALK and p.intent != "greet":
            self._again(work, m, msg(SMALL_TALK[p.intent], work.lang), *self._hint(work, slot))
        elif slot is not None:
            # Never the bare question again: say what kind of answer is expected.
            self._again(work, m, *self._hint(work, slot))
        else:
            work.say("not_understood")
            self._reask(work)

    def _gives_value(self, slot: Slot, draft: Draft, said: Utterance) -> bool:
        """Whether the message gives the slot a value (« non » to a category guess only
        drops the guess)."""
        probe = copy.deepcopy(draft)
        return slot.answer(probe, said) and not slot.empty(probe)

    @staticmethod
    def _hint(work: _Work, slot: Slot | None) -> tuple[str, ...]:
        return (msg(f"hint_{slot.name}", work.lang),) if slot is not None else ()

    def _again(self, work: _Work, m: Utterance | None, *said: str) -> None:
        """The question asked comes back after a message that did not answer it: the
        second time in a row with `said` (what it expects) and buttons for the likely
        answers; after a second such message the bot takes what it has (the value
        already there, the text as typed, or « je ne sais pas ») and goes on, so no
        question is asked three times in a row. `m`: None when the message said nothing
        to take as typed."""
        state, d = work.state, work.state.draft
        slot = self.slots.get(state.expecting)
        if state.phase is not Phase.COLLECTING or d is None or slot is None:
            for text in said:
                work.ask(text)
            if state.phase is Phase.CANCELLING:
                self._on_cancel_answer(work, None)  # counted there too
            else:
                self._reask(work)
            return
        state.unread += 1
        if state.unread >= 2:
            if slot.empty(d) or slot.problem(d):  # a correction asked keeps what fits
                slot.give_up(d, m or Utterance(empty_result(""), ""))
            state.unread = 0
            work.say("moving_on")
            self._next(work)
            return
        for text in said:
            work.ask(text)
        self._put(work, slot.question_again(d, work.lang))

    def _on_summary_text(
        self,
        work: _Work,
        p: ParseResult,
        text: str,
        kept: ParseResult | None = None,
        offered: list[list[str]] | None = None,
    ) -> None:
        draft = work.state.draft
        assert draft is not None
        m = Utterance(p, text)
        # The values of a field offered last (« Que dois-je noter à la place ? »).
        pending = [o for o in offered or [] if not o[1].startswith(("confirm:", "action:", "fix:"))]
        # « pas une lettre mais plutôt un colis »: the problem the rest of the sentence gives
        # (or, if the model is unsure of it, the ones it may be).
        problem, problems = self._problems_instead(draft, p, kept)
        named = self.slots.named_in(text)
        given = self._facts_given(m)
        # An answer written out (« pour le service client il faut mettre non », « on n'a
        # jamais appelé le service client ») says more than the words it contains.
        late_answers = self._late_answers(draft, m)
        given.update(late_answers)
        if given.get("category") == "customer_service" and (
            CONTACTED_SAID.search(m.folded)
            or (
                "contacted_customer_service" in late_answers
                and not _SERVICE_IS_THE_PROBLEM.search(m.folded)
            )
        ):
            # « j'ai envoyé un mail au service client, resté sans réponse ; donc oui
            # contacté », « ah si, j'ai fait le chat mardi, ils ne peuvent rien faire »:
            # the answer to a question, not a new problem.
            del given["category"]
            problem, problems = None, []
        category = self.taxonomy.categories.get(str(given.get("category")))
        if (
            category
            and "sector" not in given
            and draft.sector
            and draft.sector not in category.sectors
        ):
            # « je suis allée au bureau de poste pour réclamer » read as a mobile problem:
            # another area's problem, with no word of that area, is a misreading.
            del given["category"]
        if named and named not in given and self.slots[named].reads_corrections:
            # « mettez professionnel : c'est la ligne du GAEC »: the named field's own
            # reader, as if its question had been asked.
            probe = copy.deepcopy(draft)
            if self.slots[named].read(probe, m):
                given[named] = self.slots[named].value(probe)
        given.update(self._other_values(draft, m, given))
        operator = given.get("operator")
        operator_text = fold(operator[1] or "") if isinstance(operator, (tuple, list)) else ""
        if operator_text and fold(str(given.get("location", ""))) == operator_text:
            del given["location"]  # « je suis chez Vialis maintenant »: an operator
        if problem:
            given["category"] = problem
        if _confirms(m) and not _CORRECTING.search(m.folded) and not _BUT.search(m.folded):
            # « Oui c'est bon, vous pouvez envoyer. Bonne journée », « Sim, ok, envoyez »: a
            # yes reads no place from its greeting, no area from a word; a place is changed
            # only when it is said as one (« oui, à Lyon »).
            given.pop("sector", None)
            place = str(given.get("location") or "").split(" (")[0]
            if place and not re.search(
                r"\b(?:a|au|aux|en|in|at|sur|vers|pres de|c.est)\s+"
                + re.escape(fold(place).split("-")[0]),
                m.folded,
            ):
                del given["location"]
        implied = self.taxonomy.categories.get(str(given.get("category")))
        technology = implied.implies.get("technology") if implied else None
        if (
            technology
            and given.get("technology") not in (None, technology)
            and not self.slots["technology"].same(draft, given["technology"])
        ):
            # « on n'est pas en fibre, c'est du VDSL, l'immeuble n'est pas raccordé »: no
            # fibre connection for a VDSL line; the technology is what it changes. (« ils
            # ont coupé l'ADSL pour passer à la fibre » names the line the draft has.)
            del given["category"]
            problem, problems = None, []
        if (
            named == "contacted_customer_service"
            and named not in given
            and "category" not in given
            and _SERVICE_IS_THE_PROBLEM.search(m.folded)
            and self._fits(draft, "customer_service")
        ):
            given["category"] = "customer_service"
        if (
            named == "contacted_customer_service"
            and named not in given
            and given.get("category") == "customer_service"
        ):
            # « ce qui me reste en travers, c'est leur service client » names the problem,
            # not the question « avez-vous contacté le service client ? ».
            named = None
        if named and _SAME.search(m.folded) and not _CORRECTING.search(m.folded):
            named = None  # « …mais le problème est le même »: the field is named unchanged
        if (
            named
            and not any(
                n in given and not self.slots[n].same(draft, given[n])
                for n in self.slots.all_named_in(text)
            )
            and any(
                (k != "category" or problem) and not self.slots[k].same(draft, v)
                for k, v in given.items()
            )
        ):
            # « c'est la facture du forfait portable pro »: « pro » names no field to
            # change here; what the sentence states that differs does.
            named = None
        if self._sets_area_aside(draft, text, kept, given):
            # « Erreur moi. Pas portable. Problème box internet maison. »: the area set
            # aside, another given; that is the change (the problem stays what it was).
            changes = {"sector": given["sector"]}
        elif named:
            # "non, le lieu c'est Lyon": only the fields named change (« la médiathèque
            # est à la commune, c'est la mairie du Tampon qui signale »: place and who).
            changes = {n: given[n] for n in self.slots.all_named_in(text) if n in given}
        else:
            # "c'est SFR pas Orange", "à Lyon": the facts the message states, and its
            # problem only when it states nothing else.
            # « ma box RED à la maison, pas le forfait mobile » (the operator restated):
            # its sector, and its problem only when it states nothing else.
            # What is said in passing (« c'est la résiliation depuis mars ») changes only
            # when nothing else does.
            new = {k: v for k, v in given.items() if not self.slots[k].same(draft, v)}
            changes = {
                k: v
                for k, v in new.items()
                if k not in ("category", "sector") and not FIELD[k].incidental
            }
            if (
                problem
                and new.get("category") == problem
                and self._sets_problem_aside(draft, text, kept)
            ):
                # « c'est pas vraiment une panne, le technicien n'est jamais venu
                # raccorder la fibre »: the problem set aside is the change; what the new
                # problem's own words imply (the fibre) is no second correction.
                implied_by = self.taxonomy.categories[problem].implies
                changes = {
                    k: v
                    for k, v in changes.items()
                    if implied_by.get(k) != v or v in self.slots[k].mentioned(m)
                }
                changes["category"] = problem
            for fallback in ("sector", "category"):
                if (
                    not changes
                    and not late_answers
                    and fallback in new
                    and (fallback != "sector" or self._sector_fits(draft, new["sector"]))
                ):
                    changes = {fallback: new[fallback]}
            if not changes and not late_answers:
                changes = {k: v for k, v in new.items() if FIELD[k].incidental}
            if (
                set(changes) == {"category"}
                and not _CORRECTING.search(m.folded)
                and not problem
                and p.intent != "deny"
                and not _confirms(m)
            ):
                # « une précision : il ne reste que 160 €, mais le problème est le même »:
                # more about the same problem, said without a word of correction, is kept
                # in the description; a problem is changed when the person says so.
                draft.add_description(text)
                work.say("noted")
                self._summary(work)
                return
        # « oui deux fois, sans réponse »: a late answer to a question, not a "yes, send".
        for name, late in late_answers.items():
            changes.setdefault(name, late)
        # « Oui c'est bien SFR, envoyez » restates what the summary says.
        changes = {k: v for k, v in changes.items() if not self.slots[k].same(draft, v)}
        doubts = (
            [] if changes or _confirms(m) else self._values_in_doubt(draft, m, given, work.lang)
        )
        if doubts:
            work.say("which_value", tuple(doubts))  # « la fibre ou le VDSL, je sais plus »
            return
        if (
            not changes
            and problems
            and not _confirms(m)
            and not (named and named != "category" and named in given)
        ):
            # (« non en fait mettez particulier » restates who writes: no problem offered)
            # "it isn't weak signal any longer, no service at all": the problems it may
            # mean, one tap each (never a guess).
            work.say(
                "which_value",
                (
                    *(Choice(label("category", c, work.lang), f"category:{c}") for c in problems),
                    Choice(button("other_category", work.lang), "category:?"),
                ),
            )
            return
        if not changes and pending and _confirms(m) and not named:
            # "Yes ok send" to « Que dois-je noter à la place ? »: the change asked for is
            # not made silently, nor the alert sent without it: the choice, explained.
            work.say(
                "which_value_again",
                (
                    *(Choice(label_text, value) for label_text, value in pending),
                    Choice(button("keep", work.lang), "confirm:send"),
                ),
            )
            return
        # « et oui donc ils ont été contactés » restates an answer: no "send" without the word.
        restated = any(
            (late := slot.late_answer(m)) is not None and slot.same(draft, late)
            for slot in self.slots
        )
        # « oui mais le lieu est faux » names a field without its new value: no "yes".
        if (
            not changes
            and not (named and named not in given)
            and _confirms(m)
            and not (
                restated and not _SEND_WORDS.search(m.folded) and not _ALL_GOOD.search(m.folded)
            )
        ):
            work.state.confirmed_with = fold(text).strip(" .!")
            self._save(work)
            return
        if changes:
            self._apply_changes(work, draft, changes)
            return
        if named and named in given:
            work.say("nothing_changed")  # « c'est pour mon entreprise » when it already says so
            self._summary(work)
            return
        if named:
            work.state.correcting = True
            self._ask(work, named)
            return
        if restated or self._says_what_is_noted(draft, m, given):
            # « ah si pardon, mon mari a fait le chat mardi », « c'est pas la fibre, c'est
            # toujours l'ADSL », « c'est une lettre recommandée, pas un colis » when the
            # summary already says so
            work.say("nothing_changed")
            self._summary(work)
            return
        if p.intent == "deny" or kept is not None or _CORRECTING.search(m.folded):
            # « non pas un colis, c'est une lettre » when nothing in it could be read: a
            # correction all the same, so the fields to correct, one tap each.
            self._ask_fix(work)
            return
        work.say("not_understood")
        self._summary(work)

    def _says_what_is_noted(self, draft: Draft, said: Utterance, given: dict[str, object]) -> bool:
        """Whether a sentence at the summary names, for some field, the value noted
        (and, since nothing changed, no other): a restatement, not a correction. Only
        what the sentence keeps counts (« ce n'est pas SFR » names SFR to set it aside)."""
        kept = Utterance(_no_fields(said.parse), _without_set_aside(said.folded))
        if draft.category in every_reading(_POSTAL_THINGS, kept.folded):
            return True
        return any(
            slot.same(draft, value)
            for slot in self.slots
            if slot.fixable and not slot.empty(draft)
            for value in slot.mentioned(kept)
        )

    def _sets_area_aside(
        self, draft: Draft, text: str, kept: ParseResult | None, given: dict[str, object]
    ) -> bool:
        """Whether a sentence sets the area noted aside (« pas portable ») and gives
        another one that the operator serves."""
        if kept is None or draft.sector is None or given.get("sector") in (None, draft.sector):
            return False
        aside = _words_set_aside(text, kept)
        area = self.slots["sector"]
        return area.mentioned(Utterance(kept, aside)) == [draft.sector] and self._sector_fits(
            draft, given["sector"]
        )

    def _fits(self, draft: Draft, category: str) -> bool:
        """Whether a problem fits the area noted."""
        return draft.sector is None or draft.sector in self.taxonomy.categories[category].sectors

    def _sector_fits(self, draft: Draft, sector: object) -> bool:
        """Whether a sector read in a sentence at the summary fits the operator noted
        (« j'ai retrouvé le courrier » of SFR's is no postal problem)."""
        operator = self.taxonomy.operators.get(draft.operator or "")
        return operator is None or sector in operator.sectors

    @staticmethod
    def _sets_problem_aside(draft: Draft, text: str, kept: ParseResult | None) -> bool:
        """The sentence says the problem noted is not the problem: « c'est pas vraiment
        une panne » for « Panne, service coupé ». Not another field set aside (« c'est
        plus SFR »), a comparison (« encore plus lent »), nor the problem restated in its
        own negative words (« toujours pas de réseau » for « Pas de réseau mobile »)."""
        if kept is None or draft.category is None:
            return False
        denied = [m.group(1) for m in _PROBLEM_DENIED.finditer(fold(text)) if len(m.group(1)) >= 4]
        return any(
            _same_word(w, telling)
            for lang in ("fr", "en")
            for telling, negated in _content(label("category", draft.category, lang))
            if not negated
            for w in denied
        )

    def _problems_instead(
        self, draft: Draft, p: ParseResult, kept: ParseResult | None
    ) -> tuple[str | None, list[str]]:
        """The problem a sentence at the summary puts instead of the one it sets aside
        (`kept`: the parse without it), of the draft's sector: the model's when it is sure,
        else (None and) the two likeliest; nothing when the sentence sets nothing aside."""
        if kept is None or draft.category is None:
            return None, []
        # « ce n'est pas à titre personnel »: what is set aside is who writes, not the problem.
        aside = _words_set_aside(p.text, kept)
        if self.slots["user_type"].mentioned(Utterance(kept, aside)):
            return None, []

        def fits(category: str) -> bool:
            return category not in (draft.category, "other") and (
                draft.sector is None or draft.sector in self.taxonomy.categories[category].sectors
            )

        reports = [parse for parse in (kept, p) if parse.is_report]
        for parse in reports:
            if parse.category and fits(parse.category):
                return parse.category, []
        # « c'est pas un colis, c'est une lettre recommandée »: the thing sent, named.
        if draft.sector == "postal":
            things = [c for c in every_reading(_POSTAL_THINGS, fold(kept.text)) if fits(c)]
            if len(things) == 1:
                return things[0], []
        if not reports:
            return None, []
        likely = [
            c
            for c, score in reports[0].category_candidates
            if fits(c) and score >= _PROBLEM_OFFERED
        ][:2]
        # « pas une lettre mais plutôt un colis », the model torn between the two: what is
        # left once the letter is set aside names one of them in the words of its button.
        named = _named_choice(
            kept.text, [(label("category", c, lang), c) for c in likely for lang in ("fr", "en")]
        )
        return (named, []) if named else (None, likely)

    def _late_answers(self, draft: Draft, said: Utterance) -> dict[str, object]:
        """The answers to the questions, typed at the summary, that change the draft."""
        late = {slot.name: slot.late_answer(said) for slot in self.slots}
        return {
            name: value
            for name, value in late.items()
            if value is not None and not self.slots[name].same(draft, value)
        }

    def _corrects_summary(self, draft: Draft, said: Utterance) -> bool:
        """Whether a sentence at the summary changes a field (« mon mari les a appelés
        hier, donc si » is no call for help, whatever the model reads)."""
        given = {**self._facts_given(said), **self._late_answers(draft, said)}
        mentions = self._new_mentions(draft, said, given)  # one new value, or a choice of them
        return bool(mentions) or any(
            not self.slots[name].same(draft, value) for name, value in given.items()
        )

    def _other_values(
        self, draft: Draft, said: Utterance, given: dict[str, object]
    ) -> dict[str, object]:
        """« j'ai quitté Orange, je suis chez Free », « ce n'est plus le satellite, c'est la
        fibre », "it's Lebara not Lyca": a sentence at the summary that names the value
        noted and another one, or one other value only, changes the field to the other
        one, whichever the model or a first reading saw (never « déjà noté » then)."""
        return {
            name: new[0]
            for name, new in self._new_mentions(draft, said, given).items()
            if len(new) == 1
        }

    def _values_in_doubt(
        self, draft: Draft, said: Utterance, given: dict[str, object], lang: str
    ) -> list[Choice]:
        """« c'est plus l'ADSL, c'est la fibre ou le VDSL je sais plus »: the values of the
        first field a sentence names several new ones of, as buttons (never a guess)."""
        for name, new in self._new_mentions(draft, said, given).items():
            choices = [
                c for c in (self.slots[name].button_for(v, lang) for v in new[:3]) if c is not None
            ]
            if len(new) > 1 and len(choices) == len(new[:3]):
                return choices
        return []

    def _new_mentions(
        self, draft: Draft, said: Utterance, given: dict[str, object]
    ) -> dict[str, list[Any]]:
        """The values other than the one noted that a sentence names, field by field (the
        fields the model or a first reading already changed left out)."""
        others: dict[str, list[Any]] = {}
        # What the sentence sets aside (« pas une entreprise », « c'est plus Orange »)
        # may be the old value, never the new one.
        kept = Utterance(said.parse, _without_set_aside(fold(said.text)))
        for slot in self.slots:
            if (
                not slot.fixable
                or slot.empty(draft)
                or (slot.name in given and not slot.same(draft, given[slot.name]))
            ):
                continue
            new = []
            for value in slot.mentioned(kept):
                if not slot.same(draft, value) and value not in new:
                    new.append(value)
            if new:
                others[slot.name] = new
        return others

    def _answer_part(
        self, slot: Slot, before: Draft, said: Utterance, lead_answers: bool
    ) -> Utterance:
        """« non c'est SFR pas Orange » at « avez-vous contacté le service client ? »: the
        « non » introduces the correction, it does not answer the question. What answers
        it is what follows (nothing here, so the question comes back with a hint); in
        « non jamais, et c'est SFR », « Non. C'est SFR » or « non j'ai pas pu, le portable
        capte mal » (its first words answer too) the « non » answers."""
        lead = _CORRECTION_LEAD.match(said.text)
        if (
            lead is None
            or slot.name == "description"
            or lead_answers
            or not any(
                name not in (slot.name, "category")
                and not self.slots[name].empty(before)
                and not self.slots[name].same(before, value)
                for name, value in self._said_outright(before, said).items()
            )
        ):
            return said
        return Utterance(dataclasses.replace(said.parse, intent=None), said.text[lead.end() :])

    def _clause_answers(self, slot: Slot, before: Draft, said: Utterance, start: int) -> bool:
        """Whether the clause after a leading « non » answers the question by itself
        (« non j'ai pas pu, … »): then the « non » belongs to that answer."""
        clause = re.split(r"[,.;:!?]", said.text[start:], maxsplit=1)[0]
        if not clause.strip():
            return False
        probe = copy.deepcopy(before)
        part = Utterance(_no_fields(said.parse), clause)
        return slot.answer(probe, part) and not slot.empty(probe)

    def _take_corrections(
        self,
        work: _Work,
        draft: Draft,
        before: Draft,
        said: Utterance,
        answered: str | None,
        lead_answers: bool,
    ) -> None:
        """« non pardon, c'est à Perros-Guirec » while another question is open: a
        message that says it corrects, and states a field already noted otherwise,
        replaces it (and says so) instead of being ignored. A « non » that answered the
        question is no word of correction."""
        lead = _CORRECTION_LEAD.match(said.text)
        if answered and lead and lead_answers:
            # « non jamais, et c'est SFR »: the « non » answered; what follows corrects when
            # it says so or states a value (« c'est SFR »), not when it only describes
            # (« non j'ai pas pu, le portable capte mal »).
            said_after = fold(said.text[lead.end() :])
            if not (_CORRECTING.search(said_after) or _STATES_A_VALUE.search(said_after)):
                return
        elif not _CORRECTING.search(said.folded):
            return
        lines = []
        for name, value in self._said_outright(before, said).items():
            old = self.slots[name]
            if name in (answered, "category") or old.empty(before) or old.same(before, value):
                continue
            self.slots[name].set(draft, value)
            self._settle(draft)
            shown_before = dict(self._summary_fields(before, work.lang)).get(name, "—")
            shown_after = dict(self._summary_fields(draft, work.lang)).get(name, value)
            lines.append(
                f"{label('fields', name, work.lang)}{' :' if work.lang == 'fr' else ':'} "
                f"{shown_before} → {shown_after}"
            )
        if lines:
            work.ask("\n".join([msg("updated", work.lang), *lines]))

    def _said_outright(self, draft: Draft, said: Utterance) -> dict[str, object]:
        """The facts a message states that may replace a noted value while another
        question is open: not an operator only implied (« vu le courrier » implies no
        La Poste), nor an area the noted operator does not serve unless an operator of
        it is named."""
        given = self._facts_given(said)
        operator = given.get("operator")
        if isinstance(operator, (tuple, list)) and not operator[1]:
            del given["operator"]
        if (
            "sector" in given
            and "operator" not in given
            and not self._sector_fits(draft, given["sector"])
        ):
            del given["sector"]
        return given

    def _facts_given(self, said: Utterance) -> dict[str, object]:
        """The fields a message states outright (the model's category only if sure)."""
        given: dict[str, object] = {}
        for slot in self.slots:
            if slot.fixable:
                value = slot.stated(said)
                if value is not None:
                    given[slot.name] = value
        return given

    def _apply_changes(self, work: _Work, draft: Draft, changes: dict[str, object]) -> None:
        """Changes only these fields, says what changed, re-asks what they made invalid."""
        lang = work.lang
        before = dict(self._summary_fields(draft, lang))
        old_category = draft.category
        probe = copy.deepcopy(draft)
        for name, value in changes.items():
            self.slots[name].set(probe, value)
        self._settle(probe)
        kept = {n: v for n, v in changes.items() if self.slots[n].same(probe, v)}
        if kept:
            # « dsl c pa sosh, g changé pr RED »: a value the others make impossible (a
            # DSL line on a mobile) is a misreading; the rest changes, it does not.
            changes = kept
        for name, value in changes.items():
            self.slots[name].set(draft, value)
        self._settle(draft)
        if not self._say_changed(work, before, draft):
            work.say("nothing_changed")
        # « c'est surtout le facteur qui ne passe plus » (was customer service): a problem
        # whose place was never asked asks it before the summary (the place counts; the
        # technology can wait for the summary's « Corriger »).
        work.state.correcting = not (
            "location" in self._questions_of(draft.category)
            and "location" not in self._questions_of(old_category)
            and self.slots["location"].needed(draft)
        )
        self._next(work)

    def _say_changed(self, work: _Work, before: dict[str, str], draft: Draft) -> bool:
        """« C'est corrigé : Opérateur : SFR → Free », the fields shown that changed; False
        when none did."""
        lang = work.lang
        after = dict(self._summary_fields(draft, lang))
        lines = [
            f"{label('fields', name, lang)}{' :' if lang == 'fr' else ':'} "
            f"{before.get(name, '—')} → {value}"
            for name, value in after.items()
            if before.get(name) != value
        ]
        if lines:
            work.ask("\n".join([msg("updated", lang), *lines]))
        return bool(lines)

    def _questions_of(self, category: str | None) -> tuple[str, ...]:
        """The follow-up questions a problem asks (technology, place)."""
        found = self.taxonomy.categories.get(category or "")
        return found.asks if found else ()

    def _absorb(self, draft: Draft, said: Utterance, override: bool) -> None:
        """Takes every field the message gives (without overwriting, unless `override`)."""
        for slot in self.slots:
            slot.absorb(draft, said, override)
        if said.parse.previous_operator and (override or draft.previous_operator is None):
            draft.previous_operator = said.parse.previous_operator

    def _settle(self, draft: Draft) -> None:
        """Fills what follows from the rest: a single possible sector, fibre's technology."""
        for slot in self.slots:
            slot.settle(draft)

    # -- asking ------------------------------------------------------------------------
    def _missing(self, draft: Draft) -> tuple[str, str | None]:
        """The next question and, if the answers so far disagree, why it is asked."""
        if (
            draft.category is None
            and not draft.description
            and not draft.category_guesses
            and "description" not in draft.skipped
        ):
            return "description", None
        for name in Slots.ASKED:
            slot = self.slots[name]
            why = slot.problem(draft)
            if why or slot.needed(draft):
                return name, why
        return "confirmation", None

    def _area_in_doubt(self, draft: Draft) -> None:
        """Clears the sector, and the problem when it cannot be the operator's."""
        draft.sector = None
        operator = self.taxonomy.operators.get(draft.operator or "")
        category = self.taxonomy.categories.get(draft.category or "")
        if operator and category and not set(category.sectors) & set(operator.sectors):
            draft.category = None
            draft.category_guesses = []

    def _start(self, work: _Work, draft: Draft) -> None:
        work.state.draft = draft
        work.state.phase = Phase.COLLECTING
        work.state.correcting = False
        self._next(work)

    def _next(self, work: _Work, unanswered: bool = False) -> None:
        """Asks what is missing next, or shows the summary. `unanswered`: the message
        said something, but did not answer the question asked (`expecting`)."""
        draft = work.state.draft
        assert draft is not None
        self._settle(draft)
        asked = work.state.expecting
        slot, why = self._missing(draft)
        if (
            why in ("operator_mismatch", "category_mismatch")
            and slot == asked
            and draft.sector is not None
        ):
            # The person answered this very question and it still disagrees with the
            # area (« Orange » again for a parcel): the area is what was wrong. It is
            # asked now, instead of the same question forever.
            self._area_in_doubt(draft)
            self._settle(draft)
            slot, why = self._missing(draft)
        complete = draft.category is not None and draft.sector is not None
        if slot == "confirmation" or (
            work.state.correcting
            and why is None
            and complete
            and slot not in ("category", "sector", "operator")
        ):
            self._summary(work)
            return
        if unanswered and slot == asked and why is None:
            # The answer gave something else; the same question says what it still needs
            # (nothing in it to take as typed for this one).
            self._again(work, None, f"{msg('noted', work.lang)} {msg(f'hint_{slot}', work.lang)}")
            return
        self._ask(work, slot, why)

    def _ask(self, work: _Work, name: str, why: str | None = None) -> None:
        d = work.state.draft
        assert d is not None
        work.state.phase = Phase.COLLECTING
        work.state.expecting = name
        slot = self.slots[name]
        if why:
            work.say(why, **slot.problem_values(d, work.lang))
        self._put(work, slot.question(d, work.lang))

    def _put(self, work: _Work, question: Question) -> None:
        work.say(question.key, question.choices, **question.values)

    def _summary(self, work: _Work) -> None:
        d = work.state.draft
        assert d is not None
        lang = work.lang
        if d.user_type is None:
            d.user_type = "individual"  # shown in the summary, one tap to change
        work.state.phase = Phase.CONFIRMING
        work.state.expecting = "confirmation"
        work.state.correcting = False
        lines = [msg("summary_intro", lang)]
        for name, value in self._summary_fields(d, lang):
            lines.append(
                f"• {label('fields', name, lang)} : {value}"
                if lang == "fr"
                else f"• {label('fields', name, lang)}: {value}"
            )
        lines.append(msg("summary_question", lang))
        choices = [Choice(button("send", lang), "confirm:send")]
        if len(d.photos) < MAX_PHOTOS:
            choices.append(Choice(button("add_photo", lang), "action:photo"))
        choices += [
            Choice(button("fix", lang), "action:fix"),
            Choice(button("cancel", lang), "action:cancel"),
        ]
        work.ask("\n".join(lines), tuple(choices))

    def _summary_fields(self, draft: Draft, lang: str) -> list[tuple[str, str]]:
        rows: list[tuple[str, str]] = []
        for name in Slots.SHOWN:
            value = self.slots[name].shown(draft, lang)
            if value is not None:
                rows.append((FIELD[name].label_key, value))
            previous = self._previous_operator(draft) if name == "operator" else None
            if previous:
                rows.append(("previous_operator", self.taxonomy.operators[previous].name))
        return rows

    def _ask_fix(self, work: _Work) -> None:
        lang = work.lang
        work.state.phase = Phase.CONFIRMING
        work.state.expecting = "confirmation"
        work.say(
            "ask_fix",
            tuple(Choice(label("fields", f, lang), f"fix:{f}") for f in self.slots.fixable),
        )

    def _reask(self, work: _Work) -> None:
        """Asks the current question again (after help, a bad file, an unknown button…)."""
        state = work.state
        if state.phase is Phase.COLLECTING and state.draft is not None and state.expecting:
            self._ask(work, state.expecting)
        elif state.phase is Phase.CONFIRMING and state.draft is not None:
            self._summary(work)
        elif state.phase is Phase.CANCELLING:
            self._ask_cancel(work)
        elif state.phase is Phase.RATING:
            self._ask_rating(work)
        else:
            self._ask_what(work)

    # -- buttons -----------------------------------------------------------------------
    def _on_choice(self, work: _Work, value: str) -> None:
        kind, _, arg = (value or "").partition(":")
        state = work.state
        unread, state.unread = state.unread, 0
        d = state.draft
        if kind == "confirm" and arg == "send":
            if state.phase is Phase.CONFIRMING and d is not None:
                self._save(work)
            elif state.last_alert_id and d is None:
                work.say("already_saved", ref=state.last_alert_id)
            else:
                self._stale(work, unread)
        elif kind == "action" and d is not None and state.phase is Phase.CONFIRMING:
            if arg == "photo":
                self._ask(work, "photo")
            elif arg == "fix":
                self._ask_fix(work)
            elif arg == "cancel":
                self._ask_cancel(work)
            else:
                self._stale(work, unread)
        elif kind == "fix" and arg in self.slots.fixable and d is not None:
            state.correcting = True
            self._ask(work, arg)
        elif kind == "cancel" and state.phase is Phase.CANCELLING:
            self._on_cancel_answer(work, "affirm" if arg == "yes" else "deny")
        elif kind == "rating" and arg in ("useful", "not_useful") and state.last_alert_id:
            self._rate(work, arg)
        elif kind == "forget" and arg == "yes":
            work.forget = True
            work.dropped = list(d.photos) if d else []
            fresh = DialogueState(language=state.language)
            for name in (f.name for f in dataclasses.fields(DialogueState)):
                setattr(state, name, getattr(fresh, name))
            work.say("forgotten")
        elif kind == "forget":
            work.say("not_forgotten")
            self._reask(work)
        elif kind == "new":
            state.draft = None
            state.phase = Phase.IDLE
            state.expecting = None
            self._ask_what(work)
        elif kind == "sector" and arg in self.taxonomy.sectors and d is None:
            self._start(work, Draft(sector=arg))
        elif d is not None:
            shown = (
                dict(self._summary_fields(d, work.lang))
                if state.phase is Phase.CONFIRMING
                else None
            )
            outcome = self._choose_value(work, d, kind, arg)
            if outcome == "invalid":
                self._stale(work, unread)
            elif outcome == "set":
                if shown is not None:  # « Facturation » pressed at the summary: say so
                    self._settle(d)
                    self._say_changed(work, shown, d)
                self._after_value(work, d, kind)
        else:
            self._stale(work, unread)

    def _after_value(self, work: _Work, draft: Draft, kind: str) -> None:
        """Where to go once a button filled a field: the summary or the next question."""
        state = work.state
        if state.phase is Phase.CONFIRMING or state.correcting or kind == "photo":
            self._settle(draft)
            # The correction made answers disagree, or left the problem or its area to
            # ask: no summary without them.
            if (
                self._missing(draft)[1] is not None
                or draft.category is None
                or draft.sector is None
            ):
                self._next(work)
            else:
                self._summary(work)
        else:
            self._next(work)

    def _choose_value(self, work: _Work, draft: Draft, kind: str, arg: str) -> str:
        """Applies a field button: "set", "asked" (a follow-up question) or "invalid"."""
        slot = self.slots.get(kind)
        if slot is None:
            return "invalid"
        outcome = slot.choose(draft, arg)
        if isinstance(outcome, Question):
            work.state.phase, work.state.expecting = Phase.COLLECTING, slot.name
            if outcome is REASK:
                self._ask(work, slot.name)
            else:
                self._put(work, slot.follow_up(draft, outcome, work.lang))
            return "asked"
        return "set" if outcome else "invalid"

    def _stale(self, work: _Work, unread: int = 0) -> None:
        """A button no longer valid. While a question is open, one pressed again and
        again counts as any message that does not answer it (`unread`: the count before
        this press), so that no question comes a third time in a row."""
        state = work.state
        if state.phase is Phase.COLLECTING and state.draft is not None and state.expecting:
            state.unread = unread
            self._again(work, None, msg("stale_choice", work.lang))
            return
        work.say("stale_choice")
        self._reask(work)

    # -- commands, cancel, restart -------------------------------------------------------
    def _on_command(self, work: _Work, name: str) -> None:
        if name == "start":
            if work.state.draft is not None and work.state.phase is not Phase.IDLE:
                work.say("in_progress")
                self._reask(work)
            else:
                work.state.phase, work.state.expecting = Phase.IDLE, None
                self._ask_what(work, "welcome")
        elif name == "help":
            work.say("help")
            self._reask(work)
        elif name == "cancel":
            self._ask_cancel(work)
        elif name == "new":
            self._restart(work)
        elif name == "privacy":
            work.say("privacy", transcript_days=self.retention[0], free_text_days=self.retention[1])
            self._reask(work)
        elif name == "forget":
            work.say(
                "confirm_forget",
                (
                    Choice(button("yes_forget", work.lang), "forget:yes"),
                    Choice(button("no_keep", work.lang), "forget:no"),
                ),
            )

    def _ask_cancel(self, work: _Work) -> None:
        state = work.state
        if state.draft is None:
            work.say("nothing_to_cancel")
            state.phase, state.expecting = Phase.IDLE, None
            self._ask_what(work)
            return
        if state.phase is not Phase.CANCELLING:
            state.resume_phase = state.phase
        state.phase, state.expecting = Phase.CANCELLING, "confirmation"
        work.say(
            "confirm_cancel",
            (
                Choice(button("yes_cancel", work.lang), "cancel:yes"),
                Choice(button("no_continue", work.lang), "cancel:no"),
            ),
        )

    def _on_cancel_answer(self, work: _Work, intent: str | None) -> None:
        state = work.state
        if intent in ("affirm", "cancel"):
            work.dropped = list(state.draft.photos) if state.draft else []
            state.draft = None
            state.phase, state.expecting, state.resume_phase = Phase.IDLE, None, None
            work.say("cancelled")
        elif intent in ("deny", "restart") or state.unread >= 1:
            # Asked twice without an answer: nothing is dropped, the report goes on.
            resume = state.resume_phase or Phase.COLLECTING
            state.resume_phase = None
            work.say("not_cancelled")
            if resume is Phase.CONFIRMING:
                self._summary(work)
            else:
                state.phase = Phase.COLLECTING
                self._next(work)
        else:
            state.unread += 1
            work.say("hint_cancel")
            self._ask_cancel(work)

    def _restart(self, work: _Work) -> None:
        state = work.state
        state.draft = None
        state.phase, state.expecting, state.correcting = Phase.IDLE, None, False
        work.say("restarted")
        self._ask_what(work)

    # -- photos and places ---------------------------------------------------------------
    def _on_photo(self, work: _Work, event: PhotoEvent) -> None:
        state = work.state
        if event.error or not event.photo:
            work.say(
                f"photo_{event.error}"
                if f"photo_{event.error}" in _PHOTO_ERRORS
                else "photo_not_image"
            )
            self._reask(work)
            return
        if state.draft is None or state.phase in (Phase.IDLE, Phase.RATING):
            state.draft = Draft(photos=[event.photo])
            state.phase = Phase.COLLECTING
            work.say("photo_first")
            self._next(work)
            return
        d = state.draft
        if len(d.photos) >= MAX_PHOTOS:
            work.say("photo_limit", max=MAX_PHOTOS)
        elif all(p["sha256"] != event.photo["sha256"] for p in d.photos):
            d.photos.append(event.photo)
            work.say("photo_added", count=len(d.photos), max=MAX_PHOTOS)
        else:
            work.say("photo_added", count=len(d.photos), max=MAX_PHOTOS)
        if state.expecting == "photo" or state.phase is Phase.CONFIRMING:
            self._summary(work)
        else:
            self._reask(work)

    def _on_location(self, work: _Work, event: LocationEvent) -> None:
        # The commune, as if typed: « Quimper (29000) »; far from any commune (at sea,
        # abroad), the position rounded to 0.01° (about 1 km), never an address.
        commune = self.places.nearest(event.latitude, event.longitude)
        place = commune or f"{round(event.latitude, 2):.2f}, {round(event.longitude, 2):.2f}"
        state = work.state
        if commune:
            work.say("location_saved", place=commune)
        else:
            work.say("location_rounded")
        if state.draft is None or state.phase in (Phase.IDLE, Phase.RATING):
            self._start(work, Draft(location=place))
            return
        state.draft.location = place
        if state.phase is Phase.CONFIRMING or state.correcting:
            self._summary(work)
        elif state.phase is Phase.CANCELLING:
            self._ask_cancel(work)
        else:
            self._next(work)

    # -- saving ------------------------------------------------------------------------
    def _save(self, work: _Work) -> None:
        state = work.state
        d = state.draft
        assert d is not None
        if d.category is None or d.sector is None:
            state.correcting = False
            self._next(work)  # asks for what is missing; nothing is saved
            return
        lang = work.lang
        self._settle(d)
        reference = self.make_reference()
        alert = {
            "id": reference,
            "language": lang,
            # Every field the dialogue fills and the alert stores (the field registry's).
            **{slot.name: slot.recorded(d) for slot in self.slots if FIELD[slot.name].stored},
            "operators": list(d.operators) or ([d.operator] if d.operator else []),
            "operator_text": None if d.operators else d.operator_text,
            "previous_operator": self._previous_operator(d),
            "photos": list(d.photos),
            "advice_rating": None,
            "shared": False,
        }
        if self.taxonomy.alert_problems(alert):
            # Fields that contradict each other are never saved: ask again what is wrong.
            work.state.correcting = True
            self._next(work)
            return
        sheet = self.advice.sheet_for(d.sector, d.category, lang)
        work.alert = {**alert, "advice_sheet": sheet.id}
        work.say("saved", ref=reference)
        work.replies.append(
            AdviceReply(
                text=sheet.plain_text(), sheet_id=sheet.id, title=sheet.title, markdown=sheet.body
            )
        )
        work.say("no_follow_up")
        if d.category == "unsolicited_sales":
            work.say("spam_pointer")
        work.replies.append(self._share(d, lang))
        state.draft = None
        state.last_alert_id = reference
        self._ask_rating(work)

    def _previous_operator(self, draft: Draft) -> str | None:
        """The operator left, for a number-portability problem with another at fault."""
        previous = draft.previous_operator
        known = self.taxonomy.operators.get(previous) if previous else None
        if (
            draft.category != "number_portability"
            or known is None
            or previous == draft.operator
            or draft.operators
            or draft.sector not in known.sectors
        ):
            return None
        return previous

    def _share(self, draft: Draft, lang: str) -> ShareReply:
        ids = draft.operators or ([draft.operator] if draft.operator else [])
        operator = ", ".join(self.taxonomy.operators[o].name for o in ids) or None
        category = label("category", draft.category or "other", lang).lower()
        share = msg(
            "share_text", lang, category=category, operator=f", {operator}" if operator else ""
        )
        full = f"{share} {self.public_url}"
        links = (
            ("X", "https://x.com/intent/tweet?" + urlencode({"text": full})),
            (
                "Facebook",
                "https://www.facebook.com/sharer/sharer.php?" + urlencode({"u": self.public_url}),
            ),
            (
                "Telegram",
                "https://t.me/share/url?" + urlencode({"url": self.public_url, "text": share}),
            ),
            ("WhatsApp", "https://wa.me/?text=" + quote(full)),
        )
        return ShareReply(text=msg("share_intro", lang), links=links, share_text=full)

    def _ask_rating(self, work: _Work) -> None:
        lang = work.lang
        work.state.phase = Phase.RATING
        work.state.expecting = "rating"
        work.say(
            "ask_rating",
            (
                Choice(button("useful", lang), "rating:useful"),
                Choice(button("not_useful", lang), "rating:not_useful"),
                Choice(button("new_alert", lang), "new:alert"),
            ),
        )

    def _rate(self, work: _Work, rating: str) -> None:
        state = work.state
        state.confirmed_with = None
        work.alert_update = {"id": state.last_alert_id, "advice_rating": rating}
        state.phase, state.expecting = Phase.IDLE, None
        work.say("rated")
        work.say("offer_new", (Choice(button("new_alert", work.lang), "new:alert"),))


_PHOTO_ERRORS = {"photo_too_large", "photo_not_image", "photo_corrupt", "photo_too_many_pixels"}
