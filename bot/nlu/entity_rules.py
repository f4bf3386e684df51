"""Rule-based entities on spaCy's Vietnamese language, with no downloaded model.

`entity_nlp()` is `spacy.blank("vi")` (pyvi's word segmentation) whose tokenizer keeps
every token's span in the customer's original text, plus one pipe, `hotro_entity_rules`,
that finds the entities below with regular expressions and sets them as `doc.ents`
through `doc.char_span` (a token that straddles an entity's edge is split first, so the
spans are exact). `extract(text)` returns them as Rasa entity dicts.

The patterns run on a folded copy of the text (lowercase, no diacritics, "đ" -> "d",
full-width digits -> ASCII) whose every character remembers where it came from, so NFC,
NFD and accent-less input ("ngay mai", "thu 2 tuan sau") match alike and offsets always
point into the original. Words that mean something else with other accents are checked
on the original: "mai" is tomorrow, "mãi", "mái" and "khuyến mại" are not; "thứ tư" is
Wednesday, "thứ tự" is not.

| entity | examples | value |
|---|---|---|
| phone | 0912 345 678, 0912.345.678, +84 912 345 678, 84912345678, 028 3823 4567 | "0912345678" (mobile 03/05/07/08/09 + 8 digits, landline 02x + 8 digits) |
| email | lan.nguyen@gmail.com | lowercased address |
| order_id | HT123456, DH123456, #123456, mã đơn 2411250001, đơn hàng số 123456, order #123456 | "HT123456" / "123456": letters upper-cased, spaces and "#" dropped |
| money | 200k, 2 triệu, 1tr5, 1.500.000đ, 1.500.000, 500 nghìn, 2,5 triệu, 2 củ, $20, 20 USD | int number of đồng; other currencies "20 USD" (additional_info has amount and currency) |
| date | mai, ngày mai, hôm nay, thứ 2 tuần sau, 25/12, 25/12/2026, 25 tháng 12, tomorrow, next monday, Dec 25 | ISO date, relative to the message time in Asia/Ho_Chi_Minh |

Order numbers: Hotro Shop's are "HT" + 6 digits (knowledge_base/payment.yml: "mã đơn hàng
(ví dụ HT123456)"); customers also write "DH"/"ĐH" (đơn hàng) + digits, "#" + 5-12 digits,
or 5-14 digits (optionally after 2-3 letters) right after a cue: "mã đơn", "đơn hàng
(số)", "đơn", "dh", "order (number|no.|id)". A bare number with no cue is never an order.
Dates: a weekday alone ("thứ 6", "friday") is its next occurrence from today on; "tuần
sau/tuần tới" and "next" mean that weekday in the next calendar week (Monday to Sunday),
"tuần này"/"this" in the current one, "tuần trước"/"last" in the previous one; a day and
month with no year ("25/12") is the occurrence nearest to today (last year, this year or
next year).
"""
from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

logger = logging.getLogger(__name__)

PHONE, EMAIL, ORDER_ID, MONEY, DATE = "phone", "email", "order_id", "money", "date"
ENTITY_TYPES = (PHONE, EMAIL, ORDER_ID, MONEY, DATE)
# When two findings overlap, the earlier type in this order wins.
_PRIORITY = {EMAIL: 0, ORDER_ID: 1, PHONE: 2, MONEY: 3, DATE: 4}
TIMEZONE = "Asia/Ho_Chi_Minh"
# Channels refuse messages over 4,000 characters; past this much text nothing is looked
# for (logged), so a hostile message costs bounded time.
MAX_CHARS = 20_000


@dataclass(frozen=True)
class Found:
    entity: str
    start: int  # offsets into the original text
    end: int
    value: Any
    extra: Dict[str, Any] = field(default_factory=dict)


# --- folding with offsets ------------------------------------------------------------


def _fold_char(ch: str) -> str:
    if ch in "đĐðÐ₫":
        return "d"
    decomposed = unicodedata.normalize("NFKD", ch)
    base = "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
    if len(base) == 1:
        return base
    lower = ch.lower()
    return lower if len(lower) == 1 else ch


