"""Canned replies: admins keep the list, agents get it filled for their ticket; role
checks, bad input, duplicates."""
from __future__ import annotations

import logging

from tests.console.conftest import PASSWORD
from tests.console.test_api import seed

TEXT = "Chào {customer_name}, em là {agent_name}. Yêu cầu #{ticket} đã được ghi nhận ạ."


def test_admin_keeps_the_list_and_agents_get_it_filled_for_their_ticket(console, admin,
                                                                        agent, store, rasa):
    boss = console.login("boss")
    made = boss.post(f"{console.url}/api/admin/canned", timeout=10,
                     json={"shortcut": "/Chao", "title": "Lời chào", "text": TEXT})
    assert made.status_code == 200, made.text
    reply = made.json()["reply"]
    assert reply["shortcut"] == "chao" and reply["updated_by"] == "boss"
    named = seed(store, rasa, "c-1", name="Chị Mai")
    unnamed = seed(store, rasa, "c-2", name=None)
    lan = console.login("lan")
    filled = lan.get(f"{console.url}/api/tickets/{named}/canned", timeout=10).json()["replies"]
    assert filled[0]["text"] == (f"Chào Chị Mai, em là Nguyễn Thị Lan. Yêu cầu #{named} "
                                 "đã được ghi nhận ạ.")
    filled = lan.get(f"{console.url}/api/tickets/{unnamed}/canned", timeout=10).json()["replies"]
    assert filled[0]["text"].startswith("Chào bạn, em là")
    # Edit, list, delete.
    edited = boss.post(f"{console.url}/api/admin/canned/{reply['id']}", timeout=10,
                       json={"shortcut": "chao", "title": "Chào", "text": "Dạ chào {customer_name}"})
    assert edited.status_code == 200
    assert [r["text"] for r in lan.get(f"{console.url}/api/canned", timeout=10).json()["replies"]
            ] == ["Dạ chào {customer_name}"]
    assert boss.post(f"{console.url}/api/admin/canned/{reply['id']}/delete", json={},
                     timeout=10).status_code == 200
    assert lan.get(f"{console.url}/api/canned", timeout=10).json()["replies"] == []
    assert boss.post(f"{console.url}/api/admin/canned/{reply['id']}/delete", json={},
                     timeout=10).status_code == 404


def test_only_admins_change_the_list(console, admin, agent):
    console.users.add_user("truong", PASSWORD, "lead")
    body = {"shortcut": "x", "text": "y"}
    for username in ("lan", "truong"):
        client = console.login(username)
        assert client.post(f"{console.url}/api/admin/canned", json=body,
                           timeout=10).status_code == 403
        assert client.get(f"{console.url}/admin/canned", timeout=10).status_code == 403
    assert console.client().get(f"{console.url}/api/canned", timeout=10).status_code == 401
    page = console.login("boss").get(f"{console.url}/admin/canned", timeout=10)
    assert page.status_code == 200 and "Câu trả lời mẫu / Canned replies" in page.text


def test_bad_input_is_refused_naming_the_field(console, admin, caplog):
    caplog.set_level(logging.WARNING, logger="bot.console")
    boss = console.login("boss")
    url = f"{console.url}/api/admin/canned"
    for body, field in [({"shortcut": "", "text": "hi"}, "shortcut"),
                        ({"shortcut": "có dấu", "text": "hi"}, "shortcut"),
                        ({"shortcut": "a" * 33, "text": "hi"}, "shortcut"),
                        ({"shortcut": "ok", "text": " "}, "text"),
                        ({"shortcut": "ok", "text": "x" * 4001}, "text"),
                        ({"shortcut": "ok", "text": "Chào {ten_khach}"}, "text"),
                        ({"shortcut": "ok", "text": "{ticket.__class__}"}, "text"),
                        ({"shortcut": "ok", "text": "mở { không đóng"}, "text"),
                        ({"shortcut": "ok", "title": "t" * 101, "text": "hi"}, "title")]:
        reply = boss.post(url, json=body, timeout=10)
        assert reply.status_code == 400 and reply.json()["field"] == field, body
    assert boss.post(url, json={"shortcut": "ok", "text": "hi"}, timeout=10).status_code == 200
    duplicate = boss.post(url, json={"shortcut": "OK", "text": "again"}, timeout=10)
    assert duplicate.status_code == 409 and duplicate.json()["field"] == "shortcut"
    assert boss.post(f"{url}/999", json={"shortcut": "z", "text": "hi"},
                     timeout=10).status_code == 404
    assert boss.post(url, data="shortcut=a", timeout=10).status_code == 415
    assert "canned reply by boss refused" in caplog.text


def test_the_admin_page_forms_add_edit_and_delete(console, admin):
    boss = console.login("boss")
    added = boss.post(f"{console.url}/admin/canned", allow_redirects=False, timeout=10,
                      data={"shortcut": "cam-on", "title": "Cảm ơn", "text": "Cảm ơn <b>bạn</b>"})
    assert added.status_code == 303
    page = boss.get(f"{console.url}/admin/canned", timeout=10).text
    assert "Cảm ơn &lt;b&gt;bạn&lt;/b&gt;" in page  # HTML shows as text
    (reply,) = boss.get(f"{console.url}/api/canned", timeout=10).json()["replies"]
    bad = boss.post(f"{console.url}/admin/canned", timeout=10,
                    data={"shortcut": "cam-on", "text": "trùng"})
    assert bad.status_code == 409 and "đã có" in bad.text
    assert boss.post(f"{console.url}/admin/canned/{reply['id']}/delete", allow_redirects=False,
                     timeout=10).status_code == 303
    assert boss.get(f"{console.url}/api/canned", timeout=10).json()["replies"] == []
