"""When the action server cannot be reached: an apology and a ticket, never silence.

Rasa runs every custom action (an FAQ answer, a handoff...) on the action server. When that
server is down, or still (re)starting, Rasa logs the error and carries on without the
action's events (rasa/core/processor.py, `_run_action`): the customer got nothing, an
empty reply `[]`. `ActionServerFallback` is the Rasa server's action endpoint instead of
the plain one of endpoints.yml (`install` swaps it in once the server has loaded its
agent). A call that cannot reach the action server is answered here, in the action
server's own response format, so Rasa goes on as after any action:

* `action_session_start`: the new session, as the action server starts one;
* any other action: the conversation goes to a person, a ticket with the transcript
  (reason `bot_unavailable`), and the customer is told so with `utter_bot_unavailable`
  (domain.yml, in the conversation's language) and the ticket's number. Once per message,
  however many actions of that turn fail.

Meanwhile `hotro run` starts the action server again (bot/stack.py).
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any, Dict, List, Optional, Text

import aiohttp
from rasa.utils.endpoints import ClientResponseError, EndpointConfig
from sanic import Blueprint

from bot.handoff.decision import BOT_UNAVAILABLE
from bot.handoff.handoff import hand_off, session_start_events
from bot.nlg import language_of

logger = logging.getLogger(__name__)

APOLOGY = "utter_bot_unavailable"
# Statuses of a proxy in front of the action servers when none of them answers.
UNREACHABLE_STATUSES = frozenset({502, 503, 504})


class ActionServerFallback(EndpointConfig):
    """The action endpoint of endpoints.yml, answering for the action server when it is down."""

    @classmethod
    def of(cls, endpoint: EndpointConfig) -> "ActionServerFallback":
        fallback = cls.__new__(cls)
        fallback.__dict__.update(endpoint.__dict__)  # same url, auth, headers, timeouts
        return fallback

    async def request(self, method: Text = "post", subpath: Optional[Text] = None,
                      content_type: Optional[Text] = "application/json", compress: bool = False,
                      **kwargs: Any) -> Optional[Any]:
        call = kwargs.get("json")
        try:
            return await super().request(method, subpath, content_type, compress, **kwargs)
        except (aiohttp.ClientConnectionError, asyncio.TimeoutError) as error:
            if not _is_action_call(call):
                raise
            problem = f"{type(error).__name__}: {error}"
        except ClientResponseError as error:
            if error.status not in UNREACHABLE_STATUSES or not _is_action_call(call):
                raise
            problem = f"HTTP {error.status}"
        logger.error("action server unreachable at %s (%s): %s for %s answered without it",
                     self.url, problem, call["next_action"], call.get("sender_id"))
        # the ticket store is blocking SQL: off the event loop
        return await asyncio.to_thread(answer_without_action_server, call)


def _is_action_call(body: Any) -> bool:
    return isinstance(body, dict) and "next_action" in body and "tracker" in body


def answer_without_action_server(call: Dict[str, Any]) -> Dict[str, Any]:
    """What the action server would have answered to `call` (Rasa's action call format)."""
    tracker = call["tracker"]
    sender = call.get("sender_id") or tracker.get("sender_id")
    slots = tracker.get("slots") or {}
    if call["next_action"] == "action_session_start":
        return {"events": session_start_events(sender, slots), "responses": []}
    events = tracker.get("events") or []
    if _apologized_this_turn(events):
        return {"events": [], "responses": []}
    metadata = (tracker.get("latest_message") or {}).get("metadata") or {}
    ticket = hand_off(sender, events, BOT_UNAVAILABLE, language_of(slots),
                      channel=tracker.get("latest_input_channel") or "",
                      customer_name=metadata.get("customer_name")).ticket
    # `handoff` as a handoff action's reply has it: channels and the console read it there
    return {"events": [], "responses": [{"response": APOLOGY, "ticket": ticket.id,
                                         "handoff": {"ticket": ticket.id,
                                                     "reason": BOT_UNAVAILABLE}}]}


def _apologized_this_turn(events: List[Dict[str, Any]]) -> bool:
    for event in reversed(events):
        if event.get("event") == "user":
            return False
        if event.get("event") == "bot" and \
                ((event.get("metadata") or {}).get("handoff") or {}).get("reason") == BOT_UNAVAILABLE:
            return True
    return False


def install(blueprint: Blueprint) -> None:
    """Makes the Rasa server call its action server through `ActionServerFallback`, once
    its agent is loaded. Every hotro channel calls this on its blueprint (a deployment
    may configure any of them); the first one swaps the endpoint, the others find it done."""

    @blueprint.listener("after_server_start")
    async def use_action_server_fallback(app: Any, _loop: Any) -> None:
        agent = getattr(app.ctx, "agent", None)
        if agent is None or agent.action_endpoint is None \
                or isinstance(agent.action_endpoint, ActionServerFallback):
            return
        agent.action_endpoint = ActionServerFallback.of(agent.action_endpoint)
        if agent.processor is not None:
            agent.processor.action_endpoint = agent.action_endpoint
        logger.info("action server calls go through hotro's fallback (%s)", agent.action_endpoint.url)
