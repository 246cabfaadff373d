"""Custom Rasa components (referenced by module path from nlu/config.yml)."""

from __future__ import annotations

import atexit
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, Dict, List, Text, Tuple

import numpy as np
import rasa.shared.utils.io
from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
from rasa.nlu.extractors.crf_entity_extractor import CRFEntityExtractor, CRFToken
from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import (
    CountVectorsFeaturizer,
)
from rasa.nlu.constants import DENSE_FEATURIZABLE_ATTRIBUTES
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, TEXT
from rasa.shared.nlu.training_data.message import Message
from scipy.sparse import coo_matrix, csr_matrix, vstack

if TYPE_CHECKING:
    import sklearn_crfsuite


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=True)
class FastCountVectorsFeaturizer(CountVectorsFeaturizer):
    """Rasa's count-vectors featurizer, with the same vocabulary and the same matrices,
    at half the cost per message (about 0.5 ms of a 2.6 ms parse).

    Rasa asks scikit-learn's `transform` for each message twice (its tokens, then its
    tokens joined), and each call validates, builds a CSR matrix, sorts it and converts
    it to COO. Here the counts are made with the vectorizer's own analyzer and
    vocabulary and the COO matrices built once. For character n-grams within words
    (`char_wb`), the joined tokens' counts are the sum of the tokens' own: each word is
    cut into n-grams on its own, whether it is read alone or among the others.
    `tests/nlu_side/test_rasa_parity.py` holds both to the same output.
    """

    def _create_features(
        self, attribute: Text, all_tokens: List[List[Text]]
    ) -> Tuple[List[coo_matrix | None], List[coo_matrix | None]]:
        vectorizer = self.vectorizers.get(attribute) if self.vectorizers else None
        if not vectorizer:
            return [None], [None]
        if not any(all_tokens):  # as Rasa's: an attribute with no tokens has no features
            return [None] * len(all_tokens), [None] * len(all_tokens)
        vectorizer._check_vocabulary()  # sets vocabulary_ from a loaded vocabulary
        analyze = vectorizer.build_analyzer()
        vocabulary, dtype = vectorizer.vocabulary_, vectorizer.dtype
        width = len(vocabulary)

        def counted(docs: List[Text]) -> List[Dict[int, int]]:
            rows = []
            for doc in docs:
                counts: Dict[int, int] = {}
                for feature in analyze(doc):
                    column = vocabulary.get(feature)
                    if column is not None:
                        counts[column] = counts.get(column, 0) + 1
                rows.append(counts)
            return rows

        sequence_features: List[coo_matrix | None] = []
        sentence_features: List[coo_matrix | None] = []
        for tokens in all_tokens:
            if not tokens:
                sequence_features.append(None)
                sentence_features.append(None)
                continue
            rows = counted(tokens)
            sequence_features.append(_coo(rows, width, dtype))
            if attribute not in DENSE_FEATURIZABLE_ATTRIBUTES:
                sentence_features.append(None)
            elif vectorizer.analyzer == "char_wb":
                total: Dict[int, int] = {}
                for row in rows:
                    for column, count in row.items():
                        total[column] = total.get(column, 0) + count
                sentence_features.append(_coo([total], width, dtype))
            else:
                sentence_features.append(_coo(counted([" ".join(tokens)]), width, dtype))
        return sequence_features, sentence_features


