"""Staff sessions: encrypted cookies, CSRF tokens, login throttling, security headers."""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
import secrets
import time
from dataclasses import dataclass
from typing import Awaitable, Callable

from aiohttp import web
from aiohttp_session import Session, get_session, new_session
from aiohttp_session import setup as setup_session
from aiohttp_session.cookie_storage import EncryptedCookieStorage
from cryptography.fernet import Fernet

from storage.db import Database
from storage.staff import LoginTries


COOKIE = "jalerte_staff"
SESSION_HOURS = 8
USER = "user"
SID = "sid"  # the server-side session (storage.staff: revocable)
CSRF = "csrf"

CSP = (
    "default-src 'none'; img-src 'self' data:; style-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
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
        Fernet(fernet_key(secret)),
        cookie_name=COOKIE,
        max_age=SESSION_HOURS * 3600,
        path="/staff",
        httponly=True,
        samesite="Strict",
        secure=secure,
    )
    setup_session(app, storage)


@web.middleware
async def security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    """CSP and friends on every answer of the console, errors and redirects included."""
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        exc.headers.update(SECURITY_HEADERS)
        raise
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


def in_words(seconds: int) -> str:
    """« 1 seconde », « 45 secondes », « 5 minutes » (minutes rounded up)."""
    if seconds < 60:
        return f"{seconds} seconde{'s' if seconds > 1 else ''}"
    minutes = math.ceil(seconds / 60)
    return f"{minutes} minute{'s' if minutes > 1 else ''}"


@dataclass(frozen=True)
class LoginTry:
    """A login try as the throttle saw it: how long to wait (0: the password is checked
    now) and the rows to settle it with."""

    wait: int
    account: str = ""  # keyed hash of the name
    address: str = ""  # keyed hash of the address
    busy: tuple[tuple[str, int], ...] = ()


class LoginThrottle:
    """Wrong passwords slow down their own address and the account they were tried on,
    never lock anyone out.

    - The client's address (`address_of`, which believes X-Forwarded-For only from
      `JALERTE_TRUSTED_PROXIES`): after 5 wrong passwords from it, for any names, it waits
      1 s before its next check, then 2 s, 4 s… at most 5 minutes.
    - The account: after 5 wrong passwords for it from anywhere, each address waits the
      same growing delay before each check for it, counted from its own last wrong
      password for it, or from its first try while the account was being guessed: a
      guess from another address never pushes anyone's wait further, so the account's
      owner waits 5 minutes at most, whoever keeps guessing.
    - A try that comes too early is refused unchecked and changes nothing; one check at a
      time per address and per account and address, even in a burst over several workers.
    - Wrong passwords are remembered for one to two hours (this clock hour and the last).
      A good one clears its address's and makes that address known for the account.

    Names and addresses are stored only as keyed hashes, in the shared `counters` table.
    `clock` (seconds, like time.time) can be set by tests.
    """

    FREE_TRIES = 5
    FIRST_DELAY = 1
    MAX_DELAY = 5 * 60
    WINDOW = 3600  # failures are counted per clock hour; the last two count
    BUSY = 60  # a check in progress holds its rows at most this long (a worker died)

    def __init__(
        self,
        database: Callable[[], Database],
        secret: bytes,
        clock: Callable[[], float] = time.time,
    ):
        self._database = database
        self._secret = secret
        self.clock = clock
        self._tries: LoginTries | None = None

    def _store(self) -> LoginTries:
        db = self._database()
        if self._tries is None or self._tries.db is not db:
            self._tries = LoginTries(db)
        return self._tries

    @classmethod
    def delay(cls, failures: int) -> int:
        """Seconds between checks after this many recent wrong passwords."""
        if failures < cls.FREE_TRIES:
            return 0
        return min(cls.MAX_DELAY, cls.FIRST_DELAY * 2 ** min(failures - cls.FREE_TRIES, 20))

    async def attempt(self, name: str, address: str) -> LoginTry:
        """Whether this try's password may be checked now; `address` is already keyed
        (bot.channels.web.app.address_of)."""
        tries, now = self._store(), self.clock()
        account = hmac.new(
            self._secret, b"staff-login:" + name.lower().encode(), hashlib.sha256
        ).hexdigest()[:16]
        pair, own = f"login:gate:{account}:{address}", f"login:gate:{address}"
        gates = await tries.latest([pair, own])
        opens = [gates.get(own, 0)]
        if pair in gates:
            opens.append(gates[pair])
        elif delay := self.delay(
            sum(await tries.counts((f"login:account:{account}", hour) for hour in self._hours(now)))
        ):
            # The account is being guessed and this address has not tried it: its wait
            # starts now, and nobody else's try restarts it.
            opens.append(math.ceil(now + delay))
            await tries.add([(pair, opens[-1])])
        wait = math.ceil(max(opens) - now)
        if wait > 0:
            return LoginTry(wait)
        minute = int(now // self.BUSY * self.BUSY)
        busy = ((f"login:busy:{account}:{address}", minute), (f"login:busy:{address}", minute))
        if max(await tries.add(busy)) > 1:  # another check of these is in progress
            await tries.add(busy, by=-1)
            return LoginTry(1)
        return LoginTry(0, account, address, busy)

    async def settle(self, attempt: LoginTry, correct: bool) -> None:
        """Records the outcome of the check `attempt` allowed."""
        tries, now = self._store(), self.clock()
        own = f"login:gate:{attempt.address}"
        pair = f"login:gate:{attempt.account}:{attempt.address}"
        await tries.add(attempt.busy, by=-1)
        if correct:
            await tries.forget([f"login:address:{attempt.address}", own])
            await tries.add([(pair, int(now))])  # this address is known for the account
            return
        keys = (f"login:account:{attempt.account}", f"login:address:{attempt.address}")
        current, last = self._hours(now)
        failures = [
            this + before
            for this, before in zip(
                await tries.add((key, current) for key in keys),
                await tries.counts((key, last) for key in keys),
            )
        ]
        await tries.add(
            [(gate, self._moment(now, count)) for gate, count in zip((pair, own), failures)]
        )

    def _hours(self, now: float) -> tuple[int, int]:
        """The windows wrong passwords count in: this clock hour's and the last's."""
        current = int(now // self.WINDOW * self.WINDOW)
        return current, current - self.WINDOW

    def _moment(self, now: float, failures: int) -> int:
        """When the next check may be, after this many wrong passwords."""
        delay = self.delay(failures)
        return math.ceil(now + delay) if delay else int(now)
