"""The console's pages, API and websocket against the stand-in Rasa HTTP API."""
from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import sqlite3
import time
from typing import Any, Dict, List

import aiohttp
import pytest

from bot.handoff.store import TicketStore
from tests.console.conftest import PASSWORD, ConsoleServer
from tests.console.rasa_standin import RasaStandin

PUBLIC = {"/login", "/healthz"}


def seed(store: TicketStore, rasa: RasaStandin, cid: str = "cust-1", reason="request_human",
         channel="socketio", name="Chị Mai") -> int:
    rasa.add_user_message(cid, "cho mình gặp nhân viên", intent="request_human",
                          confidence=0.97, channel=channel)
    rasa.add_bot_message(cid, "Mình đã chuyển bạn đến nhân viên hỗ trợ.")
    snapshot = [{"time": None, "role": "customer", "text": "snapshot line"}]
    return store.create(cid, reason, snapshot, channel=channel, customer_name=name).id


# --- health, login, sessions ------------------------------------------------------------

def test_healthz_needs_no_login(console: ConsoleServer):
    reply = console.client().get(f"{console.url}/healthz", timeout=10)
    assert reply.status_code == 200
    assert reply.json() == {"status": "ok"}


def test_login_sets_httponly_samesite_strict_cookie(console, agent):
    reply = console.client().post(f"{console.url}/login",
                                  data={"username": "lan", "password": PASSWORD, "next": "/"},
                                  allow_redirects=False, timeout=30)
    assert reply.status_code == 303 and reply.headers["Location"] == "/"
    cookie = reply.headers["Set-Cookie"]
    assert cookie.startswith("hotro_session=")
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/" in cookie
    assert "Hộp thư / Inbox" in console.login("lan").get(console.url, timeout=10).text


def test_login_wrong_password_is_refused_and_logged(console, agent, caplog):
    caplog.set_level(logging.WARNING, logger="bot.console")
    for username, password in [("lan", "sai-mat-khau"), ("khong-co-ai", PASSWORD)]:
        reply = console.client().post(f"{console.url}/login",
                                      data={"username": username, "password": password},
                                      allow_redirects=False, timeout=30)
        assert reply.status_code == 401
        assert "Sai tên đăng nhập hoặc mật khẩu" in reply.text
        assert "Wrong username or password" in reply.text
        assert "hotro_session" not in reply.headers.get("Set-Cookie", "")
    assert "console login failed: user='lan'" in caplog.text


def test_login_rate_limit_answers_429(console, agent, caplog):
    caplog.set_level(logging.WARNING, logger="bot.console")
    client = console.client()

    def attempt(username, password):
        return client.post(f"{console.url}/login", data={"username": username,
                                                         "password": password},
                           allow_redirects=False, timeout=30)

    assert [attempt("lan", f"wrong-{i}").status_code for i in range(5)] == [401] * 5
    blocked = attempt("lan", PASSWORD)  # even the right password, while blocked
    assert blocked.status_code == 429
    assert "Quá nhiều lần đăng nhập sai" in blocked.text
    assert "Too many failed logins" in blocked.text
    assert 1 <= int(blocked.headers["Retry-After"]) <= 300
    assert "console login blocked (rate limit): user='lan'" in caplog.text
    # The limit is per username (and IP): another user still logs in.
    console.users.add_user("hoa", PASSWORD, "agent")
    assert attempt("hoa", PASSWORD).status_code == 303


def test_every_route_and_the_websocket_need_a_session(console, store, rasa):
    ticket_id = seed(store, rasa)
    anonymous = console.client()
    checked = []
    for route in console.app.router.routes():
        info = route.resource.get_info()
        path = info.get("path") or info.get("formatter") or info.get("prefix")
        if route.method == "HEAD" or path in PUBLIC or path.startswith("/static"):
            continue
        path = path.replace("{id}", str(ticket_id))
        reply = anonymous.request(route.method, console.url + path, allow_redirects=False,
                                  json={"text": "x"}, timeout=10)
        if path.startswith("/api/") or path == "/ws":
            assert reply.status_code == 401, (route.method, path, reply.status_code)
            assert reply.json()["error"]
        elif route.method == "GET":
            assert reply.status_code == 302, (route.method, path)
            assert reply.headers["Location"].startswith("/login?next=")
        else:
            assert reply.status_code == 303 and reply.headers["Location"] == "/login"
        checked.append((route.method, path))
    assert len(checked) >= 12, checked
    assert ("GET", "/ws") in checked and ("POST", f"/api/tickets/{ticket_id}/reply") in checked
    assert not rasa.recorded(lambda r: r.method == "POST")
    # A made-up cookie is no session either.
    anonymous.cookies.set("hotro_session", "forged-token")
    assert anonymous.get(f"{console.url}/api/tickets", timeout=10).status_code == 401


