"""domain.yml's responses as plain text, for the few places that word something outside
Rasa's dialogue: a channel's own hints (e.g. Zalo's "reply with a number") and the
widget's refusals of a message. Rasa's replies go through bot.nlg instead."""
from __future__ import annotations

from functools import lru_cache
from typing import Any, Dict, List

import yaml

from bot.settings import PROJECT_DIR


@lru_cache(maxsize=None)
def _responses() -> Dict[str, List[Dict[str, Any]]]:
    with open(PROJECT_DIR / "domain.yml", encoding="utf-8") as handle:
        return yaml.safe_load(handle).get("responses") or {}


def _language_of(variation: Dict[str, Any]) -> str:
    for condition in variation.get("condition") or []:
        if condition.get("name") == "language":
            return condition.get("value")
    return "vi"  # the variation without a condition is the Vietnamese default


def response_text(name: str, language: str = "vi", **values: Any) -> str:
    """The text of response `name` in `language` ("vi"/"en"), with `{variables}` filled."""
    variations = _responses()[name]
    chosen = next((v for v in variations if _language_of(v) == language), variations[-1])
    return chosen["text"].format(**values) if values else chosen["text"]


def bilingual_text(name: str, **values: Any) -> str:
    """Vietnamese, then English: for a reply given before the conversation's language is known."""
    return f"{response_text(name, 'vi', **values)} / {response_text(name, 'en', **values)}"
