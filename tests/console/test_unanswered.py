"""The editors' unanswered questions (bot/console/unanswered.py) against a running console with
the bot's own FAQ search (its default embedder) and the broker's events in a SQLite file:
editors and admins only, the origin check, groups by meaning largest first, an ignored group
that stays ignored (also after a restart and for a later similar message), phrasings saved
with the version they start from (409 when it changed), proposals accepted in bulk; failed
messages embedded in the background before any view, kept across a restart."""
from __future__ import annotations

import time

import pytest

from bot.analytics.clustering import embedded_texts
from bot.analytics.unanswered import read_turns
from bot.console.unanswered_vectors import VectorStore, text_hash
from bot.db import engine_for
from bot.embedders import DEFAULT_EMBEDDER
from bot.kb.service import get_knowledge_base
from bot.settings import PROJECT_DIR, load_settings
from tests.console.conftest import PASSWORD, ConsoleServer, console_settings
from tests.console.test_dashboard import write_events
from tests.console.test_faq_editor import faq  # noqa: F401 (fixture: the seeded FAQ store)
from tests.unit.test_analytics import at, bot, user

DAY = {"from": "2026-11-16", "to": "2026-11-16"}
XSS = '<img src=x onerror="window.__xss=1"> áo bị lỗi đổi sao'
GIFT = ["shop có bán thẻ quà tặng không", "có thẻ quà tặng ko shop", "shop co ban the qua tang khong"]
AO_DAI = ["có cho thuê áo dài không", "shop cho thuê áo dài ko", "cho thue ao dai khong"]
INSTALMENT = ["trả góp qua thẻ tín dụng được không", "tra gop duoc khong shop"]
PICKED = "mua rồi muốn trả lại hàng thì sao"


def dont_know(sender, minute, text, channel="widget"):
    return [user(sender, at(16, 9, minute), text, "ask_question", channel),
            bot(sender, at(16, 9, minute, 1), "Mình chưa biết.", failure=True,
                faq={"kind": "abstain"})]


def picked(sender, minute, text, entry_id):
    pick = f'/ask_question{{"faq_id":"{entry_id}"}}'
    return [user(sender, at(16, 10, minute), text, "ask_question", "widget"),
            bot(sender, at(16, 10, minute, 1), "Bạn muốn hỏi?",
                faq={"kind": "suggest", "suggestions": [entry_id]}),
            user(sender, at(16, 10, minute + 1), pick, "ask_question", "widget", faq_id=entry_id),
            bot(sender, at(16, 10, minute + 1, 1), "...", faq={"kind": "answer", "entry_id": entry_id})]


def failed_events():
    events = []
    for n, text in enumerate(AO_DAI * 2 + GIFT + INSTALMENT):  # áo dài asked twice each
        events += dont_know(f"khach-{n}", n, text, "zalo" if n % 2 else "widget")
    events += dont_know("khach-xss", 30, XSS)
    events += picked("khach-p1", 0, PICKED, "returns_refunds-policy")
    events += picked("khach-p2", 5, PICKED, "returns_refunds-policy")
    return events


@pytest.fixture(scope="module")
def kb_settings(tmp_path_factory):
    """The sample FAQ's index, built once for the module before any console starts (the
    console's own search; its answer decision is not used here, so not fitted)."""
    kb = {**load_settings()["kb"], "source": "files", "corpus_dir": str(PROJECT_DIR / "knowledge_base"),
          "index_dir": str(tmp_path_factory.mktemp("kb_index")), "decision": {"calibrated": False}}
    get_knowledge_base({"kb": kb, "embedder": DEFAULT_EMBEDDER})
    return kb


@pytest.fixture
def events_db(tmp_path, monkeypatch):
    path = write_events(tmp_path / "events.db", failed_events())
    monkeypatch.setenv("HOTRO_EVENTS_DB", str(path))
    return path


def start_console(rasa, db_path, kb_settings, **console) -> ConsoleServer:
    settings = console_settings(db_path, rasa.url, **console)
    settings.update(kb=kb_settings, embedder=DEFAULT_EMBEDDER)
    return ConsoleServer(settings).start()


@pytest.fixture
def console(rasa, db_path, kb_settings, events_db):
    server = start_console(rasa, db_path, kb_settings)
    yield server
    server.stop()


@pytest.fixture
def mai(console, faq):
    console.users.add_user("mai", PASSWORD, "editor", "Lê Thị Mai")
    return console.login("mai")


