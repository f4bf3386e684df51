"""Corpus loading, validation (with file and line) and the CSV round trip."""
from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pytest

from bot.kb.corpus import ADVICE, MAX_ANSWER_CHARS, CorpusError, Entry, Problem, errors, load_corpus, validate_corpus
from bot.kb.corpus_writer import export_csv, import_sheet
from bot.settings import PROJECT_DIR



def line_of(text: str, needle: str, occurrence: int = 1) -> int:
    seen = 0
    for number, line in enumerate(text.splitlines(), 1):
        if needle in line:
            seen += 1
            if seen == occurrence:
                return number
    raise AssertionError(f"{needle!r} not in text")


BROKEN = f"""\
topic: orders
entries:
  - id: a-one
    question: Câu hỏi một?
    phrasings:
      - cách một
      - cách hai
      - cách ba
      - cách bốn
    answer: {{vi: "Trả lời một"}}
  - id: a-two
    question: ""
    phrasings:
      - Cách  MỘT!
      - khác hai
      - khác ba
      - khác bốn
    answer: {{vi: ""}}
  - question: Không có id?
    phrasings: [x1 y, x2 y, x3 y, x4 y]
    answer: {{vi: "{'a' * (MAX_ANSWER_CHARS + 1)}"}}
  - id: a-four
    question: Câu bốn?
    phrasings: [chỉ một]
    answer: {{vi: ok}}
    colour: red
  - id: a-one
    question: Trùng id
    phrasings: [y1 z, y2 z, y3 z, y4 z]
    answer: {{vi: ok, en: ok}}
"""


def test_validate_reports_every_problem_with_file_and_line(tmp_path, make_corpus):
    make_corpus(tmp_path, {"orders.yml": BROKEN})
    problems = validate_corpus(tmp_path)
    path = str(tmp_path / "orders.yml")
    assert all(p.file == path for p in problems)
    found = {(p.line, key) for p in problems
             for key in ("empty question", "also used by entry 'a-one'", "empty answer", "no id",
                         f"{MAX_ANSWER_CHARS + 1} characters", "4 or more", "unknown field 'colour'",
                         "duplicate id 'a-one'")
             if key in p.message}
    expected = {
        (line_of(BROKEN, 'question: ""'), "empty question"),
        (line_of(BROKEN, "Cách  MỘT!"), "also used by entry 'a-one'"),
        (line_of(BROKEN, 'answer: {vi: ""}'), "empty answer"),
        (line_of(BROKEN, "Không có id?"), "no id"),
        (line_of(BROKEN, "aaaa"), f"{MAX_ANSWER_CHARS + 1} characters"),
        (line_of(BROKEN, "[chỉ một]"), "4 or more"),
        (line_of(BROKEN, "colour: red"), "unknown field 'colour'"),
        (line_of(BROKEN, "- id: a-one", 2), "duplicate id 'a-one'"),
    }
    assert expected <= found, "\n".join(map(str, problems))
    # too few phrasings is advice: the corpus still loads for that alone
    few = [p for p in problems if "4 or more" in p.message]
    assert few and all(p.severity == ADVICE and "advice: " in str(p) for p in few)
    # str() is file:line: message, in file/line order
    assert str(problems[0]).startswith(f"{path}:{problems[0].line}: ")
    assert [p.line for p in problems] == sorted(p.line for p in problems)


def test_answer_limit_is_the_channels_limit():
    assert MAX_ANSWER_CHARS == 2000  # Messenger's text limit; Zalo OA's is about the same


def test_bad_yaml_is_reported_with_its_line(tmp_path, make_corpus, corpus_texts):
    good = make_corpus(tmp_path, {"orders.yml": corpus_texts["orders.yml"]})
    (good / "broken.yml").write_text("topic: broken\nentries:\n  - id: x\n    question: ok\n     phrasings: [a]\n",
                                     encoding="utf-8")
    problems = validate_corpus(good)
    assert [(Path(p.file).name, p.line) for p in problems] == [("broken.yml", 5)]
    assert "invalid YAML" in problems[0].message


def test_tab_and_encoding_errors_have_lines(tmp_path):
    (tmp_path / "a.yml").write_text("topic: a\nentries:\n  - id: x\n\tquestion: ok\n", encoding="utf-8")
    (tmp_path / "b.yml").write_bytes("topic: b\nentries:\n  - id: y\n    question: \xe9\n".encode("latin-1"))
    problems = {Path(p.file).name: p for p in validate_corpus(tmp_path)}
    assert problems["a.yml"].line == 4
    assert problems["b.yml"].line == 4 and "UTF-8" in problems["b.yml"].message


def test_missing_topic_and_duplicate_keys(tmp_path):
    (tmp_path / "a.yml").write_text("entries:\n  - id: x\n    id: y\n", encoding="utf-8")
    messages = [str(p) for p in validate_corpus(tmp_path)]
    assert any(":1: missing 'topic:'" in m for m in messages)
    assert any(":3: " in m and "appears twice" in m for m in messages)


def test_load_corpus_raises_with_all_problems(tmp_path, make_corpus):
    make_corpus(tmp_path, {"orders.yml": BROKEN})
    with pytest.raises(CorpusError) as info:
        load_corpus(tmp_path)
    assert len(info.value.problems) >= 7  # every error; advice does not stop a corpus
    assert all(isinstance(p, Problem) for p in info.value.problems)


def test_load_corpus_reads_entries(corpus_dir, corpus_texts):
    entries = load_corpus(corpus_dir)
    assert [e.id for e in entries] == ["orders-track", "orders-cancel", "payment-methods", "payment-vat-invoice"]
    track = entries[0]
    assert isinstance(track, Entry)
    assert track.topic == "orders" and track.tags == ["orders", "tracking"]
    assert track.updated == dt.date(2026, 11, 20)
    assert track.answer_en.startswith("Open My orders")
    assert Path(track.source).name == "orders.yml" and track.line == line_of(corpus_texts["orders.yml"], "- id: orders-track")
    vat = entries[3]
    assert vat.answer_en is None and vat.answer("en") == vat.answer_vi


