"""`hotro kb import / export / validate` with `kb.source: store`: a sheet or the YAML
directory goes into the store as versions and is published; the store comes back out as
YAML topic files for git."""
from __future__ import annotations

import csv

import openpyxl
import pytest
import yaml

from bot.kb.commands import main
from bot.kb.corpus import load_corpus
from bot.kb.store import FaqStore
from bot.settings import PROJECT_DIR, load_settings


@pytest.fixture
def config(tmp_path, corpus_dir, monkeypatch):
    settings = yaml.safe_load((PROJECT_DIR / "hotro.yml").read_text(encoding="utf-8"))
    settings["kb"].update(source="store", corpus_dir=str(corpus_dir), index_dir=str(tmp_path / "index"))
    settings["handoff"]["database_url"] = f"sqlite:///{tmp_path / 'hotro.db'}"
    path = tmp_path / "hotro.yml"
    path.write_text(yaml.safe_dump(settings, allow_unicode=True), encoding="utf-8")
    monkeypatch.setenv("HOTRO_CONFIG", str(path))
    load_settings.cache_clear()
    yield settings
    load_settings.cache_clear()


def test_import_a_sheet_into_the_store_publishes_it(config, tmp_path, capsys):
    sheet = tmp_path / "faq.csv"
    with open(sheet, "w", newline="", encoding="utf-8-sig") as handle:
        csv.writer(handle).writerows([["Câu hỏi", "Câu trả lời"],
                                      ["Tiệm mở cửa mấy giờ?", "Từ 6 giờ sáng đến 9 giờ tối."],
                                      ["Tiệm ở đâu?", "Số 12 Lê Lợi, quận 1."]])
    assert main(["kb", "import", str(sheet), "--author", "chu-tiem"]) == 0
    out = capsys.readouterr().out
    assert "2 added" in out and "published store version" in out
    store = FaqStore(config["handoff"]["database_url"])
    pub, entries = store.published_entries()
    assert sorted(e.question for e in entries) == ["Tiệm mở cửa mấy giờ?", "Tiệm ở đâu?"]
    assert {h.author for e in entries for h in store.history(e.id)} == {"chu-tiem"}

    with open(sheet, "a", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerow(["Có giao hàng không?", "Có, trong bán kính 5 km."])
    assert main(["kb", "import", str(sheet), "--no-publish"]) == 0
    assert "1 added" in capsys.readouterr().out and store.unpublished() == 1
    assert store.published() == pub  # not published: customers still get the old FAQ


def test_an_excel_sheet_is_imported_as_it_is(config, tmp_path, capsys):
    book = openpyxl.Workbook()
    for row in (["Câu hỏi", "Câu trả lời"], ["Tiệm ở đâu?", "Số 12 Lê Lợi, quận 1."],
                ["Giá bánh kem?", 250000]):
        book.active.append(row)
    book.save(tmp_path / "faq.xlsx")
    assert main(["kb", "import", str(tmp_path / "faq.xlsx")]) == 0
    assert "2 added" in capsys.readouterr().out
    _, entries = FaqStore(config["handoff"]["database_url"]).published_entries()
    assert sorted((e.question, e.answer_vi) for e in entries) == [("Giá bánh kem?", "250000"),
                                                                  ("Tiệm ở đâu?", "Số 12 Lê Lợi, quận 1.")]
    (tmp_path / "broken.xlsx").write_bytes(b"PK\x03\x04 not really a workbook")
    assert main(["kb", "import", str(tmp_path / "broken.xlsx")]) == 1
    assert "cannot read the Excel file" in capsys.readouterr().out


def test_a_bad_sheet_changes_nothing(config, tmp_path, capsys):
    sheet = tmp_path / "bad.csv"
    sheet.write_text("question,answer\nTiệm ở đâu?,\n", encoding="utf-8")
    assert main(["kb", "import", str(sheet)]) == 1
    assert "empty answer" in capsys.readouterr().out
    assert FaqStore(config["handoff"]["database_url"]).is_empty()


def test_export_writes_the_store_back_as_yaml_and_import_reads_it(config, corpus_dir, tmp_path, capsys):
    assert main(["kb", "validate"]) == 0  # seeds the empty store from corpus_dir first
    assert "FAQ store: 4 entries, no errors" in capsys.readouterr().out
    store = FaqStore(config["handoff"]["database_url"])
    out = tmp_path / "exported"
    assert main(["kb", "export", "--out", str(out)]) == 0
    exported = load_corpus(out)
    assert [(e.id, e.answer_vi) for e in exported] == [(e.id, e.answer_vi) for e in load_corpus(corpus_dir)]
    # an edit made in git comes back in as one new version
    text = (out / "orders.yml").read_text(encoding="utf-8")
    (out / "orders.yml").write_text(text.replace("mã vận đơn.", "mã vận đơn của đơn."), encoding="utf-8")
    assert main(["kb", "import", str(out)]) == 0
    assert "1 changed" in capsys.readouterr().out
    assert store.current("orders-track").version == 2
    assert store.current("orders-track").changed == ["answer_vi"]
