"""The FAQ corpus: one YAML file per topic in knowledge_base/, loaded into `Entry` objects.

File schema (content editors write these by hand or through the console):

    topic: orders
    entries:
      - id: orders-track
        question: Làm sao để theo dõi đơn hàng của tôi?
        phrasings: [ ... at least MIN_PHRASINGS other ways customers ask it ... ]
        answer: {vi: "...", en: "..."}   # en optional: Vietnamese is the fallback
        tags: [orders, tracking]
        updated: 2026-11-20

`validate_corpus` reports every problem with its file and line; `load_corpus` refuses a
corpus with any problem (`CorpusError`); `read_sheet_entries` reads and checks a spreadsheet
(an Excel .xlsx, bot/kb/spreadsheet.py, or a CSV file) the same way. Writing the corpus
(topic files, CSV export and import) is in bot/kb/corpus_writer.py.
"""
from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

import yaml

from bot.kb.spreadsheet import SheetError, is_xlsx, xlsx_records
from bot.text import fold

# Messenger rejects a text message over 2000 characters; Zalo OA's limit is about the same.
MAX_ANSWER_CHARS = 2000
# Fewer ways of asking than this and search has less to match customers' wording: advice,
# not a refusal (a plain question-and-answer spreadsheet is enough to start).
MIN_PHRASINGS = 4
ERROR, ADVICE = "error", "advice"
# Spreadsheet headers a shop may use for our columns (folded, lower case).
CSV_ALIASES = {
    "question": "question", "cau hoi": "question", "hoi": "question", "q": "question",
    "answer": "answer_vi", "answer_vi": "answer_vi", "cau tra loi": "answer_vi", "tra loi": "answer_vi",
    "a": "answer_vi", "answer_en": "answer_en", "english answer": "answer_en",
    "cau tra loi tieng anh": "answer_en", "id": "id", "ma": "id", "topic": "topic", "chu de": "topic",
    "phrasings": "phrasings", "cach hoi khac": "phrasings", "tags": "tags", "the": "tags",
    "updated": "updated", "ngay cap nhat": "updated",
}
DEFAULT_TOPIC = "faq"
# Ids travel inside button payloads (/ask_question{"faq_id":"<id>"}) and file names.
ID_RE = re.compile(r"^[a-z0-9][a-z0-9_.\-]*$")
TOPIC_RE = re.compile(r"^[a-z0-9][a-z0-9_\-]*$")
CORPUS_SUFFIXES = (".yml", ".yaml")
CSV_COLUMNS = ["id", "topic", "question", "phrasings", "answer_vi", "answer_en", "tags", "updated"]

_ENTRY_KEYS = {"id", "question", "phrasings", "answer", "tags", "updated"}
_ANSWER_KEYS = {"vi", "en"}
_TOP_KEYS = {"topic", "entries"}


@dataclass
class Entry:
    """One FAQ entry: a question, other ways customers ask it, and the answer."""

    id: str
    topic: str
    question: str
    phrasings: List[str]
    answer_vi: str
    answer_en: Optional[str] = None
    tags: List[str] = field(default_factory=list)
    updated: Optional[dt.date] = None
    source: str = ""  # the file it was read from
    line: int = 0  # the line its "- id:" is on (1-based)
    # line of each field ("question", "answer.vi", "phrasings.2", ...) for precise problems
    lines: Dict[str, int] = field(default_factory=dict, compare=False, repr=False)

    def texts(self) -> List[str]:
        """The texts search matches a customer's message against: question, then phrasings."""
        return [t for t in [self.question, *self.phrasings] if t and t.strip()]

    def answer(self, language: str = "vi") -> str:
        """The answer in `language`, Vietnamese when there is no English answer."""
        if language == "en" and self.answer_en:
            return self.answer_en
        return self.answer_vi

    def to_dict(self) -> Dict[str, Any]:
        return {
            "id": self.id, "topic": self.topic, "question": self.question,
            "phrasings": list(self.phrasings), "answer_vi": self.answer_vi,
            "answer_en": self.answer_en, "tags": list(self.tags),
            "updated": self.updated.isoformat() if self.updated else None,
            "source": self.source, "line": self.line,
        }

    @classmethod
    def from_dict(cls, d: Dict[str, Any]) -> "Entry":
        updated = d.get("updated")
        return cls(
            id=d["id"], topic=d.get("topic", ""), question=d.get("question", ""),
            phrasings=list(d.get("phrasings") or []), answer_vi=d.get("answer_vi", ""),
            answer_en=d.get("answer_en") or None, tags=list(d.get("tags") or []),
            updated=dt.date.fromisoformat(updated) if updated else None,
            source=d.get("source", ""), line=int(d.get("line") or 0),
        )

    def content_hash(self) -> str:
        """Changes whenever anything a customer could see or search on changes."""
        payload = {k: v for k, v in self.to_dict().items() if k not in ("source", "line")}
        return _sha(json.dumps(payload, ensure_ascii=False, sort_keys=True))


