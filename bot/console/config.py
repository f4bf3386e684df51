"""The console's settings from hotro.yml (`console:`), with their defaults.

console.rasa_url (env HOTRO_RASA_URL wins), console.rasa_token (env HOTRO_RASA_TOKEN),
console.session_hours (12), console.poll_seconds (1.0), console.secure_cookie (false; true
behind HTTPS), console.allowed_origins ([]: extra origins, e.g. the public HTTPS address
behind a proxy), console.login_max_failures (5), console.login_window_seconds (300),
console.embed_seconds (5: how often unanswered messages are embedded in the background; 0:
never, a view embeds what it shows);
support.timezone for the times the pages show. The database is handoff.database_url
(bot/db.py).
"""
from __future__ import annotations

import os
from typing import Any, Dict


def console_config(settings: Dict[str, Any]) -> Dict[str, Any]:
    console = dict(settings.get("console") or {})
    return {
        "rasa_url": os.environ.get("HOTRO_RASA_URL") or console.get("rasa_url")
                    or "http://127.0.0.1:5005",
        "rasa_token": os.environ.get("HOTRO_RASA_TOKEN") or console.get("rasa_token") or None,
        "session_hours": float(console.get("session_hours", 12)),
        "poll_seconds": float(console.get("poll_seconds", 1.0)),
        "secure_cookie": bool(console.get("secure_cookie", False)),
        "allowed_origins": [o.rstrip("/") for o in console.get("allowed_origins") or []],
        "login_max_failures": int(console.get("login_max_failures", 5)),
        "login_window_seconds": float(console.get("login_window_seconds", 300)),
        "embed_seconds": float(console.get("embed_seconds", 5)),
        "timezone": (settings.get("support") or {}).get("timezone") or "Asia/Ho_Chi_Minh",
    }
