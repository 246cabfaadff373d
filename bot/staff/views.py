"""The staff console's routes: pages behind a login, exports and photos behind a session."""
from __future__ import annotations

import re
from contextlib import aclosing
from datetime import date
from pathlib import Path
from typing import Any, Awaitable, Callable
from urllib.parse import urlencode

import aiohttp_jinja2
import jinja2
from markupsafe import Markup
from aiohttp import web
from aiohttp_session import get_session

from bot.staff import charts
from bot.staff.auth import (
    SECURITY_HEADERS, SID, USER, LoginThrottle, check_csrf, csrf_token, in_words,
    security_headers, setup_staff_sessions, start_session,
)
from bot.staff.stats import dashboard, load_customer_base, operator_key
from bot.web.app import address_of
from dialogues.messages import label
from domain.taxonomy import Taxonomy
from storage.exports import (
    AlertsCsv, AlertsJson, OpenDataCounts, annotations_to_rasa_yaml, show_bidi_controls,
)
from storage.staff import PAGE_SIZE, AlertFilter, StaffRepository

HERE = Path(__file__).parent
STAFF_REPO = web.AppKey("staff_repository", Callable)
TAXONOMY = web.AppKey("staff_taxonomy", Taxonomy)
THROTTLE = web.AppKey("login_throttle", LoginThrottle)
PHOTO_ROOT = web.AppKey("photo_root", Callable)
STAFF_USER = web.RequestKey("staff_user", str)
PHOTO_PATH = re.compile(r"^[0-9a-f]{2}/[0-9a-f]{64}\.(jpg|png|webp)$")
INTENTS = ("report", "greet", "thank", "goodbye", "help", "affirm", "deny", "cancel", "restart",
           "dont_know", "chitchat", "out_of_scope", "consumer_dispute", "inform")
CHANNELS = ("telegram", "web", "cli")
# What a query string or a path may ask for: beyond, the database would overflow (a page's
# OFFSET, a BIGINT id) or the dates would (the day after 9999-12-31).
MAX_PAGE = 10 ** 9
MAX_ID = 2 ** 63 - 1
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(9998, 12, 31)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class QueryError(ValueError):
    """A query-string value the console cannot use (a page or a day out of range): said
    in a 400 page, never a 500."""


# -- access ----------------------------------------------------------------------------
def staff_only(kind: str) -> Callable[[Handler], Handler]:
    """Pages redirect to the login; API and file URLs answer 401."""

    def wrap(handler: Handler) -> Handler:
        async def guarded(request: web.Request) -> web.StreamResponse:
            session = await get_session(request)
            sid = session.get(SID)
            user = await _repo(request).session_user(sid) if isinstance(sid, str) else None
            if user and user == session.get(USER):
                request[STAFF_USER] = user
                try:
                    return await handler(request)
                except QueryError as refused:
                    if kind != "page":
                        raise web.HTTPBadRequest(text=str(refused)) from None
                    return aiohttp_jinja2.render_template("refused.html", request, _base_context(
                        request, message=str(refused), csrf_token=csrf_token(session)),
                        status=400)
            session.invalidate()
            if kind == "page":
                raise web.HTTPFound("/staff/login?" + urlencode({"next": request.path_qs}))
            raise web.HTTPUnauthorized(text="Connexion requise.")

        return guarded

    return wrap


def _repo(request: web.Request) -> StaffRepository:
    return request.app[STAFF_REPO]()


async def login_page(request: web.Request) -> web.Response:
    session = await get_session(request)
    return aiohttp_jinja2.render_template("login.html", request, {
        "csrf_token": csrf_token(session), "next": _safe_next(request.query.get("next")),
        "error": None})


async def login(request: web.Request) -> web.StreamResponse:
    form = await check_csrf(request)
    name = str(form.get("name", ""))[:64]
    password = str(form.get("password", ""))[:1024]
    throttle = request.app[THROTTLE]
    attempt = await throttle.attempt(name, address_of(request))  # the client, by the proxy
    session = await get_session(request)
    context = {"csrf_token": csrf_token(session), "next": _safe_next(form.get("next"))}
    if attempt.wait:
        response = aiohttp_jinja2.render_template("login.html", request, {
            **context, "error": f"Trop d'essais. Réessayez dans {in_words(attempt.wait)}."},
            status=429)
        response.headers["Retry-After"] = str(attempt.wait)
        return response
    correct = await _repo(request).check_password(name, password)
    await throttle.settle(attempt, correct)
    if not correct:
        return aiohttp_jinja2.render_template("login.html", request, {
            **context, "error": "Nom ou mot de passe incorrect."}, status=401)
    await start_session(request, name, await _repo(request).open_session(name))
    raise web.HTTPFound(context["next"])


