"""Every support metric, worked out by hand, for a known mix of conversations driven through
the real stack (Rasa server with its SQL event broker, action server, console).

Customers on two channels (REST and the widget) get an FAQ answer, suggestions they pick or
leave, the FAQ's "don't know", two messages the bot cannot take and a handoff, "not
understood" and the offer of a person (in English), or ask for a person outright; an agent
in the console replies and resolves, and the customers rate 1 to 5 or leave the survey
unanswered. The events are read back from the broker's table and handed to
bot.analytics.metrics.

Rasa stamps events with the clock, and a test cannot wait a day or for the shop to close,
so each conversation's events are moved in time as a whole (what happens inside it keeps
its real timing): the mix to Tuesday 2026-11-17 from 10:00 on, two conversations to Monday
(the previous period, for the trend), one handoff to 20:59:58 with the agent's reply and
everything after it moved 11 h 10 min later (the next morning, the shop closed 21:00-08:00).
Counts, rates, the rating distribution and the trend are literal numbers below, each with
how it was counted; times are worked out from the events' own timestamps by the simple
rules the README states (not with bot/analytics code).
"""
from __future__ import annotations

import time
from datetime import date
from statistics import median

import pytest

from bot.analytics.events import read_events
from bot.analytics.metrics import metrics
from tests.conftest import Customer, SocketCustomer
from tests.integration.conftest import GREY_ZONE, console_open
from tests.unit.test_analytics import SHOP, at

TUESDAY, MONDAY = date(2026, 11, 17), date(2026, 11, 16)
CLOSED_OVERNIGHT = 11 * 3600  # 21:00 -> 08:00 (SHOP)
OVERNIGHT = CLOSED_OVERNIGHT + 10 * 60  # the agent answers at about 08:10 the next morning

# What the customer reads (domain.yml): handed over, the survey, thanks for the rating.
VI_WORDS = ("đã chuyển bạn đến nhân viên", "chấm giúp shop", "Cảm ơn bạn đã đánh giá")
EN_WORDS = ("passing you to a support agent", "Please rate from 1", "Thank you for your rating")


def is_agent(event):
    return event["event"] == "bot" and (event.get("metadata") or {}).get("agent")


def is_handoff(event):
    return event["event"] == "bot" and (event.get("metadata") or {}).get("handoff")


def moved(events, first_at):
    """The conversation's events moved so that its first one is at `first_at`."""
    delta = first_at - events[0]["timestamp"]
    return [{**e, "timestamp": e["timestamp"] + delta} for e in events]


def overnight(events, handoff_at):
    """Moved so the handoff is at `handoff_at`; the agent's reply and all after it OVERNIGHT
    later."""
    handoff = next(e for e in events if is_handoff(e))
    events = moved(events, events[0]["timestamp"] + handoff_at - handoff["timestamp"])
    reply = next(i for i, e in enumerate(events) if is_agent(e))
    return events[:reply] + [{**e, "timestamp": e["timestamp"] + OVERNIGHT}
                             for e in events[reply:]]


# --- the conversations: each returns (sender id, the last text the customer got) -------

def rest_answered(stack):
    customer = Customer(stack)
    last = customer.say("phí ship về hà nội bao nhiêu vậy shop")[-1]["text"]
    assert "20.000đ" in last
    return customer.sender, last


def rest_dont_know(stack):
    customer = Customer(stack)  # a shop question the FAQ does not answer
    last = customer.say("shop có bán kính mắt không")[-1]["text"]
    assert "chưa có câu trả lời chắc chắn" in last
    return customer.sender, last


def rest_suggested(stack, pick: bool):
    for question in GREY_ZONE:
        customer = Customer(stack)
        reply = customer.say(question)
        if reply[0]["text"].startswith("Bạn muốn hỏi về nội dung nào"):
            break
    else:
        pytest.fail(f"none of {GREY_ZONE} got suggestions: {reply}")
    if pick:
        payload = next(b["payload"] for b in reply[0]["buttons"] if "shipping-fee" in b["payload"])
        reply = customer.say(payload)
        assert "20.000đ nội thành" in reply[-1]["text"]
    return customer.sender, reply[-1]["text"]


