"""VietnameseTokenizer: Rasa tokenizer that segments Vietnamese words (bot.text.segment, pyvi).

Vietnamese words span several syllables ("chăm sóc", "khách hàng"), so splitting on spaces
loses them. Each word is first normalised by bot.text (NFC, one tone-mark style, chat
abbreviations expanded: "sdt" -> "số điện thoại"), then segmented. Token offsets always
point into the customer's original text, so a token made from an expansion spans the
abbreviation it came from. Each token's lemma is the diacritic-free form, so lexical
featurizers (which read lemmas) match customers who type without accents.
"""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.tokenizers.tokenizer import Token, Tokenizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.prepared import prepared_text
from bot.text import fold, segment


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=False
)
class VietnameseTokenizer(Tokenizer):
    """Word-segments Vietnamese (and passes English through) for the NLU pipeline."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            "intent_tokenization_flag": False,
            "intent_split_symbol": "_",
            "token_pattern": None,
            "prefix_separator_symbol": None,
        }

    @staticmethod
    def required_packages() -> List[Text]:
        return ["pyvi"]

    def tokenize(self, message: Message, attribute: Text) -> List[Token]:
        text = message.get(attribute) or ""
        # The customer's message is prepared once for every component; other attributes
        # (action texts) are only segmented.
        words = prepared_text(message).words if attribute == TEXT and text else segment(text)
        if not words and text.strip():
            # Emoji or symbols only: one token, so featurizers still see something.
            stripped = text.strip()
            start = text.index(stripped)
            words = [(stripped, start, start + len(stripped))]
        tokens = [
            Token(word, start, end=end, lemma=fold(word)) for word, start, end in words
        ]
        return self._apply_token_pattern(tokens)
