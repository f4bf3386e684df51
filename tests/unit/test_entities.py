"""Entities (bot/nlu/entity_rules.py) through the real spaCy pipeline, the Rasa component,
and their use in the handoff: the call-back contact, the order number on the ticket."""
from __future__ import annotations

import json
import random
import sqlite3
import time
import unicodedata
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.nlu.entity_rules import entity_nlp, extract, find_entities, local_now, parse_number

VN = ZoneInfo("Asia/Ho_Chi_Minh")
MONDAY = datetime(2026, 11, 30, 10, 0, tzinfo=VN)  # Monday 30 November 2026
SUNDAY_NIGHT = datetime(2026, 11, 29, 23, 30, tzinfo=VN)


def found(text, now=MONDAY):
    """(entity, the original text it spans, value) for every entity of `text`."""
    return [(e["entity"], text[e["start"]:e["end"]], e["value"]) for e in extract(text, now=now)]


def nfd(text):
    return unicodedata.normalize("NFD", text)


def test_the_pipeline_is_spacy_vietnamese_with_rules_and_no_model():
    nlp = entity_nlp()
    assert nlp.lang == "vi" and nlp.pipe_names == ["hotro_entity_rules"]
    doc = nlp("sdt 0912 345 678 nhé")
    assert [(e.label_, e.text) for e in doc.ents] == [("phone", "0912 345 678")]
    assert doc.text == "sdt 0912 345 678 nhé"


@pytest.mark.parametrize("text,span", [
    ("sdt của mình là 0912 345 678", "0912 345 678"),
    ("0912.345.678", "0912.345.678"),
    ("0912345678", "0912345678"),
    ("0912-345-678 nha", "0912-345-678"),
    ("+84 912 345 678", "+84 912 345 678"),
    ("84912345678", "84912345678"),
    ("call me at +84912345678", "+84912345678"),
    ("(+84) 912-345-678", "(+84) 912-345-678"),
    ("+84 (0) 912 345 678", "+84 (0) 912 345 678"),
])
def test_mobile_numbers_in_every_format_are_one_number(text, span):
    assert found(text) == [("phone", span, "0912345678")]


def test_landlines_and_two_numbers():
    assert found("số bàn 028 3823 4567") == [("phone", "028 3823 4567", "02838234567")]
    assert found("0912345678 hoặc 0987654321") == [
        ("phone", "0912345678", "0912345678"), ("phone", "0987654321", "0987654321")]


@pytest.mark.parametrize("text", [
    "hotline 1900 6868", "chuyển khoản 0071 0012 34567", "0112345678", "số 12345",
    "sdt 0912 thôi", "mã 09123456789012",
])
def test_numbers_that_are_not_phones(text):
    assert [f for f in found(text) if f[0] == "phone"] == []


def test_email_is_lowercased_and_phone_inside_it_is_not_a_phone():
    assert found("mail: Lan.Nguyen@Gmail.com nhé") == [
        ("email", "Lan.Nguyen@Gmail.com", "lan.nguyen@gmail.com")]
    assert found("0912345678@gmail.com") == [("email", "0912345678@gmail.com",
                                              "0912345678@gmail.com")]


@pytest.mark.parametrize("text,span,value", [
    ("mã đơn HT123456 sao chưa giao", "HT123456", "HT123456"),
    ("đơn DH123456 bị hủy", "DH123456", "DH123456"),
    ("đơn ĐH998877 đổi địa chỉ", "ĐH998877", "DH998877"),
    ("kiểm tra giúp em đơn #123456", "#123456", "123456"),
    ("mã đơn 2411250001 chưa cập nhật", "2411250001", "2411250001"),
    ("đơn hàng số 123456 chưa nhận được", "123456", "123456"),
    ("don hang so 778899 bi tre", "778899", "778899"),
    ("dh 445566 giao thieu", "445566", "445566"),
    ("my order number is ht654321", "ht654321", "HT654321"),
    ("order #987654 hasn't arrived", "#987654", "987654"),
])
def test_order_numbers(text, span, value):
    assert found(text) == [("order_id", span, value)]


