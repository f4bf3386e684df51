"""Per-message language guess, Vietnamese or English, without any model."""

from __future__ import annotations

import re
from typing import Tuple

from .normalize import _FOLD_TABLE, normalize

__all__ = ["detect_language", "language_evidence"]

# Letters no English (or French, Spanish...) word has: ă đ ơ ư ĩ ũ and the
# whole Latin Extended Additional block of toned Vietnamese vowels.
_VI_ONLY_RE = re.compile("[ăđơưĩũĂĐƠƯĨŨ\u1ea0-\u1ef9]")
_TOKEN_RE = re.compile(r"[^\W\d_]+")

# Common Vietnamese words as typed without diacritics, and teencode.
_VI_WORDS = frozenset(
    """
    toi minh ban em anh chi oi cho hoi sao gi nhe nha a la co khong ko kh khg hok
    hong dc dk duoc muon don hang bao nhieu shop lam the nao roi voi cua va cai nay
    do ve di den tu trong ngay gio thi ma nhung vay chua da dang se bi lai nua het
    con cam on xin chao giup biet can mua giao tra tien gia phi dat huy doi tai
    khoan mat khau chuyen so dien thoai nhan vien san pham hom mai qua tuan thang
    ad admin mn mng sdt sp dh tk mk ck stk nv bn bh ib vs ms cx trc ntn oke okie
    ak ah nhi ha hay duoc sao vay ne nhu luc may bay gio kiem tra lien he
    nguoi that gap tu van hang hoa mau ao quan giay dep nhanh cham loi hong
    """.split()
)

# Common English words, chat forms included.
_EN_WORDS = frozenset(
    """
    i you my me your we our us it its this that these there the a an is are was
    were be been am to of in on for with at from by and or not no yes do does did
    can could would will should have has had how what when where why which who
    want need please pls plz order orders help thanks thank thx hello hi hey
    cancel refund return delivery deliver delivered shipping payment pay paid
    account password price product get know check status track tracking still
    yet just about any some much many money change address phone number email
    received receive wrong item size buy bought problem issue support agent
    human talk speak someone time today tomorrow days long but if up out too
    also very already ur sure okay sorry wait got arrived late where
    good morning afternoon evening night bye goodbye see later weather bot robot
    person people real live chat staff joke tell like love great nice bad
    """.split()
)

# A Vietnamese syllable typed without accents: onset, vowel nucleus, coda. A word that
# cannot be one ("monkey", "cable", "quietly") is evidence of English even when it is in
# no word list.
_VI_SYLLABLE_RE = re.compile(
    r"(?:ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|[bcdghklmnprstvx])?"
    r"(?:uye|uya|uyu|ieu|yeu|uoi|uou|oai|oay|oao|oeo|uay|uau|uai"
    r"|ai|ao|au|ay|eo|eu|ia|ie|iu|oa|oe|oi|oo|ua|ue|ui|uo|uu|uy|ye|[aeiouy])"
    r"(?:ch|ng|nh|[cmnpt])?"
)

_VOWEL_RE = re.compile("[aeiouy]")
# Swearing says nothing about the customer's language (customers swear in English too).
_SWEARING = frozenset("fuck fucking shit damn wtf stupid idiot bitch crap suck sucks dumb".split())

# Words that are common in both ("the" = thẻ/thế, "to" = tô/tớ, "can" = cần)
# say nothing about the language.
_BOTH = _VI_WORDS & _EN_WORDS
_VI_WORDS = _VI_WORDS - _BOTH
_EN_WORDS = _EN_WORDS - _BOTH


def language_evidence(text: str, normalized: bool = False) -> Tuple[int, int]:
    """(Vietnamese, English) words of `text` that tell its language. `normalized`: `text`
    already went through normalize()."""
    norm = (text if normalized else normalize(text)).lower()
    tokens = _TOKEN_RE.findall(norm)
    vi = en = 0
    for token in tokens:
        plain = token.translate(_FOLD_TABLE)
        if plain != token:
            vi += 1  # "là", "có", "tôi": accents shared with French still lean vi
        elif len(plain) == 1 and plain != "i":
            continue  # "k", "v", "a", "e": too ambiguous to count
        elif plain in _VI_WORDS:
            vi += 1
        elif plain in _EN_WORDS:
            en += 1
        elif plain in _SWEARING or not _VOWEL_RE.search(plain):
            continue  # "dm", "vl", "sdt", "wtf": chat shorthand and swearing, of either language
        elif not (plain in _BOTH or _VI_SYLLABLE_RE.fullmatch(plain)):
            en += 1
    return vi, en


def detect_language(text: str, default: str = "vi", normalized: bool = False) -> str:
    """Return "vi" or "en"; `default` when the text gives too little to go on.

    Pass the conversation's current language as `default` so that "ok" or an
    emoji does not flip it. `normalized`: `text` already went through normalize().
    """
    norm = text if normalized else normalize(text)
    if _VI_ONLY_RE.search(norm):
        return "vi"
    if len(_TOKEN_RE.findall(norm.lower())) < 2:
        return default  # "ok", "hi", emoji, empty: not enough evidence
    vi, en = language_evidence(norm, normalized=True)
    if vi > en:
        return "vi"
    if en > vi:
        return "en"
    return default
