"""The custom actions, called as the action server calls them (a tracker in, messages and
events out), against a real ticket database: what the customer is told, and what is kept."""
from __future__ import annotations

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.events import ConversationPaused
from rasa_sdk.executor import CollectingDispatcher

from actions.handoff import ActionFallback, ActionRecordRating, ActionSaveContact
from bot.handoff.store import ticket_store
from bot.settings import PROJECT_DIR, load_settings


@pytest.fixture
def tickets(tmp_path, monkeypatch):
    """hotro.yml with a fresh ticket database, and support open round the clock."""
    settings = yaml.safe_load((PROJECT_DIR / "hotro.yml").read_text(encoding="utf-8"))
    settings["handoff"]["database_url"] = f"sqlite:///{tmp_path / 'hotro.db'}"
    settings["handoff"]["webhook_url"] = ""
    settings["support"]["office_hours"] = {"days": list(range(7)), "open": "00:00", "close": "24:00"}
    path = tmp_path / "hotro.yml"
    path.write_text(yaml.safe_dump(settings, allow_unicode=True), encoding="utf-8")
    monkeypatch.setenv("HOTRO_CONFIG", str(path))
    load_settings.cache_clear()
    yield ticket_store()
    load_settings.cache_clear()


def user(text, intent="ask_question", entities=()):
    return {"event": "user", "text": text, "timestamp": 1.0, "input_channel": "zalo",
            "parse_data": {"text": text, "intent": {"name": intent, "confidence": 0.9},
                           "entities": list(entities)}}


def bot(text, **metadata):
    return {"event": "bot", "text": text, "timestamp": 2.0, "metadata": metadata}


def run(action, events, conversation="c-1", language="vi"):
    latest = events[-1]["parse_data"]
    tracker = Tracker(conversation, {"language": language}, latest, events, False, None, {}, "action_listen")
    dispatcher = CollectingDispatcher()
    returned = action.run(dispatcher, tracker, {})
    return dispatcher.messages, returned


def test_a_call_back_number_opens_a_ticket_and_is_confirmed_with_its_number(tickets):
    messages, _ = run(ActionSaveContact(), [user("sdt mình là 0912 345 678 nhé", "give_contact")])
    [said] = messages
    assert said["response"] == "utter_contact_saved" and said["contact"] == "0912345678"
    ticket = tickets.get(said["ticket"])
    assert ticket.contact == "0912345678" and ticket.reason == "callback" and ticket.channel == "zalo"
    # An email later goes on the same open ticket.
    messages, _ = run(ActionSaveContact(), [user("hoặc email lan@shop.vn", "give_contact")])
    assert messages[0]["ticket"] == ticket.id and tickets.get(ticket.id).contact == "lan@shop.vn"


def test_a_wrong_number_is_questioned_and_nothing_is_opened(tickets):
    messages, _ = run(ActionSaveContact(), [user("số mình là 12345", "give_contact")], conversation="c-2")
    assert [m["response"] for m in messages] == ["utter_contact_invalid"]
    assert tickets.open_ticket_for("c-2") is None


@pytest.mark.parametrize("text,entities,kept", [
    ("5", (), 5), ("cho shop 4 sao nhé", (), 4), ("/rate", [{"entity": "rating", "value": "2"}], 2),
    ("10 điểm", (), None), ("tuyệt vời", (), None), ("/rate", [{"entity": "rating", "value": "9"}], None),
])
def test_a_rating_is_kept_or_asked_again(tickets, text, entities, kept):
    messages, _ = run(ActionRecordRating(), [user(text, "rate", entities)], conversation=f"r-{text}")
    if kept is None:
        assert [m["response"] for m in messages] == ["utter_ask_rating"]
        assert tickets.ratings(f"r-{text}") == []
    else:
        assert [m["response"] for m in messages] == ["utter_rating_thanks"]
        assert tickets.ratings(f"r-{text}") == [kept]


def test_the_second_failure_in_a_row_hands_over_with_the_transcript(tickets):
    first = [user("abc xyz", "nlu_fallback")]
    messages, events = run(ActionFallback(), first, conversation="f-1")
    assert messages[0]["response"] == "utter_default" and messages[0]["failure"] is True
    assert events == [] and tickets.open_ticket_for("f-1") is None

    second = first + [bot("Xin lỗi, mình chưa hiểu", failure=True), user("qwe rty", "nlu_fallback")]
    messages, events = run(ActionFallback(), second, conversation="f-1", language="en")
    ticket = tickets.open_ticket_for("f-1")
    assert ticket.reason == "bot_failed_twice" and ticket.language == "en"
    assert [line["text"] for line in ticket.transcript if line["role"] == "customer"] == ["abc xyz", "qwe rty"]
    # Nobody is online: the customer is told so and asked for a contact; the bot keeps listening.
    assert messages[0]["response"] == "utter_handoff_no_agent" and messages[0]["ticket"] == ticket.id
    assert ConversationPaused() not in events
