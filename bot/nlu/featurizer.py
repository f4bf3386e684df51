"""EmbeddingFeaturizer: adds a sentence embedding from the project's embedder to each message.

The embedder is the one FAQ search uses (bot.embedders; default the bundled 4-bit
multilingual-e5-small), so NLU understands paraphrases and English without its own model.
Only sentence-level features are added: the classifier reads them next to the sparse
word and character n-gram features.
"""
from __future__ import annotations

from typing import Any, Dict, List, Text

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from tqdm import tqdm

from bot.embedders import DEFAULT_EMBEDDER, load_embedder
from bot.nlu.prepared import prepared_text

QUERY_VECTOR_KEY = "hotro_query_vector"  # read by bot.nlu.faq_router


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False
)
class EmbeddingFeaturizer(DenseFeaturizer, GraphComponent):
    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            **DenseFeaturizer.get_default_config(),
            "embedder": DEFAULT_EMBEDDER,
            "batch_size": 64,
        }

    @classmethod
    def validate_config(cls, config: Dict[Text, Any]) -> None:
        if not isinstance(config.get("embedder"), str):
            raise ValueError("EmbeddingFeaturizer needs an `embedder` spec string")

    def __init__(self, config: Dict[Text, Any], name: Text) -> None:
        super().__init__(name, config)
        self._embedder = load_embedder(config["embedder"])

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "EmbeddingFeaturizer":
        return cls(config, execution_context.node_name)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        self._featurize(training_data.training_examples, progress=True)
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        self._featurize(messages, progress=False)
        return messages

    def _featurize(self, messages: List[Message], progress: bool) -> None:
        with_text = [m for m in messages if m.get(TEXT)]
        batch = self._config["batch_size"]
        starts = range(0, len(with_text), batch)
        if progress and len(with_text) > batch:
            starts = tqdm(starts, desc="embedding training examples", unit="batch")
        for start in starts:
            chunk = with_text[start:start + batch]
            texts = [prepared_text(m).text for m in chunk]
            vectors = self._embedder.embed_queries(texts)
            for message, text, vector in zip(chunk, texts, vectors):
                self.add_features_to_message(
                    sequence=None, sentence=vector[np.newaxis, :], attribute=TEXT,
                    message=message,
                )
                # FaqRouter's FAQ search reuses it when it would embed the same text.
                message.set(QUERY_VECTOR_KEY, (self._embedder.spec, text, vector))