def _coo(rows: List[Dict[int, int]], width: int, dtype: Any) -> coo_matrix:
    """Counts per row as scikit-learn's sorted CSR matrix converted to COO gives them:
    row by row, columns in increasing order."""
    row_of, columns, counts = [], [], []
    for n, row in enumerate(rows):
        for column in sorted(row):
            row_of.append(n)
            columns.append(column)
            counts.append(row[column])
    return coo_matrix(
        (
            np.array(counts, dtype=dtype),
            (np.array(row_of, dtype=np.int32), np.array(columns, dtype=np.int32)),
        ),
        shape=(len(rows), width),
    )


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class SparseLogisticRegressionClassifier(LogisticRegressionClassifier):
    """Rasa's logistic regression, with the same features, model and predictions, at a
    third of the cost per message.

    - Our pipeline has sparse sentence features only. Rasa stacks an empty dense matrix
      onto each row and joins the featurizers' outputs with scipy's general `hstack`;
      one row is joined here directly, in the same order (the order of
      `message.features`, as Rasa's `get_sparse_features`).
    - scikit-learn multiplies the row by `coef_.T`; with `coef_` in C order that view
      is copied whole (26 × 51,000 floats) at every message. Fortran order makes it
      a contiguous view.
    """

    def _create_X(self, messages: List[Message]) -> csr_matrix:
        rows = []
        for message in messages:
            if message.get_dense_features(attribute=TEXT)[1] is not None:
                return super()._create_X(messages)
            row = _sentence_row(message)
            if row is None:
                return super()._create_X(messages)
            rows.append(row)
        return rows[0] if len(rows) == 1 else vstack(rows).tocsr()

    def process(self, messages: List[Message]) -> List[Message]:
        coef = getattr(self.clf, "coef_", None)
        if coef is not None and not coef.flags.f_contiguous:
            self.clf.coef_ = np.asfortranarray(coef)
        return super().process(messages)


def _sentence_row(message: Message) -> csr_matrix | None:
    """The message's sparse sentence features side by side, as one CSR row."""
    parts = [
        f.features
        for f in message.features
        if f.attribute == TEXT and f.type == FEATURE_TYPE_SENTENCE and f.is_sparse()
    ]
    if not parts:
        return None
    cols, data, offset = [], [], 0
    for part in parts:
        part = part.tocoo()
        cols.append(part.col + offset)
        data.append(part.data)
        offset += part.shape[1]
    col = np.concatenate(cols)
    return coo_matrix((np.concatenate(data), (np.zeros_like(col), col)), shape=(1, offset)).tocsr()


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=True)
class PersistedCRFEntityExtractor(CRFEntityExtractor):
    """Rasa's CRF entity extractor, which keeps its trained CRFs in the model.

    Rasa 3.6 stores only the training tokens and fits the CRFs again at every load
    (about 6 of the 8 s a model takes to load here). The same deterministic lbfgs fit
    is written at training time as crfsuite files beside them, and read back at load:
    the same taggers, the same predictions, no training at start. A model without the
    files (an older one) loads the slow way.
    """

    def persist(self, dataset: List[List[CRFToken]]) -> None:
        super().persist(dataset)
        with self._model_storage.write_to(self._resource) as model_dir:
            for tag, tagger in (self.entity_taggers or {}).items():
                (model_dir / f"crf_{tag}.crfsuite").write_bytes(
                    Path(tagger.modelfile.name).read_bytes()
                )

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> CRFEntityExtractor:
        try:
            with model_storage.read_from(resource) as model_dir:
                order = rasa.shared.utils.io.read_json_file(model_dir / "crf_order.json")
                files = {tag: model_dir / f"crf_{tag}.crfsuite" for tag in order}
                if not all(f.is_file() for f in files.values()):
                    raise FileNotFoundError("no persisted CRF")
                taggers = {tag: _crf_from_bytes(f.read_bytes()) for tag, f in files.items()}
        except (ValueError, FileNotFoundError):
            return super().load(config, model_storage, resource, execution_context, **kwargs)
        extractor = cls(config, model_storage, resource, taggers)
        extractor.crf_order = order
        return extractor


_CRF_FILES: list[str] = []


def _crf_from_bytes(data: bytes) -> "sklearn_crfsuite.CRF":
    """A CRF tagger reading a crfsuite model file of our own (removed at exit)."""
    import sklearn_crfsuite

    fd, name = tempfile.mkstemp(suffix=".crfsuite", prefix="jalerte-crf-")
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    if not _CRF_FILES:
        atexit.register(lambda: [Path(n).unlink(missing_ok=True) for n in _CRF_FILES])
    _CRF_FILES.append(name)
    return sklearn_crfsuite.CRF(model_filename=name)