def test_unknown_paths_redirect_to_login_without_a_session(console):
    reply = console.client().get(f"{console.url}/no/such/page", allow_redirects=False,
                                 timeout=10)
    assert reply.status_code == 302


def test_agent_gets_403_on_admin_pages(console, agent):
    client = console.login("lan")
    for method, path in [("GET", "/admin/users"), ("POST", "/admin/users")]:
        reply = client.request(method, console.url + path, allow_redirects=False,
                               data={"username": "x", "password": "y" * 10, "role": "admin"},
                               timeout=10)
        assert reply.status_code == 403, path
        assert "Forbidden" in reply.text
    assert console.users.get_user("x") is None
    assert "/admin/users" not in client.get(console.url, timeout=10).text  # no link either


def test_admin_lists_and_creates_users(console, admin, agent):
    client = console.login("boss")
    page = client.get(f"{console.url}/admin/users", timeout=10)
    assert page.status_code == 200 and "lan" in page.text and "Nguyễn Thị Lan" in page.text
    reply = client.post(f"{console.url}/admin/users",
                        data={"username": "Minh", "display_name": "<b>Minh</b>",
                              "role": "lead", "password": "mot-mat-khau"}, timeout=30)
    assert reply.status_code == 200 and "Đã thêm / Added: minh" in reply.text
    assert "&lt;b&gt;Minh&lt;/b&gt;" in reply.text and "<b>Minh</b>" not in reply.text
    assert console.users.get_user("minh").role == "lead"
    assert console.login("minh", "mot-mat-khau").get(f"{console.url}/api/me",
                                                     timeout=10).json()["role"] == "lead"
    # Duplicate and short password: 400 with the reason, nothing created.
    again = client.post(f"{console.url}/admin/users",
                        data={"username": "minh", "role": "agent", "password": "mot-mat-khau"},
                        timeout=30)
    assert again.status_code == 400 and "User already exists" in again.text
    short = client.post(f"{console.url}/admin/users",
                        data={"username": "tu", "role": "agent", "password": "ngan"}, timeout=30)
    assert short.status_code == 400 and "at least 8 characters" in short.text


def test_passwords_and_session_tokens_are_stored_hashed(console, agent, db_path):
    client = console.login("lan")
    token = client.cookies["hotro_session"]
    with sqlite3.connect(db_path) as db:
        (stored,) = db.execute("SELECT password_hash FROM console_users "
                               "WHERE username='lan'").fetchone()
        sessions = [row[0] for row in db.execute("SELECT token_hash FROM console_sessions")]
        dump = "\n".join(db.iterdump())
    assert stored.startswith("scrypt$16384$8$1$") and PASSWORD not in stored
    assert PASSWORD not in dump and token not in dump
    assert hashlib.sha256(token.encode()).hexdigest() in sessions
    # A second user with the same password gets a different salt, so a different hash.
    console.users.add_user("hoa", PASSWORD, "agent")
    with sqlite3.connect(db_path) as db:
        (other,) = db.execute("SELECT password_hash FROM console_users "
                              "WHERE username='hoa'").fetchone()
    assert other != stored


def test_logout_ends_the_session(console, agent):
    client = console.login("lan")
    token = client.cookies["hotro_session"]
    reply = client.post(f"{console.url}/logout", allow_redirects=False, timeout=10)
    assert reply.status_code == 303 and reply.headers["Location"] == "/login"
    stale = console.client()
    stale.cookies.set("hotro_session", token)
    assert stale.get(f"{console.url}/api/tickets", timeout=10).status_code == 401


