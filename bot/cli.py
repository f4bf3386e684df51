"""The `hotro` command: train, run, evaluate and manage the knowledge base."""
from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from bot.console.commands import add_console_commands
from bot.e2e import add_eval_e2e
from bot.kb.commands import add_eval_kb, add_kb_commands
from bot.schema import add_db_commands
from bot.settings import PROJECT_DIR

MODELS_DIR = PROJECT_DIR / "models"
VAR_DIR = PROJECT_DIR / "var"


def _quiet_tensorflow() -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")


def cmd_train(args: argparse.Namespace) -> int:
    """rasa train; Rasa itself skips training when data and config are unchanged."""
    command = [str(Path(sys.executable).parent / "rasa"), "train", "--config", "config.yml",
               "--domain", "domain.yml", "--data", "data", "--out", str(MODELS_DIR)]
    return subprocess.call(command, cwd=PROJECT_DIR)


class StartupReport:
    """What `hotro run` prints while its processes start: every 10 s which one it waits
    for, and the FAQ index's build as the action server logs it (on a first start, or
    after the FAQ changed while the bot was stopped; later starts only load the index)."""

    EVERY = 10.0  # seconds between "still waiting" lines

    def __init__(self, stopping: threading.Event) -> None:
        self.stopping = stopping  # Ctrl-C while starting
        self.started = time.monotonic()
        self.said_at = 0.0  # seconds: the last "waiting for"
        self.read_up_to: dict = {}  # log path -> bytes already read

    def __call__(self, service) -> None:
        if self.stopping.is_set():
            raise InterruptedError("stopped while starting")
        seconds = time.monotonic() - self.started
        for line in self._new_lines(service.log_path):
            if " bot.kb." in line:  # "2026-... INFO     bot.kb.service  - building ..."
                print(f"  {seconds:4.0f} s  FAQ index: {line.split(' - ', 1)[-1].strip()}", flush=True)
        if seconds - self.said_at >= self.EVERY:
            self.said_at = seconds
            print(f"  {seconds:4.0f} s  waiting for the {service.name}...", flush=True)

    def _new_lines(self, path: Path) -> list:
        try:
            with open(path, "rb") as log:
                log.seek(self.read_up_to.get(path, 0))
                chunk = log.read()
        except OSError:
            return []
        complete = chunk[:chunk.rfind(b"\n") + 1]  # a line still being written waits
        self.read_up_to[path] = self.read_up_to.get(path, 0) + len(complete)
        return complete.decode("utf-8", errors="replace").splitlines()


def cmd_run(args: argparse.Namespace) -> int:
    from sqlalchemy.exc import SQLAlchemyError

    from bot.db import database_url, describe, engine_for
    from bot.stack import Stack, is_loopback, latest_model

    if not is_loopback(args.host) and not os.environ.get("HOTRO_RASA_TOKEN"):
        print(f"refusing to listen on {args.host}: Rasa's HTTP API (conversations, models) would "
              "be open to the network. Set HOTRO_RASA_TOKEN to a long random secret first; the "
              "console sends it, the customer channels' webhooks do not need it.", file=sys.stderr)
        return 2
    if not args.no_train and cmd_train(args) != 0:
        return 1
    url = database_url()
    try:
        engine_for(url)  # reachable, and its schema upgraded before three processes open it
    except SQLAlchemyError as error:
        print(f"hotro run: {describe(url, error)}", file=sys.stderr)
        return 1
    model = latest_model(MODELS_DIR)
    if model is None:
        print("no trained model in models/: run `hotro train`", file=sys.stderr)
        return 1
    stack = Stack(model=model, var_dir=Path(args.var_dir), rasa_port=args.port,
                  action_port=args.action_port, console_port=args.console_port,
                  host=args.host)
    stopping = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopping.set())
    print("starting the action server and the console, then the Rasa server once the action "
          "server has loaded the FAQ index (a first start builds it: a few minutes)...",
          flush=True)
    try:
        # A slow machine's first start builds the FAQ index for minutes, and says so.
        stack.start(timeout=3600, waiting=StartupReport(stopping))
        print(f"""
hotro is running.
  Website widget demo:     {stack.rasa_url}/webhooks/widget/demo
  Talk to the bot (REST):  curl -s {stack.rasa_url}/webhooks/rest/webhook \\
                             -H 'Content-Type: application/json' \\
                             -d '{{"sender": "me", "message": "xin chào"}}'
  Rasa HTTP API:           {stack.rasa_url}/status
  Agent console:           {stack.console_url}  (first admin: hotro user add NAME --role admin)
  Action server:           {stack.action_url}/health
  Logs:                    {stack.var_dir / 'logs'}
A process that stops is started again. Press Ctrl-C to stop.""", flush=True)
        while not stopping.wait(1):
            stack.supervise()
        return 0
    except InterruptedError:
        return 0
    finally:
        print("stopping hotro...", flush=True)
        stack.stop()