async def logout(request: web.Request) -> web.StreamResponse:
    await check_csrf(request)
    session = await get_session(request)
    if isinstance(session.get(SID), str):
        await _repo(request).close_session(session[SID])  # a copy of the cookie dies too
    session.invalidate()
    raise web.HTTPFound("/staff/login")


def _safe_next(value: Any) -> str:
    """Only paths inside the console: never an open redirect."""
    text = str(value or "")
    return text if text.startswith("/staff/") and not text.startswith("//") else "/staff/alerts"


# -- filters -----------------------------------------------------------------------------
def query_date(value: str | None) -> date | None:
    """A day of the query string; None when there is none or it cannot be read (no
    filter), QueryError when it is outside FIRST_DAY..LAST_DAY."""
    try:
        day = date.fromisoformat(value) if value else None
    except ValueError:
        return None
    if day is not None and not FIRST_DAY <= day <= LAST_DAY:
        raise QueryError(f"La date {day.isoformat()} est hors de la période que la console "
                         f"sait compter ({FIRST_DAY.year} à {LAST_DAY.year}).")
    return day


def query_page(request: web.Request) -> int:
    """The page asked for: 1 when unreadable or below 1, QueryError beyond MAX_PAGE."""
    try:
        page = int(request.query.get("page", "1"))
    except ValueError:
        return 1
    if page > MAX_PAGE:
        raise QueryError("Ce numéro de page n'existe pas.")
    return max(page, 1)


def path_id(request: web.Request, name: str) -> int | None:
    """A number in the path (a conversation, a message), None when no row can have it."""
    try:
        number = int(request.match_info[name])
    except ValueError:
        return None
    return number if 0 <= number <= MAX_ID else None


def parse_filter(request: web.Request) -> tuple[AlertFilter, dict[str, str]]:
    """Filters from the query string; unknown ids are ignored, never trusted."""
    tax = request.app[TAXONOMY]
    q = request.query

    def pick(name: str, allowed) -> str | None:
        value = q.get(name) or None
        return value if value in allowed else None

    group = pick("group", {o.group for o in tax.operators.values()})
    photo = {"yes": True, "no": False}.get(q.get("photo", ""))
    flt = AlertFilter(
        start=query_date(q.get("start")), end=query_date(q.get("end")),
        sector=pick("sector", tax.sectors), category=pick("category", tax.categories),
        operator=pick("operator", tax.operators),
        operators_in_group=(tuple(o.id for o in tax.operators.values() if o.group == group)
                            if group else None),
        user_type=pick("user_type", tax.user_types), channel=pick("channel", CHANNELS),
        photo=photo, text=(q.get("q") or "").strip()[:200] or None,
        newest_first=q.get("sort") != "asc",
    )
    kept = {k: v for k, v in q.items() if k != "page" and v}
    return flt, kept


def _base_context(request: web.Request, **extra: Any) -> dict[str, Any]:
    return {"user": request.get(STAFF_USER), "tax": request.app[TAXONOMY], **extra}


# -- pages -------------------------------------------------------------------------------
@staff_only("page")
async def alerts_page(request: web.Request) -> web.Response:
    flt, kept = parse_filter(request)
    page = query_page(request)
    alerts, total = await _repo(request).alerts(flt, page)
    pages = max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1)
    session = await get_session(request)
    return aiohttp_jinja2.render_template("alerts.html", request, _base_context(
        request, alerts=alerts, total=total, page=page, pages=pages, filters=kept,
        query=urlencode(kept), groups=sorted({o.group for o in request.app[TAXONOMY].operators.values()}),
        channels=CHANNELS, csrf_token=csrf_token(session)))


@staff_only("page")
async def alert_page(request: web.Request) -> web.Response:
    alert = await _repo(request).alert(request.match_info["alert_id"])
    if alert is None:
        raise web.HTTPNotFound(text="Alerte introuvable.")
    session = await get_session(request)
    return aiohttp_jinja2.render_template("alert.html", request, _base_context(
        request, alert=alert, csrf_token=csrf_token(session)))


