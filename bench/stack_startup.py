"""Start-up time to the first answer, on a first start and a later one, and resident memory.

  .venv/bin/python bench/stack_startup.py      (prints one markdown table)

Starts the stack as `hotro run` does (latest model, free ports, a scratch var dir, the
action server and console first, the Rasa server once the action server is ready) twice
on one scratch FAQ index and database: the first start builds the FAQ index (as on a
fresh clone), the second loads it. Times until each process answers its health check and
until the bot answers an FAQ question, then sums the resident memory of each process and
its children after a few answers.
"""
from __future__ import annotations

import os
import tempfile
import threading
import time
from pathlib import Path
from typing import Dict

import requests
import yaml

from bot.settings import PROJECT_DIR, load_settings
from bot.stack import Stack, _ready, free_port, latest_model

QUESTIONS = ["phí ship bao nhiêu", "cho tôi gặp nhân viên", "how do I return an item"]


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


def scratch_settings(tmp: Path) -> Path:
    """hotro.yml with an FAQ index and a database that do not exist yet."""
    settings = dict(load_settings())
    settings["kb"] = {**settings["kb"], "index_dir": str(tmp / "kb_index")}
    settings["handoff"] = {**settings["handoff"], "database_url": f"sqlite:///{tmp / 'hotro.db'}"}
    path = tmp / "hotro.yml"
    path.write_text(yaml.safe_dump(settings, allow_unicode=True), encoding="utf-8")
    return path


def start_once(settings: Path, var_dir: Path) -> Dict[str, float]:
    stack = Stack(model=latest_model(PROJECT_DIR / "models"), var_dir=var_dir,
                  rasa_port=free_port(), action_port=free_port(), console_port=free_port(),
                  extra_env={"HOTRO_CONFIG": str(settings)})
    stack.build()
    times: Dict[str, float] = {}
    started = time.monotonic()
    done = threading.Event()

    def watch() -> None:  # each process's readiness, to a fifth of a second
        while not done.is_set():
            for service in stack.services:
                if service.name not in times and _ready(service.health_url):
                    times[service.name] = time.monotonic() - started
            time.sleep(0.2)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        stack.start(timeout=3600)
        reply = requests.post(f"{stack.rasa_url}/webhooks/rest/webhook", timeout=120,
                              json={"sender": "bench", "message": QUESTIONS[0]})
        times["first answer"] = time.monotonic() - started
        assert reply.ok and "20.000" in reply.text, reply.text
        done.set()
        watcher.join()
        for text in QUESTIONS[1:]:  # memory after a few answers, FAQ search included
            requests.post(f"{stack.rasa_url}/webhooks/rest/webhook", timeout=120,
                          json={"sender": "bench", "message": text})
        for service in stack.services:
            times[f"{service.name} MB"] = rss_mb(service.process.pid)
    finally:
        done.set()
        stack.stop()
    return times


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        settings = scratch_settings(Path(tmp))
        first = start_once(settings, Path(tmp) / "first")
        later = start_once(settings, Path(tmp) / "later")
    names = ["console", "action server", "rasa server"]
    lines = ["| | first start (builds the FAQ index) | later start (loads it) |", "|---|---|---|"]
    for name in names:
        lines.append(f"| {name} ready after (s) | {first[name]:.1f} | {later[name]:.1f} |")
    lines.append(f"| **first FAQ answer after (s)** | **{first['first answer']:.1f}** | "
                 f"**{later['first answer']:.1f}** |")
    for name in names:
        lines.append(f"| {name} resident memory (MB) | {first[name + ' MB']:.0f} | "
                     f"{later[name + ' MB']:.0f} |")
    whole = [sum(run[n + " MB"] for n in names) for run in (first, later)]
    lines.append(f"| whole stack resident memory (MB) | {whole[0]:.0f} | {whole[1]:.0f} |")
    print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the end; "
          f"`bench/stack_startup.py`\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