class Folded:
    """`text` folded one character for one (combining marks dropped), with `origin[i]` the
    index in the original of folded character i."""

    def __init__(self, original: str) -> None:
        chars: List[str] = []
        origin: List[int] = []
        for i, ch in enumerate(original):
            if unicodedata.combining(ch):
                continue
            chars.append(_fold_char(ch))
            origin.append(i)
        self.original = original
        self.text = "".join(chars)
        self.origin = origin

    def span(self, start: int, end: int) -> Tuple[int, int]:
        """Original (start, end) of folded [start, end), with trailing combining marks."""
        o_start = self.origin[start]
        o_end = self.origin[end - 1] + 1
        while o_end < len(self.original) and unicodedata.combining(self.original[o_end]):
            o_end += 1
        return o_start, o_end

    def original_words(self, start: int, end: int) -> List[str]:
        """The original words (NFC, lowercase) of folded [start, end)."""
        o_start, o_end = self.span(start, end)
        return unicodedata.normalize("NFC", self.original[o_start:o_end]).lower().split()


# Folded words that are other words with other accents: the original must be one of these.
_ALLOWED = {
    "thu": {"thứ", "thu"}, "hai": {"hai"}, "ba": {"ba"}, "tu": {"tư", "tu"},
    "nam": {"năm", "nam"}, "sau": {"sáu", "sau"}, "bay": {"bảy", "bẩy", "bay"},
    "tuan": {"tuần", "tuan"}, "toi": {"tới", "tối", "toi"}, "nay": {"này", "nay"},
    "truoc": {"trước", "truoc"}, "mai": {"mai"}, "ngay": {"ngày", "ngay"},
    "hom": {"hôm", "hom"}, "bua": {"bữa", "bua"}, "qua": {"qua"}, "kia": {"kia"},
    "mot": {"mốt"}, "chu": {"chủ", "chu"}, "nhat": {"nhật", "nhat"},
    "sang": {"sáng", "sang"}, "trua": {"trưa", "trua"}, "chieu": {"chiều", "chieu"},
    "dem": {"đêm", "dem"}, "thang": {"tháng", "thang"}, "thg": {"thg"},
    "trieu": {"triệu", "trieu"}, "nghin": {"nghìn", "nghin"}, "ngan": {"ngàn", "ngan"},
    "dong": {"đồng", "dong"}, "do": {"đô"}, "la": {"la"}, "cu": {"củ"},
    "ty": {"tỷ", "tỉ", "ty"}, "ti": {"tỉ"}, "tram": {"trăm", "tram"},
    "ruoi": {"rưỡi", "ruoi"}, "don": {"đơn", "don"}, "ma": {"mã", "ma"},
    "hang": {"hàng", "hang"}, "so": {"số", "so"}, "may": {"may"},
}
_WORD_RE = re.compile(r"[^\W\d_]+")


def _accents_fit(folded: Folded, start: int, end: int) -> bool:
    originals = _WORD_RE.findall(" ".join(folded.original_words(start, end)))
    words = _WORD_RE.findall(folded.text[start:end])
    if len(originals) != len(words):
        return True  # odd input (symbols glued to letters): don't second-guess it
    return all(o in _ALLOWED.get(w, (o,)) for w, o in zip(words, originals))


def _previous_word(text: str, start: int) -> str:
    match = re.search(r"([^\W\d_]+)\s*$", text[max(0, start - 40):start])
    return match.group(1) if match else ""


# --- phone ---------------------------------------------------------------------------

# Runs of digit groups joined by one separator; a phone number is some consecutive groups.
_DIGIT_RUN = re.compile(r"(?<![\w@])\+?\(?\+?\d+(?:(?:[ .\-]|\)\s?|\s?\(\+?|\s-\s)\d+)*(?![\w@])")
_GROUP = re.compile(r"\d+")
_PHONE_DIGITS = re.compile(r"(?:0|84)(?:[35789]\d{8}|2\d{9})")


