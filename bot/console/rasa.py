"""The console's calls to the Rasa HTTP API (rasa run --enable-api).

- the live transcript: GET /conversations/{id}/tracker?include_events=ALL
- an agent's reply: POST /conversations/{id}/tracker/events
  ?output_channel=latest&execute_side_effects=true with a `bot` event: Rasa records it in
  the tracker and sends it through the channel the customer last wrote from.
- taking a ticket or replying: a `pause` event first, so Rasa records the customer's
  messages but the bot does not answer them while a person has the conversation
  (whatever the hours; the handoff pauses only when an agent is online in office hours);
- resolving: POST .../tracker/events [{"event": "resume"}], then
  POST .../execute?output_channel=latest {"name": "utter_ask_rating"} (the CSAT question).
With `--auth-token` on the Rasa server, set console.rasa_token or HOTRO_RASA_TOKEN.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any, Dict, List, Optional
from urllib.parse import quote

import aiohttp

log = logging.getLogger(__name__)


PAUSE = {"event": "pause"}  # Rasa's ConversationPaused


class RasaError(RuntimeError):
    """Rasa could not be reached or refused the call."""


class RasaClient:
    def __init__(self, base_url: str, token: Optional[str] = None,
                 timeout: float = 10) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token or None
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: Optional[aiohttp.ClientSession] = None

    async def start(self) -> None:
        self._session = aiohttp.ClientSession(timeout=self.timeout)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _url(self, conversation_id: str, tail: str) -> str:
        return f"{self.base_url}/conversations/{quote(conversation_id, safe='')}/{tail}"

    def _params(self, **params: str) -> Dict[str, str]:
        if self.token:
            params["token"] = self.token
        return params

    async def _call(self, method: str, url: str, params: Dict[str, str],
                    body: Any = None) -> Any:
        if self._session is None:
            raise RasaError("Rasa client not started")
        try:
            async with self._session.request(method, url, params=params, json=body) as reply:
                text = await reply.text()
                if reply.status >= 300:
                    raise RasaError(f"Rasa answered HTTP {reply.status}: {text[:300]}")
                try:
                    return await reply.json(content_type=None)
                except ValueError:
                    return None
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as error:
            raise RasaError(f"Rasa unreachable at {self.base_url}: "
                            f"{type(error).__name__} {error}".strip()) from error

    async def tracker_events(self, conversation_id: str) -> List[Dict[str, Any]]:
        state = await self._call("GET", self._url(conversation_id, "tracker"),
                                 self._params(include_events="ALL"))
        if not isinstance(state, dict) or not isinstance(state.get("events"), list):
            raise RasaError("Rasa answered a tracker without events")
        return state["events"]

    async def latest_message(self, conversation_id: str) -> Optional[str]:
        """The text of the customer's latest message in the current session, without the
        events: the small tracker state Rasa answers with include_events=NONE."""
        state = await self._call("GET", self._url(conversation_id, "tracker"),
                                 self._params(include_events="NONE"))
        if not isinstance(state, dict):
            raise RasaError("Rasa answered no tracker state")
        message = state.get("latest_message") or {}
        text = message.get("text") if isinstance(message, dict) else None
        return text if isinstance(text, str) and text else None

    async def post_events(self, conversation_id: str, events: List[Dict[str, Any]],
                          send: bool = False) -> Any:
        """Appends events; with `send`, bot messages also go out on the customer's channel."""
        params = (self._params(output_channel="latest", execute_side_effects="true") if send
                  else self._params())
        return await self._call("POST", self._url(conversation_id, "tracker/events"), params,
                                events)

    async def pause(self, conversation_id: str) -> Any:
        """A person has the conversation: Rasa keeps logging the customer's messages (the
        tracker, the live transcript) but predicts no bot action until `resume`."""
        return await self.post_events(conversation_id, [PAUSE])

    async def execute_action(self, conversation_id: str, action: str) -> Any:
        """Runs one bot action now; its messages go out on the customer's channel.

        Rasa's /execute does not listen afterwards, and rules only match a customer turn
        that follows action_listen: without it the customer's answer would not be read.
        """
        await self._call("POST", self._url(conversation_id, "execute"),
                         self._params(output_channel="latest"), {"name": action})
        return await self.post_events(conversation_id,
                                      [{"event": "action", "name": "action_listen"}])
