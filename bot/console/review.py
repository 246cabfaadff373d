"""The console's every-conversation list, review inbox and funnel (issue 12, items 1-2)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import aiohttp_jinja2
from aiohttp import web
from aiohttp_session import get_session

from bot.console import charts
from bot.console.auth import check_csrf, csrf_token
from bot.console.common import (
    CHANNELS,
    INTENTS,
    STAFF_REPO,
    STAFF_USER,
    TAXONOMY,
    base_context,
    path_id,
    query_date,
    query_page,
    staff_only,
)
from dialogues.messages import label
from domain.fields import QUESTIONS
from storage.paris import day_start, in_paris
from storage.review import (
    OUTCOMES,
    PAGE_SIZE,
    ConversationFilter,
    InboxFilter,
    ReviewRepository,
)

LANGUAGES = ("fr", "en")
OUTCOME_LABELS = {"alert": "Alerte enregistrée", "open": "En cours", "abandoned": "Abandonnée"}
CHANNEL_LABELS = {"telegram": "Telegram", "web": "Widget web", "cli": "Terminal"}
LANGUAGE_LABELS = {"fr": "Français", "en": "Anglais"}
INTENT_LABELS = {
    "report": "Signalement",
    "greet": "Salutation",
    "thank": "Remerciement",
    "goodbye": "Au revoir",
    "help": "Demande d'aide",
    "affirm": "Oui",
    "deny": "Non",
    "cancel": "Annulation",
    "restart": "Recommencer",
    "dont_know": "Ne sait pas",
    "chitchat": "Bavardage",
    "out_of_scope": "Hors sujet",
    "consumer_dispute": "Litige de consommation",
    "inform": "Information",
    "nlu_fallback": "Non compris",
}
STEP_EXTRA = {
    "photo": "Photo",
    "summary": "Récapitulatif",
    "cancel": "Abandon demandé",
    "rating": "Avis sur les conseils",
}
FLAGS = {
    "unsure": "Bot incertain",
    "corrected": "Bot corrigé par la personne",
    "repeated": "Question reposée",
    "not_useful": "Conseils jugés pas utiles",
}


def step_label(step: str | None) -> str:
    if not step:
        return "—"
    if step in STEP_EXTRA:
        return STEP_EXTRA[step]
    return label("fields", step, "fr")


def paris(moment: datetime | str | None, between: str = " ") -> str:
    """« 27/11/2026 20:41 » (`between` the date and the hour), in Paris time, from a
    datetime or an ISO string (SQLite gives naive datetimes back, which are UTC)."""
    if not moment:
        return "—"
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return in_paris(moment).strftime(f"%d/%m/%Y{between}%H:%M")


def percent(part: int, whole: int) -> str:
    return charts.format_number(round(100 * part / whole, 1)) + "\u00a0%" if whole else "—"


def _review(request: web.Request) -> ReviewRepository:
    return ReviewRepository(request.config_dict[STAFF_REPO]().db)


def _period(q) -> tuple[datetime | None, datetime | None]:
    """The period's bounds: whole days in Paris time, the end day included."""
    start, end = query_date(q.get("start")), query_date(q.get("end"))
    return (
        day_start(start) if start else None,
        day_start(end + timedelta(days=1)) if end else None,
    )


def _kept(request: web.Request) -> dict[str, str]:
    return {k: v for k, v in request.query.items() if k != "page" and v}


def _pick(q, name: str, allowed) -> str | None:
    value = q.get(name) or None
    return value if value in allowed else None


# -- every conversation ---------------------------------------------------------------------
@staff_only("page")
async def conversations_page(request: web.Request) -> web.Response:
    q = request.query
    start, end = _period(q)
    flt = ConversationFilter(
        start=start,
        end=end,
        outcome=_pick(q, "outcome", OUTCOMES),
        unsure=q.get("unsure") == "1",
        corrected=q.get("corrected") == "1",
        repeated=q.get("repeated") == "1",
        not_useful=q.get("not_useful") == "1",
        channel=_pick(q, "channel", CHANNELS),
        language=_pick(q, "language", LANGUAGES),
        text=(q.get("q") or "").strip()[:200] or None,
    )
    page = query_page(request)
    rows, total = await _review(request).conversations(flt, page)
    kept = _kept(request)
    session = await get_session(request)
    return aiohttp_jinja2.render_template(
        "conversations.html",
        request,
        base_context(
            request,
            rows=rows,
            total=total,
            page=page,
            pages=max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1),
            filters=kept,
            query=urlencode(kept),
            channels=CHANNELS,
            languages=LANGUAGES,
            outcomes=OUTCOMES,
            flags=FLAGS,
            csrf_token=csrf_token(session),
        ),
    )


