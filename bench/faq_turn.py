"""What one FAQ turn costs: latency through REST and CPU time in each server process.

Sends the same FAQ questions (each the first message of a new conversation) one after the
other to a stack, and reads the CPU time (user + system, /proc/<pid>/stat) the Rasa
server's and the action server's process groups spent meanwhile. Before issue 9 the Rasa
server embedded each message for NLU and the action server embedded it again for FAQ
search; now the Rasa server searches the FAQ with the NLU embedding and the action server
only words the decision. With --follow-ups the turn timed is the second message of a
conversation after an FAQ answer, which may be read with the question before it
(bot/kb/follow_up.py).

  .venv/bin/python bench/faq_turn.py [--label after] [--n 200] [--follow-ups]
  .venv/bin/python bench/faq_turn.py --label before --url URL --rasa-pid P --actions-pid P

Results per label go to bench/results/faq_turn_<label>.json; the table shows every label.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

BENCH = Path(__file__).resolve().parent
PROJECT = BENCH.parent
RESULTS = BENCH / "results"
sys.path.insert(0, str(PROJECT))

from bot.e2e import send  # noqa: E402
from bot.kb.evaluate import read_queries_csv  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU of `pid` and every process in its group (Rasa forks workers)."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pid or int(entry.name) == pid:  # fields[2] is the process group
            total += (int(fields[11]) + int(fields[12])) / TICKS
    return total


def measure(url: str, pids: dict, questions, n: int) -> dict:
    for q in questions[:5]:  # warm up: first-request work is not a turn's cost
        send(url, f"warm-{uuid.uuid4().hex[:8]}", q)
    before = {name: cpu_seconds(pid) for name, pid in pids.items()}
    latencies = []
    for i in range(n):
        text = questions[i % len(questions)]
        started = time.perf_counter()
        send(url, f"turn-{uuid.uuid4().hex[:8]}", text)
        latencies.append((time.perf_counter() - started) * 1000)
    after = {name: cpu_seconds(pid) for name, pid in pids.items()}
    return summary(latencies, {name: after[name] - before[name] for name in pids})


def measure_follow_ups(url: str, pids: dict, conversations, n: int) -> dict:
    """`measure` for the second message of two-message conversations: the first is sent
    unmeasured, then the second is timed and the servers' CPU read around it alone."""
    for first, second in conversations[:3]:  # warm up
        sender = f"warm-{uuid.uuid4().hex[:8]}"
        send(url, sender, first)
        send(url, sender, second)
    latencies, cpu = [], {name: 0.0 for name in pids}
    for i in range(n):
        first, second = conversations[i % len(conversations)]
        sender = f"turn-{uuid.uuid4().hex[:8]}"
        send(url, sender, first)
        before = {name: cpu_seconds(pid) for name, pid in pids.items()}
        started = time.perf_counter()
        send(url, sender, second)
        latencies.append((time.perf_counter() - started) * 1000)
        for name, pid in pids.items():
            cpu[name] += cpu_seconds(pid) - before[name]
    return summary(latencies, cpu)


def summary(latencies: list, cpu: dict) -> dict:
    """Latency percentiles (ms) and each process's CPU ms per turn, from `cpu` seconds."""
    n, latencies = len(latencies), sorted(latencies)
    return {"n": n, "p50_ms": statistics.median(latencies), "p95_ms": latencies[int(0.95 * (n - 1))],
            **{f"cpu_ms_{name}": seconds * 1000 / n for name, seconds in cpu.items()}}


def table() -> str:
    lines = ["| code | FAQ turns | p50 ms | p95 ms | Rasa server CPU ms / turn | action server CPU ms / turn | "
             "both, CPU ms / turn |", "|---|---|---|---|---|---|---|"]
    # "before" first, then in the order they were measured
    for path in sorted(RESULTS.glob("faq_turn_*.json"), key=lambda p: (p.stem != "faq_turn_before", p.stat().st_mtime)):
        r = json.loads(path.read_text())
        both = r["cpu_ms_rasa"] + r["cpu_ms_actions"]
        lines.append(f"| {path.stem[len('faq_turn_'):]} | {r['n']} | {r['p50_ms']:.1f} | {r['p95_ms']:.1f} | "
                     f"{r['cpu_ms_rasa']:.1f} | {r['cpu_ms_actions']:.1f} | {both:.1f} |")
    return "\n".join(lines)


