"""Chat abbreviations and teencode: "ko dc" -> "không được", "sdt" -> "số điện thoại"; and
the two spellings of i/y syllables ("đăng kí" / "đăng ký") written one way."""

from __future__ import annotations

import re

from .language import detect_language

__all__ = ["ABBREVIATIONS", "READINGS", "corpus_readings", "expand_abbreviations"]

# Chat abbreviation/teencode -> expansion. Keys are matched case-insensitively
# as whole tokens. Ambiguous readings were settled for a shop's support desk.
ABBREVIATIONS: dict[str, str] = {
    # không
    "ko": "không", "k": "không", "kh": "không", "khg": "không",
    "kô": "không", "hok": "không", "hông": "không", "khum": "không",
    # được
    "dc": "được", "đc": "được", "dk": "được", "đk": "được",
    # question words and particles
    "ntn": "như thế nào", "j": "gì", "gi": "gì",
    "z": "vậy", "v": "vậy",  # only sentence-final, see _FINAL_RE
    "r": "rồi", "vs": "với", "ms": "mới", "cx": "cũng", "trc": "trước",
    "bn": "bao nhiêu", "bh": "bao giờ", "bjo": "bao giờ", "bgio": "bao giờ",
    "hnay": "hôm nay", "hqua": "hôm qua", "nhìu": "nhiều", "bik": "biết",
    "mik": "mình", "iu": "yêu",
    # people
    "mn": "mọi người", "mng": "mọi người", "ad": "admin", "nv": "nhân viên",
    # shop vocabulary
    "sdt": "số điện thoại", "sđt": "số điện thoại",
    "sp": "sản phẩm", "dh": "đơn hàng", "đh": "đơn hàng",
    "tk": "tài khoản", "mk": "mình", "ck": "chuyển khoản", "stk": "số tài khoản",
    "ib": "nhắn tin", "ship": "giao hàng", "cod": "COD",
    "oke": "ok", "okie": "ok", "oki": "ok", "okê": "ok", "okela": "ok",
    # more everyday chat forms (general Vietnamese teencode, none domain-specific: "bs" is
    # "bác sĩ" or "bổ sung", "hs" "học sinh" or "hồ sơ", "tt" "thanh toán" or "thông tin",
    # so they are left out)
    "đt": "điện thoại", "dt": "điện thoại",
    "đky": "đăng ký", "dky": "đăng ký", "đki": "đăng ký", "dki": "đăng ký", "đkí": "đăng ký",
    "lm": "làm", "ng": "người", "ngta": "người ta", "đg": "đang", "nhg": "nhưng",
    "nma": "nhưng mà", "nhma": "nhưng mà", "mún": "muốn", "bít": "biết", "wá": "quá",
    "thui": "thôi", "lun": "luôn", "ns": "nói", "kbh": "không bao giờ",
    "tn": "tin nhắn", "nt": "nhắn tin", "tl": "trả lời", "kq": "kết quả", "tg": "thời gian",
    "cty": "công ty", "sv": "sinh viên",
    # i/y after k, l, m, t, s, qu: both spellings are in use ("kí tên" / "ký tên", "lí do" /
    # "lý do", "qui định" / "quy định"); each is written the way most text writes it, so the
    # customer's form and the FAQ's match. Untoned "ki"/"li" are the same words typed
    # without accents ("sy" too). "mì", "tí", "lì" are their own words and stay.
    "kí": "ký", "kì": "kỳ", "kỉ": "kỷ", "kĩ": "kỹ", "kị": "kỵ", "ki": "ky",
    "lí": "lý", "li": "ly", "mĩ": "mỹ", "tỉ": "tỷ", "sỹ": "sĩ", "sy": "si",
    "qui": "quy", "quí": "quý", "quì": "quỳ", "quỉ": "quỷ", "quĩ": "quỹ", "quị": "quỵ",
}

# Abbreviations whose reading depends on the business: "đh" is "đơn hàng" to a shop and
# "đại học" to a university, "bs" "bác sĩ" to a clinic. An FAQ's own wording settles them
# for its search (corpus_readings); elsewhere ABBREVIATIONS's reading stands, and those it
# lacks stay as typed. General chat forms of several kinds of business; the last two lines'
# shop and place forms were added after reading the sample shop's tune-half misses (whose
# FAQ writes them itself, so they change nothing there), the rest before any evaluation set's
# messages were read.
READINGS: dict[str, tuple[str, ...]] = {
    "đh": ("đơn hàng", "đại học"), "dh": ("đơn hàng", "đại học"),
    "nv": ("nhân viên", "nguyện vọng"), "ck": ("chuyển khoản", "chứng khoán"),
    "bs": ("bác sĩ", "bổ sung"), "hs": ("hồ sơ", "học sinh"), "xn": ("xét nghiệm", "xác nhận"),
    "pk": ("phòng khám", "phụ kiện"), "hp": ("học phí", "học phần"),
    "gv": ("giảng viên", "giáo viên"), "bv": ("bệnh viện",), "ts": ("tuyển sinh",),
    "lh": ("liên hệ",), "ktx": ("ký túc xá",), "thpt": ("trung học phổ thông",),
    "cđ": ("cao đẳng",), "bhyt": ("bảo hiểm y tế",), "bhxh": ("bảo hiểm xã hội",),
    "ttin": ("thông tin",), "hđ": ("hóa đơn", "hợp đồng"),
    "hn": ("hà nội",), "sg": ("sài gòn", "hồ chí minh"), "hcm": ("hồ chí minh",),
    "gg": ("giảm giá",), "fs": ("flash sale",), "vc": ("vận chuyển", "voucher"),
}


