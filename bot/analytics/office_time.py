"""How much of a stretch of time the shop was open (office hours, days and holidays of the
ShopProfile, in its time zone): waiting for a person only counts while someone could answer."""
from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.shop import ShopProfile


def open_seconds(start: datetime, end: datetime, shop: ShopProfile) -> float:
    """Seconds between `start` and `end` (aware datetimes) during which `shop.is_open`."""
    if end <= start:
        return 0.0
    zone = ZoneInfo(shop.timezone)
    hours = shop.office_hours
    opens = time.fromisoformat(hours["open"])
    closes = None if hours["close"] == "24:00" else time.fromisoformat(hours["close"])
    total = 0.0
    day = start.astimezone(zone).date()
    last = end.astimezone(zone).date()
    while day <= last:
        if day.weekday() in hours["days"] and day not in shop.holidays:
            window_start = datetime.combine(day, opens, tzinfo=zone)
            window_end = (datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
                          if closes is None else datetime.combine(day, closes, tzinfo=zone))
            overlap = (min(end, window_end) - max(start, window_start)).total_seconds()
            total += max(0.0, overlap)
        day += timedelta(days=1)
    return total
