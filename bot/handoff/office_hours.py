"""Office hours: whether people answer now, from the shop's profile (bot/shop.py: hotro.yml's
`support:` section overlaid with what an admin saved in the console, holidays included),
in the shop's time zone."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Dict, Optional

from bot.shop import shop_profile


def is_open(now: Optional[datetime] = None, settings: Optional[Dict[str, Any]] = None) -> bool:
    return shop_profile(settings).is_open(now)
