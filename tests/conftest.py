"""Shared fixtures: one real Rasa model, trained once per test session."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from nlu.interpret import Interpreter
from nlu.lexicon import Lexicon
from nlu.parser import NluParser
from nlu.taxonomy import Taxonomy


@pytest.fixture(scope="session")
def taxonomy() -> Taxonomy:
    return Taxonomy.load()


@pytest.fixture(scope="session")
def interpreter(taxonomy: Taxonomy) -> Interpreter:
    return Interpreter(taxonomy, Lexicon.load(taxonomy))


@pytest.fixture(scope="session")
def trained_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model trained from the project's data for this session.

    JALERTE_TEST_MODEL may name an already trained model to save the training time
    while iterating locally; `make test` and CI always train.
    """
    reuse = os.environ.get("JALERTE_TEST_MODEL")
    if reuse:
        return Path(reuse)
    from nlu.training import train

    workdir = tmp_path_factory.mktemp("nlu")
    return train(workdir / "nlu.tar.gz", workdir / "build", progress=lambda _msg: None)


@pytest.fixture(scope="session")
async def nlu(trained_model: Path, taxonomy: Taxonomy) -> NluParser:
    return await NluParser.load(trained_model, taxonomy)
