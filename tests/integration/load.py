"""A steady load of customers on the REST channel, each message recorded with its outcome.

K customers (fresh sender ids) each write a Vietnamese message, wait for the reply, and
write the next one `every` seconds later, in threads of their own, until `stop()`. A
request the server did not take (connection refused or reset, 429, 502, 503, 504) is sent
again after a pause, as the widget's outbox and Messenger's and Zalo's webhook retries do;
a 200 is the server's word that it has the message: answered (a non-empty reply) or empty.
A request that times out is not sent again (the server may have it): `count` looks for it.
"""
from __future__ import annotations

import itertools
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Tuple

import requests

# Diacritics, none, teencode: one of each kind of customer.
TEXTS = [
    "phí ship bao nhiêu vậy shop",
    "shop oi giao hang mat may ngay",
    "cho mình hỏi có trả góp qua thẻ tín dụng không",
    "sp nay con hang ko ad",
    "mình muốn đổi size áo thì làm sao",
    "shop co nhan thanh toan khi nhan hang k",
]


@dataclass
class Message:
    sender: str
    text: str
    # answered | empty | timeout | unsent (still not taken at the end) | HTTP <other status>
    # | taken (a webhook acknowledged, no answer seen)
    outcome: str = "pending"
    resends: int = 0


class Load:
    def __init__(self, rasa_url: str, customers: int = 4, every: float = 2.0,
                 resend_for: float = 600.0) -> None:
        self.url = f"{rasa_url}/webhooks/rest/webhook"
        self.every = every
        self.resend_for = resend_for  # seconds a refused message is sent again
        self.senders = [f"load-{uuid.uuid4().hex[:10]}" for _ in range(customers)]
        self.messages: List[Message] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._abandoning = threading.Event()
        self._threads = [threading.Thread(target=self._customer, args=(sender, i), daemon=True)
                         for i, sender in enumerate(self.senders)]

    def start(self) -> "Load":
        for thread in self._threads:
            thread.start()
        return self

    def answered(self) -> int:
        with self._lock:
            return sum(m.outcome == "answered" for m in self.messages)

    def wait_answered(self, more: int, timeout: float = 600) -> None:
        """Until `more` messages more than now are answered."""
        goal = self.answered() + more
        deadline = time.monotonic() + timeout
        while self.answered() < goal:
            assert time.monotonic() < deadline, f"the load got no answers: {self.messages[-5:]}"
            time.sleep(0.5)

    def stop(self, abandon: bool = False) -> List[Message]:
        """Each customer finishes the message it is sending (`abandon`: without sending it
        again), then stops."""
        if abandon:
            self._abandoning.set()
        self._stopping.set()
        for thread in self._threads:
            thread.join(self.resend_for + 120)
        return list(self.messages)

    def _customer(self, sender: str, first: int) -> None:
        session = requests.Session()
        for n in itertools.count(1):
            if self._stopping.is_set():
                return
            started = time.monotonic()
            # numbered, so each message can be found in the tracker
            message = Message(sender, f"{TEXTS[(first + n) % len(TEXTS)]} {n}")
            with self._lock:
                self.messages.append(message)
            self._send(session, message)
            self._stopping.wait(max(0.0, self.every - (time.monotonic() - started)))

    def _send(self, session: requests.Session, message: Message) -> None:
        deadline = time.monotonic() + self.resend_for
        while True:
            pause = 1.0
            try:
                reply = session.post(self.url, json={"sender": message.sender,
                                                     "message": message.text}, timeout=90)
            except requests.Timeout:
                message.outcome = "timeout"
                return
            except requests.ConnectionError:
                reply = None
            if reply is not None and reply.status_code == 200:
                texts = [m.get("text") or m.get("image") for m in reply.json()]
                message.outcome = "answered" if any(texts) else "empty"
                return
            if reply is not None and reply.status_code not in (429, 502, 503, 504):
                message.outcome = f"HTTP {reply.status_code}"
                return
            if reply is not None and reply.headers.get("Retry-After"):
                pause = float(reply.headers["Retry-After"])
            if time.monotonic() + pause > deadline or self._abandoning.is_set():
                message.outcome = "unsent"
                return
            message.resends += 1
            time.sleep(pause)


def count(messages: List[Message], in_tracker: Callable[[Message], bool],
          shown_to_agent: Callable[[Message], bool]) -> Tuple[Dict[str, int], List[Message]]:
    """(counts, the messages lost). Counts: sent; answered; recovered (not answered, but in
    its conversation's tracker and shown to an agent); lost (neither); untracked (answered,
    but afterwards missing from its conversation's tracker: lost from the transcript);
    resent (sent again after a refusal)."""
    lost = [m for m in messages
            if m.outcome != "answered" and not (in_tracker(m) and shown_to_agent(m))]
    untracked = [m for m in messages if m.outcome == "answered" and not in_tracker(m)]
    answered = sum(m.outcome == "answered" for m in messages)
    return {"sent": len(messages), "answered": answered,
            "recovered": len(messages) - answered - len(lost), "lost": len(lost),
            "untracked": len(untracked), "resent": sum(m.resends for m in messages)
            }, lost + untracked


def table(rows: Dict[str, Dict[str, int]], title: Optional[str] = None) -> str:
    """The counts of each fault as one markdown table."""
    columns = ["sent", "answered", "recovered", "lost", "untracked", "resent"]
    lines = [f"### {title}", ""] if title else []
    lines += ["| fault | " + " | ".join(columns) + " |", "|---" * (len(columns) + 1) + "|"]
    lines += [f"| {fault} | " + " | ".join(str(c[k]) for k in columns) + " |"
              for fault, c in rows.items()]
    return "\n".join(lines)
