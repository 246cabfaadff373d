"""The parse service is local and stores nothing, but it still never sees what the engine
masks: typed phone numbers, e-mail addresses and IBANs are masked before the text is
parsed, in the turn and in the parse done ahead of it (`DialogueEngine.preparse`)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from advice_content.library import AdviceLibrary
from dialogues.engine import DialogueEngine
from dialogues.events import TextEvent
from dialogues.state import DialogueState
from domain.parse import ParseResult, empty_result
from domain.taxonomy import Taxonomy

TAXONOMY = Taxonomy.load()
PERSONAL = [
    "06 12 34 56 78",
    "+33 6 12 34 56 78",
    "jean.dupont@example.fr",
    "FR76 3000 6000 0112 3456 7890 189",
]


class SpyNlu:
    def __init__(self) -> None:
        self.seen: list[str] = []

    async def parse(self, text: str) -> ParseResult:
        self.seen.append(text)
        return empty_result(text)


SPY = SpyNlu()
ENGINE = DialogueEngine(SPY, AdviceLibrary.load(TAXONOMY), TAXONOMY)


@settings(max_examples=40, deadline=None)
@given(
    personal=st.sampled_from(PERSONAL),
    before=st.sampled_from(
        ["Orange me harcèle, rappelez-moi au", "my number is", "pas de réseau, écrivez-moi à", ""]
    ),
    language=st.sampled_from(["fr", "en"]),
)
async def test_the_parser_never_sees_what_is_masked(personal, before, language) -> None:
    spy, engine = SPY, ENGINE
    spy.seen.clear()
    event = TextEvent(f"{before} {personal} merci")
    state = DialogueState(language=language)
    await engine.preparse(event)
    turn = await engine.handle(state, event)
    assert spy.seen, "the text was parsed"
    for text in spy.seen:
        assert personal not in text and personal.replace(" ", "") not in text.replace(" ", "")
    assert personal not in turn.event.text  # nor the transcript


@pytest.mark.parametrize("text", ["plus de réseau Free à Rodez depuis lundi"])
async def test_text_with_nothing_personal_is_parsed_as_typed(text) -> None:
    spy, engine = SPY, ENGINE
    spy.seen.clear()
    await engine.preparse(TextEvent(text))
    await engine.handle(DialogueState(), TextEvent(text))
    assert set(spy.seen) == {text}
