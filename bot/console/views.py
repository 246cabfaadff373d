"""The staff console's routes: pages behind a login, exports and photos behind a session."""

from __future__ import annotations

import re
from contextlib import aclosing
from datetime import date
from pathlib import Path
from typing import Any, Callable
from urllib.parse import urlencode

import aiohttp_jinja2
import jinja2
from markupsafe import Markup
from aiohttp import web
from aiohttp_session import get_session

from bot.console import charts, model_views, redact, review
from bot.console.auth import (
    SECURITY_HEADERS,
    SID,
    LoginThrottle,
    check_csrf,
    csrf_token,
    in_words,
    security_headers,
    setup_staff_sessions,
    start_session,
)
from bot.console.common import (
    CHANNELS,
    INTENTS,
    PHOTOS,
    STAFF_REPO,
    STAFF_USER,
    TAXONOMY,
    THROTTLE,
    base_context,
    parse_filter,
    path_id,
    query_page,
    safe_next,
    staff_only,
    staff_repo,
)
from bot.console.stats import dashboard, load_customer_base, operator_key
from bot.channels.web.base import address_of
from dialogues.messages import has_labels, label
from domain.fields import FIELD, FIELDS
from domain.taxonomy import Taxonomy
from storage.exports import (
    AlertsCsv,
    AlertsJson,
    OpenDataCounts,
    annotations_to_rasa_yaml,
    show_bidi_controls,
)
from storage.photos import FORMATS
from storage.staff import DURATION_BUCKETS, PAGE_SIZE, StaffRepository

HERE = Path(__file__).parent
PHOTO_PATH = re.compile(r"^[0-9a-f]{2}/[0-9a-f]{64}\.(jpg|png|webp)$")


async def login_page(request: web.Request) -> web.Response:
    session = await get_session(request)
    return aiohttp_jinja2.render_template(
        "login.html",
        request,
        {
            "csrf_token": csrf_token(session),
            "next": safe_next(request.query.get("next")),
            "error": None,
        },
    )


async def login(request: web.Request) -> web.StreamResponse:
    form = await check_csrf(request)
    name = str(form.get("name", ""))[:64]
    password = str(form.get("password", ""))[:1024]
    throttle = request.config_dict[THROTTLE]
    attempt = await throttle.attempt(name, address_of(request))  # the client, by the proxy
    session = await get_session(request)
    context = {"csrf_token": csrf_token(session), "next": safe_next(form.get("next"))}
    if attempt.wait:
        response = aiohttp_jinja2.render_template(
            "login.html",
            request,
            {**context, "error": f"Trop d'essais. Réessayez dans {in_words(attempt.wait)}."},
            status=429,
        )
        response.headers["Retry-After"] = str(attempt.wait)
        return response
    correct = await staff_repo(request).check_password(name, password)
    await throttle.settle(attempt, correct)
    if not correct:
        return aiohttp_jinja2.render_template(
            "login.html",
            request,
            {**context, "error": "Nom ou mot de passe incorrect."},
            status=401,
        )
    await start_session(request, name, await staff_repo(request).open_session(name))
    raise web.HTTPFound(context["next"])


async def logout(request: web.Request) -> web.StreamResponse:
    await check_csrf(request)
    session = await get_session(request)
    if isinstance(session.get(SID), str):
        await staff_repo(request).close_session(session[SID])  # a copy of the cookie dies too
    session.invalidate()
    raise web.HTTPFound("/staff/login")


# -- pages -------------------------------------------------------------------------------
@staff_only("page")
async def alerts_page(request: web.Request) -> web.Response:
    flt, kept = parse_filter(request)
    page = query_page(request)
    alerts, total = await staff_repo(request).alerts(flt, page)
    pages = max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1)
    session = await get_session(request)
    return aiohttp_jinja2.render_template(
        "alerts.html",
        request,
        base_context(
            request,
            alerts=alerts,
            total=total,
            page=page,
            pages=pages,
            filters=kept,
            query=urlencode(kept),
            groups=sorted({o.group for o in request.config_dict[TAXONOMY].operators.values()}),
            channels=CHANNELS,
            csrf_token=csrf_token(session),
        ),
    )


@staff_only("page")
async def alert_page(request: web.Request) -> web.Response:
    alert = await staff_repo(request).alert(request.match_info["alert_id"])
    if alert is None:
        raise web.HTTPNotFound(text="Alerte introuvable.")
    session = await get_session(request)
    return aiohttp_jinja2.render_template(
        "alert.html", request, base_context(request, alert=alert, csrf_token=csrf_token(session))
    )


