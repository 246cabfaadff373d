"""What a conversation store and the dialogue service agree on about one turn."""

from __future__ import annotations

from dataclasses import dataclass


class TurnConflict(Exception):
    """The person's conversation changed (another worker's turn for the same person)
    between the moment a turn read it and the moment it wrote: nothing of the turn was
    written. The service runs the turn again, on what is there now, with the
    conversation locked from the start (so this cannot happen twice)."""


@dataclass(frozen=True)
class Limits:
    """The rate limits a message is counted against before its turn runs: counter key
    → (window in seconds, most events allowed in one window). The store counts them
    in the statement that reads the conversation (one round trip for both)."""

    counted: dict[str, tuple[int, int]]

    @property
    def windows(self) -> dict[str, int]:
        return {key: window for key, (window, _most) in self.counted.items()}

    def allow(self, counts: list[int]) -> bool:
        """Whether counts (in the keys' order, this message included) are within them."""
        return all(
            n <= most for n, (_window, most) in zip(counts, self.counted.values(), strict=True)
        )
