"""Start-up time to the first answer and resident memory of the running stack.

  .venv/bin/python bench/stack_startup.py      (prints one markdown table)

Starts the action server, Rasa server and console as `hotro run` does (latest model,
free ports, a scratch var dir), times until each answers its health check and until the
bot answers "xin chào", then sums the resident memory of each service's processes.
"""
from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import requests

from bot.settings import PROJECT_DIR
from bot.stack import Stack, free_port, latest_model, _ready


def rss_mb(pid: int) -> float:
    """Resident memory of a process and its children, in MB."""
    total, pids = 0, [pid]
    while pids:
        current = pids.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            total += int(next(l for l in status.splitlines() if l.startswith("VmRSS")).split()[1])
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
            pids += [int(c) for c in children]
        except (OSError, StopIteration):
            continue
    return total / 1024


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        stack = Stack(model=latest_model(PROJECT_DIR / "models"), var_dir=Path(tmp),
                      rasa_port=free_port(), action_port=free_port(), console_port=free_port())
        stack.build()
        started = time.monotonic()
        env = stack.env()
        for service in stack.services:
            service.start(env)
        ready = {}
        pending = list(stack.services)
        while pending:
            for service in list(pending):
                if _ready(service.health_url):
                    ready[service.name] = time.monotonic() - started
                    pending.remove(service)
            time.sleep(0.2)
        reply = requests.post(f"{stack.rasa_url}/webhooks/rest/webhook", timeout=120,
                              json={"sender": "bench", "message": "xin chào"})
        first_answer = time.monotonic() - started
        assert reply.ok and reply.json(), reply.text
        # Memory after a few answers, FAQ search included.
        for text in ["phí ship bao nhiêu", "cho tôi gặp nhân viên", "how do I return an item"]:
            requests.post(f"{stack.rasa_url}/webhooks/rest/webhook", timeout=120,
                          json={"sender": "bench", "message": text})
        memory = {s.name: rss_mb(s.process.pid) for s in stack.services}
        stack.stop()
    lines = ["| process | ready after (s) | resident memory (MB) |", "|---|---|---|"]
    for name in ready:
        lines.append(f"| {name} | {ready[name]:.1f} | {memory[name]:.0f} |")
    lines.append(f"| **whole stack** | first answer after **{first_answer:.1f}** | "
                 f"**{sum(memory.values()):.0f}** |")
    print(f"{os.cpu_count()} cores; `bench/stack_startup.py`\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
