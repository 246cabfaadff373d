"""The parse service: one trained model behind HTTP, on loopback or a Unix socket.

    POST /parse   {"text": "…"}            → the `jalerte parse` record
    POST /parse   {"texts": ["…", …]}      → {"results": [record, …]} (at most 100)
    GET  /health                           → {"status": "ok", "model": "<file name>"}

Parse answers carry `Server-Timing: parse;dur=<ms>`, the time spent parsing.

The model is loaded once, before the service listens. Text is parsed by `NluParser`,
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
PARSER = web.AppKey("parser", NluParser)
MODEL = web.AppKey("model", str)
MAX_BATCH = 100
MAX_BODY = 2 * 1024 * 1024


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


async def health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok", "model": request.app[MODEL]})


async def parse(request: web.Request) -> web.Response:
    try:
        body: Any = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError, ValueError):
        return _error(400, 'the body must be JSON: {"text": …} or {"texts": […]}')
    except web.HTTPRequestEntityTooLarge:
        return _error(413, f"the body is larger than {MAX_BODY} bytes")
    parser = request.app[PARSER]
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
    return web.json_response(answer, headers={"Server-Timing": f"parse;dur={elapsed:.3f}"})


def make_app(parser: NluParser, model_name: str) -> web.Application:
    app = web.Application(client_max_size=MAX_BODY)
    app[PARSER] = parser
    app[MODEL] = model_name
    app.router.add_get("/health", health)
    app.router.add_post("/parse", parse)
    return app


async def serve(
    model_path: Path, host: str = "127.0.0.1", port: int | None = None, socket: Path | None = None
) -> None:
    """Loads the model, then serves until cancelled (SIGINT/SIGTERM in `jalerte-nlu`)."""
    parser = await NluParser.load(model_path)
    runner = web.AppRunner(make_app(parser, model_path.name), access_log=None)
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