def _phone_value(digits: str) -> Optional[str]:
    if digits.startswith("840") and len(digits) in (12, 13):  # +84 (0) 912 ...
        digits = "84" + digits[3:]
    if _PHONE_DIGITS.fullmatch(digits):
        return "0" + digits[2:] if digits.startswith("84") else digits
    return None


def _phones(folded: Folded) -> Iterable[Found]:
    text = folded.text
    for run in _DIGIT_RUN.finditer(text):
        groups = list(_GROUP.finditer(run.group()))
        i = 0
        while i < len(groups):
            best = None
            digits = ""
            for j in range(i, min(len(groups), i + 6)):
                digits += groups[j].group()
                if len(digits) > 13:
                    break
                value = _phone_value(digits)
                if value and (not digits.startswith("84") or j > i or
                              len(groups[i].group()) > 2 or "+" in run.group()[:groups[i].start()]):
                    best = (j, value)
            if best is None:
                i += 1
                continue
            j, value = best
            start = run.start() + groups[i].start()
            # Keep the "+" (and an opening bracket) of "+84".
            before = run.group()[:groups[i].start()]
            if i == 0 and before:
                start = run.start()
            end = run.start() + groups[j].end()
            if i == 0 and end < run.end() and text[end] == ")":
                end += 1
            yield Found(PHONE, *folded.span(start, end), value)
            i = j + 1


# --- email ---------------------------------------------------------------------------

_EMAIL = re.compile(r"[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_LOCAL_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._%+-")
_DOMAIN = re.compile(r"[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")


def _emails(text: str) -> Iterable[Found]:
    """Linear: looks only around each "@"."""
    for at in (m.start() for m in re.finditer("@", text)):
        start = at
        while start > 0 and at - start < 64 and text[start - 1] in _LOCAL_CHARS:
            start -= 1
        while start < at and text[start] in "._%+-":
            start += 1
        domain = _DOMAIN.match(text, at + 1, min(len(text), at + 256))
        if start == at or domain is None:
            continue
        end = domain.end()
        while text[end - 1] == "." and end > at:
            end -= 1
        candidate = text[start:end]
        if _EMAIL.fullmatch(candidate):
            yield Found(EMAIL, start, end, candidate.lower())


# --- order numbers -------------------------------------------------------------------

_ORDER_PATTERNS = [
    # HT123456, DH-123456, ĐH 123456 (the shop's prefix, or "đơn hàng" abbreviated)
    re.compile(r"(?<![\w#])(?P<code>(?P<pfx>ht|dh)(?:[\-#]|\s?#?)?\d{5,12})(?![\w])"),
    # #123456
    re.compile(r"(?<![\w&#])(?P<code>#\s?\d{5,12})(?![\w])"),
    # mã đơn (hàng) / đơn hàng (số) / đơn / order (number): 2411250001
    re.compile(
        r"(?<![\w])(?:ma\s*(?:don|dh)(?:\s+hang)?|(?<!van\s)(?<!hoa\s)don(?:\s+hang)?|dh"
        r"|order(?:\s+(?:number|no\.?|id|code|#))?)"
        r"(?:\s*(?:cua\s+(?:em|minh|toi|tui|anh|chi|e|mk)|so|la|is|no\.?|number|id|:|=|-)){0,3}"
        r"\s*#?\s*(?P<code>(?:[a-z]{2,3})?\d{5,14})(?![\w])"),
]


def _orders(folded: Folded) -> Iterable[Found]:
    text = folded.text
    for number, pattern in enumerate(_ORDER_PATTERNS):
        for match in pattern.finditer(text):
            start, end = match.span("code")
            if number == 2 and not _accents_fit(folded, match.start(), start):
                continue
            if number == 0 and re.fullmatch(r"dh\s\d+", match.group("code")):
                # "dh 123456" is "đơn hàng 123456": the number is the order.
                start = match.start("code") + 3
            o_start, o_end = folded.span(start, end)
            raw = unicodedata.normalize("NFC", folded.original[o_start:o_end])
            value = re.sub(r"[\s#\-]", "", raw).upper().replace("Đ", "D")
            yield Found(ORDER_ID, o_start, o_end, value)


# --- money ---------------------------------------------------------------------------

