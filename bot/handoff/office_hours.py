"""Office hours, from the `support:` settings (in the shop's time zone)."""
from __future__ import annotations

from datetime import datetime, time
from typing import Any, Dict, Optional
from zoneinfo import ZoneInfo

from bot.settings import load_settings


def _support(settings: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
    return (settings or load_settings())["support"]


def is_open(now: Optional[datetime] = None, settings: Optional[Dict[str, Any]] = None) -> bool:
    support = _support(settings)
    hours = support["office_hours"]
    local = (now or datetime.now(ZoneInfo(support["timezone"]))).astimezone(
        ZoneInfo(support["timezone"])
    )
    opens = time.fromisoformat(hours["open"])
    # "24:00" closes at the end of the day (round-the-clock support).
    closes = time.max if hours["close"] == "24:00" else time.fromisoformat(hours["close"])
    return local.weekday() in hours["days"] and opens <= local.time() < closes