@pytest.mark.parametrize("text", [
    "yêu cầu #12 của mình", "hóa đơn số 123456", "mã vận đơn 123456789", "số 123456",
    "đơn 500000",  # a number after "đơn" is an order only when... it is one: see below
])
def test_not_order_numbers(text):
    entities = [f for f in found(text) if f[0] == "order_id"]
    if text == "đơn 500000":
        # Documented: 5-14 digits right after "đơn" are taken as an order number.
        assert entities == [("order_id", "500000", "500000")]
    else:
        assert entities == []


@pytest.mark.parametrize("text,span,value", [
    ("áo này giá 200k", "200k", 200_000),
    ("100 K thôi", "100 K", 100_000),
    ("tầm 2 triệu", "2 triệu", 2_000_000),
    ("tai nghe 1tr5", "1tr5", 1_500_000),
    ("đồng hồ 3tr250", "3tr250", 3_250_000),
    ("chuyển 1.500.000đ rồi", "1.500.000đ", 1_500_000),
    ("tổng 1.290.000₫", "1.290.000₫", 1_290_000),
    ("mình ck 1.200.000 rồi", "1.200.000", 1_200_000),
    ("500 nghìn", "500 nghìn", 500_000),
    ("30 ngàn", "30 ngàn", 30_000),
    ("2,5 triệu", "2,5 triệu", 2_500_000),
    ("gia 2.5 trieu", "2.5 trieu", 2_500_000),
    ("1 triệu rưỡi", "1 triệu rưỡi", 1_500_000),
    ("1 triệu 200 nghìn", "1 triệu 200 nghìn", 1_200_000),
    ("4 trăm nghìn", "4 trăm nghìn", 400_000),
    ("mua cái 2 củ", "2 củ", 2_000_000),
    ("1,500,000 VND", "1,500,000 VND", 1_500_000),
    ("350.000 đồng", "350.000 đồng", 350_000),
])
def test_money_in_dong(text, span, value):
    assert found(text) == [("money", span, value)]


def test_money_in_dollars_keeps_its_currency():
    for text, span in [("is it $20?", "$20"), ("costs 20 USD", "20 USD"), ("20 đô", "20 đô")]:
        [entity] = extract(text, now=MONDAY)
        assert (entity["entity"], text[entity["start"]:entity["end"]], entity["value"]) == \
            ("money", span, "20 USD")
        assert entity["additional_info"] == {"amount": 20.0, "currency": "USD"}
    assert found("it was $15.99") == [("money", "$15.99", "15.99 USD")]


@pytest.mark.parametrize("text", ["5 dòng", "giá 1.500", "mua 2 cái", "giảm 10%", "size 42",
                                  "giảm 1 tí"])
def test_not_money(text):
    assert [f for f in found(text) if f[0] == "money"] == []


def test_number_parsing():
    assert parse_number("1.500.000") == 1_500_000 == parse_number("1,500,000")
    assert parse_number("2,5") == 2.5 == parse_number("2.5")
    assert parse_number("1.500,50") == 1500.5
    assert parse_number("1..5") is None


@pytest.mark.parametrize("text,span,value", [
    ("mai giao được không", "mai", "2026-12-01"),
    ("ngày mai giao nhé", "ngày mai", "2026-12-01"),
    ("sáng mai có người nhận", "sáng mai", "2026-12-01"),
    ("hôm nay", "hôm nay", "2026-11-30"),
    ("tối nay giao", "tối nay", "2026-11-30"),
    ("đặt hôm qua", "hôm qua", "2026-11-29"),
    ("hqua em nhắn", "hqua", "2026-11-29"),
    ("ngày mốt", "ngày mốt", "2026-12-02"),
    ("hôm kia", "hôm kia", "2026-11-28"),
    ("thứ 2 tuần sau giao được không", "thứ 2 tuần sau", "2026-12-07"),
    ("thứ 6 này", "thứ 6 này", "2026-12-04"),
    ("giao thứ tư", "thứ tư", "2026-12-02"),
    ("thứ 2", "thứ 2", "2026-11-30"),  # today is Monday: the next Monday from today on
    ("t7 tuần sau", "t7 tuần sau", "2026-12-12"),
    ("thứ 4 tuần trước", "thứ 4 tuần trước", "2026-11-25"),
    ("chủ nhật", "chủ nhật", "2026-12-06"),
    ("trước 25/12", "25/12", "2026-12-25"),
    ("đặt ngày 20/11/2026", "20/11/2026", "2026-11-20"),
    ("giao trước ngày 5/1", "5/1", "2027-01-05"),  # nearest occurrence: next January
    ("đặt 20/11", "20/11", "2026-11-20"),  # ten days ago, not next year
    ("nghỉ từ 25 tháng 1", "25 tháng 1", "2027-01-25"),
    ("tomorrow", "tomorrow", "2026-12-01"),
    ("I ordered it yesterday", "yesterday", "2026-11-29"),
    ("by next monday", "next monday", "2026-12-07"),
    ("deliver this friday", "this friday", "2026-12-04"),
    ("I need it before Dec 24", "Dec 24", "2026-12-24"),
    ("placed on 2026-11-20", "2026-11-20", "2026-11-20"),
])
def test_dates_relative_to_the_message_time(text, span, value):
    assert found(text) == [("date", span, value)]


