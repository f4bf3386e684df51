"""Open-loop load of simulated customers, on one replica and on two (issue 13, part 6).

  set -a; . var/test-services.env; set +a
  [OMP_NUM_THREADS=1] .venv/bin/python bench/load.py [--rates 2,5,10,20,30,50] [--duration 30]
                                                   [--out bench/load.md]

Starts two replicas on PostgreSQL and Redis (tests/production.py: deploy/endpoints.yml's
stores, each Rasa server with its own action server, the FAQ index copied from var/kb_index,
which `hotro kb build` makes) and loads first replica A alone, then both. Each simulated
customer holds a conversation, one message every THINK seconds: a greeting, 1 to 3 FAQ
questions from bench/data/kb_dev_queries.csv (with diacritics, without, teencode, English),
a grey-zone question, and one in five asks for a person. Half talk over REST (on two
replicas each message goes to the next replica in turn, so a conversation alternates), half
over the widget's socket.io (websocket, as widget/hotro-widget.js; a customer stays on one
replica, as nginx's ip_hash does). Open loop: every message is sent at its scheduled time
whether or not the previous reply came, and a turn's latency runs from that time to the
reply (REST) or the acknowledgement the widget channel sends once the bot has answered.
Customers arrive at random (Poisson) so that messages come at the offered rate; the rate
is stepped up until a step's p99 passes one second (10 a second, the aim's rate, is always
measured). Server CPU per message: user + system time of the serving processes during
the step, a measure of cost that depends less on how busy the shared machine is; the load
generator's own CPU per message beside it (it runs on the same cores).

An error is an HTTP error, an empty reply, a refused (`ok: false`) or missing
acknowledgement, or no reply within TIMEOUT. Memory is the resident memory of the serving
processes (each with its children) at the end of each step. Then, on the quiet stack, one
FAQ turn taken apart: NLU (Rasa's /model/parse, which also embeds and searches the FAQ),
the query embedding alone (in this process), the action call (the action server's webhook
with the turn's tracker) and reading the tracker from PostgreSQL.

Prints markdown and writes bench/load.md. The load generator runs on the same 2 cores.
"""
from __future__ import annotations

import argparse
import asyncio
import csv
import datetime
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import aiohttp
import requests
import socketio

from bench.faq_turn import cpu_seconds
from bench.stack_startup import rss_mb
from bot.settings import PROJECT_DIR, load_settings
from bot.stack import Stack, latest_model
from tests.production import PostgresDatabases, production_stacks, running

BENCH = Path(__file__).resolve().parent
THINK = 4.0  # seconds between two messages of one customer
TIMEOUT = 10.0
AIM_RATE = 10  # issue 13's aim: FAQ turn p50 <= 40 ms and p99 <= 150 ms at 10 messages/s
GREETINGS = ["chào shop", "chao shop", "alo shop oi", "hello"]
GREY_ZONE = ["phí vận chuyển bao nhiêu", "tiền vận chuyển hết bao nhiêu", "phí ship tính sao vậy"]
HANDOFF = "cho mình gặp nhân viên"
VARIANTS = ("diacritics", "no_diacritics", "abbreviation", "english")