# -- the review inbox --------------------------------------------------------------------
@staff_only("page")
async def inbox_page(request: web.Request) -> web.Response:
    q = request.query
    flt = InboxFilter(
        status=q.get("status") if q.get("status") in ("todo", "done", "all") else "todo",
        reason=_pick(q, "reason", ("unsure", "corrected")),
        channel=_pick(q, "channel", CHANNELS),
    )
    page = query_page(request)
    items, total = await _review(request).inbox(flt, page)
    kept = _kept(request)
    here = "/staff/inbox" + ("?" + urlencode({**kept, "page": page}) if kept or page > 1 else "")
    session = await get_session(request)
    return aiohttp_jinja2.render_template(
        "inbox.html",
        request,
        base_context(
            request,
            items=items,
            total=total,
            page=page,
            pages=max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1),
            filters=kept,
            query=urlencode(kept),
            status=flt.status,
            channels=CHANNELS,
            intents=INTENTS,
            here=here,
            csrf_token=csrf_token(session),
        ),
    )


def _parse_values(request: web.Request, parse: dict) -> dict[str, str | None]:
    """What the model understood, as an annotation (unknown ids dropped)."""
    tax = request.config_dict[TAXONOMY]

    def keep(name: str, allowed) -> str | None:
        value = parse.get(name)
        return value if isinstance(value, str) and value in allowed else None

    return {
        "intent": keep("intent", INTENTS),
        "category": keep("category", tax.categories),
        "operator": keep("operator", tax.operators),
        "sector": keep("sector", tax.sectors),
    }


@staff_only("page")
async def confirm(request: web.Request) -> web.StreamResponse:
    """« C'est juste »: the parse was right; it becomes the message's annotation (the
    same record a correction makes, so it is marked reviewed and exported for
    training)."""
    form = await check_csrf(request)
    message_id = path_id(request, "message_id")
    if message_id is None:
        raise web.HTTPNotFound()
    parse = await _review(request).user_parse(message_id)
    if parse is None:
        raise web.HTTPNotFound(text="Message introuvable.")
    values = _parse_values(request, parse)
    if values["intent"] is None:
        raise web.HTTPBadRequest(
            text="Le modèle n'a reconnu aucune intention : choisissez la bonne avec « Corriger »."
        )
    await request.config_dict[STAFF_REPO]().annotate(message_id, request[STAFF_USER], values)
    target = str(form.get("next") or "")
    raise web.HTTPFound(target if target.startswith("/staff/inbox") else "/staff/inbox")


# -- the funnel ------------------------------------------------------------------------------
@staff_only("page")
async def funnel_page(request: web.Request) -> web.Response:
    q = request.query
    start, end = _period(q)
    channel = _pick(q, "channel", CHANNELS)
    review = _review(request)
    f = await review.funnel(start, end, channel)
    rows: list[tuple[str, int]] = [
        ("Conversations commencées", f.started),
        ("Premier message compris", f.understood),
    ]
    rows += [(f"Question : {step_label(s)}", f.steps[s]) for s in QUESTIONS if f.steps.get(s)]
    rows += [
        ("Récapitulatif atteint", f.steps.get("summary", 0)),
        ("Alerte enregistrée", f.with_alert),
        ("Conseils notés", f.rated),
    ]
    title = "Parcours des conversations"
    blocks = [
        (
            title,
            charts.bar_chart(title, [(n, float(v)) for n, v in rows]),
            charts.data_table(
                title,
                ["Étape", "Conversations", "Part des conversations"],
                [[n, v, percent(v, f.started)] for n, v in rows],
            ),
        )
    ]
    title = "Questions posées deux fois"
    repeated = [(step_label(s), n) for s, n in f.repeated]
    blocks.append(
        (
            title,
            charts.bar_chart(title, [(n, float(v)) for n, v in repeated]),
            charts.data_table(title, ["Question", "Fois reposée"], [[n, v] for n, v in repeated]),
        )
    )
    by_channel: list[list[Any]] = []
    if channel is None:
        for c, started, alerted, median in await review.by_channel(start, end):
            by_channel.append(
                [
                    CHANNEL_LABELS.get(c, c),
                    started,
                    alerted,
                    percent(alerted, started),
                    median if median is not None else "—",
                ]
            )
        title = "Par canal"
        blocks.append(
            (
                title,
                charts.bar_chart(
                    "Conversations avec une alerte, par canal",
                    [(r[0], float(r[2])) for r in by_channel],
                ),
                charts.data_table(
                    title,
                    [
                        "Canal",
                        "Conversations",
                        "Avec une alerte",
                        "Part",
                        "Messages avant l'alerte (médiane)",
                    ],
                    by_channel,
                ),
            )
        )
    kept = _kept(request)
    session = await get_session(request)
    return aiohttp_jinja2.render_template(
        "funnel.html",
        request,
        base_context(
            request,
            funnel=f,
            blocks=blocks,
            filters=kept,
            channels=CHANNELS,
            csrf_token=csrf_token(session),
        ),
    )


def setup_review(app: web.Application) -> None:
    """The routes and template helpers of these pages (called by `setup_staff`)."""
    env = aiohttp_jinja2.get_env(app)
    env.filters["paris"] = paris
    env.globals.update(
        step_label=step_label,
        percent=percent,
        outcome_labels=OUTCOME_LABELS,
        channel_labels=CHANNEL_LABELS,
        language_labels=LANGUAGE_LABELS,
        intent_labels=INTENT_LABELS,
    )
    r = app.router
    r.add_get("/conversations", conversations_page)
    r.add_get("/inbox", inbox_page)
    r.add_post("/messages/{message_id}/review", confirm)
    r.add_get("/funnel", funnel_page)