def test_posts_from_another_origin_are_refused(console, agent, store, rasa, caplog):
    caplog.set_level(logging.WARNING, logger="bot.console")
    ticket_id = seed(store, rasa)
    client = console.login("lan")
    url = f"{console.url}/api/tickets/{ticket_id}/reply"
    evil = client.post(url, json={"text": "hi"}, headers={"Origin": "http://evil.example"},
                       timeout=10)
    assert evil.status_code == 403
    del client.headers["Origin"]
    assert client.post(url, json={"text": "hi"}, timeout=10).status_code == 403  # no Origin
    assert client.post(url, json={"text": "hi"}, timeout=10,
                       headers={"Referer": f"{console.url}/tickets/1"}).status_code == 200
    login_csrf = console.client().post(f"{console.url}/login", headers={"Origin": "null"},
                                       data={"username": "lan", "password": PASSWORD},
                                       allow_redirects=False, timeout=10)
    assert login_csrf.status_code == 403
    assert len(rasa.recorded(lambda r: r.path.endswith("/tracker/events"))) == 1
    assert "refused POST" in caplog.text and "evil.example" in caplog.text


def test_login_redirects_only_to_local_paths(console, agent):
    for target, expected in [("/tickets/3", "/tickets/3"), ("//evil.example/x", "/"),
                             ("https://evil.example", "/"), ("/\\evil.example", "/")]:
        reply = console.client().post(f"{console.url}/login", allow_redirects=False,
                                      data={"username": "lan", "password": PASSWORD,
                                            "next": target}, timeout=30)
        assert reply.headers["Location"] == expected, target


def test_pages_carry_a_strict_content_security_policy(console, agent):
    reply = console.login("lan").get(console.url, timeout=10)
    csp = reply.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "<script>" not in reply.text  # no inline script
    assert not re.search(r"\son[a-z]+\s*=", reply.text)  # no inline event handlers


# --- tickets ----------------------------------------------------------------------------

def test_inbox_lists_waiting_and_open_tickets(console, agent, store, rasa):
    first = seed(store, rasa, "cust-1")
    second = seed(store, rasa, "cust-2", reason="bot_failed_twice", channel="zalo")
    done = seed(store, rasa, "cust-3")
    store.assign(second, "lan")
    store.resolve(done)
    data = console.login("lan").get(f"{console.url}/api/tickets", timeout=10).json()
    rows = {t["id"]: t for t in data["tickets"]}
    assert set(rows) == {first, second}
    assert rows[first]["status"] == "waiting" and rows[first]["assigned_to"] is None
    assert rows[second]["status"] == "open" and rows[second]["assigned_to"] == "lan"
    assert rows[second]["channel"] == "zalo" and rows[second]["reason"] == "bot_failed_twice"
    assert rows[first]["customer_name"] == "Chị Mai" and rows[first]["created_at"]
    assert "transcript" not in rows[first] and data["now"]


def test_ticket_shows_the_live_transcript(console, agent, store, rasa):
    ticket_id = seed(store, rasa)
    rasa.add_bot_message("cust-1", "Phí ship 30k",
                         metadata={"faq": {"kind": "answer", "entry_id": "ship-fee",
                                           "score": 0.81, "suggestions": []}})
    client = console.login("lan")
    assert client.get(f"{console.url}/tickets/{ticket_id}", timeout=10).status_code == 200
    data = client.get(f"{console.url}/api/tickets/{ticket_id}", timeout=10).json()
    assert data["source"] == "live"
    roles = [(line["role"], line["text"]) for line in data["transcript"]]
    assert roles == [("customer", "cho mình gặp nhân viên"),
                     ("bot", "Mình đã chuyển bạn đến nhân viên hỗ trợ."),
                     ("bot", "Phí ship 30k")]
    customer = data["transcript"][0]
    assert customer["intent"] == "request_human" and customer["confidence"] == 0.97
    assert customer["faq"]["entry_id"] == "ship-fee" and customer["time"]
    tracker_calls = rasa.recorded(lambda r: r.path == "/conversations/cust-1/tracker")
    assert "ALL" in [call.query.get("include_events") for call in tracker_calls]
    assert client.get(f"{console.url}/tickets/999", timeout=10).status_code == 404
    assert client.get(f"{console.url}/api/tickets/999", timeout=10).status_code == 404