def test_dates_use_vietnam_time():
    # 23:30 on Sunday in Hanoi: "mai" is Monday, and "thứ 2 tuần sau" is that Monday.
    assert found("mai", now=SUNDAY_NIGHT) == [("date", "mai", "2026-11-30")]
    assert found("thứ 2 tuần sau", now=SUNDAY_NIGHT) == [("date", "thứ 2 tuần sau", "2026-11-30")]


@pytest.mark.parametrize("text", [
    "có khuyến mãi gì không", "khuyen mai thang nay", "khuyến mại", "chị Mai ơi",
    "mãi không thấy giao", "lần thứ 2 rồi", "theo thứ tự", "một cái", "30 tháng 2",
    "thử sau nhé",
])
def test_words_that_only_look_like_dates(text):
    assert [f for f in found(text) if f[0] == "date"] == []


def test_without_diacritics_the_same_entities():
    assert found("ngay mai giao duoc ko") == [("date", "ngay mai", "2026-12-01")]
    assert found("thu 2 tuan sau") == [("date", "thu 2 tuan sau", "2026-12-07")]
    assert found("gia 800 nghin") == [("money", "800 nghin", 800_000)]
    assert found("ma don HT112233 giao chua") == [("order_id", "HT112233", "HT112233")]


def test_nfd_input_gives_the_same_values_with_offsets_into_the_nfd_text():
    text = "ngày mai giao đơn hàng số 123456 giá 2 triệu đồng, thứ 2 tuần sau gọi 0912 345 678"
    decomposed = nfd(text)
    assert decomposed != text
    composed = found(text)
    assert [(k, v) for k, _, v in found(decomposed)] == [(k, v) for k, _, v in composed]
    # Offsets point into the NFD original: the spans are the NFD forms of the same words.
    assert [nfd(s) for _, s, _ in composed] == [s for _, s, _ in found(decomposed)]
    assert [k for k, _, _ in composed] == ["date", "order_id", "money", "date", "phone"]


def test_offsets_point_into_the_original_text():
    text = "  Shop ơi,   sđt   0912 345 678 ,   mai giao đơn #123456 giá 1tr5 nhé  "
    for entity in extract(text, now=MONDAY):
        assert text[entity["start"]:entity["end"]] == entity["text"]
    assert [e["text"] for e in extract(text, now=MONDAY)] == [
        "0912 345 678", "mai", "#123456", "1tr5"]


def test_teencode_and_mixed_languages():
    text = "sdt e 0708123456 a, ck 2tr cho dh HT303030 r, giao t6 dc ko"
    assert found(text) == [("phone", "0708123456", "0708123456"),
                           ("money", "2tr", 2_000_000),
                           ("order_id", "HT303030", "HT303030"),
                           ("date", "t6", "2026-12-04")]
    assert found("order HT121212 was $35, can I get it by friday?") == [
        ("order_id", "HT121212", "HT121212"), ("money", "$35", "35 USD"),
        ("date", "friday", "2026-12-04")]


