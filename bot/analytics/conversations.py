"""The facts of each conversation, read from Rasa events alone (as the broker publishes
them: dicts with `sender_id`, `event`, `timestamp`, ...).

A conversation is one Rasa conversation session of one sender (`session_started` splits
them) that has at least one customer message. While a handoff is open (not yet resolved)
the conversation goes on across Rasa's session boundary: a customer who waits overnight
for a person is still in the same conversation. A rating that answers a survey counts for
the conversation that asked, even when it comes in a later session.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Optional

from bot.handoff.decision import customer_turns, is_failed_turn
from bot.handoff.rating import rating_of

RATING_QUESTION = "utter_ask_rating"  # what the console runs after `resume` when resolving
RATE_INTENT = "rate"
PICK_INTENT = "ask_question"  # a pressed suggestion: ask_question with a faq_id entity


@dataclass
class Handoff:
    """From the bot's handoff message until an agent resolves it."""

    at: float
    reason: str
    ticket: Any = None
    first_agent_at: Optional[float] = None
    resolved_at: Optional[float] = None


@dataclass
class Conversation:
    sender_id: str
    channel: str = ""
    started: Optional[float] = None  # the first customer message (unix seconds)
    customer_messages: int = 0
    agent_messages: int = 0
    handoffs: List[Handoff] = field(default_factory=list)
    faq_answered: int = 0  # answered a question the customer typed
    faq_suggested: int = 0
    faq_picked: int = 0  # a suggestion the customer then pressed
    faq_dont_know: int = 0
    turns: int = 0
    failed_turns: int = 0
    bot_response_times: List[float] = field(default_factory=list)
    surveys: int = 0  # rating questions sent on resolving
    surveys_answered: int = 0
    ratings: List[int] = field(default_factory=list)
    events: List[Dict[str, Any]] = field(default_factory=list, repr=False)

    @property
    def contained(self) -> bool:
        """The bot resolved it alone: no handoff and no agent message."""
        return not self.handoffs and not self.agent_messages


def _intent(event: Dict[str, Any]) -> Optional[str]:
    return ((event.get("parse_data") or {}).get("intent") or {}).get("name")


def _entities(event: Dict[str, Any]) -> List[Dict[str, Any]]:
    entities = (event.get("parse_data") or {}).get("entities") or []
    return [e for e in entities if isinstance(e, dict)]


class _Sender:
    """Walks one sender's events in order and splits them into conversations."""

    def __init__(self, sender_id: str) -> None:
        self.sender_id = sender_id
        self.done: List[Conversation] = []
        self.current = Conversation(sender_id)
        self.open_handoff: Optional[Handoff] = None
        self.survey_of: Optional[Conversation] = None  # asked, not answered yet
        self.survey_just_asked = False  # the next customer message may be a lone digit
        self.resumed = False  # `resume` seen since the last customer message
        self.waiting_since: Optional[float] = None  # customer message the bot has not answered
        self.after_suggestion = False
        self.picked = False

    def feed(self, event: Dict[str, Any]) -> None:
        kind = event.get("event")
        if kind == "session_started":
            if self.current.customer_messages and self.open_handoff is None:
                self.done.append(self.current)
                self.current = Conversation(self.sender_id)
                self.after_suggestion = False
            self.waiting_since = None
        elif kind == "user":
            self._user(event)
        elif kind == "bot":
            self._bot(event)
        elif kind == "resume":
            self.resumed = True
            self.waiting_since = None  # what the customer wrote to the agent is not the bot's

    def _user(self, event: Dict[str, Any]) -> None:
        at = float(event.get("timestamp") or 0)
        intent, entities = _intent(event), _entities(event)
        rating = (rating_of(event.get("text") or "", entities)
                  if intent == RATE_INTENT or self.survey_just_asked else None)
        self.survey_just_asked = False
        self.resumed = False
        conversation = self.current
        if rating is not None:
            if self.survey_of is not None:
                conversation = self.survey_of  # maybe an earlier session's
                conversation.surveys_answered += 1
                self.survey_of = None
            conversation.ratings.append(rating)
        if conversation is not self.current and not self.current.customer_messages:
            # A late answer to a survey does not open a new conversation by itself.
            conversation.customer_messages += 1
            conversation.events.append(event)
            return
        conversation = self.current
        conversation.customer_messages += 1
        conversation.events.append(event)
        if conversation.started is None:
            conversation.started = at
        if not conversation.channel and event.get("input_channel"):
            conversation.channel = event["input_channel"]
        self.picked = (self.after_suggestion and intent == PICK_INTENT
                       and any(e.get("entity") == "faq_id" for e in entities))
        if self.picked:
            conversation.faq_picked += 1
        self.after_suggestion = False
        self.waiting_since = at

    def _bot(self, event: Dict[str, Any]) -> None:
        at = float(event.get("timestamp") or 0)
        metadata = event.get("metadata") or {}
        conversation = self.current
        conversation.events.append(event)
        if metadata.get("agent"):  # a person's message, sent from the console
            conversation.agent_messages += 1
            self.waiting_since = None  # a person answered, not the bot
            if self.open_handoff is not None and self.open_handoff.first_agent_at is None:
                self.open_handoff.first_agent_at = at
            return
        if self.waiting_since is not None:
            conversation.bot_response_times.append(max(0.0, at - self.waiting_since))
            self.waiting_since = None
        handoff = metadata.get("handoff")
        if isinstance(handoff, dict) and self.open_handoff is None:
            self.open_handoff = Handoff(at, str(handoff.get("reason") or "unknown"),
                                        handoff.get("ticket"))
            conversation.handoffs.append(self.open_handoff)
        faq = metadata.get("faq")
        if isinstance(faq, dict):
            kind = faq.get("kind")
            if kind == "answer" and not self.picked:
                conversation.faq_answered += 1
            elif kind == "suggest":
                conversation.faq_suggested += 1
                self.after_suggestion = True
            elif kind == "abstain":
                conversation.faq_dont_know += 1
        if metadata.get("utter_action") == RATING_QUESTION and self.resumed:
            # `resume` then the rating question: an agent resolved the conversation.
            self.resumed = False
            if self.open_handoff is not None:
                self.open_handoff.resolved_at = at
                self.open_handoff = None
            conversation.surveys += 1
            self.survey_of = conversation
            self.survey_just_asked = True

    def finish(self) -> List[Conversation]:
        self.done.append(self.current)
        found = [c for c in self.done if c.customer_messages and c.started is not None]
        for conversation in found:
            turns = customer_turns(conversation.events)
            conversation.turns = len(turns)
            conversation.failed_turns = sum(1 for turn in turns if is_failed_turn(turn))
            conversation.events = []  # the facts are kept, not every event
        return found


def conversations(events: Iterable[Dict[str, Any]]) -> List[Conversation]:
    """The conversations in `events` (any order of senders; each sender's events in the
    order Rasa published them), sorted by their first customer message."""
    by_sender: Dict[str, List[Dict[str, Any]]] = {}
    for event in events:
        by_sender.setdefault(str(event.get("sender_id") or ""), []).append(event)
    found: List[Conversation] = []
    for sender_id, sender_events in by_sender.items():
        walker = _Sender(sender_id)
        for event in sender_events:
            walker.feed(event)
        found.extend(walker.finish())
    found.sort(key=lambda c: c.started)
    return found