_NUM = r"\d+(?:[.,]\d+)*"
_MULTIPLIERS = {"k": 1_000, "nghin": 1_000, "ngan": 1_000, "trieu": 1_000_000,
                "tr": 1_000_000, "cu": 1_000_000, "ty": 1_000_000_000, "ti": 1_000_000_000}
_MONEY_PATTERNS = [
    # $20, $ 20.50, 20$, 20 usd, 20 dollars, 20 đô (la)
    re.compile(rf"(?<![\w.,$])\$\s?(?P<usd>{_NUM})(?![\w.,]?\d)"),
    re.compile(rf"(?<![\w.,$])(?P<usd>{_NUM})\s?(?:\$|us\$|usd|dollars?|do(?:\s+la)?)(?![\w$])"),
    # 2 trăm nghìn, 5 trăm k
    re.compile(rf"(?<![\w.,])(?P<hundreds>\d{{1,3}})\s?tram\s?(?:nghin|ngan|k)"
               rf"(?:\s?(?:vnd|dong|d))?(?![\w])"),
    # 200k, 2 triệu, 1tr5, 1 triệu 2, 2,5 triệu, 1 triệu rưỡi, 1 triệu 200 nghìn, 2 củ
    re.compile(rf"(?<![\w.,])(?P<n>{_NUM})\s?(?P<mult>ty|ti|trieu|tr|cu|nghin|ngan|k)"
               r"(?:(?P<frac>\d{1,3})|\s(?P<sfrac>\d{1,3})(?!\s?(?:nghin|ngan|k|[.,]?\d))"
               r"|\s?(?P<ruoi>ruoi))?"
               r"(?:\s?(?P<n2>\d{1,3})\s?(?P<mult2>nghin|ngan|k))?"
               r"(?:\s?(?:vnd|dong|d))?(?![\w])"),
    # 1.500.000đ, 500000 đồng, 1,500,000 VND, VND 500.000
    re.compile(rf"(?<![\w.,])(?P<plain>{_NUM})\s?(?:vnd|dong|d)(?![\w])"),
    re.compile(rf"(?<![\w.,])vnd\s?(?P<plain>{_NUM})(?![\w.,]?\d)"),
    # 1.200.000 with no unit: two or more groups of thousands are an amount of đồng in a
    # shop's chat (a phone number is grouped 4-3-3 and starts with 0).
    re.compile(r"(?<![\w.,])(?P<plain>[1-9]\d{0,2}(?P<sep>[.,])\d{3}(?:(?P=sep)\d{3})+)(?![\w]|[.,]\d)"),
]


def parse_number(text: str) -> Optional[float]:
    """"1.500.000" and "1,500,000" -> 1500000; "2,5" and "2.5" -> 2.5; "1.500,50" -> 1500.5."""
    groups = re.split(r"[.,]", text)
    if any(not g for g in groups):
        return None
    if len(groups) == 1:
        return float(groups[0])
    if all(len(g) == 3 for g in groups[1:]) and len(groups[0]) <= 3:
        return float("".join(groups))
    if all(len(g) == 3 for g in groups[1:-1]) and len(groups[0]) <= 3:
        return float("".join(groups[:-1]) + "." + groups[-1])
    return None


def _money_value(match: re.Match) -> Optional[Tuple[Any, Dict[str, Any]]]:
    parts = match.groupdict()
    if parts.get("usd"):
        amount = parse_number(parts["usd"])
        if amount is None:
            return None
        shown = f"{amount:.2f}".rstrip("0").rstrip(".")
        return f"{shown} USD", {"amount": amount, "currency": "USD"}
    if parts.get("hundreds"):
        amount = int(parts["hundreds"]) * 100_000
    elif parts.get("plain"):
        number = parse_number(parts["plain"])
        if number is None:
            return None
        amount = round(number)
    else:
        number = parse_number(parts["n"])
        if number is None:
            return None
        multiplier = _MULTIPLIERS[parts["mult"]]
        amount = number * multiplier
        frac = parts.get("frac") or parts.get("sfrac")
        if frac:
            if number != int(number):
                return None  # "1.5tr2" means nothing
            amount += int(frac) * multiplier / 10 ** len(frac)
        if parts.get("ruoi"):
            amount += multiplier / 2
        if parts.get("n2"):
            small = _MULTIPLIERS[parts["mult2"]]
            if small >= multiplier:
                return None
            amount += int(parts["n2"]) * small
        amount = round(amount)
    if amount <= 0 or amount > 10 ** 15:
        return None
    return amount, {"amount": amount, "currency": "VND"}