@dataclass(frozen=True)
class Problem:
    """Something to fix (ERROR: the corpus is refused) or to improve (ADVICE: it works)."""

    file: str
    line: int
    message: str
    severity: str = ERROR

    def __str__(self) -> str:
        tag = "advice: " if self.severity == ADVICE else ""
        return f"{self.file}:{self.line}: {tag}{self.message}"


def errors(problems: Iterable[Problem]) -> List[Problem]:
    return [p for p in problems if p.severity == ERROR]


class CorpusError(Exception):
    """The corpus has errors; `problems` lists every one of them."""

    def __init__(self, problems: Sequence[Problem]):
        self.problems = errors(problems)
        shown = "\n".join(f"  {p}" for p in self.problems[:20])
        more = f"\n  ... and {len(self.problems) - 20} more" if len(self.problems) > 20 else ""
        super().__init__(f"{len(self.problems)} problem(s) in the FAQ corpus:\n{shown}{more}")


# --- reading ---------------------------------------------------------------------------


def corpus_files(corpus_dir: str | os.PathLike) -> List[Path]:
    root = Path(corpus_dir)
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if p.suffix in CORPUS_SUFFIXES and p.is_file()
                  and not p.name.startswith("."))


def validate_corpus(corpus_dir: str | os.PathLike) -> List[Problem]:
    """Every error and piece of advice about the corpus, in file and line order."""
    _, problems = _read_corpus(corpus_dir)
    return problems


def load_corpus(corpus_dir: str | os.PathLike) -> List[Entry]:
    """All entries of the corpus; raises CorpusError listing every error if any (advice
    does not stop it)."""
    entries, problems = _read_corpus(corpus_dir)
    if errors(problems):
        raise CorpusError(problems)
    return entries


def _read_corpus(corpus_dir: str | os.PathLike) -> Tuple[List[Entry], List[Problem]]:
    root = Path(corpus_dir)
    if not root.is_dir():
        return [], [Problem(str(root), 0, "corpus directory does not exist")]
    files = corpus_files(root)
    if not files:
        return [], [Problem(str(root), 0, "no topic files (*.yml) in the corpus directory")]
    entries: List[Entry] = []
    problems: List[Problem] = []
    topics: Dict[str, str] = {}
    for path in files:
        topic, file_entries, file_problems = _read_file(path)
        problems.extend(file_problems)
        entries.extend(file_entries)
        if topic is not None:
            if topic in topics:
                problems.append(Problem(str(path), 1, f"topic {topic!r} is also used by {topics[topic]}"))
            else:
                topics[topic] = str(path)
    problems.extend(check_entries(entries))
    return entries, _sorted(problems)


def _sorted(problems: Iterable[Problem]) -> List[Problem]:
    unique = list(dict.fromkeys(problems))
    return sorted(unique, key=lambda p: (p.file, p.line))


def _read_file(path: Path) -> Tuple[Optional[str], List[Entry], List[Problem]]:
    name = str(path)
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        return None, [], [Problem(name, line, "not UTF-8 text: save the file as UTF-8")]
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        what = " ".join(str(x) for x in (exc.context, exc.problem) if x)
        if exc.context_mark is not None and exc.context_mark.line + 1 != line:
            what += f" (started on line {exc.context_mark.line + 1})"
        return None, [], [Problem(name, line, f"invalid YAML: {what}")]
    except yaml.YAMLError as exc:
        return None, [], [Problem(name, 1, f"invalid YAML: {exc}")]
    try:
        return _read_document(name, root, loader)
    finally:
        loader.dispose()


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


def _mapping(name: str, node: yaml.MappingNode, loader, problems: List[Problem],
             what: str) -> Dict[str, Tuple[yaml.Node, yaml.Node]]:
    out: Dict[str, Tuple[yaml.Node, yaml.Node]] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, str):
            problems.append(Problem(name, _line(key_node), f"{what}: key {key!r} is not a name"))
            continue
        if key in out:
            problems.append(Problem(name, _line(key_node),
                                    f"{what}: {key!r} appears twice (line {_line(out[key][0])})"))
            continue
        out[key] = (key_node, value_node)
    return out


