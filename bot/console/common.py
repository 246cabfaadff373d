"""What the console's pages share: its keys, the login guard, the query-string readers
and the templates' base context. Imports no page module: the pages import it."""

from __future__ import annotations

from datetime import date
from typing import Any, Awaitable, Callable
from urllib.parse import urlencode

import aiohttp_jinja2
from aiohttp import web
from aiohttp_session import get_session

from bot.console.auth import SID, USER, LoginThrottle, csrf_token
from domain.taxonomy import Taxonomy
from storage.staff import AlertFilter, StaffRepository

STAFF_REPO = web.AppKey("staff_repository", Callable)
TAXONOMY = web.AppKey("staff_taxonomy", Taxonomy)
THROTTLE = web.AppKey("login_throttle", LoginThrottle)
# () -> storage.photos.PhotoStore: files on one host, bytes in PostgreSQL when shared.
PHOTOS = web.AppKey("photos", Callable)
STAFF_USER = web.RequestKey("staff_user", str)
INTENTS = (
    "report",
    "greet",
    "thank",
    "goodbye",
    "help",
    "affirm",
    "deny",
    "cancel",
    "restart",
    "dont_know",
    "chitchat",
    "out_of_scope",
    "consumer_dispute",
    "inform",
)
CHANNELS = ("telegram", "web", "cli")
# What a query string or a path may ask for: beyond, the database would overflow (a page's
# OFFSET, a BIGINT id) or the dates would (the day after 9999-12-31).
MAX_PAGE = 10**9
MAX_ID = 2**63 - 1
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
            user = await staff_repo(request).session_user(sid) if isinstance(sid, str) else None
            if user and user == session.get(USER):
                request[STAFF_USER] = user
                try:
                    return await handler(request)
                except QueryError as refused:
                    if kind != "page":
                        raise web.HTTPBadRequest(text=str(refused)) from None
                    return aiohttp_jinja2.render_template(
                        "refused.html",
                        request,
                        base_context(request, message=str(refused), csrf_token=csrf_token(session)),
                        status=400,
                    )
            session.invalidate()
            if kind == "page":
                raise web.HTTPFound("/staff/login?" + urlencode({"next": request.path_qs}))
            raise web.HTTPUnauthorized(text="Connexion requise.")

        return guarded

    return wrap


def staff_repo(request: web.Request) -> StaffRepository:
    return request.config_dict[STAFF_REPO]()


def safe_next(value: Any) -> str:
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
        raise QueryError(
            f"La date {day.isoformat()} est hors de la période que la console "
            f"sait compter ({FIRST_DAY.year} à {LAST_DAY.year})."
        )
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
    tax = request.config_dict[TAXONOMY]
    q = request.query

    def pick(name: str, allowed) -> str | None:
        value = q.get(name) or None
        return value if value in allowed else None

    group = pick("group", {o.group for o in tax.operators.values()})
    photo = {"yes": True, "no": False}.get(q.get("photo", ""))
    flt = AlertFilter(
        start=query_date(q.get("start")),
        end=query_date(q.get("end")),
        sector=pick("sector", tax.sectors),
        category=pick("category", tax.categories),
        operator=pick("operator", tax.operators),
        operators_in_group=(
            tuple(o.id for o in tax.operators.values() if o.group == group) if group else None
        ),
        user_type=pick("user_type", tax.user_types),
        channel=pick("channel", CHANNELS),
        photo=photo,
        text=(q.get("q") or "").strip()[:200] or None,
        newest_first=q.get("sort") != "asc",
    )
    kept = {k: v for k, v in q.items() if k != "page" and v}
    return flt, kept


def base_context(request: web.Request, **extra: Any) -> dict[str, Any]:
    return {"user": request.get(STAFF_USER), "tax": request.config_dict[TAXONOMY], **extra}
