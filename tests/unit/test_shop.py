"""The shop's profile (bot/shop.py): what an admin may save, what is refused and why, and
that every process sees a save within seconds."""
from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.exc import OperationalError

from bot import shop
from bot.handoff.office_hours import is_open
from bot.settings import PROJECT_DIR
from bot.shop import (ShopProfileConflict, ShopProfileError, save_shop_profile,
                      shop_profile, shop_profile_history)

VN = ZoneInfo("Asia/Ho_Chi_Minh")


@pytest.fixture
def settings(tmp_path: Path):
    return {"handoff": {"database_url": f"sqlite:///{tmp_path / 'hotro.db'}"},
            "support": {"name": "Hotro Shop", "timezone": "Asia/Ho_Chi_Minh",
                        "hotline": "1900 6868", "email": "hotro@hotroshop.vn",
                        "office_hours": {"days": [0, 1, 2, 3, 4], "open": "08:00",
                                         "close": "21:00"}}}


def field_errors(settings, changes, version=None):
    with pytest.raises(ShopProfileError) as caught:
        save_shop_profile(changes, "boss", version, settings=settings)
    return caught.value.fields


def test_without_a_save_the_profile_is_hotro_yml(settings):
    profile = shop_profile(settings)
    assert (profile.name, profile.hotline, profile.email) == (
        "Hotro Shop", "1900 6868", "hotro@hotroshop.vn")
    assert profile.hours_text() == "08:00–21:00" and profile.holidays == ()
    assert profile.greeting == {"vi": "", "en": ""} == profile.out_of_hours
    assert profile.updated_at is None and profile.updated_by == ""


def test_a_save_is_what_the_bot_reads_next_and_the_old_values_are_kept(settings):
    saved = save_shop_profile({
        "name": "  Tiệm Nhà Mai ", "hotline": "0912.345.678", "email": "cskh@nhamai.vn",
        "office_hours": {"days": ["5", "0", "6"], "open": "9:00", "close": "24:00"},
        "holidays": "2027-02-05\n2027-02-06, 2027-02-05",
        "greeting": {"vi": "Chào bạn, {shop_name} đây! Gọi {hotline} nếu gấp.",
                     "en": "Hi, this is {shop_name}."},
        "out_of_hours": {"vi": "Shop làm việc {hours}. Yêu cầu #{ticket} đã được ghi lại."},
    }, "boss", settings=settings)
    assert saved.version == 1 and saved.updated_by == "boss" and saved.updated_at
    read = shop_profile(settings)
    assert read == saved
    assert read.name == "Tiệm Nhà Mai" and read.hotline == "0912.345.678"
    assert read.office_hours == {"days": [0, 5, 6], "open": "09:00", "close": "24:00"}
    assert read.hours_text() == "09:00–24:00"
    assert read.holidays == (date(2027, 2, 5), date(2027, 2, 6))
    assert read.greeting["en"] == "Hi, this is {shop_name}."
    assert read.out_of_hours == {"vi": "Shop làm việc {hours}. Yêu cầu #{ticket} đã được ghi "
                                       "lại.", "en": ""}
    # A second save changes one thing; the history says who changed what, and when.
    save_shop_profile({"hotline": "1800 1234"}, "lan-admin", 1, settings=settings)
    assert shop_profile(settings).name == "Tiệm Nhà Mai"
    history = shop_profile_history(settings)
    assert [(h["version"], h["saved_by"]) for h in history] == [(2, "lan-admin"), (1, "boss")]
    assert history[0]["before"]["hotline"] == "0912.345.678"
    assert history[0]["after"]["hotline"] == "1800 1234"
    assert history[1]["before"]["name"] == "Hotro Shop"  # hotro.yml's, before the first save


@pytest.mark.parametrize("hotline", ["1900 6868", "1900 636 868", "18001234", "0912 345 678",
                                     "+84 912 345 678", "024 3456 7890", "(028) 3822-1234"])
def test_vietnamese_phone_numbers_are_accepted(settings, hotline):
    assert save_shop_profile({"hotline": hotline}, "boss", settings=settings).hotline == hotline


@pytest.mark.parametrize("changes,field,words", [
    ({"hotline": "12345"}, "hotline", "Số điện thoại không hợp lệ"),
    ({"hotline": "gọi shop"}, "hotline", "Not a valid phone number"),
    ({"hotline": "+1 415 555 0100"}, "hotline", "Not a valid phone number"),
    ({"hotline": ""}, "hotline", "phone number"),
    ({"email": "hotro.shop.vn"}, "email", "Email không hợp lệ"),
    ({"name": "   "}, "name", "The shop needs a name"),
    ({"office_hours": {"open": "25:00"}}, "office_hours.open", "HH:MM"),
    ({"office_hours": {"open": "21:00", "close": "08:00"}}, "office_hours.close",
     "Closing time must be after opening time"),
    ({"office_hours": {"days": [1, 7]}}, "office_hours.days", "0 (Monday) to 6 (Sunday)"),
    ({"holidays": ["2027-02-30"]}, "holidays", "Not a date: 2027-02-30"),
    ({"holidays": "tết"}, "holidays", "YYYY-MM-DD"),
    ({"greeting": {"vi": "x" * 1001}}, "greeting.vi", "At most 1000 characters"),
    ({"greeting": {"vi": "Chào {ten_khach}!"}}, "greeting.vi", "Unknown variable {ten_khach}"),
    ({"greeting": {"en": "Ticket {ticket}"}}, "greeting.en", "Unknown variable {ticket}"),
    ({"greeting": {"en": "Call {hotline"}}, "greeting.en", "Unbalanced"),
    ({"out_of_hours": {"vi": "{hotline!r}"}}, "out_of_hours.vi", "Unknown variable"),
    ({"greeting": {"fr": "Bonjour"}}, "greeting.fr", "Only Vietnamese (vi) and English"),
    ({"timezone": "Europe/Paris"}, "timezone", "cannot be changed"),
])
def test_bad_input_is_refused_field_by_field_and_nothing_is_saved(settings, changes, field,
                                                                  words):
    errors = field_errors(settings, {"name": "Tên Mới", **changes})
    assert list(errors) == [field] and words in errors[field]
    assert shop_profile(settings).name == "Hotro Shop" and shop_profile(settings).version == 0


