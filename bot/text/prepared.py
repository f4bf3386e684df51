"""A customer's message prepared once: every form the rest of the bot reads it in.

The NLU components and FAQ search all take the same PreparedText instead of each
normalising, folding and detecting the language of the raw text again.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cached_property
from typing import Dict, List, Optional, Tuple

from .abbreviations import expand_abbreviations
from .language import detect_language
from .normalize import fold_normalized, normalize
from .segmentation import segment

__all__ = ["PreparedText", "prepare"]

_WORD_RE = re.compile(r"\w+")


@dataclass(frozen=True)
class PreparedText:
    """A message in the forms the rest of the bot uses (made by `prepare`)."""

    original: str  # exactly as received: transcripts, token offsets
    normalized: str  # normalize(original)
    language: Optional[str]  # "vi" or "en" when the message itself says which; None for "ok", 👍
    text: str  # normalized without emoji (lower case if shouted), abbreviations expanded
    # unless English: for NLU and embeddings
    shadow: str  # fold(text): diacritic-free, for matching customers who type without accents
    folded: str  # fold(original): the message as typed, without diacritics

    @property
    def typed_without_diacritics(self) -> bool:
        """Letters and none of them accented: "huy don", not "hủy đơn" nor "???"."""
        lowered = self.normalized.lower()
        return bool(_WORD_RE.search(lowered)) and lowered == self.folded

    @cached_property
    def words(self) -> List[Tuple[str, int, int]]:
        """segment(original): Vietnamese words and their spans in `original`, made on first use."""
        return segment(self.original)


# A message with at least this many cased letters, nearly all capitals, is shouted.
SHOUTED_MIN_LETTERS = 6
SHOUTED_UPPER_SHARE = 0.8


def unshouted(text: str) -> str:
    """A message typed in capitals, in lower case: the embedder reads "PHÍ SHIP BAO NHIÊU"
    far from "phí ship bao nhiêu" (bench/message_forms.md). Mixed case stays as it is: an
    acronym ("COD", "OTP") or one word in capitals is not shouting."""
    cased = [c for c in text if c.isupper() or c.islower()]
    upper = sum(c.isupper() for c in cased)
    shouted = len(cased) >= SHOUTED_MIN_LETTERS and upper >= SHOUTED_UPPER_SHARE * len(cased)
    return text.lower() if shouted else text


_EMOJI_JOINERS = "\ufe0f\u200d"  # variation selector-16 and the zero-width joiner of emoji sequences


def _is_pictograph(c: str) -> bool:
    """An emoji, a pictograph or an emoji's skin tone; not "^" or "`" (ASCII modifier symbols)."""
    category = unicodedata.category(c)
    return category == "So" or (category == "Sk" and ord(c) > 0x7F)


def without_emoji(text: str) -> str:
    """`text` without its emoji and pictographs: "phí ship bao nhiêu 😍😍" read as "phí ship
    bao nhiêu" (an emoji moved the embedding off the question: bench/message_forms.md);
    `text` itself when nothing else is left ("👍")."""
    kept = "".join(c for c in text if c not in _EMOJI_JOINERS and not _is_pictograph(c))
    if len(kept) == len(text):
        return text
    kept = " ".join(kept.split())
    return kept if any(c.isalnum() for c in kept) else text


def prepare(text: str, readings: Optional[Dict[str, str]] = None) -> PreparedText:
    """Normalise once, detect the language, expand abbreviations and fold. `readings`: an
    FAQ's own readings of ambiguous abbreviations (abbreviations.corpus_readings)."""
    normalized = normalize(text)
    language = detect_language(normalized, default=None, normalized=True)
    expanded = expand_abbreviations(unshouted(without_emoji(normalized)), language=language or "vi",
                                    readings=readings)
    return PreparedText(original=text, normalized=normalized, language=language, text=expanded,
                        shadow=fold_normalized(expanded), folded=fold_normalized(normalized))
