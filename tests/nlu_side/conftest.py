"""The NLU environment's fixtures: the model loaded in this process (Rasa is here)."""

from __future__ import annotations

from pathlib import Path

import pytest

from nlu.parser import NluParser
from domain.taxonomy import Taxonomy


@pytest.fixture(scope="session")
async def nlu(trained_model: Path, taxonomy: Taxonomy) -> NluParser:
    return await NluParser.load(trained_model, taxonomy)
