"""How Rasa's buttons look on each chat channel, and other rendering shared by channels.

The bot decides once what to say (text + Rasa buttons `{title, payload}`); the
channels only render it:

- the web widget shows the buttons as they are;
- Messenger turns them into quick replies (at most 13, titles at most 20 characters);
  a tapped quick reply comes back with its payload, e.g. "/request_human";
- Zalo OA gets numbered text ("1. Gặp nhân viên") and the customer's reply "1" is
  mapped back to that button's payload, or a list template whose buttons send the
  payload back (`oa.query.hide`).

Everything here is pure (no I/O but reading domain.yml's hints once), so the unit tests
call it directly.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any, Dict, Iterable, List, Optional, Sequence

from bot.catalogue import response_text

# Messenger Send API limits for quick replies.
MESSENGER_MAX_QUICK_REPLIES = 13
MESSENGER_MAX_TITLE_CHARS = 20
MESSENGER_MAX_PAYLOAD_CHARS = 1000
MESSENGER_MAX_TEXT_CHARS = 2000
# Zalo OA consultation message text limit.
ZALO_MAX_TEXT_CHARS = 2000
ZALO_MAX_LIST_BUTTONS = 5

_KIND = re.compile(r"[^a-z_]")


def unreadable_message(kind: str) -> str:
    """What Rasa gets for a message the bot cannot read (a photo, sticker, file, location,
    voice note...): the `unreadable` intent with its kind, so the dialogue answers it
    (domain.yml utter_unreadable) in the conversation's language, and the tracker keeps it."""
    kind = _KIND.sub("", (kind or "").lower())[:20] or "other"
    return '/unreadable{"kind": "%s"}' % kind


@dataclass(frozen=True)
class Button:
    title: str
    payload: Optional[str] = None  # what comes back as the customer's message
    url: Optional[str] = None  # a link button (no payload)


def normalize_buttons(buttons: Optional[Iterable[Any]]) -> List[Button]:
    """Rasa buttons (dicts) as Buttons; entries without a title or anything to do are dropped."""
    result: List[Button] = []
    for raw in buttons or []:
        if not isinstance(raw, dict):
            continue
        title = raw.get("title")
        title = str(title).strip() if title is not None else ""
        payload = raw.get("payload")
        payload = str(payload) if payload not in (None, "") else None
        url = raw.get("url") if isinstance(raw.get("url"), str) and raw.get("url") else None
        if raw.get("type") == "web_url" and url:
            payload = None
        if not title or (payload is None and url is None):
            continue
        result.append(Button(unicodedata.normalize("NFC", title), payload, url))
    return result


def clean_text(text: str) -> str:
    """Inbound text made storable: lone surrogates (invalid in UTF-8) become "?"."""
    return text.encode("utf-8", "replace").decode("utf-8")


def clean_id(value: object, max_chars: int = 64) -> Optional[str]:
    """A sender/message id as a string, or None when it cannot be one (wrong type, empty,
    too long, control characters or invalid Unicode)."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return None
    value = str(value).strip()
    if not value or len(value) > max_chars or not value.isprintable() \
            or clean_text(value) != value:
        return None
    return value


def shorten(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters, with "…" when cut (Vietnamese NFC-counted)."""
    text = unicodedata.normalize("NFC", text).strip()
    if len(text) <= limit:
        return text
    return text[: max(limit - 1, 0)].rstrip() + "…"


def split_text(text: str, limit: int) -> List[str]:
    """`text` in pieces of at most `limit` characters, cut at paragraph, line or word ends."""
    text = unicodedata.normalize("NFC", text or "").strip()
    if not text:
        return []
    pieces: List[str] = []
    while len(text) > limit:
        window = text[:limit]
        cut = max(window.rfind("\n\n"), window.rfind("\n"), window.rfind(" "))
        if cut < limit // 2:
            cut = limit
        pieces.append(text[:cut].strip())
        text = text[cut:].strip()
    if text:
        pieces.append(text)
    return pieces


def link_lines(buttons: Sequence[Button]) -> str:
    """Link buttons as text lines, for channels that get only payload buttons."""
    return "\n".join(f"{b.title}: {b.url}" for b in buttons if b.url)


