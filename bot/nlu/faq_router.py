"""FaqRouter: decides between the intent classifier and the FAQ, with both confidences.

The intent classifier never learns the FAQ's topics (an entry an editor publishes must be
answerable at once, without retraining), so it is often unsure about questions the FAQ
answers well (with the earlier DIET classifier "phí vận chuyển bao nhiêu" came out as
nlu_fallback, 0.59 < 0.7; "giao về Cà Mau mất mấy ngày" is still read as a complaint). This component runs after the FallbackClassifier,
searches the FAQ (bot.kb, reloaded live when the index is rebuilt) with the message as the
tokenizer prepared it (bot.nlu.prepared) and the sentence embedding the EmbeddingFeaturizer
already made (without its phone numbers, emails and order numbers: bot.nlu.identifiers),
and routes with `route()`:

* a specific intent the classifier is sure of wins (asking for a person, giving a contact,
  a rating, "are you a bot"), but a question beside a phone number or email gets the
  FAQ's answer or suggestions, and the contact is saved as well;
* otherwise a confident FAQ answer wins (also over a greeting or thanks around a question);
* FAQ suggestions win over "not understood", a question and a complaint (with the offer
  of a person), and over "out of scope" when they are close to an answer; any other intent
  past the fallback threshold (a greeting, "số mình là 12345") keeps its reply; a complaint
  the classifier is sure of hears an apology before the FAQ's answer or suggestions;
* "ok", "vâng", 👍 and other acknowledgements the classifier is unsure of become
  `acknowledge`, never a failed turn; an angry or sad emoji alone (😡, 👎) is a `complain`:
  an apology and the offer of a person, not "Dạ vâng";
* a message that gives nothing but an order number ("mã đơn DH123456", what the bot asked
  for) becomes `give_order_id`: the FAQ would answer its few words with any entry that
  mentions order numbers.

The FAQ decision goes into the parse data as `faq` (kind, entry, confidence, suggestions),
so the action server renders it without searching again: one embedding per message.
"""
from __future__ import annotations

import logging
import re
import threading
import unicodedata
from typing import Any, Dict, List, Optional, Text, Union

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.featurizer import QUERY_VECTOR_KEY  # (embedder spec, embedded text, vector)
from bot.nlu.identifiers import only_order_number, question_beside_contact, without_identifiers
from bot.nlu.prepared import prepared_text
from bot.text import PreparedText, prepare

log = logging.getLogger(__name__)

FAQ_KEY = "faq"
FALLBACK = "nlu_fallback"
# Folded words that, alone or two or three together, only acknowledge ("dạ vâng ạ", "ok
# shop", "thanks"). Not "k"/"ko": in Vietnamese chat they mean "không" (no).
ACKNOWLEDGEMENTS = frozenset("""
    ok oke okie oki okela okay okk uhm um uh u uk uki hmm vang da a duoc dc roi nha nhe
    cam on tks ty thanks thank you good great nice cool alright sure yes yep yeah shop ad
""".split())

# Emoji that say something went wrong: alone, they are a complaint, not an acknowledgement.
DISPLEASURE = frozenset("😡😠🤬😤👎😞😢😭😩😫💢😒🙄😔☹🙁😣😖😟😰")


def _warm_up() -> None:
    from bot.kb.service import get_knowledge_base

    try:
        get_knowledge_base()
    except Exception:  # noqa: BLE001 - logged; the first message will try again
        log.exception("could not load the FAQ index at start-up")


def is_acknowledgement(text: Union[str, PreparedText]) -> bool:
    """An emoji, a sticker-like symbol or a short "ok / vâng / dạ" that asks nothing."""
    message = text if isinstance(text, PreparedText) else prepare(text)
    if _only_symbols(message.original):  # emoji, symbols and punctuation
        return not any(ch in DISPLEASURE for ch in message.original)
    words = re.findall(r"\w+", message.folded)
    return 0 < len(words) <= 3 and all(w in ACKNOWLEDGEMENTS for w in words)


def is_displeasure(text: Union[str, PreparedText]) -> bool:
    """Only emoji and symbols, one of them angry, sad or a thumbs-down."""
    original = text.original if isinstance(text, PreparedText) else text
    return _only_symbols(original) and any(ch in DISPLEASURE for ch in original)


def _only_symbols(text: str) -> bool:
    """No letter and no digit: emoji, symbols and punctuation only."""
    return not any(unicodedata.category(ch)[0] in "LN" for ch in text)