def faq_questions() -> Dict[str, List[str]]:
    """The dev set's answerable questions, by variant."""
    by_variant: Dict[str, List[str]] = {v: [] for v in VARIANTS}
    with open(BENCH / "data" / "kb_dev_queries.csv", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if row["expected_id"] and row["variant"] in by_variant:
                by_variant[row["variant"]].append(row["query"])
    return by_variant


@dataclass
class Message:
    at: float  # seconds after the step's start
    kind: str  # greeting, faq, grey, handoff
    text: str


@dataclass
class Conversation:
    sender: str
    transport: str  # rest or socket
    messages: List[Message] = field(default_factory=list)


def conversation_script(rng: random.Random, questions: Dict[str, List[str]]) -> List[tuple]:
    """(kind, text) of one customer's turns."""
    turns = [("greeting", rng.choice(GREETINGS))]
    for _ in range(rng.randint(1, 3)):
        turns.append(("faq", rng.choice(questions[rng.choice(VARIANTS)])))
    turns.append(("grey", rng.choice(GREY_ZONE)))
    if rng.random() < 0.2:
        turns.append(("handoff", HANDOFF))
    return turns


def schedule(rate: float, duration: float, rng: random.Random,
             questions: Dict[str, List[str]]) -> List[Conversation]:
    """Conversations whose messages fall in [0, duration) at `rate` a second on average.
    Customers start arriving before 0, so the step begins at its full rate with
    conversations already under way (their earlier turns are left out)."""
    mean_turns = 1 + 2 + 1 + 0.2
    arrivals = rate / mean_turns
    conversations, t = [], -5 * THINK
    while t < duration:
        t += rng.expovariate(arrivals)
        turns = conversation_script(rng, questions)
        messages = [Message(t + k * THINK, kind, text) for k, (kind, text) in enumerate(turns)
                    if 0 <= t + k * THINK < duration]
        if messages:
            conversations.append(Conversation(f"load-{uuid.uuid4().hex[:16]}",
                                              rng.choice(("rest", "socket")), messages))
    return conversations


@dataclass
class Result:
    kind: str
    seconds: float
    error: Optional[str] = None


class Load:
    """One step: sends every message of `conversations` at its time, to `replicas`."""

    def __init__(self, replicas: Sequence[Stack]) -> None:
        self.replicas = replicas
        self.results: List[Result] = []
        self.turn = 0  # REST messages go round the replicas

    async def run(self, conversations: List[Conversation]) -> float:
        self.start = time.monotonic() + 2  # time to open the first sockets
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=TIMEOUT)) as http:
            self.http = http
            await asyncio.gather(*(self.converse(c, n) for n, c in enumerate(conversations)))
        return time.monotonic() - self.start

    async def at(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, self.start + seconds - time.monotonic()))

    async def converse(self, conversation: Conversation, n: int) -> None:
        if conversation.transport == "rest":
            await asyncio.gather(*(self.rest(conversation.sender, m) for m in conversation.messages))
            return
        replica = self.replicas[n % len(self.replicas)]
        await self.at(conversation.messages[0].at - 1.5)
        client = socketio.AsyncClient(reconnection=False)
        confirmed = asyncio.get_running_loop().create_future()
        client.on("session_confirm", lambda sid: confirmed.done() or confirmed.set_result(sid))
        try:
            await client.connect(replica.rasa_url, transports=["websocket"], wait_timeout=TIMEOUT)
            await client.emit("session_request", {"session_id": None})
            session = await asyncio.wait_for(confirmed, TIMEOUT)
        except Exception as exc:  # the customer never got a socket: each message failed
            self.results += [Result(m.kind, TIMEOUT, f"connect: {type(exc).__name__}")
                             for m in conversation.messages]
            await client.disconnect()
            return
        try:
            await asyncio.gather(*(self.socket(client, session, m) for m in conversation.messages))
        finally:
            await client.disconnect()

    async def rest(self, sender: str, message: Message) -> None:
        replica = self.replicas[self.turn % len(self.replicas)]
        self.turn += 1
        await self.at(message.at)
        error = None
        try:
            async with self.http.post(f"{replica.rasa_url}/webhooks/rest/webhook",
                                      json={"sender": sender, "message": message.text}) as reply:
                if reply.status != 200:
                    error = f"HTTP {reply.status}"
                elif not await reply.json():
                    error = "empty reply"
        except asyncio.TimeoutError:
            error = "timeout"
        except aiohttp.ClientError as exc:
            error = type(exc).__name__
        self.record(message, error)

    async def socket(self, client: socketio.AsyncClient, session: str, message: Message) -> None:
        await self.at(message.at)
        error = None
        try:
            ack = await client.call("user_uttered", {"session_id": session, "message": message.text},
                                    timeout=TIMEOUT)
            if not (isinstance(ack, dict) and ack.get("ok")):
                error = f"refused: {ack}"
        except socketio.exceptions.TimeoutError:
            error = "timeout"
        except Exception as exc:  # a socket that broke
            error = type(exc).__name__
        self.record(message, error)

    def record(self, message: Message, error: Optional[str]) -> None:
        self.results.append(Result(message.kind, time.monotonic() - self.start - message.at, error))


