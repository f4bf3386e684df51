"""Normalisation of incoming text: one canonical form and a diacritic-free shadow.

Every message passes through here before NLU or FAQ search, so all tables and
regexes are built once at import time.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["normalize", "fold", "fold_normalized"]

# --- character tables ---------------------------------------------------------

# huyền, sắc, hỏi, ngã, nặng as combining marks
_TONE_MARKS = ("\u0300", "\u0301", "\u0309", "\u0303", "\u0323")


def _nfc(s: str) -> str:
    return unicodedata.normalize("NFC", s)


def _toned(base: str) -> str:
    """The five toned forms of each base vowel in `base`, both cases."""
    out = "".join(_nfc(b + t) for b in base for t in _TONE_MARKS)
    return out + out.upper()


# Every Vietnamese vowel letter, with and without tone, both cases.
_VOWEL_CHARS = _toned("aăâeêioôơuưy") + "aăâeêioôơuưy" + "AĂÂEÊIOÔƠUƯY"
_CONSONANT_CHARS = "bcdđghklmnpqrstvx" + "BCDĐGHKLMNPQRSTVX"

# Deleted outright: C0/C1 controls that are not whitespace, and invisible
# format characters (zero-width space, bidi marks, BOM, soft hyphen, CGJ)
# that split words or block NFC composition. ZWJ is handled separately
# because it glues emoji sequences together.
_DELETE = (
    [c for c in range(0x00, 0x20) if chr(c) not in "\t\n\v\f\r\x1c\x1d\x1e\x1f"]
    + list(range(0x7F, 0x85)) + list(range(0x86, 0xA0))
    + [0x00AD, 0x034F, 0x061C, 0x180E, 0x200B, 0x200C, 0x200E, 0x200F, 0xFEFF]
    + list(range(0x202A, 0x202F)) + list(range(0x2060, 0x2065)) + list(range(0x2066, 0x2070))
    + [0xFFF9, 0xFFFA, 0xFFFB]
)
_CLEAN_TABLE: dict[int, str | None] = {c: None for c in _DELETE}
_CLEAN_TABLE.update(
    {ord(c): "'" for c in "\u2018\u2019\u201a\u201b\u2032\u02bc\u0060"}
    | {ord(c): '"' for c in "\u201c\u201d\u201e\u201f\u2033\u00ab\u00bb"}
    | {ord(c): "-" for c in "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d"}
    | {0x2026: "..."}  # ellipsis character, so "…" and "..." are one thing
    | {0x00D0: "\u0110"}  # Latin Eth is typed for Đ by some legacy keyboards
)

# Diacritic-free shadow: every precomposed Latin letter whose decomposition is
# an ASCII letter plus marks maps to that letter; đ/Đ do not decompose.
_FOLD_TABLE: dict[int, str | None] = {}
for _cp in list(range(0x00C0, 0x0250)) + list(range(0x1E00, 0x1F00)):
    _d = unicodedata.normalize("NFD", chr(_cp))
    if len(_d) > 1 and _d[0].isascii() and _d[0].isalpha():
        _FOLD_TABLE[_cp] = _d[0].lower()
_FOLD_TABLE.update({ord("đ"): "d", ord("Đ"): "d", ord("ð"): "d", ord("Ð"): "d"})
# Stray combining marks left after NFC (e.g. "İ".lower()) carry no meaning here.
_FOLD_TABLE.update({c: None for c in range(0x0300, 0x0370)})

# --- regexes ------------------------------------------------------------------

_LETTER = r"[^\W\d_]"
# What may not follow a syllable whose tone we move: a letter, or a combining
# mark that NFC could not attach (the result must stay NFC).
_NOT_WORD_END = r"[^\W\d_]|[\u0300-\u036f]"
_WS_RE = re.compile(r"\s+")
_ZWJ_IN_WORD_RE = re.compile(r"(?<=[\w\u0300-\u036f])\u200d+|\u200d+(?=[\w\u0300-\u036f])")
# Same ASCII punctuation three or more times; dots are handled separately.
_PUNCT_RUN_RE = re.compile(r"([!\"#$%&'()*+,\-/:;<=>?@\[\\\]^_`{|}~])\1{2,}")
_DOT_RUN_RE = re.compile(r"\.{4,}")
# Combining accents with no letter to sit on (after NFC), e.g. a tone typed after a space.
_ORPHAN_MARKS_RE = re.compile(r"(?<![^\W\d_\u0300-\u036f])[\u0300-\u036f]+")
_LETTER_RUN_RE = re.compile(rf"({_LETTER})\1{{3,}}", re.IGNORECASE)

# New-style tone placement at the end of a syllable: "oà", "oé", "uỷ".
# Not after q (in "qu" the u is a consonant: "quý" is already right) and not
# after another vowel; the cluster must end the word ("hoàn", "khuỷu" are fine).
_TONED_AE = _toned("ae")
_TONED_Y = _toned("y")
_NEW_STYLE_RE = re.compile(
    rf"(?<![qQ{_VOWEL_CHARS}])(?:([oO])([{_TONED_AE}])|([uU])([{_TONED_Y}]))(?!{_NOT_WORD_END})"
)
# Tone typed on the consonant-like u of "qu" or i of "gi" ("qúa", "gìa"):
# move it to the next vowel, which is the real nucleus.
_SYLLABLE_END = rf"(?=[{_CONSONANT_CHARS}]*(?!{_NOT_WORD_END}))"
_QU_GI_RE = re.compile(
    rf"([qQ])([{_toned('u')}])([aăâeêoôơyAĂÂEÊOÔƠY]){_SYLLABLE_END}"
    rf"|([gG])([{_toned('i')}])([aăâeêoôơuưAĂÂEÊOÔƠUƯ]){_SYLLABLE_END}"
)


def _split_tone(ch: str) -> tuple[str, str]:
    """'à' -> ('a', U+0300)."""
    d = unicodedata.normalize("NFD", ch)
    tone = next((m for m in d if m in _TONE_MARKS), "")
    return _nfc(d.replace(tone, "")) if tone else ch, tone


def _fix_new_style(m: re.Match) -> str:
    first, second = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
    base, tone = _split_tone(second)
    return _nfc(first + tone) + base


def _fix_qu_gi(m: re.Match) -> str:
    g = m.groups()
    cons, glide, vowel = g[0:3] if g[0] else g[3:6]
    glide_base, tone = _split_tone(glide)
    return cons + glide_base + _nfc(vowel + tone)


def _is_wordish(ch: str) -> bool:
    return ch.isalpha() or unicodedata.combining(ch) != 0


def _collapse_letters(m: re.Match) -> str:
    s, start, end = m.string, m.start(), m.end()
    # A word that is only one letter repeated ("kkkk", "zzzz") becomes three
    # letters, not one: a lone "k"/"z"/"r" would later expand to a real word.
    alone = (start == 0 or not _is_wordish(s[start - 1])) and (
        end == len(s) or not _is_wordish(s[end])
    )
    return m.group(1) * 3 if alone else m.group(1)


# --- public API ---------------------------------------------------------------


def normalize(text: str) -> str:
    """Canonical form of a message: NFC, old-style tone marks, clean spacing."""
    if not isinstance(text, str):
        raise TypeError(f"normalize() expects str, got {type(text).__name__}")
    if not text:
        return ""
    # Clean before NFC: an invisible character between a letter and its
    # combining mark would stop them composing.
    text = text.translate(_CLEAN_TABLE)
    if "\u200d" in text:
        text = _ZWJ_IN_WORD_RE.sub("", text)
    text = _ORPHAN_MARKS_RE.sub("", _nfc(text))
    text = _LETTER_RUN_RE.sub(_collapse_letters, text)
    text = _WS_RE.sub(" ", text).strip()
    text = _NEW_STYLE_RE.sub(_fix_new_style, text)
    text = _QU_GI_RE.sub(_fix_qu_gi, text)
    text = _PUNCT_RUN_RE.sub(r"\1", text)
    # Keep an ellipsis an ellipsis rather than turning it into a full stop.
    return _DOT_RUN_RE.sub("...", text)


def fold(text: str) -> str:
    """Lowercase, diacritic-free form: "Tôi muốn HUỶ đơn" -> "toi muon huy don"."""
    return fold_normalized(normalize(text))


def fold_normalized(text: str) -> str:
    """fold() of text that is already normalize()d (a prepared message's forms)."""
    folded = text.lower().translate(_FOLD_TABLE)
    # Removing accents can line up new runs ("àaaa"); collapse them like normalize does.
    return _LETTER_RUN_RE.sub(_collapse_letters, folded)