def route(intent: str, confidence: float, faq: Optional[Dict[str, Any]], text: Union[str, PreparedText],
          config: Dict[str, Any]) -> Optional[str]:
    """The intent the message should have instead of `intent`, or None to keep it.

    `intent`/`confidence`: the classifier's top intent before the fallback (nlu_fallback
    when it fell under the threshold); `faq`: the FAQ decision or None.
    """
    kind = (faq or {}).get("kind")
    original = text.original if isinstance(text, PreparedText) else text
    if intent in config["specific_intents"] and confidence >= config["intent_threshold"]:
        # A question beside a phone number or email gets its answer or suggestions, and the
        # contact is saved too (action_answer_question): "phí ship bao nhiêu, sđt mình 09…".
        if (intent == config["contact_intent"] and kind in ("answer", "suggest")
                and question_beside_contact(original)):
            return config["faq_intent"]
        return None
    if only_order_number(original):
        return config["order_intent"]
    if is_displeasure(original):
        return config["complain_intent"]
    if kind == "answer":
        return config["faq_intent"]
    if kind == "suggest":
        if intent in config["open_intents"]:
            return config["faq_intent"]
        # The classifier says "out of scope" of many questions typed without accents
        # ("phi van chuyen bao nhieu", 0.94): suggestions close to an answer still win.
        if intent == "out_of_scope" and faq.get("near_answer"):
            return config["faq_intent"]
    if intent == FALLBACK and is_acknowledgement(text):
        return config["acknowledge_intent"]
    return None


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class FaqRouter(GraphComponent):
    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            # A specific intent at least this probable clearly wins over an FAQ answer (the
            # classifier's confidence is a calibrated probability).
            "intent_threshold": 0.7,
            "faq_intent": "ask_question",
            "acknowledge_intent": "acknowledge",
            "order_intent": "give_order_id",
            "complain_intent": "complain",
            "contact_intent": "give_contact",
            "specific_intents": ["request_human", "give_contact", "rate", "bot_challenge"],
            # Intents that FAQ suggestions replace: they do not answer a question either.
            # A complaint too: the classifier calls some questions complaints ("giao về Cà Mau
            # mất mấy ngày"), and the reply to one routed here offers a person anyway.
            "open_intents": [FALLBACK, "ask_question", "complain"],
        }

    def __init__(self, config: Dict[Text, Any]) -> None:
        self._config = {**self.get_default_config(), **config}

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> "FaqRouter":
        # Only the predict graph has this component: load (or build) the index while the
        # server starts, not on the first customer's message.
        threading.Thread(target=_warm_up, name="faq-router-warm-up", daemon=True).start()
        return cls(config)

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            prepared = prepared_text(message)
            if prepared is not None:
                self._route(message, prepared)
        return messages

    def _route(self, message: Message, text: PreparedText) -> None:
        ranking = [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get("name") != FALLBACK]
        current = message.get(INTENT) or {}
        intent = current.get("name") or FALLBACK
        confidence = float((ranking[0] if ranking else current).get("confidence") or 0.0)
        faq = self._search(message, text)
        new = route(intent, confidence, faq, text, self._config)
        if faq is not None:
            if new is not None:
                faq["routed_from"] = {"intent": intent, "confidence": round(confidence, 4)}
                # A message surely a complaint gets an apology before the FAQ's reply; an
                # unsure one may be a plain question ("giao về Cà Mau mất mấy ngày", 0.66).
                if intent == "complain" and confidence >= self._config["intent_threshold"]:
                    faq["apologise"] = True
            message.set(FAQ_KEY, faq, add_to_output=True)
        if new is not None:
            score = faq["confidence"] if faq and new == self._config["faq_intent"] else 1.0
            message.set(INTENT, {"name": new, "confidence": score}, add_to_output=True)

    @staticmethod
    def _search(message: Message, text: PreparedText) -> Optional[Dict[str, Any]]:
        from bot.kb.service import decide  # loads (or builds) the index on first use

        cached = message.get(QUERY_VECTOR_KEY)
        searchable = without_identifiers(text.original)
        try:  # (a message with identifiers is embedded once more, without them)
            return decide(text if searchable == text.original else prepare(searchable), cached=cached)
        except Exception:  # noqa: BLE001 - routing falls back to the classifier alone
            log.exception("FAQ search failed while routing %r", text.original)
            return None