def _read_document(name: str, root: Optional[yaml.Node], loader
                   ) -> Tuple[Optional[str], List[Entry], List[Problem]]:
    problems: List[Problem] = []
    if root is None:
        return None, [], [Problem(name, 1, "empty file: expected 'topic:' and 'entries:'")]
    if not isinstance(root, yaml.MappingNode):
        return None, [], [Problem(name, _line(root), "expected a mapping with 'topic:' and 'entries:'")]
    top = _mapping(name, root, loader, problems, "file")
    for key, (key_node, _) in top.items():
        if key not in _TOP_KEYS:
            problems.append(Problem(name, _line(key_node), f"unknown field {key!r} (expected topic, entries)"))
    topic: Optional[str] = None
    if "topic" not in top:
        problems.append(Problem(name, 1, "missing 'topic:'"))
    else:
        value = loader.construct_object(top["topic"][1], deep=True)
        if not isinstance(value, str) or not TOPIC_RE.match(value):
            problems.append(Problem(name, _line(top["topic"][1]),
                                    f"topic {value!r} must be lowercase letters, digits, '-' or '_'"))
        else:
            topic = value
    if "entries" not in top:
        problems.append(Problem(name, 1, "missing 'entries:'"))
        return topic, [], problems
    entries_node = top["entries"][1]
    if not isinstance(entries_node, yaml.SequenceNode):
        problems.append(Problem(name, _line(entries_node), "'entries' must be a list of entries"))
        return topic, [], problems
    if not entries_node.value:
        problems.append(Problem(name, _line(entries_node), "'entries' is empty"))
    entries = []
    for node in entries_node.value:
        entry = _read_entry(name, topic or "", node, loader, problems)
        if entry is not None:
            entries.append(entry)
    return topic, entries, problems


def _read_entry(name: str, topic: str, node: yaml.Node, loader,
                problems: List[Problem]) -> Optional[Entry]:
    line = _line(node)
    if not isinstance(node, yaml.MappingNode):
        problems.append(Problem(name, line, "an entry must be a mapping with id, question, phrasings, answer"))
        return None
    fields = _mapping(name, node, loader, problems, "entry")
    lines: Dict[str, int] = {}
    label = "entry"
    for key, (key_node, value_node) in fields.items():
        lines[key] = _line(value_node)
        if key not in _ENTRY_KEYS:
            problems.append(Problem(name, _line(key_node),
                                    f"unknown field {key!r} (expected {', '.join(sorted(_ENTRY_KEYS))})"))

    def value(key: str, default: Any = None) -> Any:
        return loader.construct_object(fields[key][1], deep=True) if key in fields else default

    def text(key: str) -> str:
        v = value(key)
        if v is None:
            return ""
        if not isinstance(v, str):
            problems.append(Problem(name, lines[key], f"{label}: {key!r} must be text, got {v!r}"))
            return str(v)
        return v

    entry_id = text("id").strip()
    if "id" in fields:
        lines["id"] = _line(fields["id"][1])
        label = f"entry {entry_id!r}"
    question = text("question")

    phrasings: List[str] = []
    if "phrasings" in fields:
        pnode = fields["phrasings"][1]
        if isinstance(pnode, yaml.SequenceNode):
            for i, item in enumerate(pnode.value):
                v = loader.construct_object(item, deep=True)
                lines[f"phrasings.{i}"] = _line(item)
                if not isinstance(v, str):
                    problems.append(Problem(name, _line(item), f"{label}: phrasing {v!r} must be text"))
                    v = "" if v is None else str(v)
                phrasings.append(v)
        else:
            problems.append(Problem(name, _line(pnode), f"{label}: 'phrasings' must be a list"))

    answer_vi, answer_en = "", None
    if "answer" in fields:
        anode = fields["answer"][1]
        if isinstance(anode, yaml.MappingNode):
            amap = _mapping(name, anode, loader, problems, f"{label} answer")
            for key, (key_node, vnode) in amap.items():
                lines[f"answer.{key}"] = _line(vnode)
                v = loader.construct_object(vnode, deep=True)
                if key not in _ANSWER_KEYS:
                    problems.append(Problem(name, _line(key_node),
                                            f"{label}: unknown answer language {key!r} (expected vi, en)"))
                    continue
                if v is not None and not isinstance(v, str):
                    problems.append(Problem(name, _line(vnode), f"{label}: answer.{key} must be text"))
                    v = str(v)
                if key == "vi":
                    answer_vi = v or ""
                else:
                    answer_en = v if v and v.strip() else None
        elif isinstance(anode, yaml.ScalarNode):  # a bare string is the Vietnamese answer
            v = loader.construct_object(anode, deep=True)
            answer_vi = v if isinstance(v, str) else ("" if v is None else str(v))
            lines["answer.vi"] = _line(anode)
        else:
            problems.append(Problem(name, _line(anode), f"{label}: 'answer' must be {{vi: ..., en: ...}}"))

    tags: List[str] = []
    raw_tags = value("tags", [])
    if isinstance(raw_tags, list) and all(isinstance(t, str) for t in raw_tags):
        tags = [t.strip() for t in raw_tags if t.strip()]
    elif raw_tags is not None:
        problems.append(Problem(name, lines["tags"], f"{label}: 'tags' must be a list of words"))

    updated = None
    raw_updated = value("updated")
    if isinstance(raw_updated, dt.datetime):
        updated = raw_updated.date()
    elif isinstance(raw_updated, dt.date):
        updated = raw_updated
    elif isinstance(raw_updated, str):
        try:
            updated = dt.date.fromisoformat(raw_updated.strip())
        except ValueError:
            problems.append(Problem(name, lines["updated"], f"{label}: 'updated' must be a date YYYY-MM-DD"))
    elif raw_updated is not None:
        problems.append(Problem(name, lines["updated"], f"{label}: 'updated' must be a date YYYY-MM-DD"))

    return Entry(id=entry_id, topic=topic, question=question, phrasings=phrasings,
                 answer_vi=answer_vi, answer_en=answer_en, tags=tags, updated=updated,
                 source=name, line=line, lines=lines)