@staff_only("page")
async def conversation_page(request: web.Request) -> web.Response:
    conversation_id = path_id(request, "conversation_id")
    if conversation_id is None:
        raise web.HTTPNotFound(text="Conversation introuvable.")
    transcript = await staff_repo(request).transcript(conversation_id)
    if transcript is None:
        raise web.HTTPNotFound(text="Conversation introuvable.")
    session = await get_session(request)
    return aiohttp_jinja2.render_template(
        "conversation.html",
        request,
        base_context(
            request, transcript=transcript, intents=INTENTS, csrf_token=csrf_token(session)
        ),
    )


@staff_only("page")
async def annotate(request: web.Request) -> web.StreamResponse:
    form = await check_csrf(request)
    tax = request.config_dict[TAXONOMY]

    def pick(name: str, allowed) -> str | None:
        value = str(form.get(name) or "")
        return value if value in allowed else None

    message_id = path_id(request, "message_id")
    if message_id is None:
        raise web.HTTPNotFound()
    values = {
        "intent": pick("intent", INTENTS),
        "category": pick("category", tax.categories),
        "operator": pick("operator", tax.operators),
        "sector": pick("sector", tax.sectors),
    }
    if values["category"]:
        values["intent"] = "report"
    conversation_id = await staff_repo(request).annotate(message_id, request[STAFF_USER], values)
    if conversation_id is None:
        raise web.HTTPNotFound(text="Message introuvable.")
    if str(form.get("next") or "").startswith("/staff/inbox"):  # back to the review inbox
        raise web.HTTPFound(safe_next(form["next"]))
    raise web.HTTPFound(f"/staff/conversations/{conversation_id}#m{message_id}")


@staff_only("page")
async def stats_page(request: web.Request) -> web.Response:
    flt, kept = parse_filter(request)
    board = dashboard(await staff_repo(request).alert_groups(flt), load_customer_base())
    tax = request.config_dict[TAXONOMY]

    def name_of(key: str) -> str:
        return tax.operators[key].name if key in tax.operators else key

    top = list(board.by_operator_category.items())[:10]
    categories = sorted({c for _, counts in top for c in counts})
    cat_labels = [label("category", c, "fr") for c in categories]
    blocks = [
        (
            "Alertes par opérateur et par problème",
            charts.stacked_bar_chart(
                "Alertes par opérateur et par problème",
                [name_of(k) for k, _ in top],
                [
                    (label("category", c, "fr"), [float(counts.get(c, 0)) for _, counts in top])
                    for c in categories
                ],
            ),
            charts.data_table(
                "Alertes par opérateur et par problème",
                ["Opérateur", *cat_labels, "Total"],
                [
                    [name_of(k), *[counts.get(c, 0) for c in categories], sum(counts.values())]
                    for k, counts in top
                ],
            ),
        ),
    ]
    # Operators typed by hand are « autre (texte libre) » above; what was written, here.
    typed = await staff_repo(request).free_text_operators(flt)
    if typed:
        title = "Opérateurs écrits en texte libre"
        blocks.append(
            (
                title,
                charts.bar_chart(title, [(t, float(n)) for t, n in typed[:10]]),
                charts.data_table(title, ["Écrit", "Alertes"], [[t, n] for t, n in typed]),
            )
        )
    for title, counter, kind in (
        ("Alertes par secteur", board.by_sector, "sector"),
        ("Alertes par problème", board.by_category, "category"),
        ("Alertes par type de déclarant", board.by_user_type, "user_type"),
        ("Alertes par canal", board.by_channel, None),
    ):
        rows = [(label(kind, k, "fr") if kind else k, float(v)) for k, v in counter.most_common()]
        blocks.append(
            (
                title,
                charts.bar_chart(title, rows),
                charts.data_table(
                    title,
                    [title.removeprefix("Alertes par ").capitalize(), "Alertes"],
                    [[n, v] for n, v in rows],
                ),
            )
        )
    blocks.append(
        (
            "Évolution mensuelle",
            charts.line_chart("Évolution mensuelle", [(m, float(v)) for m, v in board.by_month]),
            charts.data_table(
                "Évolution mensuelle", ["Mois", "Alertes"], [[m, v] for m, v in board.by_month]
            ),
        )
    )
    # How long the problems had lasted when reported (the problems that ask when).
    durations = await staff_repo(request).started_durations(flt)
    if durations:
        title = "Durée du problème au moment de l'alerte"
        rows = [(DURATION_LABELS[b], float(durations.get(b, 0))) for b in (*DURATION_BUCKETS, None)]
        blocks.append(
            (
                title,
                charts.bar_chart(title, rows),
                charts.data_table(title, ["Durée", "Alertes"], [[n, int(v)] for n, v in rows]),
            )
        )
    # Two significant digits: 1 alert for 7 million customers is 0,014, not 0.
    per_100k_rows = [
        (
            f"{name_of(r['operator'])} ({label('sector', r['sector'], 'fr')})",
            charts.significant(r["per_100k"]),
            r,
        )
        for r in board.per_100k
    ]
    blocks.append(
        (
            "Alertes pour 100 000 clients",
            charts.bar_chart(
                "Alertes pour 100 000 clients", [(name, rate) for name, rate, _ in per_100k_rows]
            ),
            charts.data_table(
                "Alertes pour 100 000 clients",
                ["Opérateur", "Alertes", "Clients", "Pour 100 000", "Source", "Date"],
                [
                    [name, r["alerts"], r["customers"], rate, r["source"], r["date"]]
                    for name, rate, r in per_100k_rows
                ],
            ),
        )
    )
    session = await get_session(request)
    return aiohttp_jinja2.render_template(
        "stats.html",
        request,
        base_context(
            request,
            board=board,
            blocks=blocks,
            filters=kept,
            query=urlencode(kept),
            groups=sorted({o.group for o in tax.operators.values()}),
            channels=CHANNELS,
            csrf_token=csrf_token(session),
        ),
    )


