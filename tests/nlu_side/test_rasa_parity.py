"""The fast in-process runner gives what Rasa's public API gives (issue 10).

`nlu.rasa_backend.RasaModel` runs the trained components without Rasa's graph
scheduler and without its RegexMessageHandler. On every held-out message that does
not start with "/" (Rasa reads those as forced intents; we never show them), its
intent ranking and entities must equal `Agent.parse_message`'s.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from nlu.rasa_backend import RasaModel

HELDOUT = Path(__file__).resolve().parents[2] / "nlu" / "heldout"


def heldout_texts() -> list[str]:
    texts = []
    for path in sorted(HELDOUT.rglob("*.yml")):
        rows = yaml.safe_load(path.read_text(encoding="utf-8"))
        if isinstance(rows, dict):
            rows = rows.get("messages") or []
        texts += [r["text"] for r in rows if isinstance(r, dict) and r.get("text")]
    return [t for t in texts if not t.lstrip().startswith("/")]


def _essentials(parsed: dict) -> tuple:
    ranking = tuple(
        (r["name"], round(r["confidence"], 6)) for r in parsed.get("intent_ranking") or []
    )
    entities = tuple(
        sorted(
            (e["entity"], e["start"], e["end"], str(e.get("value")))
            for e in parsed.get("entities") or []
        )
    )
    return ranking, entities


async def test_the_fast_runner_parses_like_rasa_agent(trained_model: Path) -> None:
    import asyncio

    model = await asyncio.get_running_loop().run_in_executor(None, RasaModel, trained_model)
    from rasa.core.agent import Agent

    agent = Agent.load(str(trained_model))
    texts = heldout_texts()
    assert len(texts) >= 600
    differ = []
    for text in texts:
        ours, theirs = (
            _essentials(model.parse_sync(text)),
            _essentials(await agent.parse_message(text)),
        )
        if ours != theirs:
            differ.append((text, ours, theirs))
    assert differ == [], f"{len(differ)} of {len(texts)} differ, e.g. {differ[:2]}"


async def test_rasa_agent_obeys_slash_syntax_which_the_parser_never_shows(
    trained_model: Path, nlu
) -> None:
    from rasa.core.agent import Agent

    text = '/affirm{"operator": "k_net"}'
    forced = await Agent.load(str(trained_model)).parse_message(text)
    assert forced["intent"] == {"name": "affirm", "confidence": 1.0}  # Rasa takes orders
    assert [e["value"] for e in forced["entities"]] == ["k_net"]
    ours = await nlu.parse(text)
    assert ours.operator is None and ours.text == text