def test_ticket_falls_back_to_the_snapshot_when_rasa_is_down(rasa, db_path, tmp_path):
    from bot.handoff.store import ticket_store
    from bot.stack import free_port
    from tests.console.conftest import console_settings

    server = ConsoleServer(console_settings(db_path, f"http://127.0.0.1:{free_port()}")).start()
    try:
        server.users.add_user("lan", PASSWORD, "agent")
        store = ticket_store(f"sqlite:///{db_path}")
        ticket_id = store.create("cust-9", "request_human",
                                 [{"time": None, "role": "customer", "text": "snapshot line"}]).id
        client = server.login("lan")
        data = client.get(f"{server.url}/api/tickets/{ticket_id}", timeout=30).json()
        assert data["source"] == "snapshot" and "unreachable" in data["rasa_error"]
        assert [line["text"] for line in data["transcript"]] == ["snapshot line"]
        reply = client.post(f"{server.url}/api/tickets/{ticket_id}/reply",
                            json={"text": "xin chào"}, timeout=30)
        assert reply.status_code == 502 and "not delivered" in reply.json()["error"]
    finally:
        server.stop()


def test_reply_goes_to_rasa_and_takes_the_ticket(console, agent, store, rasa):
    ticket_id = seed(store, rasa)
    client = console.login("lan")
    reply = client.post(f"{console.url}/api/tickets/{ticket_id}/reply",
                        json={"text": "  Chào chị, em là Lan ạ.\r\nEm kiểm tra ngay.  "},
                        timeout=10)
    assert reply.status_code == 200, reply.text
    (posted,) = rasa.recorded(lambda r: r.path == "/conversations/cust-1/tracker/events")
    assert posted.method == "POST"
    assert posted.query == {"output_channel": "latest", "execute_side_effects": "true"}
    # The bot is paused first: while a person talks, it does not answer the customer.
    assert posted.json == [{"event": "pause"},
                           {"event": "bot", "text": "Chào chị, em là Lan ạ.\nEm kiểm tra ngay.",
                            "metadata": {"agent": "lan", "agent_name": "Nguyễn Thị Lan"}}]
    assert rasa.state("cust-1")["paused"]
    ticket = store.get(ticket_id)
    assert ticket.assigned_to == "lan" and ticket.status == "open"
    # The reply is in the (stand-in) tracker, so the live transcript shows it as the agent's.
    lines = client.get(f"{console.url}/api/tickets/{ticket_id}", timeout=10).json()["transcript"]
    assert lines[-1]["role"] == "agent" and lines[-1]["agent"] == "lan"
    # Empty and over-long messages are refused before Rasa sees them.
    for text, status in [("   ", 400), ("x" * 4001, 400)]:
        assert client.post(f"{console.url}/api/tickets/{ticket_id}/reply", json={"text": text},
                           timeout=10).status_code == status
    assert client.post(f"{console.url}/api/tickets/{ticket_id}/reply", data="text=hi",
                       timeout=10).status_code == 415
    assert len(rasa.recorded(lambda r: r.path.endswith("/tracker/events"))) == 1


def test_assign_to_me_and_tickets_held_by_another_agent(console, agent, store, rasa):
    ticket_id = seed(store, rasa)
    console.users.add_user("hoa", PASSWORD, "agent", "Hoa")
    console.users.add_user("truong", PASSWORD, "lead", "Trưởng nhóm")
    lan, hoa = console.login("lan"), console.login("hoa")
    taken = lan.post(f"{console.url}/api/tickets/{ticket_id}/assign", json={}, timeout=10)
    assert taken.status_code == 200 and taken.json()["ticket"]["assigned_to"] == "lan"
    assert store.get(ticket_id).status == "open"
    # Taking the ticket pauses the bot (whatever the hours): the agent has the conversation.
    (paused,) = rasa.recorded(lambda r: r.method == "POST")
    assert paused.json == [{"event": "pause"}] and rasa.state("cust-1")["paused"]
    for action, body in [("assign", {}), ("reply", {"text": "hi"}), ("resolve", {})]:
        refused = hoa.post(f"{console.url}/api/tickets/{ticket_id}/{action}", json=body,
                           timeout=10)
        assert refused.status_code == 409 and refused.json()["assigned_to"] == "lan", action
    assert len(rasa.recorded(lambda r: r.method == "POST")) == 1
    # A lead may take over.
    lead = console.login("truong")
    assert lead.post(f"{console.url}/api/tickets/{ticket_id}/assign", json={},
                     timeout=10).json()["ticket"]["assigned_to"] == "truong"


