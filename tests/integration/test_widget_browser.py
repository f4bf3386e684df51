"""The website widget in real headless Chromium (Debian's /usr/bin/chromium, driven over
the DevTools Protocol by tests/browser.py) against the real Rasa and action servers: the
demo page served by the stack, a question in Vietnamese, the history after a reload, HTML
shown as text, "Gặp nhân viên", an agent's named reply, the CSAT stars, a phone-sized
screen, the keyboard and a network drop. The agent works in the real console (its API). A
missing Chromium FAILS these tests."""
from __future__ import annotations

import os
import time

import pytest
import requests

from tests.browser import CHROMIUM, INSTALL_HINT, Browser
from tests.netproxy import TcpProxy

W = "#hotro-widget >>> "  # the widget lives in a shadow root
XSS = 'ảnh lỗi của mình đây <img src=x onerror="window.__xss=1"> shop xem giúp'


def shadow(expression: str) -> str:
    """JavaScript evaluated with `root` bound to the widget's shadow root."""
    return (f"(() => {{ const root = document.querySelector('#hotro-widget').shadowRoot;"
            f" return {expression}; }})()")


def bubbles(browser: Browser, role: str = "") -> list:
    return browser.evaluate(shadow(
        f"[...root.querySelectorAll('.log .msg{'.' + role if role else ''} .text')]"
        ".map(e => e.textContent)"))


def wait_bubble(browser: Browser, role: str, fragment: str, timeout: float = 60) -> None:
    try:
        browser.wait_for(shadow(
            f"[...root.querySelectorAll('.log .msg.{role} .text')]"
            f".some(e => e.textContent.includes({fragment!r}))"), timeout=timeout)
    except AssertionError:
        raise AssertionError(f"no {role} message with {fragment!r}; the widget shows "
                             f"{bubbles(browser)!r}") from None


@pytest.fixture
def browser():
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"the browser test needs Chromium at {CHROMIUM}: {INSTALL_HINT}")
    with Browser() as running:
        yield running
        assert running.errors == [], running.errors


def open_demo(browser: Browser, stack) -> None:
    browser.navigate(f"{stack.rasa_url}/webhooks/widget/demo")
    browser.wait_for("!!window.HotroWidget && !!document.querySelector('#hotro-widget')")


def send(browser: Browser, text: str) -> None:
    browser.type_into(W + "textarea", text)
    browser.click(W + "button.send")


def session_id(browser: Browser, stack) -> str:
    key = f"hotro:{stack.rasa_url}:session"
    return browser.wait_for(f"JSON.parse(localStorage.getItem({key!r}) || 'null')")