# What each label's code was; a row is only comparable with rows measured at the same time.
LABELS = """- before / after (issue 9, part 7): the action server embedded each message again for the
  FAQ search / the Rasa server searches with the NLU embedding.
- stop17-rasa-sql-stores / stop18-one-commit-a-turn (issue 13, measured one after the other,
  load average about 3 from other work): Rasa's `type: SQL` tracker store and event broker
  (the stored tracker read back to find a turn's new events, then one commit per event) /
  bot/sql_stores.py (the new events counted, published in one commit).
- stop18-one-blas-thread: and OpenBLAS on one thread in the Rasa and action servers
  (bot/stack.py). On two, its idle worker spun beside the embedder's threads: py-spy put
  14 % of the Rasa server's samples on one small matrix-vector product (the query against
  the FAQ's vectors, 0.1 ms alone). Measured beside a run without it at about 80 CPU ms.
- stop18-one-blas-thread-quiet / stop18-short-spin (one after the other, load average about
  2): the same code again / and the embedder's OpenMP threads spinning 10,000 rounds after a
  text instead of 300,000 (GOMP_SPINCOUNT, bot/stack.py).
- stop19-before / stop19-classifier (one after the other, on a slower day: the same code as
  stop18-short-spin measured 54 CPU ms) / and the intent classifier scoring a live message
  from its features directly instead of building scipy matrices (bot/nlu/classifier.py
  `_message_logits`; cProfile put 4.7 ms of a turn's 20 ms of NLU in those matrices).
- stop29-followups-before / stop29-followups (`--follow-ups`, one after the other): not a first
  question but the second message of the sample's follow-up conversations
  (bench/data/followups/sample.csv, kind follow_up), after the first was answered / with a
  follow-up read with the question before it when it is not answered alone
  (bot/kb/follow_up.py: one more embedding and search, in the action server)."""


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--label", default="after")
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--url")
    parser.add_argument("--rasa-pid", type=int)
    parser.add_argument("--actions-pid", type=int)
    parser.add_argument("--follow-ups", action="store_true",
                        help="time the second message of the sample's follow-up conversations")
    args = parser.parse_args(argv)
    # Answerable questions with diacritics from the sample's dev set: an FAQ turn each.
    questions = [q.text for q in read_queries_csv(BENCH / "data" / "kb_dev_queries.csv")
                 if q.expected_id and q.variant == "diacritics"]
    if args.follow_ups:
        with open(BENCH / "data" / "followups" / "sample.csv", encoding="utf-8", newline="") as handle:
            conversations = [(r["first"], r["follow_up"]) for r in csv.DictReader(handle)
                             if r["kind"] == "follow_up"]
        run = lambda url, pids: measure_follow_ups(url, pids, conversations, args.n)  # noqa: E731
    else:
        run = lambda url, pids: measure(url, pids, questions, args.n)  # noqa: E731
    if args.url:
        result = run(args.url, {"rasa": args.rasa_pid, "actions": args.actions_pid})
    else:
        from bot.e2e import CorpusStack

        with CorpusStack(None) as running:
            services = {s.name: s.process.pid for s in running.stack.services}
            result = run(running.stack.rasa_url, {"rasa": services["rasa server"],
                                                  "actions": services["action server"]})
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"faq_turn_{args.label}.json").write_text(json.dumps(result))
    text = table()
    (BENCH / "faq_turn.md").write_text(
        "# One FAQ turn: latency and CPU per process\n\nProduced by `bench/faq_turn.py` on this 2-core "
        "machine: answerable Vietnamese questions sent one after another over REST, each a new "
        "conversation; CPU is user + system time of each server's process group per turn.\n\n"
        + text + "\n\n" + LABELS + "\n", encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