def test_editors_see_tickets_but_do_not_work_them(console, store, rasa):
    ticket_id = seed(store, rasa)
    console.users.add_user("bien", PASSWORD, "editor")
    editor = console.login("bien")
    assert editor.get(f"{console.url}/api/tickets/{ticket_id}", timeout=10).status_code == 200
    assert editor.post(f"{console.url}/api/tickets/{ticket_id}/reply", json={"text": "hi"},
                       timeout=10).status_code == 403
    assert editor.get(f"{console.url}/admin/users", timeout=10).status_code == 403


def test_resolve_resumes_the_bot_and_triggers_the_rating(console, agent, store, rasa):
    ticket_id = seed(store, rasa)
    client = console.login("lan")
    client.post(f"{console.url}/api/tickets/{ticket_id}/assign", json={}, timeout=10)
    reply = client.post(f"{console.url}/api/tickets/{ticket_id}/resolve", json={}, timeout=10)
    assert reply.status_code == 200, reply.text
    assert store.get(ticket_id).status == "resolved" and store.get(ticket_id).resolved_at
    calls = rasa.recorded(lambda r: r.method == "POST")
    assert [(c.path, c.json) for c in calls] == [
        ("/conversations/cust-1/tracker/events", [{"event": "pause"}]),  # assign
        ("/conversations/cust-1/tracker/events", [{"event": "resume"}]),
        ("/conversations/cust-1/execute", {"name": "utter_ask_rating"}),
        ("/conversations/cust-1/tracker/events", [{"event": "action", "name": "action_listen"}]),
    ]
    assert calls[2].query == {"output_channel": "latest"}
    assert calls[1].query == {}
    assert not rasa.state("cust-1")["paused"]
    inbox = client.get(f"{console.url}/api/tickets", timeout=10).json()["tickets"]
    assert ticket_id not in [t["id"] for t in inbox]
    # No more replies on a resolved ticket, and no second rating question.
    assert client.post(f"{console.url}/api/tickets/{ticket_id}/reply", json={"text": "hi"},
                       timeout=10).status_code == 409
    assert client.post(f"{console.url}/api/tickets/{ticket_id}/resolve", json={},
                       timeout=10).status_code == 409
    assert len(rasa.recorded(lambda r: r.method == "POST")) == 4


def test_taking_a_ticket_retries_the_pause_when_rasa_failed(console, agent, store, rasa,
                                                             caplog):
    ticket_id = seed(store, rasa)
    client = console.login("lan")
    rasa.fail_posts = 1
    failed = client.post(f"{console.url}/api/tickets/{ticket_id}/assign", json={}, timeout=10)
    assert failed.status_code == 502 and "not paused" in failed.json()["error"]
    assert failed.json()["ticket"]["assigned_to"] == "lan"  # taken all the same
    assert "taken by lan but the bot was NOT paused" in caplog.text
    assert not rasa.state("cust-1")["paused"]
    retried = client.post(f"{console.url}/api/tickets/{ticket_id}/assign", json={}, timeout=10)
    assert retried.status_code == 200 and rasa.state("cust-1")["paused"]


def test_resolve_can_be_retried_when_rasa_failed(console, agent, store, rasa, caplog):
    ticket_id = seed(store, rasa)
    client = console.login("lan")
    rasa.fail_posts = 1
    failed = client.post(f"{console.url}/api/tickets/{ticket_id}/resolve", json={}, timeout=10)
    assert failed.status_code == 502 and "not resumed" in failed.json()["error"]
    assert store.get(ticket_id).status == "resolved"
    assert "resolved but the bot was NOT resumed" in caplog.text
    retried = client.post(f"{console.url}/api/tickets/{ticket_id}/resolve", json={}, timeout=10)
    assert retried.status_code == 200
    assert [(c.path.rsplit("/", 1)[-1], c.status) for c in rasa.recorded(
        lambda r: r.method == "POST")] == [("events", 500), ("events", 200),
                                            ("execute", 200), ("events", 200)]


# --- live updates -----------------------------------------------------------------------

async def _next(ws, kind: str, until=lambda message: True,
                timeout: float = 10) -> Dict[str, Any]:
    """The next pushed message of `kind` for which `until` holds (pushes may lag ~1 poll)."""
    deadline = time.monotonic() + timeout
    while True:
        message = await ws.receive_json(timeout=max(0.1, deadline - time.monotonic()))
        if message.get("type") == kind and until(message):
            return message