@pytest.mark.parametrize("text", ["xin chào shop", "phí ship bao nhiêu", "ok", "👍", "", "   ",
                                  "cảm ơn shop nhiều", "talk to a person"])
def test_a_message_with_no_entity_gets_none(text):
    assert extract(text, now=MONDAY) == []


def test_hostile_input_neither_crashes_nor_hangs():
    rng = random.Random(7)
    texts = [
        "9" * 10_000, "0" * 10_000, "1.0" * 3_000, "@" * 5_000, "a@" * 3_000 + "b.cc",
        "thứ " * 2_000, "đ" * 5_000, "\u0301" * 5_000, "+84 " * 2_500,
        "".join(chr(rng.randrange(0x20, 0x2FFFF)) for _ in range(5_000)),
        "".join(rng.choice("0123456789 .-+()#kđ/tr") for _ in range(8_000)),
        "x" * 100_000,
    ]
    for text in texts:
        started = time.perf_counter()
        entities = extract(text, now=MONDAY)
        assert time.perf_counter() - started < 10, text[:20]
        for entity in entities:
            assert 0 <= entity["start"] < entity["end"] <= len(text)
    assert extract(None) == [] and find_entities(123) == []


def test_the_rasa_component_adds_entities_with_its_name():
    from rasa.shared.nlu.training_data.message import Message

    from bot.nlu.entities import SpacyRuleEntityExtractor

    component = SpacyRuleEntityExtractor.create(
        SpacyRuleEntityExtractor.get_default_config(), None, None, None)
    language = {"entity": "language", "value": "vi", "start": 0, "end": 10,
                "extractor": "LanguageDetector"}
    text = "sdt 0912.345.678, mai giao đơn HT123456 giá 200k nhé"
    message = Message(data={"text": text, "entities": [language]})
    plain = Message(data={"text": "xin chào"})
    component.process([message, plain])
    entities = message.get("entities")
    assert entities[0] == language
    assert [(e["entity"], text[e["start"]:e["end"]], e["extractor"]) for e in entities[1:]] == [
        ("phone", "0912.345.678", "SpacyRuleEntityExtractor"),
        ("date", "mai", "SpacyRuleEntityExtractor"),
        ("order_id", "HT123456", "SpacyRuleEntityExtractor"),
        ("money", "200k", "SpacyRuleEntityExtractor")]
    tomorrow = (local_now() + timedelta(days=1)).date().isoformat()  # Vietnam's tomorrow
    assert [e["value"] for e in entities[1:]] == ["0912345678", tomorrow, "HT123456", 200_000]
    assert not plain.get("entities")
    with pytest.raises(ValueError):
        SpacyRuleEntityExtractor({"entities": ["phone", "shoe_size"]})
    only_phones = SpacyRuleEntityExtractor({"entities": ["phone"]})
    message = Message(data={"text": text})
    only_phones.process([message])
    assert [e["entity"] for e in message.get("entities")] == ["phone"]


# --- used by the handoff -------------------------------------------------------------


def user(text, entities=(), intent="ask_question"):
    return {"event": "user", "text": text, "timestamp": 1.0,
            "parse_data": {"intent": {"name": intent, "confidence": 0.9},
                           "entities": list(entities)}}


def test_callback_contact_prefers_the_entities_and_falls_back_to_the_text():
    from bot.handoff.contact import contact_of, email_of, phone_of

    phone = {"entity": "phone", "value": "0912345678", "start": 4, "end": 16}
    assert contact_of("sdt 0912 345 678", [phone]) == "0912345678"
    assert contact_of("sdt 0987 654 321", []) == "0987654321"  # no entity: parsed
    assert contact_of("sdt 0987 654 321", [{"entity": "phone", "value": "12"}]) == "0987654321"
    email = {"entity": "email", "value": "lan@shop.vn", "start": 0, "end": 11}
    assert email_of("lan@shop.vn", [email]) == "lan@shop.vn"
    assert phone_of("lan@shop.vn", [email]) is None
    assert contact_of("xin chào", []) is None