# --- checks shared by YAML files and CSV imports ----------------------------------------


def phrasing_key(text: str) -> str:
    """Two phrasings are the same question when this is equal: normalised, folded, no punctuation."""
    return " ".join(re.findall(r"\w+", fold(text)))


def check_entries(entries: Sequence[Entry]) -> List[Problem]:
    """Problems within and across entries (wherever they were read from)."""
    problems: List[Problem] = []
    seen_ids: Dict[str, Entry] = {}
    seen_texts: Dict[str, Tuple[Entry, str]] = {}
    for e in entries:
        def at(key: str) -> int:
            return e.lines.get(key, e.line)

        label = f"entry {e.id!r}" if e.id else "entry"
        if not e.id:
            problems.append(Problem(e.source, e.line, "entry has no id"))
        elif not ID_RE.match(e.id):
            problems.append(Problem(e.source, at("id"),
                                    f"id {e.id!r} may only use lowercase letters, digits, '-', '_', '.'"))
        elif e.id in seen_ids:
            other = seen_ids[e.id]
            problems.append(Problem(e.source, at("id"),
                                    f"duplicate id {e.id!r} (first used at {other.source}:{other.line})"))
        else:
            seen_ids[e.id] = e
        if not e.question.strip():
            problems.append(Problem(e.source, at("question"), f"{label}: empty question"))
        if not e.answer_vi.strip():
            problems.append(Problem(e.source, at("answer.vi") if "answer.vi" in e.lines else at("answer"),
                                    f"{label}: empty answer (answer.vi is required)"))
        for lang, answer in (("vi", e.answer_vi), ("en", e.answer_en)):
            if answer and len(answer) > MAX_ANSWER_CHARS:
                problems.append(Problem(
                    e.source, at(f"answer.{lang}"),
                    f"{label}: answer.{lang} is {len(answer)} characters; channels accept at most "
                    f"{MAX_ANSWER_CHARS} (Messenger, Zalo OA)"))
        n_phrasings = sum(1 for p in e.phrasings if p.strip())
        if n_phrasings < MIN_PHRASINGS:
            problems.append(Problem(
                e.source, at("phrasings"),
                f"{label}: {n_phrasings} other way(s) of asking; the bot answers already, and "
                f"{MIN_PHRASINGS} or more (as customers type: no accents, chat abbreviations, "
                f"English) help it match more customers", ADVICE))
        if not e.answer_en:
            problems.append(Problem(e.source, at("answer"), f"{label}: no English answer; English-speaking "
                                    f"customers get the Vietnamese one", ADVICE))
        own: Dict[str, int] = {}
        for i, text in enumerate([e.question, *e.phrasings]):
            where = at("question") if i == 0 else at(f"phrasings.{i - 1}")
            if i > 0 and not text.strip():
                problems.append(Problem(e.source, where, f"{label}: empty phrasing"))
                continue
            key = phrasing_key(text)
            if not key:
                continue
            if key in own:
                problems.append(Problem(e.source, where, f"{label}: phrasing {text!r} repeats line {own[key]}"))
                continue
            own[key] = where
            if key in seen_texts and seen_texts[key][0].id != e.id:
                other, other_text = seen_texts[key]
                problems.append(Problem(
                    e.source, where,
                    f"{label}: phrasing {text!r} is also used by entry {other.id!r} "
                    f"({other.source}:{other.lines.get('question', other.line)}, {other_text!r}); "
                    f"search could not tell them apart"))
            else:
                seen_texts.setdefault(key, (e, text))
    return problems


