"""Stand-in for the Rasa HTTP API the console calls (rasa run --enable-api).

  GET  /conversations/{id}/tracker                 {"sender_id", "events", "paused"}
                                                   (include_events=NONE: "latest_message")
  POST /conversations/{id}/tracker/events          appends the events (as Rasa records them)
  POST /conversations/{id}/execute                 records the action (and appends an action event)
Every request is recorded (tests.standins.base). `conversations[id]` are the tracker events;
tests seed them with `add_user_message` / `add_bot_message`.
Run alone: python -m tests.console.rasa_standin (prints its URL).
"""
from __future__ import annotations

import time
from typing import Any, Dict, List, Optional

from aiohttp import web

from tests.standins.base import StandinServer


class RasaStandin(StandinServer):
    def __init__(self) -> None:
        super().__init__()
        self.conversations: Dict[str, List[Dict[str, Any]]] = {}
        self.paused: Dict[str, bool] = {}
        self.fail_posts = 0  # answer the next N POSTs with HTTP 500, as a broken Rasa would

    def routes(self, app: web.Application) -> None:
        app.router.add_get("/conversations/{cid}/tracker", self.tracker)
        app.router.add_post("/conversations/{cid}/tracker/events", self.events)
        app.router.add_post("/conversations/{cid}/execute", self.execute)

    # seeding ---------------------------------------------------------------------------
    def _append(self, cid: str, event: Dict[str, Any]) -> None:
        with self.lock:
            event.setdefault("timestamp", time.time())
            self.conversations.setdefault(cid, []).append(event)

    def add_user_message(self, cid: str, text: str, intent: str = "ask_question",
                         confidence: float = 0.9, channel: str = "socketio") -> None:
        self._append(cid, {"event": "user", "text": text, "input_channel": channel,
                           "parse_data": {"intent": {"name": intent, "confidence": confidence},
                                          "entities": [], "text": text}})

    def add_bot_message(self, cid: str, text: str,
                        metadata: Optional[Dict[str, Any]] = None) -> None:
        self._append(cid, {"event": "bot", "text": text, "metadata": metadata or {}})

    def state(self, cid: str) -> Dict[str, Any]:
        with self.lock:
            return {"sender_id": cid, "events": list(self.conversations.get(cid, [])),
                    "paused": self.paused.get(cid, False)}

    def _failing(self) -> bool:
        with self.lock:
            if self.fail_posts > 0:
                self.fail_posts -= 1
                return True
            return False

    # routes ----------------------------------------------------------------------------
    async def tracker(self, request: web.Request) -> web.Response:
        recorded = await self.record(request)
        state = self.state(request.match_info["cid"])
        if request.query.get("include_events") == "NONE":  # as Rasa: latest_message, no events
            users = [e for e in state["events"] if e.get("event") == "user"]
            state = {**state, "events": None,
                     "latest_message": {"text": users[-1]["text"]} if users else {}}
        return self.reply(recorded, state)

    async def events(self, request: web.Request) -> web.Response:
        recorded = await self.record(request)
        cid = request.match_info["cid"]
        if self._failing():
            return self.reply(recorded, {"status": "failure", "message": "boom"}, 500)
        body = recorded.json
        if not isinstance(body, list) and not isinstance(body, dict):
            return self.reply(recorded, {"status": "failure", "message": "bad events"}, 400)
        for event in body if isinstance(body, list) else [body]:
            if event.get("event") == "resume":
                self.paused[cid] = False
            elif event.get("event") == "pause":
                self.paused[cid] = True
            self._append(cid, dict(event))
        return self.reply(recorded, self.state(cid))

    async def execute(self, request: web.Request) -> web.Response:
        recorded = await self.record(request)
        cid = request.match_info["cid"]
        if self._failing():
            return self.reply(recorded, {"status": "failure", "message": "boom"}, 500)
        body = recorded.json or {}
        if not body.get("name"):
            return self.reply(recorded, {"status": "failure", "message": "no name"}, 400)
        self._append(cid, {"event": "action", "name": body["name"]})
        return self.reply(recorded, {"tracker": self.state(cid)})


if __name__ == "__main__":
    server = RasaStandin().start()
    print(server.url, flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop()