def _moneys(folded: Folded) -> Iterable[Found]:
    for pattern in _MONEY_PATTERNS:
        for match in pattern.finditer(folded.text):
            if not _accents_fit(folded, match.start(), match.end()):
                continue
            parsed = _money_value(match)
            if parsed is None:
                continue
            value, extra = parsed
            yield Found(MONEY, *folded.span(match.start(), match.end()), value, extra)


# --- dates ---------------------------------------------------------------------------

_VI_WEEKDAYS = {"2": 0, "hai": 0, "3": 1, "ba": 1, "4": 2, "tu": 2, "5": 3, "nam": 3,
                "6": 4, "sau": 4, "7": 5, "bay": 5}
_EN_WEEKDAYS = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}
_MONTHS = {"jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6, "jul": 7, "aug": 8,
           "sep": 9, "oct": 10, "nov": 11, "dec": 12}
_MONTH_RE = (r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?"
             r"|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)")
_EN_DAY_RE = r"(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)"
_EN_DAY_SHORT_RE = r"(?:mon|tues?|wed|thu(?:rs?)?|fri|sat|sun)"
# Words before "thứ 2" that make it an ordinal ("lần thứ 2": the second time).
_ORDINAL_BEFORE = {"lan", "cai", "don", "nguoi", "chiec", "buoc", "hang", "con", "muc",
                   "phan", "bai", "trang", "the", "loai", "mau", "lop", "tang", "ky", "ki",
                   "dot", "so", "ngay", "thang", "nam", "tuan", "san", "sp", "theo"}
# Words before "mai" that make it something else ("khuyến mại", "hoa mai", "chị Mai").
_NOT_TOMORROW_BEFORE = {"khuyen", "thuong", "hoa", "cay", "canh", "ten", "ban", "dao"}
_TITLES = {"anh", "chi", "em", "co", "ban", "ong", "ba", "be", "chu", "bac", "di", "ten", "c", "a"}

_DATE_PATTERNS: List[Tuple[str, re.Pattern]] = [
    ("vi_weekday", re.compile(
        r"(?<![\w])(?:thu\s*(?P<wd>[2-7](?!\d)|hai|ba|tu|nam|sau|bay)|t(?P<twd>[2-7])|(?P<cn>chu\s*nhat|cn(?=\s+tuan)))"
        r"(?:\s*,?\s*(?:tuan\s*(?P<q>sau|toi|nay|truoc)|(?P<q2>nay|toi)))?(?![\w])")),
    ("vi_relative", re.compile(
        r"(?<![\w])(?:(?P<pre>ngay|sang|trua|chieu|toi|dem|hom)\s+)?"
        r"(?P<rel>mai|mot|kia)(?!\s+mot)(?![\w])")),
    ("vi_relative", re.compile(
        r"(?<![\w])(?P<rel>(?:hom|bua)\s+(?:nay|qua|kia)|hnay|hqua|(?:sang|trua|chieu|toi|dem)\s+nay)(?![\w])")),
    ("en_relative", re.compile(
        r"(?<![\w])(?P<rel>today|tonight|tomorrow|tmrw|tmr|yesterday|(?:the\s+)?day\s+after\s+tomorrow)(?![\w])")),
    ("en_weekday", re.compile(
        rf"(?<![\w])(?:(?P<q>next|this|last|coming)\s+(?P<wd>{_EN_DAY_RE}|{_EN_DAY_SHORT_RE})"
        rf"|(?P<bare>{_EN_DAY_RE}))(?![\w])")),
    ("iso", re.compile(r"(?<![\w./\-])(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})(?![\w/\-]|[.,]\d)")),
    ("dmy", re.compile(
        r"(?<![\w./\-,])(?P<d>\d{1,2})(?P<sep>[/\-])(?P<m>\d{1,2})(?:(?P=sep)(?P<y>\d{4}|\d{2}))?"
        r"(?![\w/\-]|[.,]\d)")),
    ("dmy", re.compile(
        r"(?<![\w./\-,])(?P<d>\d{1,2})\.(?P<m>\d{1,2})\.(?P<y>\d{4})(?![\w/\-]|[.,]\d)")),
    ("dmy", re.compile(
        r"(?<![\w./\-,])(?P<d>\d{1,2})\s*(?:thang|thg)\s*(?P<m>\d{1,2})"
        r"(?:\s*(?:nam|,|/)\s*(?P<y>\d{4}))?(?![\w])")),
    ("en_month", re.compile(
        rf"(?<![\w])(?:(?P<d>\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<mon>{_MONTH_RE})\.?"
        rf"|(?P<mon2>{_MONTH_RE})\.?\s+(?P<d2>\d{{1,2}})(?:st|nd|rd|th)?)"
        rf"(?:,?\s+(?P<y>\d{{4}}))?(?![\w])")),
]


