"""What importing a spreadsheet into the FAQ store would do, before it does it: which entries
it adds, changes, leaves as they are, and which conflict (the console's CSV import).

    entries, problems = read_sheet_bytes(data, "faq.csv")     # the importer's own parsing
    plan = preview_import(store, entries, problems)
    # {"add": [...], "change": [...], "unchanged": [...], "conflict": [...], "errors": [...]}

A row conflicts when it cannot be saved as it is: its entry was changed in the store after
the sheet was exported (the row's `updated` date is older than the stored entry's, so
importing it would undo that change), or it fails the checks of `hotro kb validate` against
the corpus it would make (e.g. a phrasing another entry uses), per field. Every other row
carries the `base_version` it is saved from, so a save made meanwhile is still refused when
the import is applied (FaqStore.save). Entries missing from the sheet are kept: a shop's
sheet may hold only some of its FAQ.
"""
from __future__ import annotations

from typing import Any, Dict, List, Sequence

from bot.kb.corpus import ERROR, Entry, Problem
from bot.kb.store import FaqStore, clean_entry, check_entry, entry_fields, field_changes


def preview_import(store: FaqStore, entries: Sequence[Entry], problems: Sequence[Problem]) -> Dict[str, Any]:
    now = {x.entry.id: x for x in store.stored(include_deleted=True)}
    merged = {i: x.entry for i, x in now.items() if not x.deleted}
    merged.update({e.id: clean_entry(e) for e in entries})
    by_line: Dict[int, List[str]] = {}
    for p in problems:
        if p.severity == ERROR:
            by_line.setdefault(p.line, []).append(p.message)
    lines = {e.line for e in entries}
    plan: Dict[str, Any] = {"add": [], "change": [], "unchanged": [], "conflict": [],
                            "errors": [str(p) for p in problems if p.severity == ERROR and p.line not in lines]}
    for e in entries:
        entry = clean_entry(e)
        cur = now.get(entry.id)
        before = None if cur is None or cur.deleted else cur.entry
        row = {"id": entry.id, "line": e.line, "entry": entry_fields(entry),
               "base_version": cur.version if cur else 0,
               "changes": field_changes(before, entry)}
        fields, _ = check_entry(entry, [x for i, x in merged.items() if i != entry.id])
        if e.line in by_line:
            fields.setdefault("row", []).extend(by_line[e.line])
        if before is not None and not row["changes"]:
            plan["unchanged"].append(row)
        elif fields:
            plan["conflict"].append({**row, "fields": fields})
        elif before is not None and e.updated and before.updated and e.updated < before.updated:
            plan["conflict"].append({**row, "stale": {"author": cur.author, "version": cur.version,
                                                      "saved_at": cur.to_dict()["saved_at"]}})
        else:
            plan["add" if before is None else "change"].append(row)
    return plan
