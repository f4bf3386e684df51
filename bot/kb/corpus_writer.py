"""Writing the FAQ corpus: topic files in the hand-written style, and the spreadsheet round trip.

`export_csv` writes the corpus as one spreadsheet; `import_sheet` replaces the corpus with an
edited one (read and checked by bot.kb.corpus.read_sheet_entries first: nothing is written
unless it is valid). Files are replaced atomically.
"""
from __future__ import annotations

import csv
import json
import os
import tempfile
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

import yaml

from bot.kb.corpus import (ADVICE, CSV_COLUMNS, CorpusError, Entry, Problem, corpus_files, errors,
                           read_sheet_entries)


def export_csv(entries: Sequence[Entry], path: str | os.PathLike) -> None:
    """One row per entry; phrasings one per line inside their cell, tags comma-separated.

    Written as UTF-8 with a byte-order mark so spreadsheet programs show Vietnamese correctly.
    """
    rows = [{
        "id": e.id, "topic": e.topic, "question": e.question,
        "phrasings": "\n".join(e.phrasings), "answer_vi": e.answer_vi,
        "answer_en": e.answer_en or "", "tags": ", ".join(e.tags),
        "updated": e.updated.isoformat() if e.updated else "",
    } for e in entries]
    _atomic_write(Path(path), lambda handle: _write_csv(handle, rows), encoding="utf-8-sig")


def _write_csv(handle, rows) -> None:
    writer = csv.DictWriter(handle, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)


def import_sheet(path: str | os.PathLike, corpus_dir: str | os.PathLike) -> Dict[str, Any]:
    """Replace the corpus with the entries of a spreadsheet (.xlsx, or an exported and edited CSV).

    The sheet is the whole corpus: each topic's YAML file is rewritten (keeping its leading
    comment), new topics get a new file, and files of topics with no rows left are removed.
    Nothing is written unless the CSV is valid: otherwise CorpusError lists its problems.
    Returns {"written": [...], "removed": [...], "entries": n, "advice": [Problem...]}.
    """
    entries, problems = read_sheet_entries(path)
    if errors(problems):
        raise CorpusError(problems)
    if not entries:
        raise CorpusError([Problem(str(path), 1, "no entries: refusing to empty the corpus")])
    return {**export_yaml(entries, corpus_dir), "entries": len(entries),
            "advice": [p for p in problems if p.severity == ADVICE]}


def export_yaml(entries: Sequence[Entry], corpus_dir: str | os.PathLike) -> Dict[str, Any]:
    """Write `entries` as topic files in `corpus_dir` (the FAQ store's export for git):
    one file per topic, keeping existing files' names and leading comments, removing the
    files of topics that have no entries left. Returns {"written": [...], "removed": [...]}."""
    root = Path(corpus_dir)
    root.mkdir(parents=True, exist_ok=True)
    existing: Dict[str, Path] = {}
    for file in corpus_files(root):
        topic = _peek_topic(file)
        if topic and topic not in existing:
            existing[topic] = file
    by_topic: Dict[str, List[Entry]] = {}
    for e in entries:
        by_topic.setdefault(e.topic, []).append(e)
    # Render everything first, then swap files in, so a failure leaves the corpus as it was.
    outputs: Dict[Path, str] = {}
    for topic, topic_entries in by_topic.items():
        file = existing.get(topic, root / f"{topic}.yml")
        outputs[file] = render_topic_yaml(topic, topic_entries, header=_header_comment(file))
    for file, text in outputs.items():
        _check_rendered(file, text, by_topic)
    for file, text in outputs.items():
        _atomic_write(file, lambda handle, text=text: handle.write(text))
    removed = []
    for topic, file in existing.items():
        if topic not in by_topic and file not in outputs:
            file.unlink()
            removed.append(str(file))
    return {"written": sorted(str(f) for f in outputs), "removed": sorted(removed)}


def _peek_topic(path: Path) -> Optional[str]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8-sig"))
    except (yaml.YAMLError, UnicodeDecodeError, OSError):
        return path.stem
    topic = data.get("topic") if isinstance(data, dict) else None
    return topic if isinstance(topic, str) else path.stem


def _header_comment(path: Path) -> str:
    if not path.exists():
        return ""
    lines = []
    for line in path.read_text(encoding="utf-8-sig").splitlines():
        if line.startswith("#"):
            lines.append(line)
        else:
            break
    return "\n".join(lines)


def _check_rendered(file: Path, text: str, by_topic: Dict[str, List[Entry]]) -> None:
    """Belt and braces: what we are about to write must read back as the same entries."""
    data = yaml.safe_load(text)
    expected = by_topic[data["topic"]]
    if len(data["entries"]) != len(expected):
        raise RuntimeError(f"rendering {file} lost entries")
    for raw, e in zip(data["entries"], expected):
        answer = raw.get("answer") or {}
        if (raw["id"], raw["question"], raw.get("phrasings", []), answer.get("vi"), answer.get("en")) != (
                e.id, e.question, e.phrasings, e.answer_vi, e.answer_en):
            raise RuntimeError(f"rendering {file} changed entry {e.id!r}")


# --- writing YAML ----------------------------------------------------------------------


def render_topic_yaml(topic: str, entries: Sequence[Entry], header: str = "") -> str:
    """A topic file in the hand-written style of knowledge_base/ (block lists, quoted answers)."""
    out: List[str] = []
    if header:
        out.append(header.rstrip("\n"))
    out.append(f"topic: {_scalar(topic)}")
    out.append("entries:")
    for i, e in enumerate(entries):
        if i:
            out.append("")
        out.append(f"  - id: {_scalar(e.id)}")
        out.append(f"    question: {_scalar(e.question)}")
        if e.phrasings:
            out.append("    phrasings:")
            out.extend(f"      - {_scalar(p)}" for p in e.phrasings)
        else:
            out.append("    phrasings: []")
        out.append("    answer:")
        out.append(f"      vi: {_quoted(e.answer_vi)}")
        if e.answer_en:
            out.append(f"      en: {_quoted(e.answer_en)}")
        out.append(f"    tags: [{', '.join(_flow_scalar(t) for t in e.tags)}]")
        if e.updated:
            out.append(f"    updated: {e.updated.isoformat()}")
    return "\n".join(out) + "\n"


def _quoted(text: str) -> str:
    # A JSON string is a valid YAML double-quoted scalar with the same escapes.
    return json.dumps(text, ensure_ascii=False)


def _scalar(text: str) -> str:
    """Plain when YAML reads it back unchanged, else double-quoted."""
    if text and "\n" not in text and text == text.strip():
        try:
            if yaml.safe_load(f"k: {text}") == {"k": text}:
                return text
        except yaml.YAMLError:
            pass
    return _quoted(text)


def _flow_scalar(text: str) -> str:
    if text and not any(c in text for c in ",[]{}") and text == text.strip():
        try:
            if yaml.safe_load(f"[{text}]") == [text]:
                return text
        except yaml.YAMLError:
            pass
    return _quoted(text)


def _atomic_write(path: Path, write, encoding: str = "utf-8") -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=str(path.parent))
    try:
        with os.fdopen(fd, "w", encoding=encoding, newline="") as handle:
            write(handle)
        # mkstemp makes the file private; keep the old file's mode or the usual rw-r--r--
        mode = path.stat().st_mode & 0o777 if path.exists() else 0o666 & ~_umask()
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
