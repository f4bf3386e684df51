"""Rasa buttons rendered for Messenger (quick replies) and Zalo (numbers, list template)."""
from __future__ import annotations

import unicodedata

from bot.channels.buttons import (Button, choice_from_reply, choices_of,
                                  messenger_messages, messenger_quick_replies,
                                  normalize_buttons, numbered_text, shorten, split_text, unreadable_message,
                                  zalo_list_template)

RASA_BUTTONS = [{"title": "Có, gặp nhân viên", "payload": "/request_human"},
                {"title": "Không, cảm ơn", "payload": "/deny"}]


def test_normalize_keeps_payload_and_link_buttons_and_drops_junk():
    buttons = normalize_buttons(RASA_BUTTONS + [
        {"title": "Trang web", "url": "https://shop.example", "type": "web_url"},
        {"title": "", "payload": "/x"}, {"payload": "/y"}, {"title": "no payload"}, "junk", 5,
    ])
    assert buttons == [Button("Có, gặp nhân viên", "/request_human"),
                       Button("Không, cảm ơn", "/deny"),
                       Button("Trang web", None, "https://shop.example")]
    assert normalize_buttons(None) == []


def test_messenger_quick_replies_follow_the_send_api_limits():
    many = normalize_buttons([{"title": f"Câu hỏi thường gặp số {i}", "payload": f"/q{i}"}
                              for i in range(20)])
    replies = messenger_quick_replies(many)
    assert len(replies) == 13
    assert all(r["content_type"] == "text" and len(r["title"]) <= 20 for r in replies)
    assert replies[0] == {"content_type": "text", "title": "Câu hỏi thường gặp…",
                          "payload": "/q0"}


def test_messenger_quick_reply_titles_count_vietnamese_characters_not_code_points():
    decomposed = unicodedata.normalize("NFD", "Gặp nhân viên hỗ trợ")  # 20 characters
    assert len(decomposed) > 20
    title = messenger_quick_replies([Button(decomposed, "/request_human")])[0]["title"]
    assert title == unicodedata.normalize("NFC", "Gặp nhân viên hỗ trợ") and len(title) == 20


def test_messenger_messages_put_quick_replies_on_the_last_part_and_links_in_text():
    buttons = normalize_buttons(RASA_BUTTONS + [{"title": "Web", "url": "https://x.example"}])
    messages = messenger_messages("Xin lỗi bạn. " * 300, buttons)
    assert len(messages) == 2 and all(len(m["text"]) <= 2000 for m in messages)
    assert "quick_replies" not in messages[0]
    assert [r["payload"] for r in messages[-1]["quick_replies"]] == ["/request_human", "/deny"]
    assert messages[-1]["text"].endswith("Web: https://x.example")


def test_numbered_text_and_the_reply_mapped_back():
    buttons = normalize_buttons(RASA_BUTTONS)
    text = numbered_text("Bạn có muốn gặp nhân viên không?", buttons)
    assert text.startswith("Bạn có muốn gặp nhân viên không?\n\n1. Có, gặp nhân viên\n"
                           "2. Không, cảm ơn")
    assert text.endswith("(Nhắn số để chọn)")  # the hint in the conversation's language
    assert numbered_text("Do you want a person?", buttons, "en").endswith("(Reply with a number)")
    choices = choices_of(buttons)
    assert choice_from_reply("1", choices) == "/request_human"
    assert choice_from_reply(" 2. ", choices) == "/deny"
    assert choice_from_reply("số 1", choices) == "/request_human"
    assert choice_from_reply("#2", choices) == "/deny"
    for reply in ("3", "0", "1 cái", "12abc", "", "một", None):
        assert choice_from_reply(reply, choices) is None
    assert choice_from_reply("1", []) is None


def test_zalo_list_template_sends_payloads_back_hidden():
    buttons = normalize_buttons(RASA_BUTTONS + [{"title": "Web", "url": "https://x.example"}])
    message = zalo_list_template(buttons)
    payload = message["attachment"]["payload"]
    assert message["attachment"]["type"] == "template" and payload["template_type"] == "list"
    assert payload["buttons"] == [
        {"title": "Có, gặp nhân viên", "type": "oa.query.hide", "payload": "/request_human"},
        {"title": "Không, cảm ơn", "type": "oa.query.hide", "payload": "/deny"},
        {"title": "Web", "type": "oa.open.url", "payload": {"url": "https://x.example"}}]
    assert payload["elements"] == [{"title": "Bạn chọn giúp mình nhé"}]
    assert zalo_list_template(buttons, "en")["attachment"]["payload"]["elements"] == [{"title": "Please choose"}]


def test_split_text_cuts_at_word_ends_within_the_limit():
    text = "đơn hàng " * 500
    parts = split_text(text, 2000)
    assert all(len(p) <= 2000 for p in parts) and len(parts) == 3
    assert " ".join(parts).split() == text.split()
    assert split_text("  ", 10) == [] and split_text("a" * 25, 10) == ["a" * 10] * 2 + ["a" * 5]
    assert shorten("abc", 5) == "abc" and shorten("abcdef", 5) == "abcd…"


def test_an_unreadable_message_enters_rasa_as_an_intent_with_its_kind():
    assert unreadable_message("sticker") == '/unreadable{"kind": "sticker"}'
    assert unreadable_message('x"}/evil') == '/unreadable{"kind": "xevil"}'  # nothing injected
    assert unreadable_message("") == '/unreadable{"kind": "other"}'

