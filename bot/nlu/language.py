"""LanguageDetector: tags each message with the customer's language ("vi" or "en").

It emits a `language` entity only when the message says which language it is in, so the
`language` slot (domain.yml) keeps the conversation's language across "ok" or emoji.
Replies pick their variation from that slot. A conversation's first message sets it; after
that it changes only on clear evidence: a message of at least CLEAR_WORDS words in the
other language, not one English word ("ok", "thanks", "shop") or a short insult in a
Vietnamese conversation.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import ENTITIES
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.prepared import prepared_text
from bot.text.language import language_evidence
from bot.text.prepared import PreparedText

LANGUAGE_ENTITY = "language"
CLEAR_WORDS = 3  # words that tell the other language, swearing and shorthand not counted


def heard_language(prepared: PreparedText, current: Optional[str], first_message: bool) -> Optional[str]:
    """The language a message sets for a conversation now in `current`, or None to keep it."""
    language = prepared.language
    if language is None or language == current or first_message or current is None:
        return language
    vi, en = language_evidence(prepared.normalized, normalized=True)
    return language if (en if language == "en" else vi) >= CLEAR_WORDS else None


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

    def process(self, messages: List[Message],
                tracker: Optional[DialogueStateTracker] = None) -> List[Message]:
        # Rasa passes the conversation's tracker when it parses a customer's message.
        current = tracker.get_slot(LANGUAGE_ENTITY) if tracker is not None else None
        first = tracker is None or not any(e.type_name == "user" for e in tracker.events)
        for message in messages:
            prepared = prepared_text(message)
            language = heard_language(prepared, current, first) if prepared is not None else None
            if language is None:
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