def test_customer_asks_reloads_and_reaches_a_person(browser, stack, tickets, wait_ticket,
                                                     agent):
    open_demo(browser, stack)
    assert browser.evaluate(shadow("root.querySelector('.panel').hidden")) is True
    browser.click(W + ".launcher")
    browser.wait_for(shadow("!root.querySelector('.panel').hidden"))
    assert browser.evaluate(shadow(
        "root.querySelector('.launcher').getAttribute('aria-expanded')")) == "true"

    # A question in Vietnamese gets the FAQ's answer.
    send(browser, "phí ship về hà nội bao nhiêu vậy shop")
    wait_bubble(browser, "bot", "20.000đ")
    assert bubbles(browser, "customer") == ["phí ship về hà nội bao nhiêu vậy shop"]
    sid = session_id(browser, stack)
    assert len(sid) == 32

    # A reload keeps the conversation: same session, history from the server.
    open_demo(browser, stack)
    wait_bubble(browser, "bot", "20.000đ", timeout=30)
    assert bubbles(browser, "customer") == ["phí ship về hà nội bao nhiêu vậy shop"]
    assert session_id(browser, stack) == sid

    # A second tab of the same site continues the same conversation.
    browser.evaluate("(window.__tab2 = window.open(location.href), true)")
    tab2 = "(window.__tab2.document.querySelector('#hotro-widget') || {}).shadowRoot"
    tab2_bot = f"[...(({tab2}) ? {tab2}.querySelectorAll('.log .msg.bot .text') : [])]"
    browser.wait_for(f"{tab2_bot}.some(e => e.textContent.includes('20.000đ'))", timeout=30)

    # HTML in a message is shown as the characters typed and never runs.
    answered = len(bubbles(browser, "bot"))
    send(browser, XSS)
    wait_bubble(browser, "customer", XSS)
    browser.wait_for(shadow(f"root.querySelectorAll('.log .msg.bot').length > {answered}"))
    assert browser.evaluate("typeof window.__xss") == "undefined"
    assert browser.evaluate(shadow("root.querySelectorAll('img').length")) == 0

    # "Gặp nhân viên": the handoff message, and a ticket for this widget session.
    browser.click(W + "button.human")
    wait_bubble(browser, "customer", "Gặp nhân viên")
    ticket = wait_ticket(sid)
    assert ticket.channel == "widget" and ticket.reason == "request_human"
    wait_bubble(browser, "bot", f"êu cầu #{ticket.id}")  # "Yêu cầu #7 …" / "… yêu cầu #7"
    # The other tab got the reply live, too.
    browser.wait_for(f"{tab2_bot}.some(e => e.textContent.includes('#{ticket.id}'))")
    assert XSS in [line["text"] for line in ticket.transcript]

    # The agent answers from the console: the reply shows with her name.
    console = f"{stack.console_url}/api/tickets/{ticket.id}"
    agent.get(f"{stack.console_url}/", timeout=30).raise_for_status()  # she is online
    agent.post(f"{console}/reply", json={"text": "Chào bạn, mình là Lan, mình xem đơn giúp "
                                                 "bạn nhé."}, timeout=30).raise_for_status()
    wait_bubble(browser, "agent", "mình là Lan", timeout=30)
    assert browser.evaluate(shadow(
        "root.querySelector('.log .msg.agent .who').textContent")) == "lan (nhân viên): "

    # She resolves the ticket: the widget asks for stars, the customer picks five, the
    # rating is stored.
    agent.post(f"{console}/resolve", json={}, timeout=60).raise_for_status()
    browser.wait_for(shadow("root.querySelectorAll('.choices.stars button').length === 5"),
                     timeout=30)
    labels = browser.evaluate(shadow(
        "[...root.querySelectorAll('.choices.stars button')].map(b => b.getAttribute('aria-label'))"))
    assert labels == ["1 sao", "2 sao", "3 sao", "4 sao", "5 sao"]
    browser.click(W + ".choices.stars button:nth-child(5)")
    wait_bubble(browser, "bot", "Cảm ơn bạn đã đánh giá")
    assert tickets.ratings(sid) == [5]


def test_phone_screen_keyboard_and_screen_reader(browser, stack):
    browser.send("Emulation.setDeviceMetricsOverride", width=390, height=844,
                 deviceScaleFactor=2, mobile=True)
    open_demo(browser, stack)
    browser.click(W + ".launcher")
    browser.wait_for(shadow("!root.querySelector('.panel').hidden"))
    # On a phone the chat takes the whole screen.
    width, height = browser.evaluate(shadow(
        "(() => { const r = root.querySelector('.panel').getBoundingClientRect();"
        " return [r.width, r.height]; })()"))
    assert width == 390 and height == 844

    # Roles a screen reader announces; the input has a label.
    roles = browser.evaluate(shadow(
        "['.panel', '.log', '.typing'].map(s => root.querySelector(s).getAttribute('role'))"))
    assert roles == ["dialog", "log", "status"]
    assert browser.evaluate(shadow("root.querySelector('.log').getAttribute('aria-live')")) == "polite"
    assert browser.evaluate(shadow("root.querySelector('label[for=hotro-input]').textContent"))

    # Opening puts the cursor in the message box; Enter sends; Escape closes and gives the
    # focus back to the launcher.
    assert browser.evaluate(shadow("root.activeElement === root.querySelector('textarea')"))
    browser.send("Input.insertText", text="xin chao shop")
    browser.send("Input.dispatchKeyEvent", type="keyDown", key="Enter", code="Enter",
                 windowsVirtualKeyCode=13)
    browser.send("Input.dispatchKeyEvent", type="keyUp", key="Enter", code="Enter",
                 windowsVirtualKeyCode=13)
    wait_bubble(browser, "customer", "xin chao shop")
    wait_bubble(browser, "bot", "Xin chào")
    browser.send("Input.dispatchKeyEvent", type="keyDown", key="Escape", code="Escape",
                 windowsVirtualKeyCode=27)
    browser.wait_for(shadow("root.querySelector('.panel').hidden"))
    assert browser.evaluate(shadow("root.activeElement === root.querySelector('.launcher')"))


