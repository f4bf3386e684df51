"""The admin's shop settings page (Cửa hàng / Shop) and its API, against a running console."""
from __future__ import annotations

import html
import re

import pytest

from bot.shop import save_shop_profile, shop_profile
from tests.console.conftest import PASSWORD, ConsoleServer

FORM = {"name": "Tiệm Nhà Mai", "hotline": "1900 1234", "email": "cskh@nhamai.vn",
        "days": ["0", "1", "2", "3", "4", "5"], "open": "08:30", "close": "22:00",
        "holidays": "2027-02-05\n2027-02-06",
        "greeting_vi": "Chào bạn, {shop_name} nghe đây! Gấp thì gọi {hotline} nhé.",
        "greeting_en": "Hi, {shop_name} here.",
        "out_of_hours_vi": "{shop_name} làm việc {hours}. Yêu cầu #{ticket} đã được ghi lại.",
        "out_of_hours_en": ""}


@pytest.fixture
def settings(console: ConsoleServer):
    return console.settings


def form_version(page: str) -> str:
    return re.search(r'name="version" value="(\d+)"', page).group(1)


def field_errors(page: str) -> dict:
    return {field: html.unescape(text) for field, text in re.findall(
        r'<span class="field-error" role="alert" data-field="([^"]+)">([^<]*)</span>', page)}


def test_an_admin_saves_the_shop_profile_and_the_bot_reads_it(console, admin, settings):
    boss = console.login(admin)
    page = boss.get(f"{console.url}/admin/shop", timeout=30)
    assert page.status_code == 200
    assert "Cửa hàng / Shop" in page.text and 'value="Hotro Shop"' in page.text
    assert "Not changed in the console yet" in page.text
    saved = boss.post(f"{console.url}/admin/shop", data={**FORM, "version": form_version(
        page.text)}, timeout=30)
    assert saved.status_code == 200 and saved.url.endswith("/admin/shop?saved=1")
    assert "Đã lưu" in saved.text and "Saved" in saved.text
    assert 'value="Tiệm Nhà Mai"' in saved.text and "2027-02-06" in saved.text
    last = re.search(r'id="last-change">(.*?)</p>', saved.text, re.S).group(1)
    assert "<b>boss</b>" in last and "Asia/Ho_Chi_Minh" in last
    # What the bot reads (any process, within seconds: tests/unit/test_shop.py).
    profile = shop_profile(settings, fresh=True)
    assert (profile.name, profile.hotline, profile.email) == (
        "Tiệm Nhà Mai", "1900 1234", "cskh@nhamai.vn")
    assert profile.office_hours == {"days": [0, 1, 2, 3, 4, 5], "open": "08:30",
                                    "close": "22:00"}
    assert profile.greeting["vi"] == FORM["greeting_vi"] and profile.updated_by == "boss"
    api = boss.get(f"{console.url}/api/admin/shop", timeout=30).json()
    assert api["version"] == 1 and api["profile"]["holidays"] == ["2027-02-05", "2027-02-06"]
    assert "ticket" in api["variables"]["out_of_hours"]


@pytest.mark.parametrize("role", ["agent", "editor", "lead"])
def test_only_an_admin_may_see_or_change_the_shop(console, settings, role):
    console.users.add_user("nv", PASSWORD, role)
    user = console.login("nv")
    assert "Cửa hàng / Shop" not in user.get(console.url, timeout=30).text  # no menu entry
    assert user.get(f"{console.url}/admin/shop", timeout=30).status_code == 403
    assert user.post(f"{console.url}/admin/shop", data={**FORM, "version": "0"},
                     timeout=30).status_code == 403
    assert user.get(f"{console.url}/api/admin/shop", timeout=30).status_code == 403
    refused = user.post(f"{console.url}/api/admin/shop", json={"hotline": "1900 9999"},
                        timeout=30)
    assert refused.status_code == 403 and "administrators only" in refused.json()["error"]
    assert shop_profile(settings, fresh=True).version == 0


def test_a_cross_site_save_is_refused(console, admin, settings):
    boss = console.login(admin)
    del boss.headers["Origin"]
    refused = boss.post(f"{console.url}/admin/shop", data={**FORM, "version": "0"},
                        headers={"Origin": "https://evil.example"}, timeout=30)
    assert refused.status_code == 403
    assert shop_profile(settings, fresh=True).version == 0


def test_bad_input_gets_an_error_beside_each_field_and_keeps_what_was_typed(console, admin,
                                                                              settings):
    boss = console.login(admin)
    bad = {**FORM, "version": "0", "hotline": "gọi shop", "close": "07:00",
           "holidays": "2027-02-30", "greeting_vi": "Chào {ten_khach}!"}
    page = boss.post(f"{console.url}/admin/shop", data=bad, timeout=30)
    assert page.status_code == 400
    errors = field_errors(page.text)
    assert set(errors) == {"hotline", "office_hours.close", "holidays", "greeting.vi"}
    assert "Số điện thoại không hợp lệ" in errors["hotline"]
    assert "Unknown variable {ten_khach}" in errors["greeting.vi"]
    assert 'value="gọi shop"' in page.text and "Chào {ten_khach}!" in page.text
    assert form_version(page.text) == "0"
    assert shop_profile(settings, fresh=True).version == 0  # nothing saved

    api = boss.post(f"{console.url}/api/admin/shop", json={"email": "not-an-email",
                                                           "greeting": {"en": "{oops"}},
                    timeout=30)
    assert api.status_code == 400
    assert set(api.json()["fields"]) == {"email", "greeting.en"}
    assert boss.post(f"{console.url}/api/admin/shop", data="{", timeout=30,
                     headers={"Content-Type": "application/json"}).status_code == 400
    assert shop_profile(settings, fresh=True).version == 0


def test_a_save_made_from_an_out_of_date_page_gets_409(console, admin, settings):
    boss = console.login(admin)
    page = boss.get(f"{console.url}/admin/shop", timeout=30)
    # Meanwhile another admin (another replica's console) changes the hotline.
    save_shop_profile({"hotline": "1800 5555"}, "minh", 0, settings=settings)
    stale = boss.post(f"{console.url}/admin/shop",
                      data={**FORM, "version": form_version(page.text)}, timeout=30)
    assert stale.status_code == 409
    assert "minh" in stale.text and "reload and save again" in stale.text
    assert 'value="1800 5555"' in stale.text and form_version(stale.text) == "1"
    assert shop_profile(settings, fresh=True).hotline == "1800 5555"  # not overwritten
    api = boss.post(f"{console.url}/api/admin/shop",
                    json={"version": 0, "hotline": "1900 0000"}, timeout=30)
    assert api.status_code == 409 and api.json()["current"]["version"] == 1
    # From the page the 409 showed, the save goes through.
    again = boss.post(f"{console.url}/admin/shop",
                      data={**FORM, "version": form_version(stale.text)}, timeout=30)
    assert again.status_code == 200
    assert shop_profile(settings, fresh=True).hotline == "1900 1234"
