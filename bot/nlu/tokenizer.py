"""VietnameseTokenizer: Rasa tokenizer that segments Vietnamese words with pyvi.

Vietnamese words span several syllables ("chăm sóc", "khách hàng"), so splitting on spaces
loses them. Each message is first normalised by bot.text (NFC, one tone-mark style, chat
abbreviations expanded: "sdt" -> "số điện thoại"), then segmented. Token offsets always
point into the customer's original text, so a token made from an expansion spans the
abbreviation it came from. Each token's lemma is the diacritic-free form, so lexical
featurizers (which read lemmas) match customers who type without accents.
"""
from __future__ import annotations

import re
from typing import Any, Dict, List, Text, Tuple

from pyvi import ViTokenizer
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.tokenizers.tokenizer import Token, Tokenizer
from rasa.shared.nlu.training_data.message import Message

from bot.text import expand_abbreviations, fold, normalize

_WORD = re.compile(r"\S+")
_NOT_WORD = re.compile(r"[^\w]+")


def segment(text: str) -> List[Tuple[str, int, int]]:
    """(word, start, end) for every Vietnamese word of `text`, offsets into `text`."""
    # Normalise word by word so each syllable remembers the original span it came from.
    syllables: List[Tuple[str, int, int]] = []
    for match in _WORD.finditer(text):
        cleaned = _NOT_WORD.sub(" ", expand_abbreviations(normalize(match.group())))
        for syllable in cleaned.split():
            syllables.append((syllable, match.start(), match.end()))
    if not syllables:
        return []

    # pyvi joins the syllables of one word with "_"; it keeps the syllables themselves.
    segmented = ViTokenizer.tokenize(" ".join(s for s, _, _ in syllables)).split()
    words: List[Tuple[str, int, int]] = []
    i = 0
    for word in segmented:
        parts = word.split("_")
        if [s for s, _, _ in syllables[i:i + len(parts)]] != parts:
            # pyvi changed a syllable (rare): keep plain syllables from here on.
            words.extend(syllables[i:])
            return words
        words.append((" ".join(parts), syllables[i][1], syllables[i + len(parts) - 1][2]))
        i += len(parts)
    words.extend(syllables[i:])
    return words


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
        words = segment(text)
        if not words and text.strip():
            # Emoji or symbols only: one token, so featurizers still see something.
            stripped = text.strip()
            start = text.index(stripped)
            words = [(stripped, start, start + len(stripped))]
        tokens = [
            Token(word, start, end=end, lemma=fold(word)) for word, start, end in words
        ]
        return self._apply_token_pattern(tokens)
