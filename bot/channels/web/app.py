"""The aiohttp application factory: `create_app(config)`; no work at import."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import logging
import weakref
from typing import Any, AsyncIterator

import aiohttp
from aiohttp import WSCloseCode, WSMsgType, web, web_response
from sqlalchemy import text as sql

from bot.process.config import Config
from bot.process.metrics import metrics_endpoint
from bot.channels.web.base import (
    CHANNEL,
    CONFIG,
    CONSOLE,
    OPEN_BY_ADDRESS,
    RUNTIME,
    SECRET,
    SOCKETS,
    BUSY,
    DRAINING,
    UPLOADS,
    InFlight,
    STATIC,
    RuntimeSlot,
    address_of,
    issued_session,
    new_session_id,
    origin_allowed,
    rt_of,
    shared_of,
    limits_of,
    within_rate,
)
from bot.channels.web.clients import OpenSockets
from bot.channels.web.privacy import privacy_page
from bot.channels.web.summary import accessibility_page, summary
from bot.console.auth import SECURITY_HEADERS
from bot.console.views import create_console
from bot.channels.web.history import history
from bot.process.wiring import Runtime, load_secret, runtime
from domain.taxonomy import Taxonomy
from storage.staff import StaffRepository
from dialogues.events import ChoiceEvent, PhotoEvent, SharedEvent, TextEvent
from storage.db import Election
from storage.photos import MAX_BYTES, PhotoRejected
from storage.shared import TelegramUpdates

log = logging.getLogger(__name__)

MAX_FRAME_CHARS = 32 * 1024  # a chat message, not a document
IDLE_CLOSE = 4000  # close code of a socket left idle (JALERTE_WEB_IDLE_SECONDS), reason "idle"
UNKNOWN_UPLOAD = object()  # a photo frame naming an upload this session does not have
ERRORS = {
    "bad_frame": ("Ce message n'a pas pu être lu.", "This message could not be read."),
    "too_large": ("Ce message est trop long.", "This message is too long."),
    "rate_limited": (
        "Vous envoyez beaucoup de messages : patientez une minute, puis réessayez.",
        "You are sending many messages: wait a minute and try again.",
    ),
    "unknown_upload": (
        "Cette photo n'est plus disponible : envoyez-la à nouveau.",
        "This photo is no longer available: please send it again.",
    ),
    "server_error": (
        "Un problème technique est survenu : réessayez dans un instant.",
        "A technical problem occurred: please try again in a moment.",
    ),
    "too_many_connections": (
        "Le service est très sollicité : réessayez dans un instant.",
        "The service is very busy: please try again shortly.",
    ),
    "too_many_sessions": (
        "Trop de nouvelles conversations depuis votre réseau : réessayez dans quelques minutes.",
        "Too many new conversations from your network: please try again in a few minutes.",
    ),
}


def error_body(code: str, lang: str) -> dict[str, str]:
    french, english = ERRORS[code]
    return {"type": "error", "code": code, "message": english if lang == "en" else french}


def _lang(request: web.Request) -> str:
    return "en" if request.query.get("lang") == "en" else "fr"


PURGE_EVERY = 24 * 3600.0
PURGER = "retention purge"  # the election's name: one process purges among all
PURGER_RETRY = 60.0  # seconds; a purge a minute late after its process died is no matter


async def _daily_purge(app: web.Application) -> None:
    """The retention periods, applied an hour after this process is elected to purge,
    then daily."""
    from storage.retention import purge

    await asyncio.sleep(3600)
    while True:
        config, rt = app[CONFIG], rt_of(app)
        try:
            report = await purge(
                rt.db,
                rt.photos.root,
                config.retention_transcript_days,
                config.retention_free_text_days,
            )
            log.info("retention purge: %s", report.as_text())
        except Exception:
            log.exception("retention purge failed; trying again tomorrow")
        await asyncio.sleep(PURGE_EVERY)


async def _runtime_ctx(app: web.Application) -> AsyncIterator[None]:
    """Loads the model and opens the database before the server listens."""
    async with runtime(app[CONFIG]) as rt:
        app[RUNTIME].rt = rt
        purging: asyncio.Task[None] | None = None

        async def lead() -> None:
            nonlocal purging
            purging = asyncio.create_task(_daily_purge(app))

        async def step_down() -> None:
            if purging is not None:
                purging.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await purging

        # Whichever process the database elects purges (any worker, any machine); when
        # it dies, another one takes over.
        election = Election(rt.db, PURGER, lead, step_down, every=PURGER_RETRY)
        await election.start()
        yield
        await election.stop()


# -- headers on every answer ---------------------------------------------------------------
# The demo page: its styles inline (like any site's), the widget's script from this
# server, the widget's WebSocket, uploads and summary form to this server; nothing inline
# runs. Any other answer without a policy of its own (JSON, errors) may load nothing.
DEMO_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; connect-src 'self'; form-action 'self'; "
    "object-src 'none'; frame-ancestors 'none'; base-uri 'none'"
)
DEFAULT_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'"
HSTS = "max-age=63072000"  # two years; sent only where the staff cookies are Secure
SERVER = "jalerte"  # aiohttp's default `Server` names Python's and its own version


async def _security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """Every answer, errors and WebSocket handshakes included, just before its headers
    go out; a route's own stricter policy (console, summary) is kept. The widget's
    script is loaded by other sites: no Cross-Origin-Resource-Policy on it."""
    headers = response.headers
    headers["X-Content-Type-Options"] = "nosniff"
    headers.setdefault("X-Frame-Options", "DENY")  # the widget is a script, never framed
    # The demo page posts the summary form: with « no-referrer » its Origin would be
    # « null », which a list of allowed sites refuses.
    headers.setdefault(
        "Referrer-Policy",
        "strict-origin-when-cross-origin" if request.path == "/" else "no-referrer",
    )
    headers.setdefault("Content-Security-Policy", DEMO_CSP if request.path == "/" else DEFAULT_CSP)
    if request.config_dict[CONFIG].staff_secure_cookies:
        headers["Strict-Transport-Security"] = HSTS
    headers["Server"] = SERVER


# At SIGTERM the listening socket is already closed (aiohttp stops its sites first: the
# proxy sends new connections to another host). Photos being uploaded are received first
# (their person's socket stays open for the photo frame that follows). Then each
# WebSocket is closed with 1012 (« service restart ») as soon as the turn it is
# answering, if any, has been answered: no turn is cut, no answer lost; the widget
# reconnects at once with its session, through the proxy, to a host that runs. Turns
# take milliseconds, uploads seconds; DRAIN_SECONDS bounds the whole wait, and the
# closes go out together, bounded too, so that the process ends well within systemd's
# TimeoutStopSec (deploy/systemd).
DRAIN_SECONDS = 10.0
# An upload's answer still has to reach the phone, which then sends the photo frame:
# the person's socket is not closed before this long after the last upload ended.
PHOTO_FRAME_SECONDS = 1.0
CLOSE_SECONDS = 3.0
RESTART_CLOSE = WSCloseCode.SERVICE_RESTART


async def _drain(app: web.Application) -> None:
    if app[DRAINING].is_set():
        return  # drained already (by _serve, before aiohttp's cleanup)
    app[DRAINING].set()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + DRAIN_SECONDS
    uploads = app[UPLOADS]
    while loop.time() < deadline and (
        uploads.count or loop.time() - uploads.last_ended < PHOTO_FRAME_SECONDS
    ):
        await asyncio.sleep(0.05)
    # Waiting for the person: nothing in flight.
    await _close_all([ws for ws in app[SOCKETS] if ws not in app[BUSY]])
    while app[BUSY] and loop.time() < deadline:  # each closes itself once answered
        await asyncio.sleep(0.02)
    await _close_all(list(app[SOCKETS]))


async def _close_all(sockets: list[web.WebSocketResponse]) -> None:
    """Closed together; a client that does not answer the close is not waited for."""
    if not sockets:
        return
    closing = [ws.close(code=RESTART_CLOSE, message=b"server restart") for ws in sockets]
    with contextlib.suppress(asyncio.TimeoutError):
        await asyncio.wait_for(asyncio.gather(*closing, return_exceptions=True), CLOSE_SECONDS)


# -- routes ---------------------------------------------------------------------------
async def _into_console(_request: web.Request) -> web.StreamResponse:
    raise web.HTTPFound("/staff/alerts", headers=SECURITY_HEADERS)


async def demo_page(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC / "demo.html", headers={"Cache-Control": "no-cache"})


async def widget_js(request: web.Request) -> web.FileResponse:
    return web.FileResponse(
        STATIC / "widget.js",
        headers={
            "Content-Type": "application/javascript; charset=utf-8",
            "Cache-Control": "public, max-age=300",
            "Access-Control-Allow-Origin": "*",
        },
    )


async def pages_css(request: web.Request) -> web.FileResponse:
    """The style of the server's own pages (accessibility statement, privacy notice)."""
    return web.FileResponse(
        STATIC / "pages.css",
        headers={"Content-Type": "text/css; charset=utf-8", "Cache-Control": "public, max-age=300"},
    )


