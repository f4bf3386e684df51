"""One channel replica as its own process, for tests/channels/test_replicas.py: what a Rasa
server replica runs of a channel, on hotro's database ($HOTRO_DATABASE_URL), without the
model (a message the channel hands to the bot is written, as a JSON line, to --out).

  python -m tests.channels.replica serve messenger|zalo --port P --api URL --out FILE
  python -m tests.channels.replica send-zalo --api URL --user U --text T --go FILE
      [--buttons JSON]   (prints "ready" once its channel is loaded, then waits until FILE
      exists and sends: two of them send at once)
"""
from __future__ import annotations

import argparse
import asyncio
import json
import time
from pathlib import Path
from typing import Any, Dict

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Sanic

from bot.channels.messenger import MessengerInput
from bot.channels.zalo import ZaloInput

FB_PAGE_TOKEN, FB_APP_SECRET = "page-token", "fb-app-secret"
ZALO_APP_ID, ZALO_APP_SECRET, ZALO_OA_SECRET = "app-1", "app-secret", "oa-secret"
ZALO_ACCESS_TOKEN, ZALO_REFRESH_TOKEN = "at-0", "rt-0"


def channel(kind: str, api: str) -> InputChannel:
    if kind == "messenger":
        return MessengerInput.from_credentials({
            "verify": "verify", "secret": FB_APP_SECRET, "page-access-token": FB_PAGE_TOKEN,
            "graph_url": f"{api}/v19.0", "retry_backoff": 0.05})
    return ZaloInput.from_credentials({
        "app_id": ZALO_APP_ID, "app_secret": ZALO_APP_SECRET, "oa_secret_key": ZALO_OA_SECRET,
        "access_token": ZALO_ACCESS_TOKEN, "refresh_token": ZALO_REFRESH_TOKEN,
        "openapi_url": api, "oauth_url": api, "retry_backoff": 0.05})


def serve(args: argparse.Namespace) -> None:
    replica = channel(args.channel, args.api)
    out = Path(args.out)

    async def on_new_message(message: UserMessage) -> None:
        with out.open("a", encoding="utf-8") as handled:
            handled.write(json.dumps({"sender": message.sender_id, "text": message.text},
                                     ensure_ascii=False) + "\n")

    app = Sanic(f"replica_{args.port}")
    app.blueprint(replica.blueprint(on_new_message), url_prefix=f"/webhooks/{replica.name()}")
    app.run(host="127.0.0.1", port=args.port, access_log=False, workers=1)


def send_zalo(args: argparse.Namespace) -> None:
    out = channel("zalo", args.api).get_output_channel()
    go = Path(args.go)
    print("ready", flush=True)
    while not go.exists():
        time.sleep(0.01)
    message: Dict[str, Any] = {"text": args.text}
    if args.buttons:
        message["buttons"] = json.loads(args.buttons)

    async def send() -> None:
        try:
            await out.send_response(args.user, message)
        finally:
            await out.client.close()
    asyncio.run(send())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    server = commands.add_parser("serve")
    server.add_argument("channel", choices=["messenger", "zalo"])
    server.add_argument("--port", type=int, required=True)
    server.add_argument("--api", required=True)
    server.add_argument("--out", required=True)
    server.set_defaults(func=serve)
    sender = commands.add_parser("send-zalo")
    for name in ("--api", "--user", "--text", "--go"):
        sender.add_argument(name, required=True)
    sender.add_argument("--buttons")
    sender.set_defaults(func=send_zalo)
    args = parser.parse_args()
    args.func(args)


if __name__ == "__main__":
    main()
