"""Issue 11's closing demonstration in real headless Chromium against the real stack (Rasa
server with the event broker, action server, console): customers ask what the FAQ does not
cover, the bot fails; an editor logs in, opens the unanswered group those conversations
made, makes an entry from it and publishes; the same question on the widget then gets the
new answer. A missing Chromium FAILS this test.

HOTRO_SAVE_SCREENSHOTS=1 also writes the unanswered view to docs/unanswered.png.
"""
from __future__ import annotations

import os
import time

from bot.settings import PROJECT_DIR
from tests.browser import Browser
from tests.conftest import Customer
from tests.integration.conftest import console_login
from tests.integration.test_widget_browser import W, browser, open_demo, send, wait_bubble  # noqa: F401

AO_DAI = ["có cho thuê áo dài không", "shop cho thuê áo dài ko", "shop có cho thuê áo dài không ạ"]
XSS = '<img src=x onerror="window.__xss=1"> cho thuê áo dài không'
ANSWER = "Shop cho thuê áo dài truyền thống và áo dài cưới, giá từ 150.000đ một ngày."


def card(group_key: str) -> str:
    return f'article.group[data-group="{group_key}"] '


def test_an_editor_turns_unanswered_questions_into_an_answer(browser: Browser, stack, stack_settings):
    # Customers ask, each in their own conversation; the FAQ has no answer.
    for text in AO_DAI + [XSS]:
        reply = Customer(stack).says_text(text)
        assert "150.000đ" not in reply
    console_login(stack, stack_settings, "mai", "editor")  # the account (hotro user add)

    browser.navigate(f"{stack.console_url}/unanswered")
    assert browser.evaluate("location.pathname") == "/login"
    browser.type_into("#username", "mai")
    browser.type_into("#password", "mat-khau-dai-123")
    browser.click("#login-submit")
    browser.wait_for("location.pathname === '/unanswered' && document.body.dataset.loaded === '1'",
                     timeout=180)
    # The group the conversations made: the áo dài questions together.
    group = browser.wait_for(
        "(() => { const c = [...document.querySelectorAll('article.group')].find(g =>"
        " [...g.querySelectorAll('.examples .text')].some(e => e.textContent === "
        f"{AO_DAI[0]!r})); return c && {{key: c.dataset.group, texts: [...c.querySelectorAll("
        "'.examples .text')].map(e => e.textContent)}; })()")
    assert len(set(group["texts"]) & set(AO_DAI + [XSS])) >= 2, group
    # HTML in a customer's message shows as the characters typed and never runs.
    all_texts = browser.evaluate("[...document.querySelectorAll('.examples .text')].map(e => e.textContent)")
    assert XSS in all_texts
    assert browser.evaluate("typeof window.__xss") == "undefined"
    assert browser.evaluate("document.querySelectorAll('#groups img').length") == 0

    # A new entry, prefilled from the group, without the message that was HTML.
    browser.evaluate(f"[...document.querySelectorAll({(card(group['key']) + 'input.example')!r})]"
                     f".filter(b => b.dataset.text === {XSS!r}).forEach(b => b.click())")
    chosen = browser.evaluate(
        f"[...document.querySelectorAll({(card(group['key']) + 'input.example:checked')!r})]"
        ".map(b => [b.dataset.text, JSON.parse(b.dataset.keys)])")
    assert XSS not in [text for text, _ in chosen] and len(chosen) >= 2
    browser.click(card(group["key"]) + "button.new-entry-open")
    form = card(group["key"]) + "form.new-entry "
    browser.wait_for(f"!document.querySelector({form.strip()!r}).hidden")
    assert browser.evaluate(f"document.querySelector({(form + 'input[name=question]')!r}).value") == chosen[0][0]
    browser.type_into(form + "textarea[name=answer_vi]", ANSWER)
    browser.type_into(form + "textarea[name=answer_en]",
                      "We rent out traditional and wedding áo dài from 150,000 VND a day.")
    if os.environ.get("HOTRO_SAVE_SCREENSHOTS"):
        (PROJECT_DIR / "docs").mkdir(exist_ok=True)
        browser.screenshot(PROJECT_DIR / "docs" / "unanswered.png")
    entry_id = browser.evaluate(f"document.querySelector({(form + 'input[name=id]')!r}).value")
    browser.click(form + "button.save-entry")
    browser.wait_for(f"document.querySelector({(card(group['key']) + '.group-state')!r})"
                     ".textContent.includes('Đã tạo câu hỏi')")
    browser.click("#publish")
    browser.wait_for("!!document.body.dataset.published")
    assert browser.errors == []

    # Every server serves the published version within seconds; then the widget answers.
    deadline = time.monotonic() + 90
    while "150.000đ" not in Customer(stack).says_text(AO_DAI[0]):
        assert time.monotonic() < deadline, "the published entry was not served within 90 s"
        time.sleep(1)
    open_demo(browser, stack)
    browser.click(W + ".launcher")
    send(browser, AO_DAI[0])
    wait_bubble(browser, "bot", "150.000đ")

    # The group's messages are done: the page no longer lists them (the questions asked
    # while the new version was on its way are new failures, listed).
    editor = console_login(stack, stack_settings, "thu", "editor")
    groups = editor.get(f"{stack.console_url}/api/unanswered", timeout=180).json()["groups"]
    listed = {k for g in groups for k in g["keys"]}
    assert not {k for _, keys in chosen for k in keys} & listed
    assert entry_id.startswith(("co-cho-thue-ao-dai", "shop-"))