async def livez(request: web.Request) -> web.Response:
    """Liveness: the process answers (restart it if not). Depends on nothing else."""
    return web.json_response({"status": "ok", "worker": request.app[CONFIG].worker})


async def healthz(request: web.Request) -> web.Response:
    """Readiness (/readyz, and /healthz as before): database and NLU answer; 503 sends
    traffic elsewhere while the worker still lives."""
    rt = request.app[RUNTIME].rt
    database = False
    if rt is not None:
        try:
            # Not a pooled connection: under load they are all busy with turns, and
            # the answer must come now.
            async with rt.db.unpooled.connect() as conn:
                await conn.execute(sql("SELECT 1"))
            database = True
        except Exception:  # reported, not raised: this is the health check
            log.warning("health check: database unreachable", exc_info=True)
    healthy = getattr(rt.nlu, "healthy", None) if rt is not None else None
    nlu = rt is not None and (healthy is None or await healthy())
    ok = rt is not None and database and nlu
    telegram = request.app[RUNTIME].telegram
    return web.json_response(
        {
            "status": "ok" if ok else "unavailable",
            "model": nlu,
            "database": database,
            "worker": request.app[CONFIG].worker,
            # the process elected to poll Telegram (one among all)
            "telegram_poller": telegram is not None and telegram.polling,
        },
        status=200 if ok else 503,
    )