def groups(session, console, **params):
    reply = session.get(f"{console.url}/api/unanswered", params={**DAY, **params}, timeout=120)
    assert reply.status_code == 200, reply.text
    return reply.json()


def texts_of(group):
    return sorted(e["text"] for e in group["examples"])


def test_only_editors_and_admins_see_unanswered_questions(console, faq, agent, admin):
    console.users.add_user("minh", PASSWORD, "lead", "Lê Minh")
    for name in (agent, "minh"):
        session = console.login(name)
        assert session.get(f"{console.url}/unanswered", timeout=30).status_code == 403
        assert session.get(f"{console.url}/api/unanswered", timeout=30).status_code == 403
        refused = session.post(f"{console.url}/api/unanswered/ignore", json={"keys": ["0" * 20]}, timeout=30)
        assert refused.status_code == 403 and "biên tập viên" in refused.json()["error"]
    assert console.client().get(f"{console.url}/api/unanswered", timeout=30).status_code == 401
    boss = console.login(admin)
    page = boss.get(f"{console.url}/unanswered", params=DAY, timeout=30)
    assert page.status_code == 200 and 'id="groups"' in page.text and "<script>" not in page.text
    assert groups(boss, console)["total_groups"] >= 3


def test_groups_by_meaning_largest_first_with_the_nearest_entry(console, mai):
    data = groups(mai, console)
    assert data["messages"] == len(AO_DAI) * 2 + len(GIFT) + len(INSTALMENT) + 1
    first, second = data["groups"][:2]
    assert texts_of(first) == sorted(AO_DAI) and first["size"] == 6 and first["texts"] == 3
    assert first["channels"] == {"zalo": 3, "widget": 3} and first["reasons"] == {"dont_know": 6}
    assert texts_of(second) == sorted(GIFT)
    assert second["nearest"]["id"] == "promotions-gift-card" and second["nearest"]["version"] == 1
    by_text = {e["text"]: g for g in data["groups"] for e in g["examples"]}
    assert by_text[INSTALMENT[0]] is by_text[INSTALMENT[1]]
    assert XSS in by_text  # kept as typed; the page puts it in with textContent
    # paging
    page = groups(mai, console, offset=1, limit=1)
    assert page["total_groups"] == data["total_groups"] and texts_of(page["groups"][0]) == sorted(GIFT)
    bad = mai.get(f"{console.url}/api/unanswered", params={**DAY, "limit": 5000}, timeout=30)
    assert bad.status_code == 400 and "limit" in bad.json()["error"]
    bad = mai.get(f"{console.url}/api/unanswered", params={"from": "hôm qua"}, timeout=30)
    assert bad.status_code == 400 and "YYYY-MM-DD" in bad.json()["error"]


def test_an_ignored_group_stays_ignored(rasa, db_path, kb_settings, events_db, console, mai, monkeypatch):
    gift = next(g for g in groups(mai, console)["groups"] if GIFT[0] in texts_of(g))
    # from another site: refused, nothing ignored
    evil = mai.post(f"{console.url}/api/unanswered/ignore", json={"keys": gift["keys"]},
                    headers={"Origin": "http://evil.example"}, timeout=30)
    assert evil.status_code == 403
    assert any(GIFT[0] in texts_of(g) for g in groups(mai, console)["groups"])
    bad = mai.post(f"{console.url}/api/unanswered/ignore", json={"keys": "all"}, timeout=30)
    assert bad.status_code == 400 and "keys" in bad.json()["error"]

    ignored = mai.post(f"{console.url}/api/unanswered/ignore", json={"keys": gift["keys"]}, timeout=30)
    assert ignored.status_code == 200 and ignored.json() == {"ignored": 3}
    assert not any(GIFT[0] in texts_of(g) for g in groups(mai, console)["groups"])

    # A new, similar message arrives later, and the console restarts: still ignored.
    console.stop()
    more = failed_events() + dont_know("khach-moi", 40, "Shop có bán thẻ quà tặng không ạ")
    monkeypatch.setenv("HOTRO_EVENTS_DB", str(write_events(db_path.parent / "events2.db", more)))
    again = start_console(rasa, db_path, kb_settings)
    try:
        session = again.login("mai")
        data = groups(session, again)
        shown = [t for g in data["groups"] for t in texts_of(g)]
        assert not [t for t in shown if "quà tặng" in t]
        assert sorted(AO_DAI)[0] in shown
    finally:
        again.stop()


