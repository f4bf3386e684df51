"""Office hours and the human contact message, from the `support:` settings."""
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


def contact_message(language: str, now: Optional[datetime] = None,
                    settings: Optional[Dict[str, Any]] = None) -> str:
    """How to reach a person right now, in the customer's language."""
    support = _support(settings)
    hours = support["office_hours"]
    hotline, email = support["hotline"], support["email"]
    span = f"{hours['open']}–{hours['close']}"
    if language == "en":
        if is_open(now, settings):
            return (f"Our support staff are available now ({span}). Call {hotline} or email "
                    f"{email} and a person will help you right away.")
        return (f"Our support staff work {span}; it is outside those hours now. Email {email} "
                f"or call {hotline} when we open and a person will help you.")
    if is_open(now, settings):
        return (f"Nhân viên hỗ trợ đang làm việc ({span}). Bạn gọi hotline {hotline} hoặc gửi "
                f"email tới {email}, nhân viên sẽ hỗ trợ bạn ngay ạ.")
    return (f"Nhân viên hỗ trợ làm việc từ {span}, hiện đã ngoài giờ. Bạn gửi email tới {email} "
            f"hoặc gọi hotline {hotline} khi shop mở cửa, nhân viên sẽ hỗ trợ bạn nhé.")