async def upload(request: web.Request) -> web.Response:
    """A photo for the person's next frame (counted while received: see _drain)."""
    request.app[UPLOADS].count += 1
    try:
        return await _upload(request)
    finally:
        request.app[UPLOADS].count -= 1
        request.app[UPLOADS].last_ended = asyncio.get_running_loop().time()


async def _upload(request: web.Request) -> web.Response:
    config = request.app[CONFIG]
    lang = _lang(request)
    if not origin_allowed(request, config.web_allowed_origins):
        return web.json_response({"error": "forbidden_origin"}, status=403)
    if request.content_length is not None and request.content_length > MAX_BYTES + 64 * 1024:
        return _upload_error("too_large", lang, 413)
    try:
        reader = await request.multipart()
    except (AssertionError, ValueError, KeyError):
        return _upload_error("bad_frame", lang, 400)
    try:
        session, data = await _read_upload(reader)
    except _TooLarge:
        return _upload_error("too_large", lang, 413)
    except (
        ValueError,
        AssertionError,
        KeyError,
        aiohttp.ClientPayloadError,
        web.HTTPException,
    ):  # a broken multipart body: told, never a 500
        return _upload_error("bad_frame", lang, 400)
    if not session or not issued_session(request.app[SECRET], session) or data is None:
        return _upload_error("bad_frame", lang, 400)
    if not await within_rate(request.app, session, address_of(request), "uploads"):
        return _upload_error("rate_limited", lang, 429)
    # Cleaned and stored now, on storage every worker shares: the "photo" frame may
    # reach another worker. A refused file is told at that frame's turn, as before.
    rt = rt_of(request.app)
    photo, error = None, None
    try:
        stored = await rt.photos.store(data)
        photo = stored.to_dict()
    except PhotoRejected as exc:
        error = exc.reason
    upload_id = await shared_of(request.app).put_upload(
        rt.service.user_key(CHANNEL, session), photo, error
    )
    return web.json_response({"upload_id": upload_id})


class _TooLarge(Exception):
    pass


async def _read_part(part, limit: int) -> bytes:
    """A part's bytes, read in chunks and never more than `limit` (else _TooLarge)."""
    chunks, size = [], 0
    while chunk := await part.read_chunk(64 * 1024):
        size += len(chunk)
        if size > limit:
            raise _TooLarge
        chunks.append(chunk)
    return b"".join(chunks)