@staff_only("page")
async def conversation_page(request: web.Request) -> web.Response:
    conversation_id = path_id(request, "conversation_id")
    if conversation_id is None:
        raise web.HTTPNotFound(text="Conversation introuvable.")
    transcript = await _repo(request).transcript(conversation_id)
    if transcript is None:
        raise web.HTTPNotFound(text="Conversation introuvable.")
    session = await get_session(request)
    return aiohttp_jinja2.render_template("conversation.html", request, _base_context(
        request, transcript=transcript, intents=INTENTS, csrf_token=csrf_token(session)))


@staff_only("page")
async def annotate(request: web.Request) -> web.StreamResponse:
    form = await check_csrf(request)
    tax = request.app[TAXONOMY]

    def pick(name: str, allowed) -> str | None:
        value = str(form.get(name) or "")
        return value if value in allowed else None

    message_id = path_id(request, "message_id")
    if message_id is None:
        raise web.HTTPNotFound()
    values = {"intent": pick("intent", INTENTS), "category": pick("category", tax.categories),
              "operator": pick("operator", tax.operators), "sector": pick("sector", tax.sectors)}
    if values["category"]:
        values["intent"] = "report"
    conversation_id = await _repo(request).annotate(
        message_id, request[STAFF_USER], values)
    if conversation_id is None:
        raise web.HTTPNotFound(text="Message introuvable.")
    if str(form.get("next") or "").startswith("/staff/inbox"):  # back to the review inbox
        raise web.HTTPFound(_safe_next(form["next"]))
    raise web.HTTPFound(f"/staff/conversations/{conversation_id}#m{message_id}")


@staff_only("page")
async def stats_page(request: web.Request) -> web.Response:
    flt, kept = parse_filter(request)
    board = dashboard(await _repo(request).alert_groups(flt), load_customer_base())
    tax = request.app[TAXONOMY]

    def name_of(key: str) -> str:
        return tax.operators[key].name if key in tax.operators else key

    top = list(board.by_operator_category.items())[:10]
    categories = sorted({c for _, counts in top for c in counts})
    cat_labels = [label("category", c, "fr") for c in categories]
    blocks = [
        ("Alertes par opérateur et par problème", charts.stacked_bar_chart(
            "Alertes par opérateur et par problème", [name_of(k) for k, _ in top],
            [(label("category", c, "fr"), [float(counts.get(c, 0)) for _, counts in top])
             for c in categories]),
         charts.data_table("Alertes par opérateur et par problème",
                           ["Opérateur", *cat_labels, "Total"],
                           [[name_of(k), *[counts.get(c, 0) for c in categories],
                             sum(counts.values())] for k, counts in top])),
    ]
    # Operators typed by hand are « autre (texte libre) » above; what was written, here.
    typed = await _repo(request).free_text_operators(flt)
    if typed:
        title = "Opérateurs écrits en texte libre"
        blocks.append((title, charts.bar_chart(title, [(t, float(n)) for t, n in typed[:10]]),
                       charts.data_table(title, ["Écrit", "Alertes"], [[t, n] for t, n in typed])))
    for title, counter, kind in (("Alertes par secteur", board.by_sector, "sector"),
                                 ("Alertes par problème", board.by_category, "category"),
                                 ("Alertes par type de déclarant", board.by_user_type, "user_type"),
                                 ("Alertes par canal", board.by_channel, None)):
        rows = [(label(kind, k, "fr") if kind else k, float(v)) for k, v in counter.most_common()]
        blocks.append((title, charts.bar_chart(title, rows),
                       charts.data_table(title, [title.removeprefix("Alertes par ").capitalize(),
                                                 "Alertes"], [[n, v] for n, v in rows])))
    blocks.append(("Évolution mensuelle", charts.line_chart(
        "Évolution mensuelle", [(m, float(v)) for m, v in board.by_month]),
        charts.data_table("Évolution mensuelle", ["Mois", "Alertes"],
                          [[m, v] for m, v in board.by_month])))
    # Two significant digits: 1 alert for 7 million customers is 0,014, not 0.
    per_100k_rows = [(f"{name_of(r['operator'])} ({label('sector', r['sector'], 'fr')})",
                      charts.significant(r["per_100k"]), r) for r in board.per_100k]
    blocks.append(("Alertes pour 100 000 clients", charts.bar_chart(
        "Alertes pour 100 000 clients", [(name, rate) for name, rate, _ in per_100k_rows]),
        charts.data_table("Alertes pour 100 000 clients",
                          ["Opérateur", "Alertes", "Clients", "Pour 100 000", "Source", "Date"],
                          [[name, r["alerts"], r["customers"], rate, r["source"], r["date"]]
                           for name, rate, r in per_100k_rows])))
    session = await get_session(request)
    return aiohttp_jinja2.render_template("stats.html", request, _base_context(
        request, board=board, blocks=blocks, filters=kept, query=urlencode(kept),
        groups=sorted({o.group for o in tax.operators.values()}), channels=CHANNELS,
        csrf_token=csrf_token(session)))


