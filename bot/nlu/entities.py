"""SpacyRuleEntityExtractor: phone, email, order_id, money and date entities for Rasa.

A Rasa graph component (entity extractor, nothing to train) around the spaCy pipeline of
bot/nlu/entity_rules.py: spacy.blank("vi") with rule patterns, no downloaded model. Each
entity carries start/end offsets into the customer's original text, `extractor` set to
this component's name and its normalised `value` (phone "0912345678", money an int of
đồng, date an ISO date in Asia/Ho_Chi_Minh; see entity_rules for every format).

config.yml options: `entities` (which types to extract, default all), `timezone` (what
"mai"/"tomorrow" are relative to, default Asia/Ho_Chi_Minh).
"""
from __future__ import annotations

import logging
from typing import Any, Dict, List, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.entity_rules import ENTITY_TYPES, TIMEZONE, entity_nlp, extract, local_now

logger = logging.getLogger(__name__)


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False
)
class SpacyRuleEntityExtractor(GraphComponent, EntityExtractorMixin):
    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"entities": list(ENTITY_TYPES), "timezone": TIMEZONE}

    @staticmethod
    def required_packages() -> List[Text]:
        return ["spacy", "pyvi"]

    def __init__(self, config: Dict[Text, Any]) -> None:
        unknown = set(config.get("entities") or ()) - set(ENTITY_TYPES)
        if unknown:
            raise ValueError(f"SpacyRuleEntityExtractor: unknown entity types {sorted(unknown)};"
                             f" known: {list(ENTITY_TYPES)}")
        self.types = tuple(config.get("entities") or ENTITY_TYPES)
        self.timezone = config.get("timezone") or TIMEZONE
        entity_nlp()  # build the spaCy pipeline at load time, not on the first message

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage,
               resource: Resource, execution_context: ExecutionContext
               ) -> "SpacyRuleEntityExtractor":
        return cls(config)

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT)
            if not text or not isinstance(text, str):
                continue
            try:
                found = extract(text, now=local_now(self.timezone), types=self.types)
            except Exception:  # noqa: BLE001 - bad input must never stop the NLU pipeline
                logger.exception("entity extraction failed on a message of %d characters",
                                 len(text))
                continue
            for entity in found:
                entity.pop("text", None)
            if found:
                message.set(ENTITIES, message.get(ENTITIES, []) + self.add_extractor_name(found),
                            add_to_output=True)
        return messages
