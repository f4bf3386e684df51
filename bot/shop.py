"""The shop's own details (name, contact, office hours, its own greeting): hotro.yml's
defaults. (Placeholder of the interface; the console's settings store overlays it.)"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any, Dict, Optional, Tuple
from zoneinfo import ZoneInfo

from bot.settings import load_settings


@dataclass(frozen=True)
class ShopProfile:
    name: str
    hotline: str
    email: str
    timezone: str
    office_hours: Dict[str, Any]
    holidays: Tuple[date, ...] = ()
    greeting: Dict[str, str] = field(default_factory=dict)
    out_of_hours: Dict[str, str] = field(default_factory=dict)
    updated_at: Optional[datetime] = None
    updated_by: str = ""

    def hours_text(self) -> str:
        return f"{self.office_hours['open']}–{self.office_hours['close']}"

    def is_open(self, now: Optional[datetime] = None) -> bool:
        zone = ZoneInfo(self.timezone)
        local = (now or datetime.now(zone)).astimezone(zone)
        if local.date() in self.holidays:
            return False
        hours = self.office_hours
        opens = time.fromisoformat(hours["open"])
        closes = time.max if hours["close"] == "24:00" else time.fromisoformat(hours["close"])
        return local.weekday() in hours["days"] and opens <= local.time() < closes


def shop_profile(settings: Optional[Dict[str, Any]] = None) -> ShopProfile:
    support = (settings or load_settings())["support"]
    return ShopProfile(name=support.get("name", "Hotro Shop"), hotline=support.get("hotline", ""),
                       email=support.get("email", ""), timezone=support["timezone"],
                       office_hours=support["office_hours"])
