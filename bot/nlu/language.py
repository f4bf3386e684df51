"""LanguageDetector: tags each message with the customer's language ("vi" or "en").

It emits a `language` entity only when the message says which language it is in, so the
`language` slot (domain.yml) keeps the conversation's language across "ok" or emoji and
switches as soon as the customer does. Replies pick their variation from that slot.
"""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import ENTITIES
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.prepared import prepared_text

LANGUAGE_ENTITY = "language"


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False
)
class LanguageDetector(GraphComponent):
    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "LanguageDetector":
        return cls()

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            prepared = prepared_text(message)
            if prepared is None or prepared.language is None:
                continue
            entity = {
                "entity": LANGUAGE_ENTITY,
                "value": prepared.language,
                "start": 0,
                "end": len(prepared.original),
                "extractor": self.__class__.__name__,
            }
            message.set(ENTITIES, message.get(ENTITIES, []) + [entity], add_to_output=True)
        return messages