def test_transcript_shows_each_messages_entities_and_the_last_order_number():
    from bot.handoff.transcript import build_transcript, mentioned_order_id

    order = {"entity": "order_id", "value": "HT123456", "start": 4, "end": 12,
             "extractor": "SpacyRuleEntityExtractor"}
    language = {"entity": "language", "value": "vi", "start": 0, "end": 12}
    events = [user("xin chào", [language]),
              user("đơn HT123456 chưa giao", [language, order]),
              {"event": "bot", "text": "…", "timestamp": 2.0},
              user("đơn #654321 nữa", [dict(order, value="654321")])]
    lines = build_transcript(events)
    assert "entities" not in lines[0]
    assert lines[1]["entities"] == [{"entity": "order_id", "value": "HT123456",
                                     "start": 4, "end": 12}]
    assert mentioned_order_id(events) == "654321"
    assert mentioned_order_id(events[:2]) == "HT123456"
    assert mentioned_order_id([user("hi")]) is None


def test_order_number_goes_on_the_ticket_and_into_the_webhook_payload(tmp_path, monkeypatch):
    from bot.handoff import handoff, helpdesk, store as store_module

    tickets = store_module.TicketStore(f"sqlite:///{tmp_path / 'h.db'}")
    monkeypatch.setattr(handoff, "ticket_store", lambda: tickets)
    monkeypatch.setattr(helpdesk, "ticket_store", lambda: tickets)
    monkeypatch.setattr(helpdesk, "_webhook_url", lambda: "http://127.0.0.1:9/hook")
    monkeypatch.setattr(helpdesk, "_ensure_worker", lambda: None)
    order = {"entity": "order_id", "value": "HT123456", "start": 4, "end": 12}
    events = [user("đơn HT123456 chưa giao", [order]),
              user("cho gặp nhân viên", intent="request_human")]
    result = handoff.hand_off("c-1", events, "request_human")
    assert result.ticket.order_id == "HT123456"
    assert tickets.get(result.ticket.id).order_id == "HT123456"
    assert result.ticket.transcript[0]["entities"][0]["value"] == "HT123456"
    with tickets.session() as session:
        body = json.loads(session.query(helpdesk.OutboxRow).one().body)
    assert body["ticket"]["order_id"] == "HT123456"
    # Mentioned later (e.g. with the call-back number): the ticket follows.
    later = events + [user("à nhầm, đơn #777888", [dict(order, value="777888")])]
    assert handoff.note_order_id(result.ticket, later).order_id == "777888"
    assert handoff.note_order_id(tickets.get(result.ticket.id), events[1:]).order_id == "777888"
    # No order mentioned: null, in the store and the payload.
    other = handoff.hand_off("c-2", [user("cho gặp nhân viên")], "request_human")
    assert other.ticket.order_id is None and "order_id" in other.ticket.as_dict()


def test_an_existing_database_gets_the_order_id_column(tmp_path):
    from bot.handoff import store as store_module

    path = tmp_path / "old.db"
    with sqlite3.connect(path) as db:  # the tickets table as the first release made it
        db.execute("""CREATE TABLE tickets (id INTEGER PRIMARY KEY,
            conversation_id VARCHAR(255) NOT NULL, channel VARCHAR(64) NOT NULL,
            customer_name VARCHAR(255), language VARCHAR(8) NOT NULL,
            reason VARCHAR(64) NOT NULL, status VARCHAR(16) NOT NULL,
            created_at DATETIME NOT NULL, assigned_to VARCHAR(255), assigned_at DATETIME,
            resolved_at DATETIME, contact VARCHAR(255), transcript_json TEXT NOT NULL)""")
        db.execute("""INSERT INTO tickets (conversation_id, channel, language, reason, status,
            created_at, transcript_json) VALUES ('old', '', 'vi', 'request_human', 'waiting',
            '2026-11-01 08:00:00', '[]')""")
    tickets = store_module.TicketStore(f"sqlite:///{path}")
    assert tickets.get(1).order_id is None and tickets.get(1).conversation_id == "old"
    assert tickets.set_order_id(1, "HT123456").order_id == "HT123456"
    store_module.TicketStore(f"sqlite:///{path}")  # a second start finds the column there
    with sqlite3.connect(path) as db:
        columns = [row[1] for row in db.execute("PRAGMA table_info(tickets)")]
    assert columns.count("order_id") == 1
