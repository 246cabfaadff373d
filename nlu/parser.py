"""The NLU service: one model per process, loaded off the loop, safe to call from async code."""

from __future__ import annotations

import asyncio
import re
from dataclasses import replace
from pathlib import Path
from typing import Protocol

from domain.parse import ParseResult, empty_result
from reading.interpret import CATEGORY_THRESHOLD, Interpreter
from reading.lexicon import Lexicon
from reading.sentences import sentences
from domain.taxonomy import Taxonomy

# Longer messages are cut for the model: the facts come first, and the classifier
# gains nothing from a 100 kB paste. The full text is still returned and stored.
MAX_MODEL_CHARS = 2000
# Rasa reads text starting with "/" as a raw intent ("/x{...}" even injects entities).
_COMMAND_PREFIX = re.compile(r"^[\s/]+")


class RawModel(Protocol):
    async def parse(self, text: str) -> dict: ...


def model_text(text: str) -> str:
    """The part of `text` that is shown to the model: no leading slash, bounded length."""
    cleaned = _COMMAND_PREFIX.sub("", text.replace("\x00", " "))
    return cleaned[:MAX_MODEL_CHARS]


class NluParser:
    """Parses messages into `ParseResult`s with a trained model."""

    def __init__(self, model: RawModel, interpreter: Interpreter):
        self._model = model
        self.interpreter = interpreter
        # The graph runs synchronously inside parse_message; the lock keeps calls from
        # different tasks strictly one after the other should that ever change.
        self._lock = asyncio.Lock()

    @classmethod
    async def load(cls, model_path: Path, taxonomy: Taxonomy | None = None) -> "NluParser":
        """Loads the model in a worker thread so the event loop keeps running."""
        from nlu.rasa_backend import RasaModel

        loop = asyncio.get_running_loop()
        taxonomy = taxonomy or Taxonomy.load()
        model = await loop.run_in_executor(None, RasaModel.warmed, model_path)
        # The lexicon reads the training examples' vocabulary: off the loop too.
        lexicon = await loop.run_in_executor(None, Lexicon.load, taxonomy)
        return cls(model, Interpreter(taxonomy, lexicon))

    async def raw_parse(self, text: str) -> dict | None:
        """The model's own answer for `text` (None when there is nothing to show it)."""
        shown = model_text(text)
        if not shown.strip():
            return None
        async with self._lock:
            raw = dict(await self._model.parse(shown))
            # A long story is also read sentence by sentence (reading/sentences.py).
            parts = sentences(shown)
            if parts:
                raw["sentences"] = [await self._model.parse(part) for part in parts]
            return raw

    def read(
        self, text: str, raw: dict | None, category_threshold: float = CATEGORY_THRESHOLD
    ) -> ParseResult:
        """Taxonomy fields from the model's answer for `text`."""
        if raw is None:
            return empty_result(text)
        # Offsets of the model's spans refer to the text it was shown.
        result = self.interpreter.interpret(model_text(text), raw, category_threshold)
        return replace(result, text=text)

    async def parse(self, text: str) -> ParseResult:
        """What `text` means. Never raises on odd input: empty, huge, emoji, '/…'."""
        return self.read(text, await self.raw_parse(text))
