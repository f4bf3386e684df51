"""Vietnamese word segmentation with pyvi, offsets into the text as the customer typed it.

Vietnamese words span several syllables ("chăm sóc", "khách hàng"), so splitting on spaces
loses them. Used by the NLU tokenizer and by FAQ search's word terms.
"""
from __future__ import annotations

import re
from typing import List, Tuple

from .abbreviations import expand_abbreviations
from .normalize import normalize

__all__ = ["segment"]

_WORD = re.compile(r"\S+")
_NOT_WORD = re.compile(r"[^\w]+")


def segment(text: str) -> List[Tuple[str, int, int]]:
    """(word, start, end) for every Vietnamese word of `text`, offsets into `text`.

    Words are normalised with abbreviations expanded ("sdt" -> "số điện thoại"); a word made
    from an expansion spans the abbreviation it came from.
    """
    # Normalise word by word so each syllable remembers the original span it came from.
    syllables: List[Tuple[str, int, int]] = []
    for match in _WORD.finditer(text):
        cleaned = _NOT_WORD.sub(" ", expand_abbreviations(normalize(match.group())))
        for syllable in cleaned.split():
            syllables.append((syllable, match.start(), match.end()))
    if not syllables:
        return []

    from pyvi import ViTokenizer  # imported on first use: loading its model takes ~0.6 s

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