def corpus_readings(texts) -> dict[str, str]:
    """READINGS settled by an FAQ's `texts`: the reading it uses most, where that is not
    ABBREVIATIONS's already (a tie keeps the earlier reading; a corpus that uses none of them
    settles nothing). An abbreviation the FAQ writes itself ("BHYT") is not settled: its
    texts are read like every message, so the customer's "bhyt" matches the FAQ's."""
    lowered = "\n".join(texts).lower()
    written = set(re.findall(r"\w+", lowered))
    chosen: dict[str, str] = {}
    for key, readings in READINGS.items():
        if key in written:
            continue
        counts = [lowered.count(r) for r in readings]  # as substrings: fast on a large FAQ
        best = readings[counts.index(max(counts))]
        if max(counts) and best != ABBREVIATIONS.get(key):
            chosen[key] = best
    return chosen


# Letters that mean something else right after a number: "50 k" is 50 000.
_NUMBER_SUFFIXES = frozenset({"k"})
# "v"/"z" mean "vậy" at the end of a sentence, optionally followed by a few
# particles or vocatives ("sao v shop ơi", "j z ạ"); elsewhere they are left.
_FINAL_ONLY = frozenset({"v", "z"})
_TRAILERS = (
    "ạ|à|ả|ạh|hả|ha|hở|nhỉ|nhé|nhe|nha|ơi|oi|shop|sốp|ad|admin"
    "|bạn|b|em|e|anh|a|chị|c|mn|mng"
)
_FINAL_RE = re.compile(
    rf"(?:\s+(?:{_TRAILERS})(?!\w)){{0,3}}\s*(?:[.?!,;…]|\W*$)", re.IGNORECASE
)
# "dk"/"đk" before an account word means "đăng ký" (register).
_REGISTER_KEYS = frozenset({"dk", "đk"})
_REGISTER_NEXT_RE = re.compile(
    r"\s+(?:tk|tài khoản|tai khoan|acc|account|thành viên|thanh vien|tv)(?!\w)",
    re.IGNORECASE,
)
# "mk" is "mật khẩu" (password) after what one does to a password or before what it
# unlocks ("quên mk", "đổi mk", "mk ví"), and "mình" (I, my) elsewhere ("mk muốn hỏi",
# "ví mk").
_PASSWORD_BEFORE_RE = re.compile(
    r"(?:quên|quen|đổi|doi|nhập|nhap|sai|lại|lai|thay|khôi phục|khoi phuc|reset|cài|tạo|"
    r"đặt|nhớ|lộ|mất|mat)\s+$",
    re.IGNORECASE,
)
_PASSWORD_NEXT_RE = re.compile(
    r"\s+(?:ví|vi|tk|tài khoản|tai khoan|đăng nhập|dang nhap|cũ|cu|mới|moi|wifi|app)(?!\w)",
    re.IGNORECASE,
)
# Tokens glued to these characters are parts of something else: ":v" is an
# emoticon, "k-pop", "ad@shop.vn", "a/b", "sp.com".
_ABBR_RE = re.compile(
    r"(?<![\w\u0300-\u036f@#/\\\-'&:;=+.$%])("
    + "|".join(re.escape(k) for k in sorted({*ABBREVIATIONS, *READINGS}, key=len, reverse=True))
    + r")(?![\w\u0300-\u036f@'\-/&+=]|\.\w)",
    re.IGNORECASE,
)


def _match_case(token: str, expansion: str) -> str:
    if len(token) > 1 and token.isupper():
        return expansion.upper()
    if token[0].isupper():
        return expansion[0].upper() + expansion[1:]
    return expansion


def _expand(m: re.Match, readings: dict[str, str]) -> str:
    token = m.group(1)
    key = token.lower()
    if key in readings:
        return _match_case(token, readings[key])
    if key not in ABBREVIATIONS:
        return token
    s = m.string
    if key in _NUMBER_SUFFIXES:
        i = m.start() - 1
        while i >= 0 and s[i].isspace():
            i -= 1
        if i >= 0 and s[i].isdigit():
            return token
    if key in _FINAL_ONLY and not _FINAL_RE.match(s, m.end()):
        return token
    if key == "mk" and (_PASSWORD_BEFORE_RE.search(s, 0, m.start())
                        or _PASSWORD_NEXT_RE.match(s, m.end())):
        return _match_case(token, "mật khẩu")
    if key in _REGISTER_KEYS and _REGISTER_NEXT_RE.match(s, m.end()):
        return _match_case(token, "đăng ký")  # "đk tk" is registering, not "được"
    return _match_case(token, ABBREVIATIONS[key])


def expand_abbreviations(text: str, language: str | None = None,
                         readings: dict[str, str] | None = None) -> str:
    """Expand chat abbreviations word by word: "ko dc" -> "không được".

    `language="en"` leaves the text alone; None detects it, and only text that
    is clearly English is left alone (in English "k" means "ok", not "không").
    `readings`: an FAQ's readings of READINGS (corpus_readings), before ABBREVIATIONS's.
    """
    if not text:
        return text
    if language is None:
        language = detect_language(text, default="vi")
    if language == "en":
        return text
    return _ABBR_RE.sub(lambda m: _expand(m, readings or {}), text)