def _week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _weekday_date(today: date, weekday: int, qualifier: Optional[str]) -> date:
    if qualifier in ("sau", "toi_week", "next"):
        return _week_start(today) + timedelta(days=7 + weekday)
    if qualifier in ("nay", "this"):
        return _week_start(today) + timedelta(days=weekday)
    if qualifier in ("truoc", "last"):
        return _week_start(today) + timedelta(days=weekday - 7)
    ahead = (weekday - today.weekday()) % 7
    if qualifier in ("toi", "coming") and ahead == 0:
        ahead = 7
    return today + timedelta(days=ahead)


def _nearest(today: date, day: int, month: int) -> Optional[date]:
    options = []
    for year in (today.year - 1, today.year, today.year + 1):
        try:
            options.append(date(year, month, day))
        except ValueError:
            pass
    return min(options, key=lambda d: abs((d - today).days)) if options else None


_RELATIVE_DAYS = {"mai": 1, "mot": 2, "kia": 2, "nay": 0, "hnay": 0, "qua": -1, "hqua": -1,
                  "today": 0, "tonight": 0, "tomorrow": 1, "tmrw": 1, "tmr": 1,
                  "yesterday": -1}


def _date_value(kind: str, match: re.Match, folded: Folded, today: date) -> Optional[date]:
    g = match.groupdict()
    text = folded.text
    if kind == "vi_weekday":
        if _previous_word(text, match.start()) in _ORDINAL_BEFORE:
            return None
        weekday = 6 if g["cn"] else _VI_WEEKDAYS[g["wd"] or g["twd"]]
        qualifier = g["q"] or g["q2"]
        if g["q"] == "toi":
            qualifier = "toi_week"
        return _weekday_date(today, weekday, qualifier)
    if kind == "vi_relative":
        rel = g["rel"]
        last = rel.split()[-1]
        if last == "kia" and not (g.get("pre") in ("ngay", "hom") or rel.startswith(("hom", "bua"))):
            return None  # "kia" alone is "that one"
        if last == "kia" and (g.get("pre") == "hom" or rel.startswith(("hom", "bua"))):
            return today - timedelta(days=2)  # hôm kia: the day before yesterday
        if last == "mot":
            # "mốt" (the day after tomorrow) only with its accents: "một" is "one".
            pass
        if last == "mai":
            start = match.start("rel")
            o_start, _ = folded.span(start, match.end("rel"))
            typed = folded.original[o_start]
            before = _previous_word(text, match.start())
            if before in _NOT_TOMORROW_BEFORE or (g.get("pre") is None and before in {"mua"}):
                return None
            at_sentence_start = not folded.original[:o_start].strip() or \
                folded.original[:o_start].rstrip()[-1] in ".!?\n"
            if typed.isupper() and not at_sentence_start and g.get("pre") is None:
                return None  # "chị Mai", "Mai ơi": a name
            if g.get("pre") is None and before in _TITLES and typed.isupper():
                return None
        return today + timedelta(days=_RELATIVE_DAYS[last])
    if kind == "en_relative":
        rel = g["rel"]
        if "after" in rel:
            return today + timedelta(days=2)
        return today + timedelta(days=_RELATIVE_DAYS[rel])
    if kind == "en_weekday":
        name = (g["wd"] or g["bare"])[:3]
        return _weekday_date(today, _EN_WEEKDAYS[name], g["q"])
    if kind in ("iso", "dmy", "en_month"):
        day = int(g.get("d") or g.get("d2"))
        if kind == "en_month":
            month = _MONTHS[(g["mon"] or g["mon2"])[:3]]
        else:
            month = int(g["m"])
        year = g.get("y")
        if year:
            year = int(year) + (2000 if len(year) == 2 else 0)
            try:
                return date(year, month, day)
            except ValueError:
                return None
        return _nearest(today, day, month)
    return None


