"""A Rasa message's text prepared once (bot.text.prepare) and shared by every NLU component.

The first component that needs it (the tokenizer) prepares the text and keeps the result on
the message; the language detector, the featurizer and the FAQ router read it from there,
and the router hands it to FAQ search. A component running without the tokenizer before it
prepares the text itself.
"""
from __future__ import annotations

from typing import Optional

from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.text import PreparedText, prepare

PREPARED_KEY = "hotro_prepared"  # not part of the parse output


def prepared_text(message: Message) -> Optional[PreparedText]:
    """The message's TEXT prepared, or None when it has no text."""
    text = message.get(TEXT)
    if not text:
        return None
    prepared = message.get(PREPARED_KEY)
    if not isinstance(prepared, PreparedText) or prepared.original != text:
        prepared = prepare(text)
        message.set(PREPARED_KEY, prepared)
    return prepared
