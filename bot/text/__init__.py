"""Vietnamese text: normalisation, folding, abbreviations, language, word segmentation.

The lowest layer of the bot: it imports nothing else from bot/. Modules, each using only
the ones above it:
  normalize      normalize (NFC, one tone-mark style, clean spacing), fold (diacritic-free)
  language       detect_language ("vi" / "en")
  abbreviations  expand_abbreviations ("ko dc" -> "không được"), corpus_readings ("đh" at a university)
  segmentation   segment (pyvi word segmentation, offsets into the original text)
  prepared       prepare(text) -> PreparedText: all of the above once per message
  english_gloss  vietnamese_gloss: the Vietnamese of an English message's support words
"""

from .abbreviations import corpus_readings, expand_abbreviations
from .english_gloss import vietnamese_gloss
from .language import detect_language
from .normalize import fold, normalize
from .prepared import PreparedText, prepare
from .segmentation import segment

__all__ = [
    "normalize",
    "fold",
    "expand_abbreviations",
    "corpus_readings",
    "prepare",
    "PreparedText",
    "detect_language",
    "segment",
    "vietnamese_gloss",
]