def cmd_eval_nlu(args: argparse.Namespace) -> int:
    _quiet_tensorflow()
    from bot.nlu.evaluate import evaluate_nlu

    result = evaluate_nlu(args.train, args.test, oos_label=args.oos_label,
                          config_path=args.config, predictions_csv=args.predictions)
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:>18}: {value:.4f}" if isinstance(value, float) else f"{key:>18}: {value}")
    return 0


def _date(text: str):
    from datetime import date

    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"ngày không hợp lệ / invalid date {text!r} (YYYY-MM-DD, e.g. 2026-11-30)")


def cmd_report(args: argparse.Namespace) -> int:
    """Support metrics from the event broker's table, as one table or JSON."""
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    from bot.analytics.events import EventsUnavailable, read_events
    from bot.analytics.metrics import metrics
    from bot.analytics.table import render
    from bot.shop import shop_profile

    shop = shop_profile()
    end = args.to or datetime.now(ZoneInfo(shop.timezone)).date()
    start = args.start or end - timedelta(days=6)
    if start > end:
        print(f"hotro report: --from {start} sau --to {end} / --from is after --to",
              file=sys.stderr)
        return 2
    try:
        events = read_events(args.events)
    except EventsUnavailable as error:
        print(f"hotro report: {error}", file=sys.stderr)
        return 1
    result = metrics(events, start, end, channel=args.channel, shop=shop)
    print(json.dumps(result, ensure_ascii=False) if args.json else render(result, by=args.by))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hotro", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    train = commands.add_parser("train", help="train the Rasa model if data or config changed")
    train.set_defaults(func=cmd_train)

    run = commands.add_parser("run", help="train if needed, start every hotro process")
    run.add_argument("--host", default="127.0.0.1")
    run.add_argument("--port", type=int, default=5005, help="Rasa server port")
    run.add_argument("--action-port", type=int, default=5055)
    run.add_argument("--console-port", type=int, default=5080)
    run.add_argument("--no-train", action="store_true", help="use the latest model as it is")
    run.add_argument("--var-dir", default=str(VAR_DIR),
                     help="where the tracker store and the logs go (default: var/)")
    run.set_defaults(func=cmd_run)

    evaluate = commands.add_parser("eval", help="evaluate NLU or FAQ search on labelled data")
    targets = evaluate.add_subparsers(dest="target", required=True)
    nlu = targets.add_parser("nlu", help="train the NLU pipeline on one CSV, score on another")
    nlu.add_argument("--train", required=True, help="CSV with text,label columns")
    nlu.add_argument("--test", required=True, help="CSV with text,label columns")
    nlu.add_argument("--oos-label", help="label of out-of-scope examples, e.g. oos")
    nlu.add_argument("--config", help="Rasa config to evaluate instead of config.yml")
    nlu.add_argument("--predictions", help="write per-example predictions to this CSV")
    nlu.add_argument("--json", action="store_true", help="print one JSON object last")
    nlu.set_defaults(func=cmd_eval_nlu)

    report = commands.add_parser(
        "report", help="support metrics from Rasa's event broker (default: the last 7 days)")
    report.add_argument("--from", dest="start", type=_date, metavar="DATE",
                        help="first day, YYYY-MM-DD (default: 6 days before --to)")
    report.add_argument("--to", type=_date, metavar="DATE",
                        help="last day, YYYY-MM-DD (default: today, in the shop's time zone)")
    report.add_argument("--channel", metavar="C",
                        help="one channel only: rest, widget, facebook, zalo")
    report.add_argument("--by", choices=("channel", "day"), default="channel",
                        help="the table's columns: one per channel (default) or per day")
    report.add_argument("--events", metavar="DB", help="the broker's database: a SQLite path or a URL "
                                         "(default: HOTRO_EVENTS_DB, else var/events.db)")
    report.add_argument("--json", action="store_true", help="print one JSON object")
    report.set_defaults(func=cmd_report)

    add_eval_kb(targets)
    add_eval_e2e(targets)
    add_kb_commands(commands)
    add_console_commands(commands)  # hotro user add|passwd|list, hotro console
    add_db_commands(commands)  # hotro db upgrade|check|revision
    return parser


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
    return args.func(args) or 0


if __name__ == "__main__":
    sys.exit(main())
