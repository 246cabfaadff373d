"""The parse service: one trained model behind HTTP, on loopback or a Unix socket.

    POST /parse   {"text": "…"}            → the `jalerte parse` record
    POST /parse   {"texts": ["…", …]}      → {"results": [record, …]} (at most 100)
    GET  /health                           → {"status": "ok", "model": "<file name>"}
    POST /reload                           → the model file loaded again (a newer one at
                                             the same path), then served: {"model": …}

Parse answers carry `Server-Timing: parse;dur=<ms>`, the time spent parsing.

The model is loaded before the service listens. `/reload` loads the file at the same path
again (never another path) in worker threads while the current model keeps answering,
then answers with the new one: about a second, where a new process takes nine (Rasa's
imports). A model that fails to load leaves the current one in service (500). Text is parsed by `NluParser`,
which never shows Rasa a leading "/" (its `/intent{…}` syntax). Bad requests get a JSON
error with a 4xx status, never a traceback. Run it with `jalerte-nlu serve`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from pathlib import Path
from typing import Any

from aiohttp import web

from nlu.parser import NluParser

log = logging.getLogger(__name__)


class Served:
    """The model answering now (replaced whole by /reload)."""

    def __init__(self, parser: NluParser, path: Path):
        self.parser = parser
        self.path = path
        self.reloading = asyncio.Lock()


SERVED = web.AppKey("served", Served)
MAX_BATCH = 100
MAX_BODY = 2 * 1024 * 1024


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


async def health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok", "model": request.app[SERVED].path.name})


async def reload(request: web.Request) -> web.Response:
    served = request.app[SERVED]
    async with served.reloading:
        started = time.perf_counter()
        try:
            parser = await NluParser.load(served.path)
        except Exception:
            log.exception("could not load %s again; the current model keeps serving", served.path)
            return _error(500, f"could not load {served.path.name}: the current model is kept")
        served.parser = parser
    seconds = time.perf_counter() - started
    print(f"jalerte-nlu: model {served.path.name} loaded again in {seconds:.1f} s", flush=True)
    return web.json_response({"model": served.path.name, "seconds": round(seconds, 3)})


async def parse(request: web.Request) -> web.Response:
    try:
        # JSON is UTF-8 (RFC 8259): read as bytes, not through request.json(), whose
        # charset lookup parses the Content-Type with the email package at every call.
        body: Any = json.loads(await request.read())
    except (json.JSONDecodeError, UnicodeDecodeError, ValueError):
        return _error(400, 'the body must be JSON: {"text": …} or {"texts": […]}')
    except web.HTTPRequestEntityTooLarge:
        return _error(413, f"the body is larger than {MAX_BODY} bytes")
    parser = request.app[SERVED].parser
    started = time.perf_counter()
    if isinstance(body, dict) and isinstance(body.get("text"), str):
        answer: Any = (await parser.parse(body["text"])).to_json()
    else:
        texts = body.get("texts") if isinstance(body, dict) else None
        if not (isinstance(texts, list) and all(isinstance(t, str) for t in texts)):
            return _error(400, 'expected {"text": string} or {"texts": [string, …]}')
        if len(texts) > MAX_BATCH:
            return _error(413, f"at most {MAX_BATCH} texts per request")
        answer = {"results": [(await parser.parse(t)).to_json() for t in texts]}
    # The parse's own time, so that a client can tell it from the transport's.
    elapsed = (time.perf_counter() - started) * 1000
    return web.Response(
        body=json.dumps(answer).encode(),
        content_type="application/json",
        headers={"Server-Timing": f"parse;dur={elapsed:.3f}"},
    )


def make_app(parser: NluParser, model_path: Path) -> web.Application:
    app = web.Application(client_max_size=MAX_BODY)
    app[SERVED] = Served(parser, Path(model_path))
    app.router.add_get("/health", health)
    app.router.add_post("/parse", parse)
    app.router.add_post("/reload", reload)
    return app


async def serve(
    model_path: Path, host: str = "127.0.0.1", port: int | None = None, socket: Path | None = None
) -> None:
    """Loads the model, then serves until cancelled (SIGINT/SIGTERM in `jalerte-nlu`)."""
    parser = await NluParser.load(model_path)
    runner = web.AppRunner(make_app(parser, model_path), access_log=None)
    await runner.setup()
    if socket is not None:
        socket.parent.mkdir(parents=True, exist_ok=True)
        socket.unlink(missing_ok=True)
        site: web.BaseSite = web.UnixSite(runner, str(socket))
    else:
        site = web.TCPSite(runner, host, port or 5055)
    await site.start()
    print(
        f"jalerte-nlu: model {model_path.name} loaded, listening on "
        f"{socket or f'http://{host}:{port or 5055}'}",
        flush=True,
    )
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()
