"""An FAQ kept in Excel is imported as it is (bot/kb/spreadsheet.py, bot.kb.corpus.read_sheet_bytes)."""
from __future__ import annotations

import datetime as dt
import io
import zipfile

import openpyxl

from bot.kb.corpus import read_sheet_bytes
from bot.kb.spreadsheet import MAX_UNPACKED_BYTES


def workbook(rows, other_sheet=None) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Câu hỏi thường gặp"
    for row in rows:
        sheet.append(row)
    if other_sheet:
        extra = book.create_sheet("Ghi chú")
        for row in other_sheet:
            extra.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_a_shop_s_excel_sheet_is_read_like_its_csv():
    data = workbook([
        ["Câu hỏi", "Câu trả lời", "Cách hỏi khác", "Ngày cập nhật"],
        ["Phí giao hàng bao nhiêu?", "20.000đ nội thành.", "ship bao nhiêu\nphí ship", dt.datetime(2026, 11, 30)],
        [None, None, None, None],  # an empty row between entries
        ["Tiệm mở cửa mấy giờ?", "Từ 6 giờ sáng đến 9 giờ tối.", None, None],
        ["Mã giảm giá tối đa?", 50000, None, None],  # a number typed into the answer cell
    ], other_sheet=[["question", "answer"], ["not read", "only the first sheet is the FAQ"]])
    entries, problems = read_sheet_bytes(data, "faq.xlsx")
    assert not [p for p in problems if p.severity == "error"], problems
    assert [e.question for e in entries] == ["Phí giao hàng bao nhiêu?", "Tiệm mở cửa mấy giờ?", "Mã giảm giá tối đa?"]
    assert entries[0].phrasings == ["ship bao nhiêu", "phí ship"]
    assert entries[0].updated == dt.date(2026, 11, 30)
    assert entries[2].answer_vi == "50000"  # not "50000.0"
    # problems point at the sheet's own row numbers
    assert [e.line for e in entries] == [2, 4, 5]


def test_a_damaged_or_foreign_file_gets_a_clear_message_not_an_error():
    valid = workbook([["question", "answer"], ["Tiệm ở đâu?", "Số 12 Lê Lợi."]])
    other_zip = io.BytesIO()
    with zipfile.ZipFile(other_zip, "w") as archive:
        archive.writestr("readme.txt", "not a workbook")
    for data in (valid[: len(valid) // 2], b"PK\x03\x04" + b"\x00" * 100, other_zip.getvalue()):
        entries, problems = read_sheet_bytes(data, "faq.xlsx")
        assert entries == [] and len(problems) == 1
        assert ".xlsx" in problems[0].message and "CSV UTF-8" in problems[0].message


def test_a_workbook_that_unpacks_to_too_much_is_refused_before_it_is_parsed():
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"\x00" * (MAX_UNPACKED_BYTES + 1))
    assert len(bomb.getvalue()) < 200_000
    entries, problems = read_sheet_bytes(bomb.getvalue(), "faq.xlsx")  # sized from the zip's directory
    assert entries == [] and "too large unpacked" in problems[0].message


def test_a_cell_far_below_the_faq_is_refused_not_read_through_a_million_rows():
    book = openpyxl.Workbook()
    book.active.append(["question", "answer"])
    book.active.append(["Tiệm ở đâu?", "Số 12 Lê Lợi."])
    book.active.cell(row=1_048_576, column=16_384, value="x")
    data = io.BytesIO()
    book.save(data)
    entries, problems = read_sheet_bytes(data.getvalue(), "faq.xlsx")
    assert entries == [] and "row 1048576" in problems[0].message and "delete the rows" in problems[0].message
