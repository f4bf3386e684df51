"""The FAQ editor's JSON API (bot/console/faq_editor.py) against a running console: editors
and admins only, 409 with the other change when two editors save the same entry, 400 with
field messages, history, restore, delete and publish."""
from __future__ import annotations

import pytest

from bot.kb.corpus import load_corpus
from bot.kb.store import FaqStore
from bot.settings import PROJECT_DIR
from tests.console.conftest import PASSWORD


@pytest.fixture
def faq(console, db_path):
    store = FaqStore(f"sqlite:///{db_path}")
    store.seed(load_corpus(PROJECT_DIR / "knowledge_base"), "knowledge_base")
    return store


@pytest.fixture
def editors(console):
    console.users.add_user("mai", PASSWORD, "editor", "Lê Thị Mai")
    console.users.add_user("hung", PASSWORD, "editor", "Phạm Văn Hùng")
    return console.login("mai"), console.login("hung")


def body_of(entry: dict, **changes) -> dict:
    keys = ("topic", "question", "phrasings", "answer_vi", "answer_en", "tags")
    return {**{k: entry[k] for k in keys}, **changes}


def test_only_editors_and_admins_reach_the_faq(console, faq, agent, admin):
    lan = console.login(agent)
    assert lan.get(f"{console.url}/api/faq/entries", timeout=30).status_code == 403
    assert lan.post(f"{console.url}/api/faq/publish", json={}, timeout=30).status_code == 403
    assert console.client().get(f"{console.url}/api/faq/entries", timeout=30).status_code == 401
    boss = console.login(admin)
    listed = boss.get(f"{console.url}/api/faq/entries", params={"q": "phi ship"}, timeout=30).json()
    assert "shipping-fee" in [e["id"] for e in listed["entries"]]  # search without diacritics
    assert listed["published_version"] and listed["unpublished"] == 0


def test_a_post_from_another_origin_is_refused(console, faq, editors):
    mai, _ = editors
    entry = mai.get(f"{console.url}/api/faq/entries/shipping-fee", timeout=30).json()
    reply = mai.post(f"{console.url}/api/faq/entries/shipping-fee", timeout=30,
                     headers={"Origin": "http://evil.example"},
                     json=body_of(entry["entry"], answer_vi="hack", base_version=entry["version"]))
    assert reply.status_code == 403
    assert faq.current("shipping-fee").version == entry["version"]


def test_two_editors_save_the_same_entry_the_second_gets_409_with_the_first_change(console, faq, editors):
    mai, hung = editors
    url = f"{console.url}/api/faq/entries/shipping-fee"
    opened_by_mai = mai.get(url, timeout=30).json()
    opened_by_hung = hung.get(url, timeout=30).json()
    mai_text = "Phí giao hàng <b>30.000đ</b> toàn quốc."
    saved = mai.post(url, json=body_of(opened_by_mai["entry"], answer_vi=mai_text,
                                       base_version=opened_by_mai["version"]), timeout=30)
    assert saved.status_code == 200 and saved.json()["author"] == "mai"
    refused = hung.post(url, json=body_of(opened_by_hung["entry"], answer_en="Shipping is 30,000 VND.",
                                          base_version=opened_by_hung["version"]), timeout=30)
    assert refused.status_code == 409
    conflict = refused.json()
    assert conflict["error"] == "conflict" and "Người khác đã lưu" in conflict["message"]
    assert conflict["current"]["author"] == "mai" and list(conflict["changes"]) == ["answer_vi"]
    assert conflict["changes"]["answer_vi"]["after"] == mai_text  # kept as text, as typed
    assert faq.current("shipping-fee").entry.answer_vi == mai_text  # nothing overwritten
    merged = hung.post(url, json=body_of(conflict["current"]["entry"], answer_en="Shipping is 30,000 VND.",
                                         base_version=conflict["current"]["version"]), timeout=30)
    assert merged.status_code == 200
    now = faq.current("shipping-fee").entry
    assert (now.answer_vi, now.answer_en) == (mai_text, "Shipping is 30,000 VND.")


def test_bad_input_gets_400_with_the_field(console, faq, editors):
    mai, _ = editors
    url = f"{console.url}/api/faq/entries/shipping-fee"
    entry = mai.get(url, timeout=30).json()
    empty = mai.post(url, json=body_of(entry["entry"], answer_vi="", base_version=entry["version"]), timeout=30)
    assert empty.status_code == 400 and "answer_vi" in empty.json()["fields"]
    huge = mai.post(url, json=body_of(entry["entry"], answer_vi="x" * 2001, base_version=entry["version"]),
                    timeout=30)
    assert huge.status_code == 400 and "2000" in " ".join(huge.json()["fields"]["answer_vi"])
    wrong = mai.post(url, json=body_of(entry["entry"], phrasings="one", base_version=entry["version"]), timeout=30)
    assert wrong.status_code == 400 and "phrasings" in wrong.json()["fields"]
    no_base = mai.post(url, json=body_of(entry["entry"]), timeout=30)
    assert no_base.status_code == 400 and "base_version" in no_base.json()["fields"]
    not_json = mai.post(url, data="x", timeout=30)
    assert not_json.status_code == 415
    assert faq.current("shipping-fee").version == entry["version"]
    assert mai.get(f"{console.url}/api/faq/entries/no-such-entry", timeout=30).status_code == 404


def test_create_delete_restore_history_and_publish(console, faq, editors):
    mai, _ = editors
    url = f"{console.url}/api/faq/entries/shop-gift-wrap"
    new = {"topic": "orders", "question": "Shop có gói quà không?", "answer_vi": "Có, gói quà miễn phí.",
           "phrasings": ["goi qua duoc khong", "có gói quà tặng ko shop"], "tags": ["gift"], "base_version": 0}
    created = mai.post(url, json=new, timeout=30)
    assert created.status_code == 200 and created.json()["version"] == 1
    assert mai.post(url, json=new, timeout=30).status_code == 409  # the id exists now
    gone = mai.post(f"{url}/delete", json={"base_version": 1}, timeout=30)
    assert gone.status_code == 200 and gone.json()["deleted"]
    back = mai.post(f"{url}/restore", json={"version": 1, "base_version": 2}, timeout=30)
    assert back.status_code == 200 and back.json()["version"] == 3
    history = mai.get(f"{url}/history", timeout=30).json()["versions"]
    assert [v["version"] for v in history] == [3, 2, 1] and history[1]["deleted"]
    assert history[2]["diff"]["question"] == {"before": None, "after": "Shop có gói quà không?"}
    listed = mai.get(f"{console.url}/api/faq/entries", timeout=30).json()
    assert listed["unpublished"] == 3
    published = mai.post(f"{console.url}/api/faq/publish", json={}, timeout=30)
    assert published.status_code == 200
    assert "shop-gift-wrap" in [e.id for e in faq.published_entries()[1]]
    assert mai.get(f"{console.url}/api/faq/entries", timeout=30).json()["unpublished"] == 0
