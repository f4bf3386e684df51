"""One customer across conversations, through the real Rasa, action server and console:
the same phone number given in two conversations links them for the agent."""
from __future__ import annotations

from tests.conftest import Customer


def test_agent_sees_the_earlier_conversation_of_the_same_phone_number(stack, agent,
                                                                      no_agent_online):
    a, b = Customer(stack), Customer(stack)
    a.say("shop ơi phí ship về hà nội bao nhiêu")
    assert "0912345678" in a.says_text("sdt cua minh la 0912 345 678")

    assert "chưa có nhân viên trực tuyến" in b.says_text("cho mình gặp nhân viên")
    assert "0912345678" in b.says_text("+84 912 345 678")

    console = stack.console_url
    inbox = agent.get(f"{console}/api/tickets", timeout=30).json()["tickets"]
    [ticket] = [t for t in inbox if t["conversation_id"] == b.sender]
    view = agent.get(f"{console}/api/tickets/{ticket['id']}", timeout=30).json()
    # Other tests may leave the same number: A's conversation is one of the linked ones.
    linked = {c["conversation_id"]: c for c in view["linked"]}
    assert b.sender not in linked
    earlier = linked[a.sender]
    assert (earlier["channel"], earlier["source"]) == ("rest", "live")
    assert [l["text"] for l in earlier["transcript"] if l["role"] == "customer"] == [
        "shop ơi phí ship về hà nội bao nhiêu", "sdt cua minh la 0912 345 678"]
    assert [l["text"] for l in view["transcript"] if l["role"] == "customer"] == [
        "cho mình gặp nhân viên", "+84 912 345 678"]