def widget_handoff(stack, agent, wait_ticket, messages, rating=None, words=VI_WORDS):
    """The customer's `messages` (the last one hands over), then an agent's reply and
    resolution in the console, then the rating (None: the survey is left unanswered)."""
    handed_over, rating_question, thanks = words
    customer = SocketCustomer(stack)
    try:
        for n, text in enumerate(messages):
            before = len(customer.received)
            customer.send(text)
            if n < len(messages) - 1:
                deadline_wait(lambda: len(customer.received) > before)
        customer.wait_for(handed_over)
        ticket = wait_ticket(customer.session_id)
        console = stack.console_url
        agent.post(f"{console}/api/tickets/{ticket.id}/reply", timeout=30,
                   json={"text": f"Chào bạn, mình là Lan (#{ticket.id})."}).raise_for_status()
        customer.wait_for(f"mình là Lan (#{ticket.id})")
        agent.post(f"{console}/api/tickets/{ticket.id}/resolve", json={},
                   timeout=30).raise_for_status()
        last = customer.wait_for(rating_question)
        if rating is not None:
            customer.send(f'/rate{{"rating": "{rating}"}}')
            last = customer.wait_for(thanks)
        return customer.session_id, last["text"]
    finally:
        customer.close()


def deadline_wait(condition, timeout=60):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the bot did not answer"
        time.sleep(0.1)


ASK_PERSON = ["cho mình gặp nhân viên với"]
NOT_UNDERSTOOD = ["chim se dau canh cay", "ca vang boi trong ho"]  # as test_handoff.py
UNSURE_THEN_PERSON = ["galaxy nebula quasar", "/request_human"]  # English; the offered button


@pytest.fixture(scope="module")
def online(stack, agent, tickets):
    """The console's agent, online for this module only."""
    with console_open(stack, agent, tickets):
        yield agent


@pytest.fixture(scope="module")
def mix(stack, online, wait_ticket):
    """The events of each conversation by name, as the broker has them."""
    senders = {
        # Tuesday, REST
        "answered": rest_answered(stack),
        "picked": rest_suggested(stack, pick=True),
        "not_picked": rest_suggested(stack, pick=False),
        "dont_know": rest_dont_know(stack),
        # Tuesday, widget: handed over, answered and resolved by the agent
        "failed_twice": widget_handoff(stack, online, wait_ticket, NOT_UNDERSTOOD, 1),
        "asked_2": widget_handoff(stack, online, wait_ticket, ASK_PERSON, 2),
        "unsure": widget_handoff(stack, online, wait_ticket, UNSURE_THEN_PERSON, 3, EN_WORDS),
        "asked_4": widget_handoff(stack, online, wait_ticket, ASK_PERSON, 4),
        "asked_5": widget_handoff(stack, online, wait_ticket, ASK_PERSON, 5),
        "no_rating": widget_handoff(stack, online, wait_ticket, ASK_PERSON, None),
        # Monday (the previous period)
        "monday_answered": rest_answered(stack),
        "monday_overnight": widget_handoff(stack, online, wait_ticket, ASK_PERSON, 5),
    }
    # Rasa publishes a turn's events as it saves the tracker: wait for each last reply.
    deadline = time.monotonic() + 30
    while True:
        events = read_events(str(stack.var_dir / "events.db"))
        published = {(e.get("sender_id"), e.get("text")) for e in events if e["event"] == "bot"}
        if all(last in published for last in senders.values()):
            break
        assert time.monotonic() < deadline, "the broker is missing the last replies"
        time.sleep(0.5)
    return {name: [e for e in events if e.get("sender_id") == sender]
            for name, (sender, _) in senders.items()}


TUESDAY_REST = ["answered", "picked", "not_picked", "dont_know"]
TUESDAY_WIDGET = ["failed_twice", "asked_2", "unsure", "asked_4", "asked_5", "no_rating"]