def test_a_network_drop_loses_no_message(browser, stack):
    """The connection dies (proxy cut): the widget says so, keeps what the customer types,
    and once the network is back sends it once and shows what was said meanwhile."""
    proxy = TcpProxy(int(stack.rasa_url.rsplit(":", 1)[1]))
    try:
        browser.navigate(f"http://127.0.0.1:{proxy.port}/webhooks/widget/demo")
        browser.wait_for("!!window.HotroWidget")
        browser.click(W + ".launcher")
        send(browser, "xin chào shop")
        wait_bubble(browser, "bot", "Xin chào")
        key = f"hotro:http://127.0.0.1:{proxy.port}:session"
        sid = browser.wait_for(f"JSON.parse(localStorage.getItem({key!r}) || 'null')")

        proxy.cut()
        browser.wait_for(shadow("!root.querySelector('.status').hidden"), timeout=30)
        # While the customer is offline an agent writes, and the customer types.
        requests.post(f"{stack.rasa_url}/conversations/{sid}/tracker/events",
                      params={"output_channel": "latest", "execute_side_effects": "true"},
                      json=[{"event": "bot", "text": "Bạn còn đó không ạ?",
                             "metadata": {"agent": "lan", "agent_name": "Lan"}}],
                      timeout=30).raise_for_status()
        send(browser, "phí ship về hà nội bao nhiêu vậy shop")
        wait_bubble(browser, "customer", "phí ship")
        assert browser.evaluate(shadow("root.querySelector('.msg.customer.pending') !== null"))
        time.sleep(3)  # a few failed reconnects

        proxy.restore()
        browser.wait_for(shadow("root.querySelector('.status').hidden"), timeout=60)
        wait_bubble(browser, "agent", "Bạn còn đó không ạ?", timeout=30)
        wait_bubble(browser, "bot", "20.000đ", timeout=60)
        browser.wait_for(shadow("root.querySelector('.msg.customer.pending') === null"))
        assert bubbles(browser, "customer") == ["xin chào shop",
                                                "phí ship về hà nội bao nhiêu vậy shop"]
        sent = [m["text"] for m in requests.get(
            f"{stack.rasa_url}/webhooks/widget/history", params={"session_id": sid},
            timeout=30).json()["messages"] if m["role"] == "customer"]
        assert sent == ["xin chào shop", "phí ship về hà nội bao nhiêu vậy shop"]  # once
    finally:
        proxy.close()


def test_a_refused_message_is_sent_again_with_one_tap(browser, stack):
    """Faster than the channel allows one session (a burst of 20, then one a second), the
    last messages are refused: each says "chưa gửi được" with a "Gửi lại" button, and one tap
    later the question is answered, shown once."""
    question = "phí ship về hà nội bao nhiêu vậy shop"
    open_demo(browser, stack)
    browser.click(W + ".launcher")
    send(browser, "xin chào shop")
    wait_bubble(browser, "bot", "Xin chào")
    browser.evaluate(shadow(  # 24 thumbs-up at once, then the question: the burst is spent
        "(() => { const t = root.querySelector('textarea'), f = root.querySelector('form');"
        " for (let i = 0; i < 24; i++) { t.value = '👍'; f.requestSubmit(); }"
        f" t.value = {question!r}; f.requestSubmit(); return true; }})()"))
    refused = (f"[...root.querySelectorAll('.msg.customer')].find(n =>"
               f" n.querySelector('.text').textContent === {question!r})")
    browser.wait_for(shadow(f"!!{refused}.querySelector('.retry')"), timeout=30)
    assert browser.evaluate(shadow(f"{refused}.querySelector('.note').textContent")) == "chưa gửi được"
    assert browser.evaluate(shadow(f"{refused}.querySelector('.retry').textContent")) == "Gửi lại"
    time.sleep(2)  # the limit lets one more through each second
    browser.evaluate(shadow(f"{refused}.querySelector('.retry').click()"))
    wait_bubble(browser, "bot", "20.000đ", timeout=90)
    browser.wait_for(shadow(f"!{refused}.classList.contains('pending')"), timeout=30)
    assert bubbles(browser, "customer").count(question) == 1