def _dates(folded: Folded, today: date) -> Iterable[Found]:
    for kind, pattern in _DATE_PATTERNS:
        for match in pattern.finditer(folded.text):
            start = match.start()
            if not _accents_fit(folded, start, match.end()):
                pre = match.groupdict().get("pre")
                if not pre:
                    continue
                # "tôi mai": the prefix was another word; try without it.
                start = match.start("rel")
                if not _accents_fit(folded, start, match.end()):
                    continue
            value = _date_value(kind, match, folded, today)
            if value is None:
                continue
            yield Found(DATE, *folded.span(start, match.end()), value.isoformat())


# --- all together --------------------------------------------------------------------


def local_now(tz: str = TIMEZONE) -> datetime:
    try:
        from zoneinfo import ZoneInfo

        return datetime.now(ZoneInfo(tz))
    except Exception:  # no tz database: Vietnam is UTC+7 all year
        return datetime.now(timezone(timedelta(hours=7)))


def find_entities(text: str, now: Optional[datetime] = None,
                  types: Sequence[str] = ENTITY_TYPES) -> List[Found]:
    """Every entity in `text`, non-overlapping, in text order. Pure regular expressions;
    `extract` runs the same through the spaCy pipeline."""
    if not isinstance(text, str) or not text.strip():
        return []
    if len(text) > MAX_CHARS:
        logger.warning("entities: message of %d characters not searched (limit %d)",
                       len(text), MAX_CHARS)
        return []
    today = (now or local_now()).date()
    folded = Folded(text)
    found: List[Found] = []
    if EMAIL in types:
        found += _emails(text)
    if ORDER_ID in types:
        found += _orders(folded)
    if PHONE in types:
        found += _phones(folded)
    if MONEY in types:
        found += _moneys(folded)
    if DATE in types:
        found += _dates(folded, today)
    chosen: List[Found] = []
    for item in sorted(found, key=lambda f: (_PRIORITY[f.entity], -(f.end - f.start), f.start)):
        if all(item.end <= c.start or item.start >= c.end for c in chosen):
            chosen.append(item)
    return sorted(chosen, key=lambda f: f.start)


# --- spaCy ---------------------------------------------------------------------------

_NLP = None


class _OriginalOffsetsTokenizer:
    """spaCy's Vietnamese tokenizer (pyvi) run on an NFC copy of the text, with the tokens
    laid back on the original text: doc.text is always exactly what the customer typed."""

    def __init__(self, nlp) -> None:
        self.vocab = nlp.vocab
        self.inner = nlp.tokenizer

    def __call__(self, text: str):
        from spacy.tokens import Doc
        from spacy.util import get_words_and_spaces

        # NFC cluster by cluster, remembering where each cluster came from.
        nfc_parts: List[str] = []
        starts: List[int] = []  # original start of each NFC character
        ends: List[int] = []
        i = 0
        while i < len(text):
            j = i + 1
            while j < len(text) and unicodedata.combining(text[j]):
                j += 1
            part = unicodedata.normalize("NFC", text[i:j])
            nfc_parts.append(part)
            starts.extend([i] * len(part))
            ends.extend([j] * len(part))
            i = j
        nfc = "".join(nfc_parts)
        try:
            tokens = [(t.idx, t.idx + len(t.text)) for t in self.inner(nfc)
                      if not t.is_space]
            words = [text[starts[a]:ends[b - 1]] for a, b in tokens if b > a]
            words, spaces = get_words_and_spaces(words, text)
        except Exception:  # noqa: BLE001 - pyvi on odd input: plain whitespace words
            words, spaces = get_words_and_spaces(text.split(), text)
        return Doc(self.vocab, words=words, spaces=spaces)