# -- exports and files -------------------------------------------------------------------
def _attachment(filename: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{filename}"'}


def _download(body: bytes, content_type: str, filename: str) -> web.Response:
    return web.Response(
        body=body, content_type=content_type, charset="utf-8", headers=_attachment(filename)
    )


async def _start_download(
    request: web.Request, content_type: str, filename: str
) -> web.StreamResponse:
    """A chunked answer whose headers go out now: the security headers are set here,
    since the middleware's would come after they are sent."""
    response = web.StreamResponse(headers={**SECURITY_HEADERS, **_attachment(filename)})
    response.content_type = content_type
    response.charset = "utf-8"
    await response.prepare(request)
    return response


# Exports of every filtered alert, streamed a batch at a time:
# file name -> (writer, content type, download name).
ALERT_EXPORTS: dict[str, tuple[Callable[[Taxonomy], AlertsCsv | AlertsJson], str, str]] = {
    "alerts.csv": (AlertsCsv, "text/csv", "alertes.csv"),
    "alerts.json": (AlertsJson, "application/json", "alertes.json"),
}


@staff_only("api")
async def export_alerts(request: web.Request) -> web.StreamResponse:
    """The file is written as the database gives the alerts, so a million of them cost
    the memory of one batch. The first batch is read before the answer starts: a
    failing query is still a 500, not a 200 with a cut file."""
    make_writer, content_type, filename = ALERT_EXPORTS[request.match_info["name"]]
    flt, _ = parse_filter(request)
    writer = make_writer(request.config_dict[TAXONOMY])
    async with aclosing(staff_repo(request).alert_batches(flt)) as batches:
        first = await anext(batches, [])
        response = await _start_download(request, content_type, filename)
        try:
            await response.write(writer.head() + writer.rows(first))
            async for batch in batches:
                await response.write(writer.rows(batch))
            await response.write(writer.tail())
        except ConnectionResetError:
            # The download was cancelled: the database is let go (aclosing), and there
            # is no error to report.
            return response
    await response.write_eof()
    return response


@staff_only("api")
async def export_opendata(request: web.Request) -> web.Response:
    """Counted by the database (GROUP BY month, sector, category, operator, location);
    only the folding of locations into départements and the suppression happen here,
    a month at a time (the file itself is small: counts only)."""
    flt, _ = parse_filter(request)
    counts = OpenDataCounts(request.config_dict[TAXONOMY])
    async with aclosing(staff_repo(request).opendata_groups(flt)) as groups:
        async for batch in groups:
            for group in batch:
                counts.add_in_month_order(*group)
    return _download(counts.csv(), "text/csv", "alertes-opendata.csv")


@staff_only("api")
async def export_annotations(request: web.Request) -> web.Response:
    items = await staff_repo(request).annotated_messages()
    return _download(
        annotations_to_rasa_yaml(items).encode("utf-8"), "application/x-yaml", "annotations.yml"
    )


@staff_only("api")
async def photo(request: web.Request) -> web.StreamResponse:
    relative = request.match_info["path"]
    if not PHOTO_PATH.match(relative) or not await staff_repo(request).photo_known(relative):
        raise web.HTTPNotFound()
    data = await request.config_dict[PHOTOS]().read(relative)
    if data is None:  # recorded but its bytes are gone
        raise web.HTTPNotFound()
    content_type = next(
        (ctype for ctype, ext in FORMATS.values() if relative.endswith(f".{ext}")),
        "application/octet-stream",
    )
    # Content-addressed: the bytes behind a path never change.
    return web.Response(
        body=data,
        content_type=content_type,
        headers={"Cache-Control": "private, max-age=86400, immutable"},
    )


async def staff_css(request: web.Request) -> web.FileResponse:
    return web.FileResponse(
        HERE / "static" / "staff.css", headers={"Content-Type": "text/css; charset=utf-8"}
    )


async def staff_home(request: web.Request) -> web.StreamResponse:
    raise web.HTTPFound("/staff/alerts")


def _shown(value: Any) -> Any:
    """Every value a page writes: bidirectional controls people typed are shown by their
    code point, never obeyed (escaping happens after, as before)."""
    if isinstance(value, Markup):  # charts, built and escaped here: kept as markup
        return Markup(show_bidi_controls(str(value)))
    return show_bidi_controls(value) if isinstance(value, str) else value


DURATION_LABELS = {
    0: "Le jour même",
    1: "Depuis la veille",
    2: "2 à 6 jours",
    7: "1 à 4 semaines",
    30: "1 à 3 mois",
    90: "3 mois et plus",
    None: "Non précisé",
}
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# The alert's fields on its page, from the field registry: the language is shown with the
# channel, the operator as written with the operator, the description last.
STAFF_FIELDS = tuple(
    f for f in FIELDS if f.stored and f.name not in ("language", "operator_text", "description")
)


def staff_value(name: str, value: Any) -> str:
    """A field's value on the staff pages: its label when it has labels, a date as
    « 27/11/2026 », « — » when empty."""
    if value is None or value == "":
        return "—"
    if has_labels(name):
        return label(name, value, "fr")
    if isinstance(value, str) and ISO_DATE.fullmatch(value):
        value = date.fromisoformat(value)
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    return str(value)


def create_console(
    repository: Callable[[], StaffRepository],
    taxonomy: Taxonomy,
    photos: Callable[[], Any],
    secret: bytes,
    secure_cookies: bool,
) -> web.Application:
    """The staff console, an application of its own that the server mounts at /staff
    (`add_subapp`): its sessions, its security headers and its templates apply to its
    answers only (templates autoescape every value). What it reads of the server (the
    configuration, the secret) comes through `request.config_dict`."""
    console = web.Application(middlewares=[security_headers])
    console[STAFF_REPO] = repository
    console[TAXONOMY] = taxonomy
    console[THROTTLE] = LoginThrottle(lambda: repository().db, secret)
    console[PHOTOS] = photos
    env = aiohttp_jinja2.setup(
        console,
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
        undefined=jinja2.StrictUndefined,
        finalize=_shown,
    )
    env.globals.update(
        label=label,
        fmt=charts.format_number,
        operator_key=operator_key,
        user=None,
        staff_fields=STAFF_FIELDS,
        staff_value=staff_value,
        description_title=FIELD["description"].staff,
    )
    setup_staff_sessions(console, secret, secure_cookies)
    r = console.router
    r.add_get("/", staff_home)
    r.add_get("/login", login_page)
    r.add_post("/login", login)
    r.add_post("/logout", logout)
    r.add_get("/static/staff.css", staff_css)
    r.add_get("/alerts", alerts_page)
    r.add_get("/alerts/{alert_id}", alert_page)
    r.add_get("/conversations/{conversation_id}", conversation_page)
    r.add_post("/messages/{message_id}/annotation", annotate)
    r.add_get("/stats", stats_page)
    names = "|".join(re.escape(name) for name in ALERT_EXPORTS)
    r.add_get(f"/export/{{name:(?:{names})}}", export_alerts)
    r.add_get("/export/opendata.csv", export_opendata)
    r.add_get("/export/annotations.yml", export_annotations)
    r.add_get("/photos/{path:.+}", photo)
    model_views.setup_model_views(console)
    review.setup_review(console)
    redact.setup_redact(console)
    return console