# ---------------------------------------------------------------- Messenger

def messenger_quick_replies(buttons: Sequence[Button]) -> List[Dict[str, str]]:
    """Payload buttons as Messenger quick replies: at most 13, titles of at most 20 characters."""
    replies = []
    for button in buttons:
        if button.payload is None:
            continue
        replies.append({
            "content_type": "text",
            "title": shorten(button.title, MESSENGER_MAX_TITLE_CHARS),
            "payload": button.payload[:MESSENGER_MAX_PAYLOAD_CHARS],
        })
    return replies[:MESSENGER_MAX_QUICK_REPLIES]


def messenger_messages(text: str, buttons: Sequence[Button]) -> List[Dict[str, Any]]:
    """The Send API `message` objects for a text with buttons, in sending order.

    Long text is split into several messages; the quick replies go with the last one
    (Messenger shows them under the latest message). Link buttons become text lines.
    """
    links = link_lines(buttons)
    full = "\n\n".join(part for part in (text or "", links) if part.strip())
    parts = split_text(full, MESSENGER_MAX_TEXT_CHARS)
    quick_replies = messenger_quick_replies(buttons)
    if not parts:
        if not quick_replies:
            return []
        parts = ["…"]  # Messenger needs text to hang quick replies on
    messages: List[Dict[str, Any]] = [{"text": part} for part in parts]
    if quick_replies:
        messages[-1]["quick_replies"] = quick_replies
    return messages


# ---------------------------------------------------------------- Zalo

def numbered_text(text: str, buttons: Sequence[Button], language: str = "vi") -> str:
    """Text followed by the payload buttons as "1. title" lines and link buttons as lines,
    and a hint, in the conversation's language, to reply with the number."""
    choices = [b for b in buttons if b.payload is not None]
    lines = [f"{i}. {b.title}" for i, b in enumerate(choices, start=1)]
    parts = [text.strip()] if text and text.strip() else []
    if lines:
        parts.append("\n".join(lines))
        parts.append(response_text("utter_hint_reply_number", language))
    links = link_lines(buttons)
    if links:
        parts.append(links)
    return "\n\n".join(parts)


def choices_of(buttons: Sequence[Button]) -> List[Dict[str, str]]:
    """The numbered choices a customer can answer ("1" → first payload button)."""
    return [{"title": b.title, "payload": b.payload} for b in buttons if b.payload is not None]


_CHOICE = re.compile(r"^\s*(?:số\s*|so\s*|#)?(\d{1,2})\s*[.)]?\s*$", re.IGNORECASE)


def choice_from_reply(text: str, choices: Sequence[Dict[str, str]]) -> Optional[str]:
    """The payload of the numbered choice the reply picks ("1", "2.", "số 3"), else None."""
    if not choices or not isinstance(text, str):
        return None
    match = _CHOICE.match(unicodedata.normalize("NFC", text))
    if not match:
        return None
    index = int(match.group(1))
    if 1 <= index <= len(choices):
        return choices[index - 1]["payload"]
    return None


def zalo_list_template(buttons: Sequence[Button], language: str = "vi") -> Dict[str, Any]:
    """A Zalo OA `list` template message with one button per choice (sent after the text).

    A tapped `oa.query.hide` button sends its payload back as a `user_send_text` event
    (the customer does not see the raw "/intent" payload); link buttons open the URL.
    """
    zalo_buttons = []
    for button in buttons[:ZALO_MAX_LIST_BUTTONS]:
        if button.payload is not None:
            zalo_buttons.append({"title": shorten(button.title, 100), "type": "oa.query.hide",
                                 "payload": button.payload})
        else:
            zalo_buttons.append({"title": shorten(button.title, 100), "type": "oa.open.url",
                                 "payload": {"url": button.url}})
    return {
        "attachment": {
            "type": "template",
            "payload": {
                "template_type": "list",
                "elements": [{"title": shorten(response_text("utter_hint_choose", language), 100)}],
                "buttons": zalo_buttons,
            },
        },
    }