def test_every_wrong_field_is_named_at_once(settings):
    errors = field_errors(settings, {"hotline": "1", "email": "x", "holidays": ["hôm nay"],
                                     "out_of_hours": {"en": "{shop}"}})
    assert set(errors) == {"hotline", "email", "holidays", "out_of_hours.en"}


def test_the_variables_and_literal_braces_are_allowed(settings):
    text = "{shop_name} · {hotline} · {email} · {hours} · #{ticket} · {{not a variable}}"
    saved = save_shop_profile({"out_of_hours": {"en": text}}, "boss", settings=settings)
    assert saved.out_of_hours["en"] == text


def test_a_save_from_an_out_of_date_version_is_refused(settings):
    save_shop_profile({"hotline": "1900 1111"}, "lan", 0, settings=settings)
    with pytest.raises(ShopProfileConflict) as caught:  # made from the page before lan's save
        save_shop_profile({"hotline": "1900 2222"}, "minh", 0, settings=settings)
    assert "lan" in str(caught.value) and caught.value.current.hotline == "1900 1111"
    assert shop_profile(settings).hotline == "1900 1111"


def test_holidays_and_hours_decide_whether_people_answer(settings):
    thursday_9 = datetime(2026, 11, 26, 9, 0, tzinfo=VN)
    assert is_open(thursday_9, settings)
    assert not is_open(datetime(2026, 11, 26, 21, 30, tzinfo=VN), settings)
    assert not is_open(datetime(2026, 11, 29, 10, 0, tzinfo=VN), settings)  # Sunday
    save_shop_profile({"holidays": ["2026-11-26"]}, "boss", settings=settings)
    assert not is_open(thursday_9, settings)  # closed all day
    assert not is_open(datetime(2026, 11, 26, 2, 0, tzinfo=ZoneInfo("UTC")), settings)
    assert is_open(datetime(2026, 11, 27, 9, 0, tzinfo=VN), settings)
    # 25 Nov 23:30 UTC is already the 26th in Vietnam: the holiday is in the shop's time.
    save_shop_profile({"office_hours": {"days": list(range(7)), "open": "00:00",
                                        "close": "24:00"}}, "boss", settings=settings)
    assert not is_open(datetime(2026, 11, 25, 23, 30, tzinfo=ZoneInfo("UTC")), settings)
    assert is_open(datetime(2026, 11, 25, 16, 30, tzinfo=ZoneInfo("UTC")), settings)


def test_a_save_in_another_process_is_seen_here_within_seconds(settings):
    assert shop_profile(settings).hotline == "1900 6868"  # read (and cached) here first
    script = ("import json, sys; from bot.shop import save_shop_profile; "
              "save_shop_profile({'hotline': '0987 654 321', 'holidays': ['2027-01-01']}, "
              "'other-replica', settings=json.loads(sys.argv[1]))")
    subprocess.run([sys.executable, "-c", script, json.dumps(settings)], check=True,
                   env={**os.environ, "PYTHONPATH": str(PROJECT_DIR)}, timeout=120)
    saved_at = time.monotonic()
    while shop_profile(settings).hotline != "0987 654 321":
        assert time.monotonic() - saved_at < shop.REFRESH_SECONDS + 2, "never saw the save"
        time.sleep(0.1)
    profile = shop_profile(settings)
    assert profile.updated_by == "other-replica" and profile.holidays == (date(2027, 1, 1),)


def test_a_database_error_keeps_the_last_profile_and_logs(settings, monkeypatch, caplog):
    save_shop_profile({"name": "Tiệm Nhà Mai"}, "boss", settings=settings)
    monkeypatch.setattr(shop, "REFRESH_SECONDS", 0)

    def broken(url):
        raise OperationalError("SELECT", {}, Exception("database is locked"))

    monkeypatch.setattr(shop, "_read", broken)
    with caplog.at_level(logging.ERROR, logger="bot.shop"):
        assert shop_profile(settings).name == "Tiệm Nhà Mai"
        assert shop_profile(settings).name == "Tiệm Nhà Mai"
    assert caplog.text.count("reading the shop profile from the database failed") == 1
