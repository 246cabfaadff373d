"""The fast in-process runner gives what Rasa's public API gives (issue 10).

`nlu.rasa_backend.RasaModel` runs the trained components without Rasa's graph
scheduler and without its RegexMessageHandler. On every held-out message that does
not start with "/" (Rasa reads those as forced intents; we never show them), its
intent ranking and entities must equal `Agent.parse_message`'s.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rasa.shared.nlu.constants import TEXT

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


@pytest.fixture(scope="module")
def featurizers(trained_model: Path) -> list:
    from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import (
        CountVectorsFeaturizer,
    )

    model = RasaModel(trained_model)
    found = [c for c in model._components if isinstance(c, CountVectorsFeaturizer)]
    assert [type(c).__name__ for c in found] == ["FastCountVectorsFeaturizer"] * 2
    assert {c.vectorizers[TEXT].analyzer for c in found} == {"word", "char_wb"}
    return found


def _same_matrices(featurizer, tokens: list[str]) -> None:
    """Our counts are Rasa's own (scikit-learn's transform), matrix for matrix."""
    from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import (
        CountVectorsFeaturizer,
    )

    ours = featurizer._create_features(TEXT, [tokens])
    theirs = CountVectorsFeaturizer._create_features(featurizer, TEXT, [tokens])
    for mine, rasa in zip(ours[0] + ours[1], theirs[0] + theirs[1]):
        assert (mine is None) == (rasa is None)
        if mine is not None:
            assert (mine.shape, mine.dtype) == (rasa.shape, rasa.dtype)
            assert mine.row.tolist() == rasa.row.tolist()
            assert mine.col.tolist() == rasa.col.tolist()
            assert mine.data.tolist() == rasa.data.tolist()


def test_the_fast_featurizer_counts_every_held_out_message_as_rasa_does(featurizers) -> None:
    from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
    from rasa.shared.nlu.training_data.message import Message

    tokenizer = WhitespaceTokenizer(WhitespaceTokenizer.get_default_config())
    for text in heldout_texts():
        message = Message(data={TEXT: text})
        tokenizer.process([message])
        for featurizer in featurizers:
            _same_matrices(
                featurizer, featurizer._get_processed_message_tokens_by_attribute(message, TEXT)
            )


# Tokens as a tokenizer gives them (no whitespace), of any characters: accents, capitals,
# ligatures, compatibility characters that decompose into a space (« ¨ »), digits.
_TOKEN = st.text(
    alphabet=st.one_of(st.sampled_from("aeéèêàçôùœæÆÉÈ'-¨ﬁ½2019ŉǅΣς"), st.characters()),
    min_size=1,
    max_size=12,
).filter(lambda t: t.split() == [t])


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(tokens=st.lists(_TOKEN, min_size=1, max_size=8))
def test_the_fast_featurizer_counts_any_tokens_as_rasa_does(featurizers, tokens) -> None:
    for featurizer in featurizers:
        _same_matrices(featurizer, tokens)
