"""Handoff logic without servers: failure counting, contacts, office hours, the helpdesk."""
from __future__ import annotations

import hashlib
import hmac
import json
import threading
from datetime import datetime
from http.server import BaseHTTPRequestHandler, HTTPServer
from zoneinfo import ZoneInfo

import pytest

from bot.handoff import decision, helpdesk, store as store_module
from bot.handoff.contact import find_contact, find_email, find_phone
from bot.handoff.office_hours import is_open
from bot.handoff.transcript import build_transcript

VN = ZoneInfo("Asia/Ho_Chi_Minh")


def user(text, intent="ask_question", confidence=0.9):
    return {"event": "user", "text": text, "timestamp": 1.0,
            "parse_data": {"intent": {"name": intent, "confidence": confidence}}}


def bot(text, **metadata):
    return {"event": "bot", "text": text, "timestamp": 2.0, "metadata": metadata}


def test_two_failures_in_a_row_are_counted_and_a_success_resets_them():
    events = [user("a", "nlu_fallback"), bot("?", failure=True), user("b")]
    assert decision.earlier_failures(events) == 1
    events = [user("x"), bot("abstain", failure=True), user("ok", "greet"), bot("hi"),
              user("y")]
    assert decision.earlier_failures(events) == 0


def test_a_turn_answered_from_the_faq_is_not_a_failure_whatever_its_intent():
    # "vậy đi tỉnh thì sao": not understood alone, answered with the question before it
    answered = [user("vậy đi tỉnh thì sao", "nlu_fallback"),
                bot("Phí giao hàng…", faq={"kind": "answer", "entry_id": "shipping-fee"})]
    assert not decision.is_failed_turn(answered)
    offered = [user("còn phụ kiện thì sao", "nlu_fallback"), bot("?", faq={"kind": "suggest"})]
    assert decision.is_failed_turn(offered)
    assert decision.earlier_failures([user("a", "nlu_fallback"), bot("?", failure=True), *answered,
                                      user("b")]) == 0


def test_asking_for_a_person_after_an_unsure_answer_is_low_confidence():
    unsure = [user("q"), bot("không biết", failure=True), user("/request_human")]
    assert decision.request_reason(unsure) == decision.LOW_CONFIDENCE
    assert decision.request_reason([user("cho gặp nhân viên")]) == decision.REQUEST_HUMAN


@pytest.mark.parametrize("text,expected", [
    ("sdt của mình là 0912 345 678", "0912345678"),
    ("+84 987.111.222 nhé", "0987111222"),
    ("số bàn 028 1234 5678", "02812345678"),
    ("email: Lan.Nguyen@Gmail.com", "lan.nguyen@gmail.com"),
    ("số mình là 12345", None),
    ("0112345678", None),
    ("a@b", None),
])
def test_contacts_are_validated(text, expected):
    assert find_contact(text) == expected


def test_phone_and_email_finders_are_separate():
    assert find_phone("lan@shop.vn") is None and find_email("0912345678") is None


def test_office_hours_in_vietnam_time(tmp_path):
    settings = {"handoff": {"database_url": f"sqlite:///{tmp_path / 'h.db'}"},
                "support": {"timezone": "Asia/Ho_Chi_Minh",
                            "office_hours": {"days": [0, 1, 2, 3, 4], "open": "08:00",
                                             "close": "21:00"}}}
    assert is_open(datetime(2026, 11, 26, 9, 0, tzinfo=VN), settings)       # Thursday
    assert not is_open(datetime(2026, 11, 26, 21, 30, tzinfo=VN), settings)
    assert not is_open(datetime(2026, 11, 29, 10, 0, tzinfo=VN), settings)  # Sunday


def test_transcript_has_roles_intents_and_faq_scores():
    events = [user("phí ship?", confidence=0.97),
              bot("20.000đ", faq={"entry_id": "shipping-fee", "score": 0.8}),
              {"event": "slot", "name": "language", "value": "vi"},
              bot("Chào bạn, mình là Lan", agent="lan")]
    lines = build_transcript(events)
    assert [l["role"] for l in lines] == ["customer", "bot", "agent"]
    assert lines[0]["confidence"] == 0.97 and lines[0]["faq"]["entry_id"] == "shipping-fee"
    assert lines[2]["agent"] == "lan"


class _Receiver(BaseHTTPRequestHandler):
    bodies: list = []
    fail_first = 0

    def do_POST(self):  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if _Receiver.fail_first > 0:
            _Receiver.fail_first -= 1
            self.send_response(503)
            self.end_headers()
            return
        _Receiver.bodies.append((body, self.headers[helpdesk.SIGNATURE_HEADER]))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_helpdesk_webhook_is_signed_and_retried_until_delivered(tmp_path, monkeypatch):
    server = HTTPServer(("127.0.0.1", 0), _Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/hook"
    monkeypatch.setenv("HOTRO_WEBHOOK_SECRET", "s3cret")
    monkeypatch.setattr(helpdesk, "_webhook_url", lambda: url)
    monkeypatch.setattr(helpdesk, "_ensure_worker", lambda: None)  # drive passes by hand
    tickets = store_module.TicketStore(f"sqlite:///{tmp_path / 'h.db'}")
    monkeypatch.setattr(helpdesk, "ticket_store", lambda: tickets)
    _Receiver.fail_first = 1
    ticket = tickets.create("c-1", "request_human", [{"role": "customer", "text": "hi"}])
    helpdesk.notify_helpdesk(ticket)
    assert helpdesk.deliver_due() == 0  # the helpdesk answered 503: kept for a retry
    with tickets.session() as session, session.begin():
        row = session.query(helpdesk.OutboxRow).one()
        assert row.attempts == 1 and row.last_error
        row.next_attempt_at = store_module.utcnow()  # skip the backoff wait
    assert helpdesk.deliver_due() == 1
    body, signature = _Receiver.bodies[-1]
    assert signature == "sha256=" + hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    payload = json.loads(body)
    assert payload["ticket"]["conversation_id"] == "c-1"
    assert payload["ticket"]["transcript"] == [{"role": "customer", "text": "hi"}]
    server.shutdown()


def test_undelivered_messages_go_on_the_unresolved_ticket_or_open_one(tmp_path):
    tickets = store_module.TicketStore(f"sqlite:///{tmp_path / 'h.db'}")
    opened, new = tickets.add_undelivered("c-1", "zalo", "Đơn đã giao.", "-230 window",
                                          True, reason="undelivered")
    assert new and opened.reason == "undelivered" and opened.channel == "zalo"
    again, new = tickets.add_undelivered("c-1", "zalo", "Bạn còn cần gì không?", "-230",
                                         True, reason="undelivered")
    assert not new and again.id == opened.id
    assert [(m["text"], m["window_closed"]) for m in tickets.undelivered(opened.id)] == [
        ("Đơn đã giao.", True), ("Bạn còn cần gì không?", True)]
    assert tickets.undelivered(opened.id)[0]["created_at"].endswith("+00:00")
    tickets.resolve(opened.id)  # after a resolved ticket, a new one carries the next
    later, new = tickets.add_undelivered("c-1", "zalo", "x", None, False, reason="undelivered")
    assert new and later.id != opened.id and len(tickets.undelivered(later.id)) == 1