async def _read_upload(reader) -> tuple[str | None, bytes | None]:
    session, data = None, None
    while (part := await reader.next()) is not None:
        if part.name == "session":
            try:
                session = (await _read_part(part, 100)).decode("ascii")
            except (_TooLarge, UnicodeDecodeError):
                session = ""  # never an issued id: refused below
        elif part.name == "file":
            data = await _read_part(part, MAX_BYTES)
        else:
            await _read_part(part, 64 * 1024)  # unknown parts: drained, bounded
    return session, data


def _upload_error(code: str, lang: str, status: int) -> web.Response:
    body = error_body(code, lang)
    return web.json_response({"error": code, "message": body["message"]}, status=status)


@web.middleware
async def upload_cors(request: web.Request, handler) -> web.StreamResponse:
    """Widgets on other sites must be able to read /upload's answer (no credentials)."""
    response = await handler(request)
    if request.path == "/upload":
        allowed = request.app[CONFIG].web_allowed_origins
        origin = request.headers.get("Origin", "")
        if "*" in allowed:
            response.headers["Access-Control-Allow-Origin"] = "*"
        elif origin.rstrip("/") in allowed:
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Vary"] = "Origin"
    return response


async def websocket(request: web.Request) -> web.StreamResponse:
    app = request.app
    config = app[CONFIG]
    lang = _lang(request)
    if not origin_allowed(request, config.web_allowed_origins):
        raise web.HTTPForbidden(text="origin not allowed")
    if app[OPEN_BY_ADDRESS].total >= config.web_max_connections:
        return web.json_response(error_body("too_many_connections", lang), status=503)
    ws = web.WebSocketResponse(heartbeat=30, max_msg_size=1024 * 1024)
    await ws.prepare(request)
    address = address_of(request)
    if not app[OPEN_BY_ADDRESS].take(
        address, config.web_address_limits.connections, config.web_max_connections
    ):
        return await _refuse(ws, "too_many_connections", lang)
    try:
        return await _converse(request, ws, address, lang)
    finally:
        app[OPEN_BY_ADDRESS].give_back(address)


async def _refuse(ws: web.WebSocketResponse, code: str, lang: str) -> web.WebSocketResponse:
    """Said in words before closing: the widget shows it, then retries later."""
    await ws.send_json(error_body(code, lang))
    await ws.close(code=WSCloseCode.TRY_AGAIN_LATER)
    return ws


async def _converse(
    request: web.Request, ws: web.WebSocketResponse, address: str, lang: str
) -> web.WebSocketResponse:
    app = request.app
    rt = rt_of(app)
    session = request.query.get("session", "")
    if request.query.get("resume") == "1":
        # The session comes in the first frame, not in the URL: proxies write request
        # lines into their logs (nginx's error log, on every failover between hosts).
        session = await _resumed_session(ws)
    past: list = []  # a new session has no past
    try:
        if not issued_session(app[SECRET], session):
            if not await within_rate(app, None, address, "sessions"):
                return await _refuse(ws, "too_many_sessions", lang)
            session = new_session_id(app[SECRET])
        else:
            key = rt.service.user_key(CHANNEL, session)
            past = history(await rt.repository.transcript(CHANNEL, key))
    except Exception:  # the database gone: said, and the widget comes back later
        log.exception("web session failed")
        return await _refuse(ws, "server_error", lang)
    if app[DRAINING].is_set():  # stopping: the widget comes back through another host
        await ws.close(code=RESTART_CLOSE, message=b"server restart")
        return ws
    app[SOCKETS].add(ws)
    await ws.send_json({"type": "session", "session": session, "history": past})
    try:
        while frame := await _next_frame(ws, app[CONFIG].web_idle_seconds):
            if frame.type == WSMsgType.TEXT:
                app[BUSY].add(ws)
                try:
                    await _on_frame(app, ws, session, address, frame.data, lang)
                finally:
                    app[BUSY].discard(ws)
                if app[DRAINING].is_set():  # answered: now this host can go
                    await ws.close(code=RESTART_CLOSE, message=b"server restart")
                    break
            elif frame.type == WSMsgType.BINARY:
                await ws.send_json(error_body("bad_frame", lang))
            elif frame.type == WSMsgType.ERROR:
                log.info("websocket closed with %s", ws.exception())
    finally:
        app[SOCKETS].discard(ws)
    return ws


