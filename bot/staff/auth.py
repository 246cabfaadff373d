"""Staff sessions: encrypted cookies, CSRF tokens, login throttling, security headers."""
from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
import warnings
from collections import defaultdict
from typing import Awaitable, Callable

from aiohttp import web
from aiohttp.web_exceptions import NotAppKeyWarning
from aiohttp_session import Session, get_session, new_session
from aiohttp_session import setup as setup_session
from aiohttp_session.cookie_storage import EncryptedCookieStorage
from cryptography.fernet import Fernet

# aiohttp-session 2.12.1 (the latest) stores its session under string request keys, which
# aiohttp 3.14 warns about at every request: that one warning, from that package only.
warnings.filterwarnings("ignore", category=NotAppKeyWarning, module="aiohttp_session")

COOKIE = "jalerte_staff"
SESSION_HOURS = 8
USER = "user"
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


async def start_session(request: web.Request, user: str) -> None:
    """A fresh session on login (never reuse the anonymous one: no fixation)."""
    session = await new_session(request)
    session[USER] = user
    session[CSRF] = secrets.token_urlsafe(32)


class LoginThrottle:
    """After 5 failures for a name or an address, each further try waits longer."""

    FREE_TRIES = 5
    WINDOW = 15 * 60

    def __init__(self) -> None:
        self._failures: dict[str, list[float]] = defaultdict(list)

    def _recent(self, key: str, now: float) -> list[float]:
        kept = [t for t in self._failures.get(key, []) if t > now - self.WINDOW]
        if kept:
            self._failures[key] = kept
        else:
            self._failures.pop(key, None)
        return kept

    def retry_after(self, keys: list[str]) -> int:
        """Seconds to wait before another try is even checked (0: go ahead)."""
        now = time.monotonic()
        wait = 0.0
        for key in keys:
            failures = self._recent(key, now)
            extra = len(failures) - self.FREE_TRIES
            if extra >= 0:
                delay = min(2 ** extra * 30, self.WINDOW)
                wait = max(wait, failures[-1] + delay - now)
        return int(wait + 0.999) if wait > 0 else 0

    def failed(self, keys: list[str]) -> None:
        now = time.monotonic()
        for key in keys:
            self._failures[key].append(now)
        if len(self._failures) > 50_000:  # bounded memory under a spray of names
            self._failures.clear()

    def succeeded(self, keys: list[str]) -> None:
        for key in keys:
            self._failures.pop(key, None)
