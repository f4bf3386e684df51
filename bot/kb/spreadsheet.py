"""Rows of an Excel workbook (.xlsx): the file a shop most often keeps its FAQ in.

`hotro kb import` and the console's import read a sheet's rows here and then exactly as a
CSV's (bot.kb.corpus.read_sheet_bytes). The first worksheet is read, values only (a formula
as the value Excel saved), each row as the text of its cells. A workbook is a zip of XML:
its unpacked size is checked before anything is parsed, and openpyxl parses with defusedxml
(installed with hotro), which refuses entity expansion.
"""
from __future__ import annotations

import datetime as dt
import io
import zipfile
from typing import List, Tuple

XLSX_MAGIC = b"PK\x03\x04"  # every .xlsx is a zip file
MAX_UNPACKED_BYTES = 50 * 1024 * 1024  # a 5,000-entry FAQ with phrasings unpacks to about 10 MB
# Rows and columns read: openpyxl pads every row up to the sheet's last used cell, so one cell
# at row 1,048,576 would mean a million empty rows (seconds of work) without these.
MAX_ROWS = 20_000
MAX_COLUMNS = 64
NOT_A_WORKBOOK = ("không đọc được tệp Excel: hãy lưu lại dưới dạng .xlsx hoặc CSV UTF-8 / "
                  "cannot read the Excel file: save it as .xlsx or CSV UTF-8")


class SheetError(ValueError):
    """The file is not a workbook hotro can read; the message says why, for the editor."""


def is_xlsx(data: bytes) -> bool:
    return data[:4] == XLSX_MAGIC


def xlsx_records(data: bytes) -> List[Tuple[int, List[str]]]:
    """(row number, cells as text) of the first worksheet, trailing empty cells dropped."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(member.file_size for member in archive.infolist())
    except (zipfile.BadZipFile, ValueError) as exc:
        raise SheetError(NOT_A_WORKBOOK) from exc
    if unpacked > MAX_UNPACKED_BYTES:
        raise SheetError(f"tệp Excel quá lớn khi giải nén (tối đa {MAX_UNPACKED_BYTES // 2**20} MB) / "
                         f"the Excel file is too large unpacked (at most {MAX_UNPACKED_BYTES // 2**20} MB)")
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - any damaged or hostile workbook: the same answer
        raise SheetError(NOT_A_WORKBOOK) from exc
    try:
        sheet = workbook.worksheets[0]
        last_row = sheet.max_row or 0  # as the file declares it
        rows = []
        for number, row in enumerate(sheet.iter_rows(max_row=MAX_ROWS + 1, max_col=MAX_COLUMNS,
                                                     values_only=True), start=1):
            cells = [_text(value) for value in row]
            while cells and not cells[-1]:
                cells.pop()
            rows.append((number, cells))
    except Exception as exc:  # noqa: BLE001
        raise SheetError(NOT_A_WORKBOOK) from exc
    finally:
        workbook.close()
    if last_row > MAX_ROWS or (len(rows) > MAX_ROWS and rows[-1][1]):
        raise SheetError(f"trang tính có dữ liệu tới dòng {max(last_row, len(rows))}, chỉ đọc tối đa "
                         f"{MAX_ROWS} dòng: hãy xóa các dòng thừa / the sheet has cells down to row "
                         f"{max(last_row, len(rows))}, at most {MAX_ROWS} rows are read: delete the rows "
                         "below the FAQ")
    return rows


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):  # a date cell ("updated")
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():  # 123456, not "123456.0"
        return str(int(value))
    return str(value)
