"""python -m bot.console [--host 127.0.0.1] [--port 5080]: runs the agents' console.

Ready when GET /healthz answers 200. Settings from hotro.yml (or $HOTRO_CONFIG);
$HOTRO_RASA_URL overrides console.rasa_url.
"""
from __future__ import annotations

import argparse
import logging
import sys
from typing import Optional


def run(host: str = "127.0.0.1", port: Optional[int] = None) -> int:
    from aiohttp import web
    from sqlalchemy.exc import SQLAlchemyError

    from bot.console.app import create_app
    from bot.db import database_url, describe
    from bot.settings import load_settings

    settings = load_settings()
    port = port or int((settings.get("console") or {}).get("port", 5080))
    try:
        app = create_app(settings)
    except SQLAlchemyError as error:
        print(f"hotro console: {describe(database_url(settings), error)}", file=sys.stderr)
        return 1
    web.run_app(app, host=host, port=port, access_log=None, handle_signals=True,
                print=lambda *_: print(f"hotro console on http://{host}:{port}", flush=True))
    return 0


def main(argv: Optional[list] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.console", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=None)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    return run(args.host, args.port)


if __name__ == "__main__":
    sys.exit(main())
