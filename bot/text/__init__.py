"""Vietnamese text normalisation, folding, abbreviation expansion and language detection."""

from .language import detect_language
from .normalize import PreparedText, expand_abbreviations, fold, normalize, prepare

__all__ = [
    "normalize",
    "fold",
    "expand_abbreviations",
    "prepare",
    "PreparedText",
    "detect_language",
]
