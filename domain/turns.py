"""What a conversation store and the dialogue service agree on about one turn."""

from __future__ import annotations


class TurnConflict(Exception):
    """The person's conversation changed (another worker's turn for the same person)
    between the moment a turn read it and the moment it wrote: nothing of the turn was
    written. The service runs the turn again, on what is there now, with the
    conversation locked from the start (so this cannot happen twice)."""