def percentile(values: List[float], p: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def summary(rate: float, duration: float, took: float, results: List[Result],
            memory: float) -> Dict[str, float]:
    ok = [r for r in results if r.error is None]
    row = {"rate": rate, "offered": len(results) / duration, "throughput": len(ok) / took,
           "sent": len(results), "errors": len(results) - len(ok), "memory": memory}
    for kind in ("faq", "greeting", "all"):
        times = [r.seconds * 1000 for r in ok if kind == "all" or r.kind == kind]
        for p in (50, 95, 99):
            row[f"{kind}_p{p}"] = percentile(times, p)
    return row


def stack_memory(stacks: Sequence[Stack]) -> float:
    return sum(rss_mb(s.process.pid) for stack in stacks for s in stack.services if s.process)


def stack_cpu(stacks: Sequence[Stack]) -> float:
    """CPU seconds the serving processes (each a process group) have used so far."""
    return sum(cpu_seconds(s.process.pid) for stack in stacks for s in stack.services if s.process)


def step_up(name: str, serving: Sequence[Stack], rates: List[float], duration: float,
            questions: Dict[str, List[str]]) -> List[Dict[str, float]]:
    rows = []
    for rate in rates:
        conversations = schedule(rate, duration, random.Random(f"{name}-{rate}"), questions)
        load = Load(serving)
        cpu, own = stack_cpu(serving), time.process_time()
        took = asyncio.run(load.run(conversations))
        row = summary(rate, duration, took, load.results, stack_memory(serving))
        answered = max(1, row["sent"] - row["errors"])
        row["cpu_ms"] = (stack_cpu(serving) - cpu) * 1000 / answered
        row["own_cpu_ms"] = (time.process_time() - own) * 1000 / answered
        errors = sorted({r.error for r in load.results if r.error})
        print(f"{name}, {rate:g}/s: sent {row['sent']}, p99 {row['all_p99']:.0f} ms, "
              f"{row['errors']} errors {errors[:3]}, load average {os.getloadavg()[0]:.1f}",
              file=sys.stderr)
        row["load_average"] = os.getloadavg()[0]
        rows.append(row)
        if row["all_p99"] > 1000 and rate >= AIM_RATE:  # the aim's rate is always measured
            break
        time.sleep(3)  # let the last step's stragglers finish
    return rows


def load_table(rows: List[Dict[str, float]]) -> str:
    lines = ["| offered msg/s | achieved msg/s | FAQ p50 / p95 / p99 (ms) | greetings p50 / p95 / p99 (ms) "
             "| all turns p99 (ms) | errors / sent | server CPU ms / msg | load generator CPU ms / msg "
             "| stack RSS (MB) | load avg |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(
            f"| {r['offered']:.1f} | {r['throughput']:.1f} | {r['faq_p50']:.0f} / {r['faq_p95']:.0f} / "
            f"{r['faq_p99']:.0f} | {r['greeting_p50']:.0f} / {r['greeting_p95']:.0f} / "
            f"{r['greeting_p99']:.0f} | {r['all_p99']:.0f} | {r['errors']} / {r['sent']} | "
            f"{r['cpu_ms']:.0f} | {r['own_cpu_ms']:.0f} | {r['memory']:.0f} | {r['load_average']:.1f} |")
    return "\n".join(lines)


def timed(call) -> float:
    started = time.perf_counter()
    call()
    return (time.perf_counter() - started) * 1000


def faq_turn_parts(stack: Stack, questions: List[str]) -> str:
    """One FAQ turn taken apart, on the quiet stack, medians over `questions`: each asked
    after a greeting, in a conversation of its own (a first message also starts a session)."""
    from bot.embedders import load_embedder
    from bot.kb.service import decide, get_knowledge_base, reset
    from bot.text import prepare

    def say(sender: str, text: str) -> None:
        requests.post(f"{stack.rasa_url}/webhooks/rest/webhook", timeout=60,
                      json={"sender": sender, "message": text}).raise_for_status()

    domain = requests.get(f"{stack.rasa_url}/domain", headers={"Accept": "application/json"},
                          timeout=30).json()
    settings = load_settings(str(stack.var_dir / "hotro.yml"))  # the stack's FAQ index
    embedder = load_embedder(settings["embedder"])
    decide(prepare(questions[0]), settings=settings)  # loads the index
    parts: Dict[str, List[float]] = {k: [] for k in (
        "greeting", "turn", "greeting later", "parse", "embed", "search", "action", "tracker")}
    for text in questions:
        sender = f"parts-{uuid.uuid4().hex[:12]}"
        parts["greeting"].append(timed(lambda: say(sender, "chào shop")))
        parts["turn"].append(timed(lambda: say(sender, text)))
        parts["parse"].append(timed(lambda: requests.post(
            f"{stack.rasa_url}/model/parse", json={"text": text}, timeout=60).raise_for_status()))
        searched = get_knowledge_base(settings).query(prepare(text), None).text  # as FAQ search embeds it
        vector: list = []
        parts["embed"].append(timed(lambda: vector.extend(embedder.embed_queries([searched]))))
        parts["search"].append(timed(lambda: decide(
            prepare(text), cached=(embedder.spec, searched, vector[0]), settings=settings)))
        tracker: dict = {}
        parts["tracker"].append(timed(lambda: tracker.update(requests.get(
            f"{stack.rasa_url}/conversations/{sender}/tracker", timeout=60).json())))
        parts["action"].append(timed(lambda: requests.post(
            f"{stack.action_url}/webhook", timeout=60, json={
                "next_action": "action_answer_question", "sender_id": sender, "tracker": tracker,
                "domain": domain, "version": "3.6.0"}).raise_for_status()))
        parts["greeting later"].append(timed(lambda: say(sender, "hello")))
    reset()  # stops its poller of the FAQ store, whose database is dropped next
    p50 = {k: statistics.median(v) for k, v in parts.items()}
    rest = p50["turn"] - p50["parse"] - p50["action"] - p50["tracker"]
    return "\n".join([
        f"| one FAQ turn, {len(questions)} questions one at a time on the quiet stack | p50 (ms) |",
        "|---|---|",
        f"| a greeting, first message of a conversation (starts its session: one more action call) | {p50['greeting']:.0f} |",
        f"| **the FAQ question, next message, over REST** | **{p50['turn']:.0f}** |",
        f"| a greeting as a later message (\"hello\"), for reference | {p50['greeting later']:.0f} |",
        f"| of the FAQ turn: NLU, Rasa's /model/parse (tokenizer, embedding, intent, FAQ search and decision) | {p50['parse']:.0f} |",
        f"| … of which the query embedding (measured alone, in the bench's process) | {p50['embed']:.0f} |",
        f"| … of which preparing the text, the FAQ search and its decision, given the embedding "
        f"(bot.kb.service.decide, in the bench's process) | {p50['search']:.0f} |",
        f"| of the FAQ turn: the action call (action server's webhook, action_answer_question) | {p50['action']:.0f} |",
        f"| of the FAQ turn: reading the tracker from PostgreSQL (/conversations/…/tracker) | {p50['tracker']:.0f} |",
        f"| of the FAQ turn, the rest: policies, Redis lock, saving the tracker and the event, the channel | {rest:.0f} |",
    ])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rates", default="2,5,10,20,30,50")
    parser.add_argument("--duration", type=float, default=30.0)
    parser.add_argument("--out", default=str(BENCH / "load.md"), help="where the report goes")
    args = parser.parse_args()
    rates = [float(r) for r in args.rates.split(",")]
    questions = faq_questions()
    postgres, redis_url = os.environ["HOTRO_TEST_POSTGRES_URL"], os.environ["HOTRO_TEST_REDIS_URL"]
    databases = PostgresDatabases(postgres)
    settings = dict(load_settings())
    # Round-the-clock office hours: a handoff is the same turn whatever the hour.
    settings["support"] = {**settings["support"], "office_hours": {
        "days": list(range(7)), "open": "00:00", "close": "24:00"}}
    started = datetime.datetime.now(datetime.timezone.utc)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            stacks = production_stacks(latest_model(PROJECT_DIR / "models"), settings,
                                       databases.new(), databases.new(), redis_url, Path(tmp),
                                       replicas=2)
            with running(stacks) as (a, b):
                idle = stack_memory([a, b])
                warm_up = schedule(2, 10, random.Random("warm-up"), questions)
                asyncio.run(Load([a, b]).run(warm_up))  # first requests load lazily: not measured
                one = step_up("one replica", [a], rates, args.duration, questions)
                two = step_up("two replicas", [a, b], rates, args.duration, questions)
                parts = faq_turn_parts(a, questions["diacritics"][:40])
    finally:
        databases.drop_all()
    # The embedder's threads per Rasa server (OpenMP; default: one per core)
    threads = f"OMP_NUM_THREADS={os.environ['OMP_NUM_THREADS']} " if os.environ.get("OMP_NUM_THREADS") else ""
    report = "\n".join([
        "# Load: simulated customers, open loop, one replica and two",
        "",
        f"`{threads}{' '.join(['.venv/bin/python', 'bench/load.py'] + sys.argv[1:])}`, {started:%Y-%m-%d %H:%M} UTC, "
        f"{os.cpu_count()} cores shared with the other engineers' work (load average per step "
        f"in the table; {os.getloadavg()[0]:.1f} at the end), {args.duration:g} s per rate, "
        f"one message every {THINK:g} s per customer, half REST and half widget socket.io; "
        "PostgreSQL tracker store, Redis lock store. Stack RSS: the serving processes (one "
        "replica: its Rasa server, action server and the console; two: both replicas); with "
        f"nothing sent yet, both replicas and the console held {idle:.0f} MB.",
        "",
        "## One replica", "", load_table(one), "",
        "## Two replicas (REST messages alternate between them, a widget customer stays on one)",
        "", load_table(two), "",
        "## Where an FAQ turn's time goes", "", parts, "",
    ])
    Path(args.out).write_text(report, encoding="utf-8")
    print(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