def _split_at(doc, offsets: Iterable[int]) -> None:
    """Split the tokens that the character offsets fall inside."""
    cuts: Dict[int, List[int]] = {}
    for offset in offsets:
        for token in doc:
            if token.idx < offset < token.idx + len(token.text):
                cuts.setdefault(token.i, []).append(offset - token.idx)
                break
    if not cuts:
        return
    with doc.retokenize() as retokenizer:
        for i, points in cuts.items():
            token = doc[i]
            points = sorted(set(points))
            bounds = [0, *points, len(token.text)]
            orths = [token.text[a:b] for a, b in zip(bounds, bounds[1:])]
            retokenizer.split(token, orths, heads=[(token, 0)] * len(orths))


def _entity_pipe(doc):
    now = doc.user_data.get("hotro_now")
    types = doc.user_data.get("hotro_types", ENTITY_TYPES)
    found = find_entities(doc.text, now=now, types=types)
    _split_at(doc, [f.start for f in found] + [f.end for f in found])
    spans = []
    values = {}
    for item in found:
        span = doc.char_span(item.start, item.end, label=item.entity)
        if span is None:  # whitespace edges: cannot happen after the split, but be safe
            span = doc.char_span(item.start, item.end, label=item.entity,
                                 alignment_mode="expand")
        if span is None:
            continue
        spans.append(span)
        values[(span.start_char, span.end_char)] = (item.value, item.extra)
    doc.ents = spans
    doc.user_data["hotro_values"] = values
    return doc


def entity_nlp():
    """The process's spaCy pipeline: spacy.blank("vi") with the rule pipe (built once)."""
    global _NLP
    if _NLP is None:
        import spacy
        from spacy.language import Language

        if "hotro_entity_rules" not in Language.factories:
            Language.component("hotro_entity_rules", func=_entity_pipe)
        nlp = spacy.blank("vi")
        nlp.tokenizer = _OriginalOffsetsTokenizer(nlp)
        nlp.add_pipe("hotro_entity_rules")
        _NLP = nlp
    return _NLP


_SURROGATE = re.compile("[\ud800-\udfff]")


def extract(text: str, now: Optional[datetime] = None,
            types: Sequence[str] = ENTITY_TYPES) -> List[Dict[str, Any]]:
    """Rasa entity dicts (entity, start, end, value, text, additional_info) for `text`,
    found through the spaCy pipeline."""
    if not isinstance(text, str) or not text.strip() or len(text) > MAX_CHARS:
        if isinstance(text, str) and len(text) > MAX_CHARS:
            logger.warning("entities: message of %d characters not searched (limit %d)",
                           len(text), MAX_CHARS)
        return []
    nlp = entity_nlp()
    # Lone surrogates (broken UTF-16 from a client) cannot enter spaCy's string store; one
    # replacement character each keeps every offset.
    doc = nlp.make_doc(_SURROGATE.sub("\ufffd", text))
    doc.user_data["hotro_now"] = now
    doc.user_data["hotro_types"] = tuple(types)
    for _, proc in nlp.pipeline:
        doc = proc(doc)
    values = doc.user_data.get("hotro_values", {})
    out = []
    for span in doc.ents:
        value, extra = values.get((span.start_char, span.end_char), (span.text, {}))
        entity = {"entity": span.label_, "start": span.start_char, "end": span.end_char,
                  "value": value, "text": span.text}
        if extra:
            entity["additional_info"] = extra
        out.append(entity)
    return out
