"""How long a burst of messages from one customer takes: Rasa's lock store against hotro's.

  .venv/bin/python bench/burst.py [--rounds 5]      (prints one markdown table)

Starts the stack as `hotro run` does (latest model, free ports, a scratch var dir) with
each lock store: Rasa's in-memory one and hotro's (endpoints.yml), and, when redis-server
is installed, Rasa's Redis one and hotro's on a scratch redis-server. In each it sends the
8 messages of tests/integration/test_burst.py at once from one new sender per round.
A burst's time runs from sending to the last reply. Rasa serves a conversation's messages
one at a time, so the same 8 sent one after another (each once the previous is answered)
are the least a burst can take: the table shows both.
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Optional

import redis
import requests

from bot.settings import PROJECT_DIR
from bot.stack import Stack, free_port, latest_model
from tests.integration.test_burst import BURST

HOTRO_LOCK = "type: bot.lock_store.PromptLockStore"


def say(stack: Stack, sender: str, text: str) -> None:
    reply = requests.post(f"{stack.rasa_url}/webhooks/rest/webhook", timeout=120,
                          json={"sender": sender, "message": text})
    assert reply.ok and reply.json(), reply.text


def burst(stack: Stack, sender: str) -> float:
    started = time.monotonic()
    with ThreadPoolExecutor(len(BURST)) as pool:
        list(pool.map(lambda text: say(stack, sender, text), BURST))
    return time.monotonic() - started


def one_after_another(stack: Stack, sender: str) -> float:
    started = time.monotonic()
    for text in BURST:
        say(stack, sender, text)
    return time.monotonic() - started


def measure(endpoints: Path, rounds: int, tmp: Path) -> dict:
    stack = Stack(model=latest_model(PROJECT_DIR / "models"), var_dir=tmp,
                  rasa_port=free_port(), action_port=free_port(), console_port=free_port(),
                  endpoints=endpoints)
    try:
        stack.start()
        burst(stack, "bench-warm-up")
        bursts, sequences = [], []
        for n in range(rounds):
            bursts.append(burst(stack, f"bench-burst-{n}-{os.getpid()}"))
            sequences.append(one_after_another(stack, f"bench-sequence-{n}-{os.getpid()}"))
    finally:
        stack.stop()
    return {"burst": statistics.median(bursts), "worst": max(bursts),
            "sequence": statistics.median(sequences)}


@contextmanager
def scratch_redis(tmp: Path) -> Iterator[Optional[int]]:
    """A redis-server on a free port for the run (its port), or None when not installed."""
    if shutil.which("redis-server") is None:
        yield None
        return
    port = free_port()
    server = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1",
                               "--save", "", "--appendonly", "no", "--dir", str(tmp)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        for _ in range(100):
            try:
                redis.Redis(port=port).ping()
                break
            except redis.ConnectionError:
                time.sleep(0.1)
        yield port
    finally:
        server.terminate()
        server.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    ours = (PROJECT_DIR / "endpoints.yml").read_text(encoding="utf-8")
    assert HOTRO_LOCK in ours, "endpoints.yml no longer names hotro's lock store"
    rows = []
    with tempfile.TemporaryDirectory() as tmp, scratch_redis(Path(tmp)) as redis_port:
        stores = [("Rasa's InMemoryLockStore (before)", "type: in_memory"),
                  ("hotro's PromptLockStore (after)", HOTRO_LOCK)]
        if redis_port:
            at = f"\n  url: 127.0.0.1\n  port: {redis_port}\n  db: 1"
            stores += [("Rasa's RedisLockStore (before)", "type: redis" + at),
                       ("hotro's PromptRedisLockStore (after)",
                        "type: bot.lock_store.PromptRedisLockStore" + at)]
        for n, (name, lock_store) in enumerate(stores):
            endpoints = Path(tmp) / f"endpoints-{n}.yml"
            endpoints.write_text(ours.replace(HOTRO_LOCK, lock_store), encoding="utf-8")
            rows.append((name, measure(endpoints, args.rounds, Path(tmp) / f"stack-{n}")))
    print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the end; "
          f"`bench/burst.py --rounds {args.rounds}`: {len(BURST)} messages sent at once by one "
          f"customer over REST, median of {args.rounds} bursts\n")
    print("| lock store | whole burst (s) | slowest burst (s) | the 8 one after another (s) |")
    print("|---|---|---|---|")
    for name, r in rows:
        print(f"| {name} | {r['burst']:.2f} | {r['worst']:.2f} | {r['sequence']:.2f} |")


if __name__ == "__main__":
    main()