def test_empty_directory_is_a_problem(tmp_path):
    assert validate_corpus(tmp_path)[0].message.startswith("no topic files")
    assert "does not exist" in validate_corpus(tmp_path / "nope")[0].message


def test_shipped_corpus_validates():
    problems = validate_corpus(PROJECT_DIR / "knowledge_base")
    assert errors(problems) == [], "\n".join(map(str, problems))


def test_a_plain_question_answer_sheet_is_enough(tmp_path):
    """A shop's first-day spreadsheet: two columns, Vietnamese headers, no ids or topics."""
    sheet = tmp_path / "faq.csv"
    sheet.write_text("Câu hỏi,Câu trả lời\n"
                     "Phí giao hàng bao nhiêu?,20.000đ nội thành.\n"
                     '"Đổi trả thế nào?","Trong 7 ngày, mang hóa đơn."\n'
                     "Phí giao hàng bao nhiêu vậy shop,Như trên.\n", encoding="utf-8-sig")
    result = import_sheet(sheet, tmp_path / "kb")
    assert result["entries"] == 3
    # what is missing is advice, not a refusal
    assert result["advice"] and all(p.severity == ADVICE for p in result["advice"])
    assert any("4 or more" in p.message for p in result["advice"])
    entries = load_corpus(tmp_path / "kb")
    assert [e.id for e in entries] == ["phi-giao-hang-bao-nhieu", "doi-tra-the-nao",
                                       "phi-giao-hang-bao-nhieu-vay"]
    assert entries[1].answer_vi == "Trong 7 ngày, mang hóa đơn." and entries[1].phrasings == []
    assert {e.topic for e in entries} == {"faq"}


def test_a_sheet_without_an_answer_column_is_refused(tmp_path):
    sheet = tmp_path / "faq.csv"
    sheet.write_text("question,notes\nPhí giao hàng?,x\n", encoding="utf-8")
    with pytest.raises(CorpusError) as info:
        import_sheet(sheet, tmp_path / "kb")
    assert "missing column(s): answer_vi" in info.value.problems[0].message


# --- CSV -------------------------------------------------------------------------------


def _comparable(entries):
    return [{k: v for k, v in e.to_dict().items() if k not in ("source", "line")} for e in entries]


def test_csv_round_trip(corpus_dir, tmp_path):
    entries = load_corpus(corpus_dir)
    # awkward text survives: quotes, commas, colons, YAML keywords, line breaks, hashes
    entries[0].phrasings.append('trả lời "yes": được, #1 nhé')
    entries[0].answer_vi += "\nDòng hai: có dấu hai chấm, và \"ngoặc kép\"."
    out = tmp_path / "kb.csv"
    export_csv(entries, out)
    with open(out, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["id", "topic", "question", "phrasings", "answer_vi", "answer_en", "tags", "updated"]
    assert rows[0]["phrasings"].count("\n") == len(entries[0].phrasings) - 1

    target = tmp_path / "imported"
    result = import_sheet(out, target)
    assert result["entries"] == 4 and len(result["written"]) == 2
    assert _comparable(load_corpus(target)) == _comparable(entries)
    # and exporting again gives the same file
    again = tmp_path / "again.csv"
    export_csv(load_corpus(target), again)
    assert again.read_bytes() == out.read_bytes()


def test_import_keeps_header_comment_and_removes_emptied_topics(corpus_dir, tmp_path):
    entries = [e for e in load_corpus(corpus_dir) if e.topic == "orders"]
    out = tmp_path / "orders_only.csv"
    export_csv(entries, out)
    result = import_sheet(out, corpus_dir)
    assert [Path(p).name for p in result["removed"]] == ["payment.yml"]
    text = (corpus_dir / "orders.yml").read_text(encoding="utf-8")
    assert text.startswith("# Orders: a small test topic\n")
    assert [e.id for e in load_corpus(corpus_dir)] == ["orders-track", "orders-cancel"]


def test_import_refuses_a_bad_csv_and_changes_nothing(corpus_dir, tmp_path):
    before = {p.name: p.read_bytes() for p in corpus_dir.iterdir()}
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "id,topic,question,phrasings,answer_vi,answer_en,tags,updated\n"
        'ok-1,orders,Câu một?,"a b\nc d\ne f\ng h",Trả lời,,x,2026-01-01\n'
        'ok-1,orders,,"a b\nc d",,,,not-a-date\n'
        'ok-3,orders,Câu ba?,"A  B!\nx y\nz w\nv u",Có,,,\n',
        encoding="utf-8")
    with pytest.raises(CorpusError) as info:
        import_sheet(bad, corpus_dir)
    messages = [str(p) for p in info.value.problems]
    # the second record starts on line 6 (the first has a four-line cell)
    assert any(m.startswith(f"{bad}:6: ") and "duplicate id" in m for m in messages), messages
    assert any(":6: " in m and "empty question" in m for m in messages)
    assert any(":6: " in m and "'updated'" in m for m in messages)
    assert any(":8: " in m and "phrasing 'A  B!' is also used by entry 'ok-1'" in m for m in messages)
    assert {p.name: p.read_bytes() for p in corpus_dir.iterdir()} == before


def test_import_refuses_missing_columns(corpus_dir, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("id,topic\nx,y\n", encoding="utf-8")
    with pytest.raises(CorpusError) as info:
        import_sheet(bad, corpus_dir)
    assert "missing column" in info.value.problems[0].message