RESUME_WITHIN = 10.0  # seconds for the `resume` frame of a /ws?resume=1 connection


async def _resumed_session(ws: web.WebSocketResponse) -> str:
    """The session id of the client's first frame, {"type": "resume", "session": …};
    "" (a new session) for anything else, or for nothing within RESUME_WITHIN."""
    try:
        frame = await ws.receive(timeout=RESUME_WITHIN)
        data = json.loads(frame.data) if frame.type == WSMsgType.TEXT else None
    except (asyncio.TimeoutError, ValueError, TypeError, RecursionError):
        return ""
    if isinstance(data, dict) and data.get("type") == "resume":
        session = data.get("session")
        return session[:200] if isinstance(session, str) else ""
    return ""


async def _next_frame(ws: web.WebSocketResponse, idle: float) -> aiohttp.WSMessage | None:
    """The client's next frame; None once it closed, or once it sent none for `idle`
    seconds (0: never), then closed here with IDLE_CLOSE: the widget opens it again, same
    session, when the person acts. Pings and pongs are no activity: browsers answer the
    server's heartbeat by themselves, and any client could ping forever."""
    try:
        frame = await (asyncio.wait_for(ws.receive(), idle) if idle else ws.receive())
    except asyncio.TimeoutError:
        await ws.close(code=IDLE_CLOSE, message=b"idle")
        return None
    if frame.type in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED):
        return None
    return frame


async def _on_frame(
    app: web.Application,
    ws: web.WebSocketResponse,
    session: str,
    address: str,
    data: str,
    lang: str,
) -> None:
    try:
        answer = await _answer(app, session, address, data, lang)
    except Exception:  # the database gone (PostgreSQL restarting…): said, the socket kept
        log.exception("web frame failed")
        answer = error_body("server_error", lang)
    if answer is not None and not ws.closed:
        await ws.send_json(answer)


async def _answer(
    app: web.Application, session: str, address: str, data: str, lang: str
) -> dict[str, Any] | None:
    """What a frame gets back: a turn, an error, or nothing (a notice)."""
    if len(data) > MAX_FRAME_CHARS:
        return error_body("too_large", lang)
    try:
        frame: Any = json.loads(data)
    except (ValueError, RecursionError):  # RecursionError: "[[[[…" nested too deep
        frame = None
    event = await _event(app, session, frame)
    if event is None:
        return error_body("bad_frame", lang)
    if isinstance(event, SharedEvent):
        # A notice, not a turn: never answered (the widget pairs answers with its
        # messages); beyond the address's limit, dropped without a word.
        if await within_rate(app, None, address, "notices"):
            await rt_of(app).service.handle(CHANNEL, session, event)
        return None
    if event is UNKNOWN_UPLOAD:
        if not await within_rate(app, session, address):
            return error_body("rate_limited", lang)
        return error_body("unknown_upload", lang)
    # The service answers every failure politely itself (« réessayez dans un instant »),
    # and counts the message against its limits as it reads the conversation.
    output = await rt_of(app).service.handle(
        CHANNEL, session, event, language=lang, limits=limits_of(app, session, address)
    )
    if output.limited:
        return error_body("rate_limited", lang)
    return {"type": "turn", **output.to_json()}


async def _event(app: web.Application, session: str, frame: Any):
    """The dialogue event a client frame stands for; None if the frame is malformed."""
    if not isinstance(frame, dict):
        return None
    kind = frame.get("type")
    if kind == "message" and isinstance(frame.get("text"), str):
        return TextEvent(frame["text"])
    if kind == "choice" and isinstance(frame.get("value"), str):
        return ChoiceEvent(frame["value"][:200])
    if kind == "photo" and isinstance(frame.get("upload_id"), str):
        taken = await shared_of(app).take_upload(
            rt_of(app).service.user_key(CHANNEL, session), frame["upload_id"][:64]
        )
        if taken is None:
            return UNKNOWN_UPLOAD
        photo, error = taken
        return PhotoEvent(photo=photo, error=error)
    if kind == "shared" and isinstance(frame.get("network"), str):
        return SharedEvent(frame["network"][:20])
    return None


