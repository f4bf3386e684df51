"""Phone numbers and emails customers leave for a call-back, checked before they are kept."""
from __future__ import annotations

import re
from typing import Any, Dict, Iterable, Optional

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


def _entity_values(entities: Iterable[Dict[str, Any]], name: str) -> Iterable[str]:
    for entity in entities or ():
        if isinstance(entity, dict) and entity.get("entity") == name and entity.get("value"):
            yield str(entity["value"])


def phone_of(text: str, entities: Iterable[Dict[str, Any]] = ()) -> Optional[str]:
    """The message's phone number: the NLU's `phone` entity if it has a valid one (the
    spaCy extractor, bot/nlu/entities.py), else the first valid number in the text."""
    for value in _entity_values(entities, "phone"):
        phone = find_phone(value)
        if phone:
            return phone
    return find_phone(text)


def email_of(text: str, entities: Iterable[Dict[str, Any]] = ()) -> Optional[str]:
    """The message's email: the NLU's `email` entity if valid, else found in the text."""
    for value in _entity_values(entities, "email"):
        email = find_email(value)
        if email:
            return email
    return find_email(text)


def contact_of(text: str, entities: Iterable[Dict[str, Any]] = ()) -> Optional[str]:
    """find_contact with the NLU's entities first."""
    entities = list(entities or ())
    return phone_of(text, entities) or email_of(text, entities)
