"""Staff sessions: encrypted cookies, CSRF tokens, login throttling, security headers."""
from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
import warnings
from typing import Awaitable, Callable

from aiohttp import web
from aiohttp.web_exceptions import NotAppKeyWarning
from aiohttp_session import Session, get_session, new_session
from aiohttp_session import setup as setup_session
from aiohttp_session.cookie_storage import EncryptedCookieStorage
from cryptography.fernet import Fernet

from storage.db import Database
from storage.shared import SharedState

# aiohttp-session 2.12.1 (the latest) stores its session under string request keys, which
# aiohttp 3.14 warns about at every request: that one warning, from that package only.
warnings.filterwarnings("ignore", category=NotAppKeyWarning, module="aiohttp_session")

COOKIE = "jalerte_staff"
SESSION_HOURS = 8
USER = "user"
SID = "sid"  # the server-side session (storage.staff: revocable)
CSRF = "csrf"

CSP = ("default-src 'none'; img-src 'self' data:; style-src 'self'; form-action 'self'; "
       "frame-ancestors 'none'; base-uri 'none'")
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def fernet_key(secret: bytes) -> bytes:
    """A Fernet key derived from the app secret (the raw secret never encrypts cookies)."""
    return base64.urlsafe_b64encode(hashlib.sha256(b"jalerte staff sessions\0" + secret).digest())


def setup_staff_sessions(app: web.Application, secret: bytes, secure: bool) -> None:
    storage = EncryptedCookieStorage(
        Fernet(fernet_key(secret)), cookie_name=COOKIE, max_age=SESSION_HOURS * 3600, path="/staff",
        httponly=True, samesite="Strict", secure=secure,
    )
    setup_session(app, storage)


@web.middleware
async def security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    """CSP and friends on every /staff answer, errors and redirects included."""
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        if request.path.startswith("/staff"):
            exc.headers.update(SECURITY_HEADERS)
        raise
    if request.path.startswith("/staff"):
        response.headers.update(SECURITY_HEADERS)
    return response


def csrf_token(session: Session) -> str:
    if CSRF not in session:
        session[CSRF] = secrets.token_urlsafe(32)
    return session[CSRF]


async def check_csrf(request: web.Request) -> dict:
    """The posted form, if its CSRF token matches the session's; 403 otherwise."""
    form = await request.post()
    session = await get_session(request)
    expected = session.get(CSRF, "")
    given = str(form.get("csrf_token", ""))
    if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
        raise web.HTTPForbidden(text="Jeton CSRF manquant ou invalide.")
    return dict(form)


async def start_session(request: web.Request, user: str, sid: str) -> None:
    """A fresh session on login (never reuse the anonymous one: no fixation)."""
    session = await new_session(request)
    session[USER] = user
    session[SID] = sid
    session[CSRF] = secrets.token_urlsafe(32)


class LoginThrottle:
    """Five tries per name and per address in each 15-minute window, counted in the
    database before the password is checked: a burst of concurrent tries, on one worker
    or several, cannot get more than five checked."""

    FREE_TRIES = 5
    WINDOW = 15 * 60

    def __init__(self, database: Callable[[], Database]):
        self._database = database
        self._state: SharedState | None = None

    def _shared(self) -> SharedState:
        db = self._database()
        if self._state is None or self._state.db is not db:
            self._state = SharedState(db)
        return self._state

    async def attempt(self, keys: list[str]) -> int:
        """Counts a try for each key; seconds to wait (0: check the password)."""
        shared = self._shared()
        over = False
        for key in keys:
            over = await shared.hit(f"login:{key}", self.WINDOW) > self.FREE_TRIES or over
        if not over:
            return 0
        return max(1, int(self.WINDOW - time.time() % self.WINDOW))

    async def succeeded(self, keys: list[str]) -> None:
        shared = self._shared()
        for key in keys:
            await shared.reset(f"login:{key}")
