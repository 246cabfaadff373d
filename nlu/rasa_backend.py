"""The only module that runs a Rasa model (import cost ~3 s: TensorFlow comes with it)."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import warnings
from pathlib import Path
from typing import Any

QUIET_ENV = {
    "RASA_TELEMETRY_ENABLED": "false",
    "TF_CPP_MIN_LOG_LEVEL": "3",
    "TF_ENABLE_ONEDNN_OPTS": "0",
    # Rasa 3.6 uses SQLAlchemy 1.4 APIs removed in 2.0: its pin, not our concern.
    "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
    # Rasa's training cache would hand back results of an earlier run: train from scratch.
    "RASA_MAX_CACHE_SIZE": "0",
}


# Any module but the project's own (`warnings` matches this against the module's name).
OTHERS_MODULES = r"(?!(?:nlu|reading|domain|model_records)(?:\.|$))"

# Parsed once at load (RasaModel.warmed): a report, with words for every component.
WARM_UP = "Ma fibre Orange est coupée depuis hier à Brest, et le technicien n'est pas venu."


def quiet_rasa() -> None:
    """Silence telemetry, TensorFlow banners and Rasa's debug logs (stdout stays clean)."""
    for key, value in QUIET_ENV.items():
        os.environ.setdefault(key, value)
    # skops (Rasa's model persistence) scans every loaded module when it is first
    # imported: ~8 s once TensorFlow is in, ~1 s before. Import it first.
    import skops.io  # noqa: F401
    import structlog

    structlog.configure(
        wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
    )
    # Deprecation notices from Rasa and its dependencies say nothing to a person running
    # the bot; those of our own modules are still shown.
    for category in (DeprecationWarning, PendingDeprecationWarning, FutureWarning):
        warnings.filterwarnings("ignore", category=category, module=OTHERS_MODULES)
    for name in ("rasa", "tensorflow", "absl", "apscheduler", "urllib3", "matplotlib"):
        logging.getLogger(name).setLevel(logging.ERROR)


class RasaModel:
    """A loaded Rasa NLU model. Loading is slow and blocking: do it off the event loop.

    Parsing runs the trained components in order, as Rasa's graph would, but without
    the graph scheduler (half a millisecond a message) and without Rasa's
    RegexMessageHandler, which reads "/intent{...}" in user text as a forced intent.
    """

    def __init__(self, model_path: Path):
        quiet_rasa()
        import nlu.components  # noqa: F401  (registers our components before loading)
        from rasa.core.agent import Agent

        # Importing Rasa imports sanic, which installs uvloop's event-loop policy for the
        # whole process; its child watcher is missing, so asyncio subprocesses (and any
        # loop made later) would break. We run on the standard asyncio loop.
        asyncio.set_event_loop_policy(None)

        if not Path(model_path).is_file():
            raise FileNotFoundError(
                f"No NLU model at {model_path}: run `make train` (or `jalerte train`) first."
            )
        agent = Agent.load(str(model_path))
        if not agent.is_ready() or agent.processor is None:
            raise RuntimeError(f"The model at {model_path} could not be loaded.")
        nodes = agent.processor.graph_runner._instantiated_nodes  # pinned rasa==3.6.21
        self._components = [
            node._component
            for name, node in nodes.items()
            if name.startswith("run_") and name != "run_RegexMessageHandler"
        ]

    @classmethod
    def warmed(cls, model_path: Path | str) -> "RasaModel":
        """Loaded, and its first parse done: that one traces TensorFlow's graphs (about
        50 ms against 3), which the first person after a start or a model's promotion
        would otherwise wait for, with everyone behind them."""
        model = cls(model_path)
        model.parse_sync(WARM_UP)
        return model

    def parse_sync(self, text: str) -> dict[str, Any]:
        """The model's raw parse (intent ranking and entity spans) of `text`."""
        from rasa.shared.nlu.training_data.message import Message

        messages = [Message(data={"text": text})]
        for component in self._components:
            messages = component.process(messages) or messages
        parsed = messages[0].as_dict(only_output_properties=True)
        parsed.setdefault("intent", {"name": None, "confidence": 0.0})
        parsed.setdefault("entities", [])
        return parsed

    async def parse(self, text: str) -> dict[str, Any]:
        # ~3 ms of CPU: cheaper inline than a thread hop, as Rasa's own server does.
        return self.parse_sync(text)
