"""Phone numbers and emails customers leave for a call-back, checked before they are kept."""
from __future__ import annotations

import re
from typing import Optional

_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
# Vietnamese mobile (03/05/07/08/09 + 8 digits) or landline (02x + 8 digits), with or
# without +84, written with spaces, dots or dashes between groups.
_PHONE_CANDIDATE = re.compile(r"(?:\+?84|0)[\d .\-]{8,14}\d")
_PHONE = re.compile(r"(?:0|84)(?:[35789]\d{8}|2\d{9})")


def find_email(text: str) -> Optional[str]:
    match = _EMAIL.search(text or "")
    return match.group().lower() if match else None


def find_phone(text: str) -> Optional[str]:
    """The first valid Vietnamese phone number in `text`, as 0xxxxxxxxx."""
    for candidate in _PHONE_CANDIDATE.finditer(text or ""):
        digits = re.sub(r"\D", "", candidate.group())
        if _PHONE.fullmatch(digits):
            return "0" + digits[2:] if digits.startswith("84") else digits
    return None


def find_contact(text: str) -> Optional[str]:
    return find_phone(text) or find_email(text)
