"""What the FAQ search leaves out of a customer's message: its phone numbers, emails and
order numbers; whether a message that gives a contact also asks something; and whether a
message gives nothing but an order number.

An identifier means nothing to an FAQ entry, yet its digits and the words that introduce
it ("sđt của mình", "email:") pull the message's embedding away from the question it
carries, towards entries about contact details. So FaqRouter and the console's agent
assist search the FAQ with the message without them (bench/message_forms.md). The words that
introduce a phone number or an email go with it only when they open or close a clause
("..., sđt mình 0912345678"), not inside one: "đổi sđt 0912345678 sang số khác" keeps
"đổi sđt". An order number's own cue stays ("hủy đơn HT123456" is still about cancelling
an order).
"""
from __future__ import annotations

import re
from typing import List

from bot.nlu.entity_rules import EMAIL, ORDER_ID, PHONE, find_entities
from bot.text import fold

IDENTIFIERS = (PHONE, EMAIL, ORDER_ID)
# Folded words that introduce a phone number or an email, in Vietnamese and English.
CONTACT_CUES = {
    "sdt", "dt", "so", "dien", "thoai", "phone", "email", "mail", "gmail", "zalo", "lien", "he",
    "qua", "cua", "minh", "em", "e", "toi", "tui", "anh", "chi", "mk", "la", "my", "number", "is",
    "contact", "me", "at", "-",
}
_CLAUSE_END = ",.;:!?()"
_EMPTY_BRACKETS = re.compile(r"\(\s*\)|\[\s*\]")
_SPACE_BEFORE_MARK = re.compile(r"\s+([,.;:!?])")
_MARK_RUN = re.compile(r"([,.;:])(?:\s*[,.;:])+")  # "Lan, . ck" once the email between is gone
_LETTER = re.compile(r"[^\W\d_]")


def without_identifiers(text: str) -> str:
    """`text` without its identifiers (and their cues at a clause's edge), whitespace
    collapsed; `text` itself when it has none or nothing but them."""
    found = find_entities(text, types=IDENTIFIERS)
    if not found:
        return text
    pieces: List[str] = []
    last = 0
    for item in found:
        head = text[last:item.start]
        if item.entity != ORDER_ID:
            head = _without_cue(head, text[item.end:])
        pieces.append(head)
        last = item.end
    pieces.append(text[last:])
    out = _EMPTY_BRACKETS.sub(" ", " ".join(pieces))
    out = _MARK_RUN.sub(r"\1", _SPACE_BEFORE_MARK.sub(r"\1", " ".join(out.split())))
    out = out.strip(" ,;:-")
    return out if _LETTER.search(out) else text


def _without_cue(head: str, after: str) -> str:
    """`head` (the text before a phone number or email) without the cue words it ends
    with, when cue and identifier open or close a clause."""
    words = head.split()
    kept = list(words)
    while kept and fold(kept[-1]).lower().strip(":") in CONTACT_CUES:
        kept.pop()
    if len(kept) == len(words):
        return head
    opens = not kept or kept[-1][-1] in _CLAUSE_END
    rest = after.lstrip()
    closes = not rest or rest[0] in _CLAUSE_END
    return " ".join(kept) + " " if opens or closes else head


# Folded words of a message that only gives a contact or asks for a call back ("gọi lại
# cho em sau 6h tối nhé", "call me back on …"), besides CONTACT_CUES.
CALLBACK_WORDS = CONTACT_CUES | {
    "goi", "lai", "cho", "nhe", "nha", "day", "a", "ah", "vs", "voi", "giup", "sau", "truoc",
    "sang", "trua", "chieu", "de", "nhan", "tin", "shop", "ad", "ban", "oi",
    "hoac", "va", "cam", "on", "call", "back", "you", "can", "here", "reach", "text",
    "please", "pls", "or", "and", "thanks", "thank",
}
_WORD = re.compile(r"[^\W_]+")


def question_beside_contact(text: str) -> bool:
    """The message gives a phone number or an email and says more than how or when to call
    back: "phí ship bao nhiêu, sđt mình 0912345678", not "gọi cho em số 0912345678 nhé"."""
    if not any(f.entity in (PHONE, EMAIL) for f in find_entities(text, types=IDENTIFIERS)):
        return False
    rest = without_identifiers(text)
    words = [fold(w).lower() for w in _WORD.findall(rest) if not any(c.isdigit() for c in w)]
    return rest != text and any(w not in CALLBACK_WORDS for w in words)


# Folded words of a message that gives nothing but an order number ("mã đơn DH123456", "đơn
# của mình là HT123456 nhé", "my order number is #123456").
ORDER_WORDS = {
    "ma", "don", "hang", "so", "van", "dh", "order", "id", "code", "no", "number", "cua", "minh",
    "em", "e", "toi", "tui", "mk", "anh", "chi", "la", "day", "nay", "nhe", "nha", "a", "ah", "shop",
    "ad", "oi", "ban", "my", "is", "here", "it", "the", "this",
}


def only_order_number(text: str) -> bool:
    """The message gives an order number and asks nothing: what the customer sends when the
    bot asked for it. The FAQ would match its few words ("mã đơn") to any entry that
    mentions order numbers."""
    found = find_entities(text, types=IDENTIFIERS)
    if not found or any(f.entity != ORDER_ID for f in found):
        return False
    rest = without_identifiers(text)  # `text` itself when nothing but the number is left
    # folded before it is split: NFD's combining marks would split its words
    return rest == text or all(w in ORDER_WORDS for w in _WORD.findall(fold(rest).lower()))
