"""Who a request comes from, and what one address may do.

Per-session limits alone are no limit: anyone can open a new session. So the widget's
WebSocket and `/upload` are also limited per client address: open sockets, new sessions,
turns, uploads and `shared` notices. An address is the peer's, or behind a reverse proxy
listed in `JALERTE_TRUSTED_PROXIES`, the last address in `X-Forwarded-For` that is not
one of those proxies (the earlier ones are whatever the client wrote). IPv6 clients are
counted per /64, the block one subscriber gets.

The limits are generous: a town hall's network or a mobile operator's shared address
(CGNAT) puts many honest people behind one address, and an outage brings them at once.
Open sockets are the exception, since the server has few (`JALERTE_WEB_MAX_CONNECTIONS`
per worker, 200 by default): one address may hold a twentieth of them (10), sockets
nobody uses are closed (bot.channels.web.app, `JALERTE_WEB_IDLE_SECONDS`), and the last tenth of
the server's sockets goes only to addresses holding none, so that addresses at their
cap, however many, always leave room for someone new.
"""

from __future__ import annotations

import ipaddress
from collections import Counter
from dataclasses import dataclass
from typing import Iterable, Mapping

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class AddressLimits:
    """What one client address may do (0 turns a limit off)."""

    connections: int = 10  # open WebSockets at once, per worker (a twentieth of 200)
    sessions_per_hour: int = 120  # new conversations
    turns_per_minute: int = 180  # messages, buttons and photos, all sessions together
    uploads_per_minute: int = 30
    notices_per_minute: int = 20  # "shared on …" notices, never answered

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> "AddressLimits":
        default = cls()

        def number(name: str, value: int) -> int:  # named in full: .env.example lists them
            raw = environ.get(name)
            return int(raw) if raw else value

        return cls(
            connections=number("JALERTE_WEB_CONNECTIONS_PER_ADDRESS", default.connections),
            sessions_per_hour=number("JALERTE_WEB_SESSIONS_PER_ADDRESS", default.sessions_per_hour),
            turns_per_minute=number("JALERTE_WEB_TURNS_PER_ADDRESS", default.turns_per_minute),
            uploads_per_minute=number(
                "JALERTE_WEB_UPLOADS_PER_ADDRESS", default.uploads_per_minute
            ),
            notices_per_minute=number(
                "JALERTE_WEB_NOTICES_PER_ADDRESS", default.notices_per_minute
            ),
        )


def trusted_proxies(spec: str | None) -> tuple[IpNetwork, ...]:
    """`JALERTE_TRUSTED_PROXIES`: addresses or networks, comma-separated."""
    return tuple(
        ipaddress.ip_network(part.strip(), strict=False)
        for part in (spec or "").split(",")
        if part.strip()
    )


def _ip(text: str | None) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    if not text:
        return None
    text = text.strip()
    if text.startswith("[") and "]" in text:  # "[2001:db8::1]:443"
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # "203.0.113.7:51000"
        text = text.split(":")[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def client_address(
    peer: str | None, forwarded_for: Iterable[str], trusted: tuple[IpNetwork, ...]
) -> str:
    """The key a client is counted under (see the module's docstring)."""
    address = _ip(peer)
    if address is not None and any(address in net for net in trusted):
        hops = [hop for header in forwarded_for for hop in header.split(",")]
        for hop in reversed(hops):
            candidate = _ip(hop)
            if candidate is None:
                break  # a hop the proxy did not write: trust nothing before it
            address = candidate
            if not any(candidate in net for net in trusted):
                break
    if address is None:
        return "unknown"
    if isinstance(address, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


class OpenSockets:
    """Open WebSockets per address and in all, in this worker (a socket lives in one
    process)."""

    def __init__(self) -> None:
        self._open: Counter[str] = Counter()
        self.total = 0

    def take(self, address: str, limit: int, capacity: int = 0) -> bool:
        """One more socket for `address`, if it holds fewer than `limit` and the worker
        fewer than `capacity`, of which the last tenth is for addresses holding none."""
        held = self._open[address]
        if (
            (limit and held >= limit)
            or (capacity and self.total >= capacity)
            or (capacity and held and self.total >= capacity - capacity // 10)
        ):
            return False
        self._open[address] += 1
        self.total += 1
        return True

    def give_back(self, address: str) -> None:
        self.total -= 1
        self._open[address] -= 1
        if self._open[address] <= 0:
            del self._open[address]