# --- reading a spreadsheet ---------------------------------------------------------


def read_sheet_entries(path: str | os.PathLike) -> Tuple[List[Entry], List[Problem]]:
    """Entries of a spreadsheet (an Excel .xlsx or a CSV) and the problems found in it (with
    its row or CSV line numbers)."""
    with open(path, "rb") as handle:
        return read_sheet_bytes(handle.read(), str(path))


def read_sheet_bytes(data: bytes, name: str) -> Tuple[List[Entry], List[Problem]]:
    """read_sheet_entries of a file's bytes (an upload); `name` labels the problems."""
    problems: List[Problem] = []
    try:
        records = xlsx_records(data) if is_xlsx(data) else list(
            _csv_records(io.StringIO(data.decode("utf-8-sig"), newline="")))
    except SheetError as exc:
        return [], [Problem(name, 1, str(exc))]
    except UnicodeDecodeError:
        return [], [Problem(name, 1, "not UTF-8 text: save the sheet as Excel (.xlsx) or CSV UTF-8")]
    except csv.Error as exc:
        return [], [Problem(name, 1, f"invalid CSV: {exc}")]
    if not records:
        return [], [Problem(name, 1, "empty file: expected a header row " + ",".join(CSV_COLUMNS))]
    header_line, raw_header = records[0]
    header = [CSV_ALIASES.get(" ".join(fold(h).lower().split()), h.strip().lower()) for h in raw_header]
    missing = [c for c in ("question", "answer_vi") if c not in header]
    if missing:
        return [], [Problem(name, header_line, f"missing column(s): {', '.join(missing)} (a plain sheet "
                                               f"needs question,answer; all columns: {','.join(CSV_COLUMNS)})")]
    entries: List[Entry] = []
    used_ids = set()
    for line, record in records[1:]:
        if not any(cell.strip() for cell in record):
            continue
        if len(record) > len(header):
            problems.append(Problem(name, line, f"{len(record)} cells but {len(header)} columns"))
        row = {h: (record[i] if i < len(record) else "") for i, h in enumerate(header)}
        entry_id = row.get("id", "").strip() or _new_id(row["question"], used_ids)
        used_ids.add(entry_id)
        label = f"entry {entry_id!r}" if entry_id else "entry"
        topic = row.get("topic", "").strip() or DEFAULT_TOPIC
        if not TOPIC_RE.match(topic):
            problems.append(Problem(name, line,
                                    f"{label}: topic {topic!r} must be lowercase letters, digits, '-' or '_'"))
        updated = None
        if row.get("updated", "").strip():
            try:
                updated = dt.date.fromisoformat(row["updated"].strip())
            except ValueError:
                problems.append(Problem(name, line, f"{label}: 'updated' must be a date YYYY-MM-DD"))
        entries.append(Entry(
            id=entry_id, topic=topic, question=_cell(row["question"]),
            phrasings=[p.strip() for p in row.get("phrasings", "").splitlines() if p.strip()],
            answer_vi=_cell(row["answer_vi"]), answer_en=_cell(row.get("answer_en", "")) or None,
            tags=[t.strip() for t in re.split(r"[,;\n]", row.get("tags", "")) if t.strip()],
            updated=updated, source=name, line=line,
        ))
    problems.extend(check_entries(entries))
    return entries, _sorted(problems)


def _new_id(question: str, used: set) -> str:
    """An id for a row without one: the question's first words, folded ("phi-giao-hang")."""
    words = re.findall(r"[a-z0-9]+", fold(question).lower())[:6]
    base = "-".join(words) or "faq"
    candidate, n = base, 2
    while candidate in used:
        candidate, n = f"{base}-{n}", n + 1
    return candidate


def _cell(value: str) -> str:
    return value.replace("\r\n", "\n").strip()


def _csv_records(handle) -> Iterable[Tuple[int, List[str]]]:
    """(line the record starts on, cells) for each CSV record."""
    reader = csv.reader(handle)
    start = 1
    for record in reader:
        yield start, record
        start = reader.line_num + 1


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