# -- exports and files -------------------------------------------------------------------
def _attachment(filename: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{filename}"'}


def _download(body: bytes, content_type: str, filename: str) -> web.Response:
    return web.Response(body=body, content_type=content_type, charset="utf-8",
                        headers=_attachment(filename))


async def _start_download(request: web.Request, content_type: str,
                          filename: str) -> web.StreamResponse:
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
    writer = make_writer(request.app[TAXONOMY])
    async with aclosing(_repo(request).alert_batches(flt)) as batches:
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
    counts = OpenDataCounts(request.app[TAXONOMY])
    async with aclosing(_repo(request).opendata_groups(flt)) as groups:
        async for batch in groups:
            for group in batch:
                counts.add_in_month_order(*group)
    return _download(counts.csv(), "text/csv", "alertes-opendata.csv")


@staff_only("api")
async def export_annotations(request: web.Request) -> web.Response:
    items = await _repo(request).annotated_messages()
    return _download(annotations_to_rasa_yaml(items).encode("utf-8"), "application/x-yaml",
                     "annotations.yml")


@staff_only("api")
async def photo(request: web.Request) -> web.StreamResponse:
    relative = request.match_info["path"]
    if not PHOTO_PATH.match(relative) or not await _repo(request).photo_known(relative):
        raise web.HTTPNotFound()
    path = request.app[PHOTO_ROOT]() / relative
    if not path.is_file():  # recorded but gone from the disk
        raise web.HTTPNotFound()
    return web.FileResponse(path)


async def staff_css(request: web.Request) -> web.FileResponse:
    return web.FileResponse(HERE / "static" / "staff.css",
                            headers={"Content-Type": "text/css; charset=utf-8"})


async def staff_home(request: web.Request) -> web.StreamResponse:
    raise web.HTTPFound("/staff/alerts")


def _shown(value: Any) -> Any:
    """Every value a page writes: bidirectional controls people typed are shown by their
    code point, never obeyed (escaping happens after, as before)."""
    if isinstance(value, Markup):  # charts, built and escaped here: kept as markup
        return Markup(show_bidi_controls(str(value)))
    return show_bidi_controls(value) if isinstance(value, str) else value


def setup_staff(app: web.Application, repository: Callable[[], StaffRepository],
                taxonomy: Taxonomy, photo_root: Callable[[], Path], secret: bytes,
                secure_cookies: bool) -> None:
    """Mounts the console on the app (templates autoescape every value)."""
    app[STAFF_REPO] = repository
    app[TAXONOMY] = taxonomy
    app[THROTTLE] = LoginThrottle(lambda: repository().db, secret)
    app[PHOTO_ROOT] = photo_root
    env = aiohttp_jinja2.setup(
        app, loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
        undefined=jinja2.StrictUndefined, finalize=_shown)
    env.globals.update(label=label, fmt=charts.format_number, operator_key=operator_key,
                       user=None)
    setup_staff_sessions(app, secret, secure_cookies)
    app.middlewares.append(security_headers)
    r = app.router
    r.add_get("/staff", staff_home)
    r.add_get("/staff/", staff_home)
    r.add_get("/staff/login", login_page)
    r.add_post("/staff/login", login)
    r.add_post("/staff/logout", logout)
    r.add_get("/staff/static/staff.css", staff_css)
    r.add_get("/staff/alerts", alerts_page)
    r.add_get("/staff/alerts/{alert_id}", alert_page)
    r.add_get("/staff/conversations/{conversation_id}", conversation_page)
    r.add_post("/staff/messages/{message_id}/annotation", annotate)
    r.add_get("/staff/stats", stats_page)
    names = "|".join(re.escape(name) for name in ALERT_EXPORTS)
    r.add_get(f"/staff/export/{{name:(?:{names})}}", export_alerts)
    r.add_get("/staff/export/opendata.csv", export_opendata)
    r.add_get("/staff/export/annotations.yml", export_annotations)
    r.add_get("/staff/photos/{path:.+}", photo)
    from bot.staff import model_views; model_views.setup_model_views(app)  # noqa: E702
    from bot.staff import review; review.setup_review(app)  # noqa: E702
    from bot.staff import redact; redact.setup_redact(app)  # noqa: E702
