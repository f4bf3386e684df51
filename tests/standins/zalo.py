"""Stand-in for Zalo's OA OpenAPI: consultation messages and the OA token endpoint.

- POST /v3.0/oa/message/cs, header `access_token`, body {"recipient": {"user_id"},
  "message": {"text" | "attachment"}} → {"error": 0, "message": "Success", "data":
  {"message_id", "user_id"}} or, always with HTTP 200, {"error": -216, "message":
  "Access token is invalid"}, -201 for an invalid body, or the error set for a user
  (e.g. -230 "User has not interacted with the OA in the past 7 days").
- POST /v4/oa/access_token, header `secret_key`, form app_id, refresh_token,
  grant_type=refresh_token → {"access_token", "refresh_token", "expires_in": "90000"};
  the refresh token rotates (the old one stops working at once).
Run alone: python -m tests.standins.zalo --app-id A --app-secret S (prints its URL).
"""
from __future__ import annotations

import argparse
import itertools
import secrets
import time
from typing import Any, Dict, List, Optional, Tuple

from aiohttp import web

from tests.standins.base import Recorded, StandinServer

CS_PATH = "/v3.0/oa/message/cs"
TOKEN_PATH = "/v4/oa/access_token"


class ZaloStandin(StandinServer):
    def __init__(self, app_id: str, app_secret: str, access_token: str,
                 refresh_token: str) -> None:
        super().__init__()
        self.app_id = app_id
        self.app_secret = app_secret
        self.valid_access_token: Optional[str] = access_token
        self.valid_refresh_token: Optional[str] = refresh_token
        self.user_errors: Dict[str, Tuple[int, str]] = {}  # user_id → (error, message)
        self.fail_next: List[Tuple[int, Any]] = []  # (HTTP status, body) answered first
        self._ids = itertools.count(1)

    def routes(self, app: web.Application) -> None:
        app.router.add_post(CS_PATH, self.cs_message)
        app.router.add_post(TOKEN_PATH, self.access_token)

    def expire_access_token(self) -> None:
        """The current access token stops working (as after its 25 hours)."""
        self.valid_access_token = None

    async def cs_message(self, request: web.Request) -> web.Response:
        recorded = await self.record(request)
        with self.lock:
            scripted = self.fail_next.pop(0) if self.fail_next else None
        if scripted:
            status, body = scripted
            if isinstance(body, dict):
                return self.reply(recorded, body, status=status)
            recorded.status, recorded.answer = status, body
            return web.Response(text=str(body), status=status)
        token = request.headers.get("access_token")
        if not token or token != self.valid_access_token:
            return self.reply(recorded, {"error": -216, "message": "Access token is invalid"})
        body = recorded.json
        user = ((body or {}).get("recipient") or {}).get("user_id") if isinstance(body, dict) else None
        message = body.get("message") if isinstance(body, dict) else None
        if not isinstance(user, str) or not user:
            return self.reply(recorded, {"error": -201, "message": "user_id is invalid!"})
        if not isinstance(message, dict) or not (message.get("text") or message.get("attachment")):
            return self.reply(recorded, {"error": -201, "message": "message is invalid!"})
        if isinstance(message.get("text"), str) and len(message["text"]) > 2000:
            return self.reply(recorded, {"error": -201, "message": "text is invalid!"})
        if user in self.user_errors:
            code, text = self.user_errors[user]
            return self.reply(recorded, {"error": code, "message": text})
        return self.reply(recorded, {"error": 0, "message": "Success", "data": {
            "message_id": f"standin{next(self._ids):08d}", "user_id": user}})

    async def access_token(self, request: web.Request) -> web.Response:
        recorded = await self.record(request)
        form = recorded.form
        if request.headers.get("secret_key") != self.app_secret:
            return self.reply(recorded, {"error": -14002, "error_name": "Invalid secret key",
                                      "error_reason": "secret_key header is wrong"})
        if form.get("app_id") != self.app_id or form.get("grant_type") != "refresh_token":
            return self.reply(recorded, {"error": -14001, "error_name": "Invalid parameter",
                                      "error_reason": "app_id or grant_type is wrong"})
        if not form.get("refresh_token") or form["refresh_token"] != self.valid_refresh_token:
            return self.reply(recorded, {"error": -14014, "error_name": "Invalid refresh token",
                                      "error_reason": "refresh token is invalid or used"})
        with self.lock:
            self.valid_access_token = "at-" + secrets.token_hex(12)
            self.valid_refresh_token = "rt-" + secrets.token_hex(12)
        return self.reply(recorded, {"access_token": self.valid_access_token,
                                  "refresh_token": self.valid_refresh_token,
                                  "expires_in": "90000"})

    # what tests look at -----------------------------------------------------------
    @staticmethod
    def _to(user: str):
        return lambda r: r.path == CS_PATH and isinstance(r.json, dict) and \
            (r.json.get("recipient") or {}).get("user_id") == user

    def messages_to(self, user: str) -> List[Recorded]:
        return self.recorded(self._to(user))

    def delivered_to(self, user: str) -> List[Recorded]:
        return self.recorded(lambda r: self._to(user)(r) and isinstance(r.answer, dict)
                             and r.answer.get("error") == 0)

    def wait_delivered_to(self, user: str, count: int = 1, timeout: float = 60) -> List[Recorded]:
        """Messages to `user` that the stand-in accepted, once there are `count`."""
        return self.wait_for(lambda r: self._to(user)(r) and r.status == 200
                             and isinstance(r.answer, dict) and r.answer.get("error") == 0,
                             count, timeout)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--app-id", required=True)
    parser.add_argument("--app-secret", required=True)
    parser.add_argument("--access-token", default="at-initial")
    parser.add_argument("--refresh-token", default="rt-initial")
    args = parser.parse_args()
    server = ZaloStandin(args.app_id, args.app_secret, args.access_token,
                         args.refresh_token).start()
    print(f"Zalo OpenAPI stand-in: openapi_url and oauth_url = {server.url}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop()