def ids(message: Dict[str, Any]) -> List[int]:
    return [t["id"] for t in message["tickets"]]


def test_websocket_pushes_inbox_changes_and_new_transcript_lines(console, agent, store, rasa):
    first = seed(store, rasa, "cust-1")
    token = console.login("lan").cookies["hotro_session"]

    async def scenario() -> List[Dict[str, Any]]:
        headers = {"Origin": console.url, "Cookie": f"hotro_session={token}"}
        async with aiohttp.ClientSession() as http:
            async with http.ws_connect(f"{console.url}/ws", headers=headers) as ws:
                await _next(ws, "inbox", lambda m: ids(m) == [first])
                second = store.create("cust-2", "low_confidence", []).id  # the action server
                inbox = await _next(ws, "inbox", lambda m: ids(m) == [first, second])

                await ws.send_json({"type": "subscribe", "ticket": first})
                header = await _next(ws, "ticket")
                assert header["ticket"]["id"] == first
                transcript = await _next(ws, "transcript")
                assert transcript["start"] == 0 and transcript["source"] == "live"
                assert [l["text"] for l in transcript["lines"]][0] == "cho mình gặp nhân viên"
                rasa.add_user_message("cust-1", "alo, có ai không?")
                more = await _next(ws, "transcript")
                assert more["start"] == 2
                assert [l["text"] for l in more["lines"]] == ["alo, có ai không?"]
                store.assign(first, "lan")  # both the ticket header and the inbox follow
                seen = set()
                while seen != {"ticket", "inbox"}:
                    message = await ws.receive_json(timeout=10)
                    if message["type"] == "ticket" and \
                            message["ticket"]["assigned_to"] == "lan":
                        seen.add("ticket")
                    if message["type"] == "inbox" and \
                            message["tickets"][0]["assigned_to"] == "lan":
                        seen.add("inbox")
                return [inbox, more]

    asyncio.run(scenario())


def test_websocket_refuses_other_origins_and_closes_on_logout(console, agent):
    client = console.login("lan")
    token = client.cookies["hotro_session"]

    async def scenario() -> None:
        cookie = {"Cookie": f"hotro_session={token}"}
        async with aiohttp.ClientSession() as http:
            with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                await http.ws_connect(f"{console.url}/ws",
                                      headers={**cookie, "Origin": "http://evil.example"})
            assert refused.value.status == 403
            async with http.ws_connect(f"{console.url}/ws",
                                       headers={**cookie, "Origin": console.url}) as ws:
                await _next(ws, "inbox")
                await asyncio.get_running_loop().run_in_executor(
                    None, lambda: client.post(f"{console.url}/logout", timeout=10))
                while True:  # pushes until the server closes it
                    message = await ws.receive(timeout=15)
                    if message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
                        break
                assert message.type == aiohttp.WSMsgType.CLOSE, message
                assert message.data == 4401, message  # "session ended": the page goes to /login

    asyncio.run(scenario())


# --- settings ---------------------------------------------------------------------------

def test_rasa_address_and_token_from_settings_or_environment(monkeypatch, rasa):
    from bot.console.app import console_config
    from bot.console.rasa import RasaClient

    settings = {"console": {"rasa_url": "http://rasa.internal:5005", "rasa_token": "t1"}}
    assert console_config(settings)["rasa_url"] == "http://rasa.internal:5005"
    monkeypatch.setenv("HOTRO_RASA_URL", "http://127.0.0.1:6005")
    monkeypatch.setenv("HOTRO_RASA_TOKEN", "t2")
    config = console_config(settings)
    assert (config["rasa_url"], config["rasa_token"]) == ("http://127.0.0.1:6005", "t2")

    async def call() -> None:  # `rasa run --auth-token` wants ?token= on every call
        client = RasaClient(rasa.url, token="t2")
        await client.start()
        try:
            await client.tracker_events("a/b c")
            await client.execute_action("a/b c", "utter_ask_rating")
        finally:
            await client.close()

    asyncio.run(call())
    calls = rasa.recorded()
    assert [c.query.get("token") for c in calls] == ["t2", "t2", "t2"]
    assert calls[0].query["include_events"] == "ALL"
    assert calls[1].query["output_channel"] == "latest"
