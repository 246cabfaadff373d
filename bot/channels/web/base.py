"""What the web app's parts share: the app's keys, its runtime, session ids, the
client's address and the rate limits. Imports no other part of bot.channels.web, so the app, its
pages (summary, privacy) and the staff console all import it, and nothing imports back.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import re
import secrets
import asyncio
import weakref
from pathlib import Path
from typing import TYPE_CHECKING

from aiohttp import web

from bot.process.config import Config
from bot.channels.web.clients import OpenSockets, client_address
from bot.process.wiring import Runtime
from domain.turns import Limits
from storage.shared import SharedState

if TYPE_CHECKING:
    from bot.channels.telegram import TelegramChannel

STATIC = Path(__file__).with_name("static")
CHANNEL = "web"
SESSION_ID = re.compile(r"^[A-Za-z0-9_-]{40}$")
SECRET = web.AppKey("secret", bytes)


def new_session_id(secret: bytes) -> str:
    """A session id only this server can issue: 24 random characters and their HMAC.
    A client-chosen id (or one from another server) is replaced, so nobody can pick an
    id to read someone's conversation, and any worker can check an id by itself."""
    token = secrets.token_urlsafe(18)
    return token + _session_tag(secret, token)


def _session_tag(secret: bytes, token: str) -> str:
    digest = hmac.new(secret, b"web-session:" + token.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:12]).decode()


def issued_session(secret: bytes, session: str) -> bool:
    return bool(SESSION_ID.match(session)) and hmac.compare_digest(
        _session_tag(secret, session[:24]), session[24:]
    )


class RuntimeSlot:
    """Filled at start-up (the model loads then); app state itself is frozen by then."""

    def __init__(self, rt: Runtime | None = None):
        self.rt = rt
        self.shared: SharedState | None = None
        self.telegram: TelegramChannel | None = None


CONFIG = web.AppKey("config", Config)
RUNTIME = web.AppKey("runtime", RuntimeSlot)
SOCKETS = web.AppKey("sockets", weakref.WeakSet)
# The sockets whose turn is being answered now, and the event set when the server stops
# (SIGTERM): see bot.channels.web.app._drain.
BUSY = web.AppKey("busy_sockets", weakref.WeakSet)
DRAINING = web.AppKey("draining", asyncio.Event)


class InFlight:
    """How many requests of a kind are being handled now (uploads, for the drain)."""

    def __init__(self) -> None:
        self.count = 0
        self.last_ended = float("-inf")  # the event loop's time the last one ended


UPLOADS = web.AppKey("uploads_in_flight", InFlight)
OPEN_BY_ADDRESS = web.AppKey("open_by_address", OpenSockets)
# The staff console, the application mounted at /staff.
CONSOLE = web.AppKey("console", web.Application)


def rt_of(app: web.Application) -> Runtime:
    rt = app[RUNTIME].rt
    if rt is None:
        raise web.HTTPServiceUnavailable(text="starting")
    return rt


def shared_of(app: web.Application) -> SharedState:
    """Uploads and rate counters in the database: every worker sees the same."""
    slot = app[RUNTIME]
    rt = rt_of(app)
    if slot.shared is None or slot.shared.db is not rt.db:
        slot.shared = SharedState(rt.db)
    return slot.shared


# What is counted per address: the AddressLimits field and its window in seconds.
_PER_ADDRESS = {
    "turns": ("turns_per_minute", 60),
    "uploads": ("uploads_per_minute", 60),
    "notices": ("notices_per_minute", 60),
    "sessions": ("sessions_per_hour", 3600),
}


def address_of(request: web.Request) -> str:
    """The client's address, keyed with the server's secret: counters never hold an
    address in clear (see bot.channels.web.clients)."""
    address = client_address(
        request.remote,
        request.headers.getall("X-Forwarded-For", ()),
        request.config_dict[CONFIG].trusted_proxies,
    )
    digest = hmac.new(request.config_dict[SECRET], b"address:" + address.encode(), hashlib.sha256)
    return digest.hexdigest()[:24]


def limits_of(
    app: web.Application, session: str | None, address: str, what: str = "turns"
) -> Limits:
    """JALERTE_WEB_MESSAGES_PER_MINUTE for the session (turns and uploads) and the
    address's limit for `what`."""
    field, window = _PER_ADDRESS[what]
    limit = getattr(app[CONFIG].web_address_limits, field)
    counted = {f"addr:{what}:{address}": (window, limit)} if limit else {}
    if session is not None:
        key = f"web:{rt_of(app).service.user_key(CHANNEL, session)}"
        counted[key] = (60, app[CONFIG].web_messages_per_minute)
    return Limits(counted)


async def within_rate(
    app: web.Application, session: str | None, address: str, what: str = "turns"
) -> bool:
    """Within `limits_of`, every limit counted in one statement. (A message's turn
    counts them itself, as it reads the conversation: ConversationService.handle.)"""
    limits = limits_of(app, session, address, what)
    if not limits.counted:
        return True
    return limits.allow(await shared_of(app).hits(limits.windows))


def origin_allowed(request: web.Request, allowed: tuple[str, ...]) -> bool:
    origin = request.headers.get("Origin")
    if origin is None or "*" in allowed:
        return True  # not a browser, or any site may embed the widget
    own = f"{public_scheme(request)}://{request.host}"
    return origin.rstrip("/") in allowed or origin.rstrip("/") == own


def public_scheme(request: web.Request) -> str:
    """The scheme the browser used: behind a trusted proxy that terminates TLS (nginx,
    deploy/), its X-Forwarded-Proto; from anyone else the header is ignored."""
    forwarded = request.headers.get("X-Forwarded-Proto", "").strip().lower()
    if forwarded in ("http", "https") and from_trusted_proxy(request):
        return forwarded
    return request.scheme


def from_trusted_proxy(request: web.Request) -> bool:
    trusted = request.config_dict[CONFIG].trusted_proxies
    try:
        peer = ipaddress.ip_address(request.remote or "")
    except ValueError:
        return False
    return any(peer in net for net in trusted)