def test_messages_become_phrasings_from_the_version_the_editor_saw(console, faq, mai):
    gift = next(g for g in groups(mai, console)["groups"] if GIFT[0] in texts_of(g))
    nearest = gift["nearest"]
    chosen = [k for e in gift["examples"] if e["text"] != GIFT[2] for k in e["keys"]]
    # meanwhile another editor saves the entry: the save from version 1 gets the conflict
    entry = faq.current(nearest["id"]).entry
    faq.save(entry.__class__(**{**entry.__dict__, "answer_en": "Gift cards: ask us."}), "hung", 1)
    url = f"{console.url}/api/unanswered/phrasings"
    conflict = mai.post(url, json={"entry_id": nearest["id"], "base_version": nearest["version"],
                                   "keys": chosen}, timeout=30)
    assert conflict.status_code == 409
    assert conflict.json()["current"]["author"] == "hung" and list(conflict.json()["changes"]) == ["answer_en"]
    saved = mai.post(url, json={"entry_id": nearest["id"], "base_version": 2, "keys": chosen}, timeout=30)
    assert saved.status_code == 200, saved.text
    assert saved.json()["added"] == [GIFT[1]]  # GIFT[0] is the entry's question already
    now = faq.current(nearest["id"])
    assert now.version == 3 and now.entry.answer_en == "Gift cards: ask us."  # nothing lost
    assert GIFT[1] in now.entry.phrasings
    left = [t for g in groups(mai, console)["groups"] for t in texts_of(g)]
    assert GIFT[2] in left and GIFT[0] not in left  # only the chosen messages are done


def test_picked_suggestions_are_proposed_and_accepted_in_bulk(console, faq, mai):
    reply = mai.get(f"{console.url}/api/unanswered/proposals", params=DAY, timeout=60)
    assert reply.status_code == 200
    proposals = reply.json()["proposals"]
    assert [(p["text"], p["entry_id"], p["count"]) for p in proposals] == [(PICKED, "returns_refunds-policy", 2)]
    _, picks = read_turns(failed_events())
    assert sorted(proposals[0]["keys"]) == sorted(p.key for p in picks)
    accepted = mai.post(f"{console.url}/api/unanswered/proposals/accept", timeout=60,
                        json={"items": [{"entry_id": "returns_refunds-policy", "keys": proposals[0]["keys"]}],
                              "publish": True})
    assert accepted.status_code == 200, accepted.text
    result = accepted.json()
    assert result["results"][0]["added"] == [PICKED]
    assert result["published_version"] == faq.published().version == faq.head()
    assert PICKED in faq.current("returns_refunds-policy").entry.phrasings
    again = mai.get(f"{console.url}/api/unanswered/proposals", params=DAY, timeout=60).json()
    assert again["proposals"] == []


def test_the_dashboard_shows_the_top_unanswered_groups_to_leads(console, faq, agent):
    console.users.add_user("minh", PASSWORD, "lead", "Lê Minh")
    minh = console.login("minh")
    url = f"{console.url}/api/dashboard/unanswered"
    top = minh.get(url, params={**DAY, "channel": "zalo"}, timeout=120)
    assert top.status_code == 200, top.text
    data = top.json()
    assert data["link"] == "/unanswered?from=2026-11-16&to=2026-11-16&channel=zalo"
    assert data["groups"][0]["example"] in AO_DAI and data["groups"][0]["channels"] == {"zalo": 3}
    assert all(set(g["channels"]) == {"zalo"} for g in data["groups"])
    page = minh.get(f"{console.url}/dashboard", params=DAY, timeout=30).text
    assert 'id="unanswered-top"' in page and "dashboard_unanswered.js" in page
    assert console.login(agent).get(url, params=DAY, timeout=30).status_code == 403