def create_app(config: Config, rt: Runtime | None = None) -> web.Application:
    """The whole server: widget, demo page, WebSocket, upload, health, Telegram.

    Without `rt`, the model and the database are opened at start-up (and closed at
    shutdown); tests pass a runtime they share between apps.
    """
    app = web.Application(client_max_size=MAX_BYTES + 64 * 1024, middlewares=[upload_cors])
    app[CONFIG] = config
    app[SECRET] = load_secret(config)
    app[SOCKETS] = weakref.WeakSet()
    app[BUSY] = weakref.WeakSet()
    app[DRAINING] = asyncio.Event()
    app[UPLOADS] = InFlight()
    app[OPEN_BY_ADDRESS] = OpenSockets()
    app[RUNTIME] = RuntimeSlot(rt)
    if rt is None:
        app.cleanup_ctx.append(_runtime_ctx)
    if config.telegram_token:
        # Webhooks on every worker; long polling by the one process the database elects
        # among all (Telegram answers 409 to a second poller of the same token).
        from bot.channels.telegram import setup_telegram

        app[RUNTIME].telegram = setup_telegram(
            app,
            config,
            lambda: rt_of(app).service,
            lambda: TelegramUpdates(rt_of(app).db),
            config.telegram_poller_retry,
        )
    # The staff console: an application of its own under /staff (its sessions, headers
    # and templates); « /staff » itself leads into it.
    app.router.add_get("/staff", _into_console)
    app[CONSOLE] = create_console(
        lambda: StaffRepository(rt_of(app).db),
        Taxonomy.load(),
        lambda: rt_of(app).photos,
        app[SECRET],
        config.staff_secure_cookies,
    )
    app.add_subapp("/staff", app[CONSOLE])
    app.on_shutdown.append(_drain)
    app.on_response_prepare.append(_security_headers)
    app.router.add_get("/", demo_page)
    app.router.add_get("/widget.js", widget_js)
    app.router.add_get("/pages.css", pages_css)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", healthz)
    app.router.add_get("/livez", livez)
    if config.metrics_token:  # else no /metrics on this public port (404)
        app.router.add_get("/metrics", metrics_endpoint(config.metrics_token))
    app.router.add_get("/ws", websocket)
    app.router.add_post("/upload", upload)
    app.router.add_post("/summary", summary)  # the alert's summary, printable (widget)
    app.router.add_get("/accessibilite", accessibility_page)  # « Déclaration d'accessibilité »
    app.router.add_get("/confidentialite", privacy_page)  # the notice the bot gives in chat
    app.router.add_get("/privacy", privacy_page)
    return app


def run(config: Config) -> None:
    """`jalerte run`: serves until SIGINT/SIGTERM, then closes everything and returns."""
    base = f"http://{config.host}:{config.port}"
    worker = config.worker  # set by `jalerte run --workers N`

    # Answers aiohttp makes before any route (a request line its parser refuses) never
    # reach _security_headers: without this they would name Python's and aiohttp's
    # versions. The server's process is ours, so its default is set here, not in create_app.
    web_response.SERVER_SOFTWARE = SERVER
    asyncio.run(_serve(config, base, announce=worker is None))


async def _serve(config: Config, base: str, announce: bool) -> None:
    """Serves until SIGINT/SIGTERM; then stops listening and drains (_drain) while the
    open connections are still read (aiohttp's own cleanup stops reading them at once,
    which would cut a photo being uploaded), then cleans up. Turns take milliseconds:
    5 s is ample for what is left, and aiohttp waits the full timeout for idle
    keep-alive connections."""
    app = create_app(config)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=5, handle_signals=False)
    await runner.setup()
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stopping.set)
    try:
        site = web.TCPSite(runner, config.host, config.port, reuse_port=config.worker is not None)
        await site.start()
        if announce:
            print(
                f"jalerte is running: open {base}/ for the demo page with the chat "
                f"widget (health: {base}/healthz). Ctrl-C to stop.",
                flush=True,
            )
        await stopping.wait()
        await site.stop()  # no new connection: the proxy sends them to another host
        await _drain(app)
    finally:
        await runner.cleanup()
