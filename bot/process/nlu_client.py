"""The bot's side of the parse service: the engine's NLU protocol over HTTP.

`RemoteNlu.parse` sends one message and returns the `ParseResult` the service read;
it waits `timeout` seconds per try and tries again while the service restarts, then
raises `NluUnavailable` (the dialogue answers « service momentanément indisponible »
and keeps everything already given). No Rasa here: this runs in the bot's process.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import aiohttp

from domain.parse import NluUnavailable, ParseResult

_JSON = {"Content-Type": "application/json"}


class RemoteNlu:
    def __init__(
        self,
        url: str = "http://127.0.0.1:5055",
        socket: Path | None = None,
        timeout: float = 2.0,
        retries: int = 3,
        backoff: float = 0.25,
    ):
        self.url = "http://nlu" if socket else url.rstrip("/")
        self.socket = socket
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self.retries = retries
        self.backoff = backoff
        self._session: aiohttp.ClientSession | None = None
        # The service's own parse time for the latest answer (its Server-Timing header),
        # in ms: what a request costs beyond it is the transport's.
        self.last_parse_ms: float | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = (
                aiohttp.UnixConnector(path=str(self.socket))
                if self.socket
                else aiohttp.TCPConnector(limit=64)
            )
            self._session = aiohttp.ClientSession(connector=connector, timeout=self.timeout)
        return self._session

    async def healthy(self) -> bool:
        try:
            async with self._client().get(f"{self.url}/health") as response:
                return response.status == 200 and (await response.json()).get("status") == "ok"
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError, ValueError):
            return False

    async def wait_healthy(self, within: float) -> bool:
        """Polls the health endpoint until it answers (True) or `within` seconds pass."""
        deadline = asyncio.get_running_loop().time() + within
        while asyncio.get_running_loop().time() < deadline:
            if await self.healthy():
                return True
            await asyncio.sleep(0.1)
        return False

    async def _post(self, payload: dict) -> dict:
        last: Exception | None = None
        for attempt in range(self.retries):
            if attempt:
                await asyncio.sleep(self.backoff * attempt)
            try:
                async with self._client().post(
                    f"{self.url}/parse", data=json.dumps(payload).encode(), headers=_JSON
                ) as response:
                    if response.status == 200:
                        self.last_parse_ms = _parse_duration(response.headers)
                        # UTF-8 bytes to json.loads: response.json() looks the charset
                        # up in the headers (the email package) at every parse.
                        return json.loads(await response.read())
                    last = NluUnavailable(f"parse service answered {response.status}")
                    if response.status < 500:
                        break  # our request was refused: trying again will not help
            except (aiohttp.ClientError, asyncio.TimeoutError, OSError, ValueError) as exc:
                last = exc
        raise NluUnavailable(str(last) or "parse service unreachable") from last

    async def parse(self, text: str) -> ParseResult:
        return ParseResult.from_json(await self._post({"text": text}))

    async def parse_many(self, texts: list[str]) -> list[ParseResult]:
        """Several messages in one request (at most 100), in order."""
        results = (await self._post({"texts": texts}))["results"]
        return [ParseResult.from_json(record) for record in results]

    async def reload(self, within: float = 180.0) -> bool:
        """Asks the service to load its model file again (POST /reload); False when it
        could not (the file does not load, or a service without /reload)."""
        try:
            async with self._client().post(
                f"{self.url}/reload", timeout=aiohttp.ClientTimeout(total=within)
            ) as response:
                return response.status == 200
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError):
            return False

    async def renew(self) -> None:
        """After the service at this address was replaced: the next requests connect
        anew (a kept-alive connection would still reach the old one). A request in flight
        on an old connection fails and is sent again, as any transport error is."""
        old, self._session = self._session, None
        if old is not None:
            await old.close()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()


def _parse_duration(headers) -> float | None:
    timing = headers.get("Server-Timing", "")
    _, found, duration = timing.partition("dur=")
    try:
        return float(duration.split(";")[0].split(",")[0]) if found else None
    except ValueError:
        return None