@pytest.fixture(scope="module")
def events(mix):
    """The mix in time (module docstring): Tuesday's conversations 10 minutes apart from
    10:00, Monday's answered one at 10:00 and its handoff at 20:59:58."""
    placed = {}
    for n, name in enumerate(TUESDAY_REST + TUESDAY_WIDGET):
        placed[name] = moved(mix[name], at(17, 10, 0) + 600 * n)
    placed["monday_answered"] = moved(mix["monday_answered"], at(16, 10, 0))
    placed["monday_overnight"] = overnight(mix["monday_overnight"], at(16, 20, 59, 58))
    return placed


@pytest.fixture(scope="module")
def report(events):
    return metrics([e for group in events.values() for e in group], TUESDAY, TUESDAY, shop=SHOP)




def test_counts_and_rates(report):
    t = report["totals"]
    # 4 REST + 6 widget conversations began on Tuesday.
    assert t["conversations"] == 10
    # answered 1, picked 2 (question, button), not picked 1, dont_know 1, failed_twice 3
    # (two, rating), asked_2/4/5 2 each (ask, rating), unsure 3 (question, button, rating),
    # no_rating 1.
    assert t["customer_messages"] == 18
    # The four REST conversations: no handoff, no agent message (the "don't know" one too:
    # the customer did not ask for the person they could have had).
    assert t["contained"] == 4 and t["containment_rate"] == 0.4
    # The six widget conversations handed over: 4 asked outright, 1 after the unsure answer
    # ("not understood", then the offered button), 1 after two out-of-scope messages.
    assert t["handed_off"] == 6 and t["handoff_rate"] == 0.6
    assert t["handoffs_by_reason"] == {"request_human": 4, "low_confidence": 1,
                                       "bot_failed_twice": 1}
    assert t["handoff_rate_by_reason"] == {"request_human": 0.4, "low_confidence": 0.1,
                                           "bot_failed_twice": 0.1}
    # FAQ: "answered" answered; "picked" and "not_picked" suggested, "picked" pressed one
    # (its answer is the pick, not another "answered"); "dont_know" the FAQ's don't know
    # (the two failures and the unsure answer are the NLU's, not the FAQ's).
    assert t["faq_answered"] == 1
    assert t["faq_suggested"] == 2 and t["faq_picked"] == 1 and t["faq_pick_rate"] == 0.5
    assert t["faq_dont_know"] == 1
    # Turns: one per customer message (18); failed: dont_know's, the two out-of-scope ones
    # of failed_twice, the unsure one.
    assert t["turns"] == 18 and t["failed_turns"] == 4 and t["failed_turn_rate"] == 0.2222
    # The bot answered every customer message (the agent's replies are not the bot's).
    assert t["bot_replies"] == 18
    # Six handoffs, each answered by the agent and resolved.
    assert t["handoffs"] == 6 and t["handoffs_answered"] == 6 and t["resolved"] == 6
    # Six surveys on resolving, five answered: 1, 2, 3, 4 and 5 stars; 4 and 5 satisfied.
    assert t["surveys"] == 6 and t["surveys_answered"] == 5
    assert t["survey_response_rate"] == 0.8333
    assert t["ratings"] == 5 and t["csat"] == 0.4
    assert t["rating_distribution"] == {"1": 1, "2": 1, "3": 1, "4": 1, "5": 1}


def test_by_channel(report):
    rest, widget = report["by_channel"]["rest"], report["by_channel"]["widget"]
    assert set(report["by_channel"]) == {"rest", "widget"}
    assert (rest["conversations"], rest["contained"], rest["handed_off"]) == (4, 4, 0)
    assert (rest["faq_answered"], rest["faq_suggested"], rest["faq_picked"],
            rest["faq_dont_know"]) == (1, 2, 1, 1)
    assert rest["customer_messages"] == 5 and rest["ratings"] == 0 and rest["csat"] is None
    assert rest["containment_rate"] == 1.0 and rest["surveys"] == 0
    assert (widget["conversations"], widget["contained"], widget["handed_off"]) == (6, 0, 6)
    assert widget["customer_messages"] == 13 and widget["faq_dont_know"] == 0
    assert widget["failed_turns"] == 3 and widget["handoff_rate"] == 1.0
    assert widget["csat"] == 0.4 and widget["survey_response_rate"] == 0.8333
    # One day in the range: its numbers are the period's.
    assert [d["date"] for d in report["by_day"]] == ["2026-11-17"]
    assert report["by_day"][0]["conversations"] == 10 and report["by_day"][0]["csat"] == 0.4


