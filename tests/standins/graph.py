"""Stand-in for Meta's Graph API Send API: POST /<version>/me/messages?access_token=...

Answers {"recipient_id", "message_id"} for a valid message and a Graph error object
({"error": {"message", "type", "code", "error_subcode", "fbtrace_id"}}, HTTP 400) for
a wrong token, a missing recipient or text, a bad messaging_type/tag or quick replies
over Messenger's limits (13 replies, 20-character titles).
Run alone: python -m tests.standins.graph --token T  (prints its URL).
"""
from __future__ import annotations

import argparse
import itertools
import time
from typing import Any, Dict, List, Optional, Tuple

from aiohttp import web

from tests.standins.base import Recorded, StandinServer

MESSAGING_TYPES = {"RESPONSE", "UPDATE", "MESSAGE_TAG"}
TAGS = {"HUMAN_AGENT", "CONFIRMED_EVENT_UPDATE", "POST_PURCHASE_UPDATE", "ACCOUNT_UPDATE"}


def graph_error(message: str, code: int = 100, subcode: Optional[int] = None,
                kind: str = "OAuthException") -> Dict[str, Any]:
    error = {"message": message, "type": kind, "code": code, "fbtrace_id": "Astandin"}
    if subcode is not None:
        error["error_subcode"] = subcode
    return {"error": error}


class GraphStandin(StandinServer):
    def __init__(self, page_access_token: str) -> None:
        super().__init__()
        self.page_access_token = page_access_token
        self.fail_next: List[Tuple[int, Dict[str, Any]]] = []  # (status, body) answered first
        self.closed_window: set = set()  # PSIDs outside the messaging window
        self._ids = itertools.count(1)

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/me/messages", self.messages)
        app.router.add_post("/{version}/me/messages", self.messages)

    async def messages(self, request: web.Request) -> web.Response:
        recorded = await self.record(request)
        with self.lock:
            scripted = self.fail_next.pop(0) if self.fail_next else None
        if scripted:
            return self.reply(recorded, scripted[1], status=scripted[0])
        if request.query.get("access_token") != self.page_access_token:
            return self.reply(recorded, graph_error("Invalid OAuth access token.", 190), status=400)
        body = recorded.json
        if not isinstance(body, dict):
            return self.reply(recorded, graph_error("(#100) Invalid JSON body"), status=400)
        recipient = (body.get("recipient") or {}).get("id")
        if not recipient:
            return self.reply(recorded, graph_error("(#100) The parameter recipient is required"),
                                     status=400)
        if "sender_action" in body:
            return self.reply(recorded, {"recipient_id": recipient})
        problem = self.check_message(body)
        if problem:
            return self.reply(recorded, graph_error(problem), status=400)
        if recipient in self.closed_window and body.get("tag") != "HUMAN_AGENT":
            return self.reply(recorded, graph_error(
                "(#10) This message is sent outside of allowed window.", 10, 2018278),
                status=400)
        return self.reply(recorded, {"recipient_id": recipient,
                                  "message_id": f"m_standin_{next(self._ids)}_{int(time.time())}"})

    @staticmethod
    def check_message(body: Dict[str, Any]) -> Optional[str]:
        kind = body.get("messaging_type")
        if kind not in MESSAGING_TYPES:
            return f"(#100) messaging_type must be one of {sorted(MESSAGING_TYPES)}"
        if kind == "MESSAGE_TAG" and body.get("tag") not in TAGS:
            return "(#100) Tag is required for MESSAGE_TAG"
        message = body.get("message")
        if not isinstance(message, dict) or not (message.get("text") or message.get("attachment")):
            return "(#100) The parameter message[text] or message[attachment] is required"
        if isinstance(message.get("text"), str) and len(message["text"]) > 2000:
            return "(#100) Length of param message[text] must be less than or equal to 2000"
        replies = message.get("quick_replies")
        if replies is not None:
            if not isinstance(replies, list) or not 1 <= len(replies) <= 13:
                return "(#100) param message[quick_replies] must have between 1 and 13 elements"
            for reply in replies:
                if reply.get("content_type") == "text" and (
                        not reply.get("title") or len(reply["title"]) > 20
                        or not reply.get("payload") or len(reply["payload"]) > 1000):
                    return "(#100) quick reply title must be 1-20 characters, payload 1-1000"
        return None

    # what tests look at -----------------------------------------------------------
    def messages_to(self, psid: str) -> List[Recorded]:
        return self.recorded(lambda r: isinstance(r.json, dict) and "message" in r.json
                             and (r.json.get("recipient") or {}).get("id") == psid)

    def delivered_to(self, psid: str) -> List[Recorded]:
        return [r for r in self.messages_to(psid) if r.status == 200]

    def wait_messages_to(self, psid: str, count: int = 1, timeout: float = 60) -> List[Recorded]:
        """Messages (not sender actions) to `psid` that were accepted, once `count` are."""
        return self.wait_for(lambda r: isinstance(r.json, dict) and "message" in r.json
                             and (r.json.get("recipient") or {}).get("id") == psid
                             and r.status == 200, count, timeout)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--token", required=True)
    server = GraphStandin(parser.parse_args().token).start()
    print(f"Graph API stand-in: {server.url}/v19.0/me/messages", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop()