def test_ten_thousand_failed_turns_are_grouped_within_the_limits(rasa, db_path, kb_settings, tmp_path,
                                                                  monkeypatch):
    """10,000 failed turns of 50 distinct texts: read in full, only the latest distinct
    texts grouped (MAX_TEXTS, lowered here), one page of groups answered."""
    import json
    import sqlite3

    from bot.console import unanswered_groups

    path = write_events(tmp_path / "many.db", dont_know("khach-0", 0, "câu hỏi số 0"))
    rows = [(f"khach-{n}", json.dumps({**event, "sender_id": f"khach-{n}"}))
            for n in range(1, 10_000)
            for event in dont_know(f"khach-{n}", n % 50, f"câu hỏi số {n % 50} về đơn hàng")]
    with sqlite3.connect(path) as connection:
        connection.executemany("INSERT INTO events (sender_id, data) VALUES (?, ?)", rows)
    monkeypatch.setenv("HOTRO_EVENTS_DB", str(path))
    monkeypatch.setattr(unanswered_groups, "MAX_TEXTS", 20)
    server = start_console(rasa, db_path, kb_settings)
    try:
        server.users.add_user("mai", PASSWORD, "editor", "Lê Thị Mai")
        data = groups(server.login("mai"), server, limit=5)
    finally:
        server.stop()
    assert data["messages"] == 10_000 and data["distinct_texts"] == 51
    assert data["grouped_texts"] == 20 and len(data["groups"]) <= 5
    sizes = [g["size"] for g in data["groups"]]
    assert sizes == sorted(sizes, reverse=True) and sizes[0] >= 200  # each text asked 200 times


def wait_for(condition, seconds=120):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def test_failed_messages_are_embedded_before_an_editor_looks(rasa, db_path, kb_settings, events_db,
                                                              faq, monkeypatch):
    """The console embeds failed messages as they come in, with no page view, into its
    database; a view then embeds none of them (only the one search for each group's
    nearest entry), also after a restart with the background embedding off."""
    kb = get_knowledge_base({"kb": kb_settings, "embedder": DEFAULT_EMBEDDER})
    embedded = []
    real = kb.embedder.embed_queries
    monkeypatch.setattr(kb.embedder, "embed_queries", lambda texts: embedded.extend(texts) or real(texts))
    known = VectorStore(engine_for(f"sqlite:///{db_path}"))

    def keys(texts):
        return {text_hash(t) for t in embedded_texts(kb, texts)}

    failed = keys(AO_DAI + GIFT + INSTALMENT + [XSS])
    server = start_console(rasa, db_path, kb_settings, embed_seconds=0.2)
    try:
        wait_for(lambda: known.count(DEFAULT_EMBEDDER) == len(failed))
        assert set(known.stored(DEFAULT_EMBEDDER, failed)) == failed
        # a message that fails while the console runs is embedded too
        late = "shop có giao hàng ra Côn Đảo không"
        write_events(events_db, dont_know("khach-muon", 50, late))
        wait_for(lambda: known.count(DEFAULT_EMBEDDER) == len(failed) + 1)
        assert known.missing(kb, [late]) == []

        server.users.add_user("mai", PASSWORD, "editor", "Lê Thị Mai")
        embedded.clear()
        data = groups(server.login("mai"), server)
    finally:
        server.stop()
    assert texts_of(data["groups"][0]) == sorted(AO_DAI) and data["distinct_texts"] == 10
    searched = {kb.embedding_text(g["examples"][0]["text"])[1] for g in data["groups"]}
    assert len(embedded) == len(data["groups"]) and set(embedded) == searched

    again = start_console(rasa, db_path, kb_settings, embed_seconds=0)
    try:
        embedded.clear()
        after = groups(again.login("mai"), again)
    finally:
        again.stop()
    assert [texts_of(g) for g in after["groups"]] == [texts_of(g) for g in data["groups"]]
    assert len(embedded) == len(after["groups"])


def test_the_background_embedding_waits_for_the_first_conversation(rasa, db_path, kb_settings, tmp_path,
                                                                    monkeypatch):
    """A console started before any conversation (no events database yet) keeps trying,
    and embeds the failed messages once they come."""
    path = tmp_path / "later.db"
    monkeypatch.setenv("HOTRO_EVENTS_DB", str(path))
    known = VectorStore(engine_for(f"sqlite:///{db_path}"))
    server = start_console(rasa, db_path, kb_settings, embed_seconds=0.2)
    try:
        time.sleep(1)  # a few rounds find nothing to read
        assert known.count(DEFAULT_EMBEDDER) == 0
        write_events(path, dont_know("khach-1", 0, GIFT[0]) + dont_know("khach-2", 1, AO_DAI[0]))
        wait_for(lambda: known.count(DEFAULT_EMBEDDER) == 2)
    finally:
        server.stop()