def test_the_previous_period_and_the_trend(report):
    p = report["previous"]
    assert (p["from"], p["to"]) == ("2026-11-16", "2026-11-16")
    # Monday: one answered REST conversation, one widget handoff rated 5.
    assert (p["conversations"], p["contained"], p["handed_off"]) == (2, 1, 1)
    assert p["faq_answered"] == 1 and p["customer_messages"] == 3
    assert (p["surveys"], p["ratings"], p["csat"]) == (1, 1, 1.0)
    trend = report["trend"]
    assert trend["conversations"] == 8  # 10 - 2
    assert trend["containment_rate"] == -0.1  # 0.4 - 0.5
    assert trend["handoff_rate"] == 0.1  # 0.6 - 0.5
    assert trend["csat"] == -0.6  # 0.4 - 1.0
    assert trend["survey_response_rate"] == -0.1667  # 0.8333 - 1.0
    assert trend["rating_distribution"] == {"1": 1, "2": 1, "3": 1, "4": 1, "5": 0}


def gaps_to_first_reply(events):
    """Seconds from each customer message to the bot's first reply before the next one."""
    gaps, waiting = [], None
    for e in events:
        if e["event"] == "user":
            waiting = e["timestamp"]
        elif e["event"] == "bot" and not is_agent(e) and waiting is not None:
            gaps.append(e["timestamp"] - waiting)
            waiting = None
    return gaps


def nearest_rank(values, p):
    ordered = sorted(values)
    return ordered[-(-len(ordered) * p // 100) - 1]


def handoff_times(events):
    """(to the first agent message, to the rating question sent on resolving)."""
    handoff = next(e["timestamp"] for e in events if is_handoff(e))
    reply = next(e["timestamp"] for e in events if is_agent(e))
    resolved = next(e["timestamp"] for e in events if e["event"] == "bot" and
                    (e.get("metadata") or {}).get("utter_action") == "utter_ask_rating")
    return reply - handoff, resolved - handoff


def test_times(report, events):
    t = report["totals"]
    tuesday = [events[name] for name in TUESDAY_REST + TUESDAY_WIDGET]
    gaps = [g for conversation in tuesday for g in gaps_to_first_reply(conversation)]
    assert len(gaps) == 18
    assert t["bot_response_p50_s"] == pytest.approx(nearest_rank(gaps, 50), abs=1e-3)
    assert t["bot_response_p95_s"] == pytest.approx(nearest_rank(gaps, 95), abs=1e-3)
    assert 0 < t["bot_response_p50_s"] <= t["bot_response_p95_s"]
    first, resolution = zip(*(handoff_times(events[name]) for name in TUESDAY_WIDGET))
    assert t["first_human_response_median_s"] == pytest.approx(median(first), abs=1e-3)
    # From 10:00, all within office hours: every second of waiting counts.
    assert t["first_human_response_office_median_s"] == pytest.approx(median(first), abs=1e-3)
    assert t["resolution_median_s"] == pytest.approx(median(resolution), abs=1e-3)

    # Monday's handoff at 20:59:58, answered the next morning: 11 hours of it closed.
    p = report["previous"]
    waited, resolved_after = handoff_times(events["monday_overnight"])
    assert waited > OVERNIGHT
    assert p["first_human_response_median_s"] == pytest.approx(waited, abs=1e-3)
    assert p["first_human_response_office_median_s"] == pytest.approx(
        waited - CLOSED_OVERNIGHT, abs=1e-3)
    assert p["resolution_median_s"] == pytest.approx(resolved_after, abs=1e-3)
