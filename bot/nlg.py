"""What the bot says, worded in one place: domain.yml's responses, in the conversation's
language, with the shop's own details and words (bot.shop) filled in.

Rasa loads this as its natural language generator (endpoints.yml `nlg:`), so every reply
of the dialogue (rules, and actions that send `response=`) goes through it:

* a response picks its Vietnamese or English variation from the `language` slot, as in
  Rasa's own templated generator;
* `{shop_name}`, `{hotline}`, `{email}` and `{hours}` are the shop's current details,
  read from the shop settings an admin edits in the console (no retrain, no restart);
* the greeting and the out-of-hours handoff message are replaced by the shop's own text
  when an admin wrote one;
* `choices` (a list of {title, payload}, e.g. suggested FAQ questions) become the first
  buttons, before the response's own ("Talk to a person" stays last);
* the reply carries its `language`, so a channel renders its own hints (e.g. Zalo's
  "reply with a number") in the same language.
"""
from __future__ import annotations

from typing import Any, Dict, Optional, Text

from rasa.core.nlg import interpolator
from rasa.core.nlg.response import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker

import bot.action_schema  # noqa: F401  (the Rasa server's reply check, compiled once)
from bot.shop import ShopProfile, shop_profile

# Responses an admin may reword in the console, and the ShopProfile field holding the words.
SHOP_WORDED = {"utter_greet": "greeting", "utter_handoff_closed": "out_of_hours"}


def shop_values(shop: ShopProfile) -> Dict[str, str]:
    """The variables every response may use."""
    return {"shop_name": shop.name, "hotline": shop.hotline, "email": shop.email,
            "hours": shop.hours_text()}


def language_of(slots: Dict[Text, Any]) -> str:
    return "en" if slots.get("language") == "en" else "vi"


class ShopNaturalLanguageGenerator(TemplatedNaturalLanguageGenerator):
    """Rasa's templated generator over domain.yml, plus the shop's details and words."""

    def __init__(self, endpoint_config: Any = None, domain: Optional[Domain] = None,
                 responses: Optional[Dict[Text, Any]] = None) -> None:
        super().__init__(responses if responses is not None else (domain.responses if domain else {}))

    async def generate(self, utter_action: Text, tracker: DialogueStateTracker, output_channel: Text,
                       **kwargs: Any) -> Optional[Dict[Text, Any]]:
        return self.generate_from_slots(utter_action, tracker.current_slot_values(), output_channel,
                                        **kwargs)

    def generate_from_slots(self, utter_action: Text, filled_slots: Dict[Text, Any], output_channel: Text,
                            **kwargs: Any) -> Optional[Dict[Text, Any]]:
        choices = kwargs.pop("choices", None) or []
        shop = shop_profile()  # falls back to the last known profile if the database fails
        values = {**shop_values(shop), **kwargs}
        response = super().generate_from_slots(utter_action, filled_slots, output_channel, **values)
        if response is None:
            return None
        language = language_of(filled_slots)
        own_words = getattr(shop, SHOP_WORDED[utter_action], {}).get(language) \
            if utter_action in SHOP_WORDED else None
        if own_words:
            response["text"] = interpolator.interpolate(own_words, {**filled_slots, **values})
        if choices:
            response["buttons"] = list(choices) + list(response.get("buttons") or [])
        response["language"] = language
        return response
