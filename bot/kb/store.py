"""The FAQ store: every entry's versions in the SQL database the tickets use, and what is published.

Once seeded, this store is the FAQ's source of truth (knowledge_base/ YAML is the import and
export format, `hotro kb import` / `hotro kb export`). Every process of every host reads the
same published corpus from it, so two action servers serve the same FAQ.

    store = FaqStore()                                    # handoff.database_url
    saved = store.save(entry, author="lan", base_version=3)   # EntryConflict, EntryInvalid
    store.delete("orders-track", "lan", base_version=4)  # a version too: restorable
    store.restore("orders-track", version=2, author="lan")
    store.history("orders-track"); store.diff("orders-track", 2, 4)
    store.publish("lan")                                  # -> Publication(version=...)

Tables:
  kb_entry_versions  one row per saved version of an entry (never updated, never deleted):
                     `seq` numbers every save of the whole store (the store version), `version`
                     counts the versions of one entry; (entry_id, version) is unique, which is
                     what refuses a save made from an out-of-date version on SQLite and
                     PostgreSQL alike: the second writer of version n+1 gets the conflict.
  kb_publications    one row per publish: the store version (`seq`) every server serves.
  kb_store_meta      the "seeded" marker, so two processes starting on an empty store seed it once.

Validation is bot.kb.corpus.check_entries, the code of `hotro kb validate`, run on the whole
corpus with the saved entry in it, its problems reported per field.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass, field, replace
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

from sqlalchemy import (Boolean, Column, DateTime, Integer, String, Text, UniqueConstraint, func, select)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import declarative_base, sessionmaker

from bot.db import engine_for, utcnow
from bot.kb.corpus import ADVICE, ERROR, ID_RE, TOPIC_RE, Entry, Problem, check_entries

log = logging.getLogger(__name__)

# The fields an editor changes, in the order a diff lists them. (`updated`, the date of the
# last save, is set by the store and is not a change of its own.)
FIELDS = ("topic", "question", "phrasings", "answer_vi", "answer_en", "tags")
MAX_QUESTION_CHARS = 500  # a question or phrasing longer than this is not a question
MAX_PHRASINGS = 100
MAX_TAGS = 30
MAX_AUTHOR_CHARS = 255

Base = declarative_base()


class EntryVersionRow(Base):
    __tablename__ = "kb_entry_versions"
    __table_args__ = (UniqueConstraint("entry_id", "version", name="uq_kb_entry_version"),)
    seq = Column(Integer, primary_key=True, autoincrement=True)
    entry_id = Column(String(200), nullable=False, index=True)
    version = Column(Integer, nullable=False)
    deleted = Column(Boolean, nullable=False, default=False)
    data_json = Column(Text, nullable=False)
    author = Column(String(MAX_AUTHOR_CHARS), nullable=False)
    saved_at = Column(DateTime, nullable=False, default=utcnow)
    changed_json = Column(Text, nullable=False, default="[]")  # field names changed from the previous version
    note = Column(String(500), nullable=False, default="")


class PublicationRow(Base):
    __tablename__ = "kb_publications"
    id = Column(Integer, primary_key=True, autoincrement=True)
    store_version = Column(Integer, nullable=False)
    author = Column(String(MAX_AUTHOR_CHARS), nullable=False)
    published_at = Column(DateTime, nullable=False, default=utcnow)
    entries = Column(Integer, nullable=False, default=0)


class StoreMetaRow(Base):
    __tablename__ = "kb_store_meta"
    key = Column(String(50), primary_key=True)
    value = Column(Text, nullable=False, default="")
    at = Column(DateTime, nullable=False, default=utcnow)


@dataclass
class StoredEntry:
    """One version of one entry."""

    entry: Entry
    version: int  # of this entry: 1, 2, ...
    seq: int  # the store version this save made
    deleted: bool
    author: str
    saved_at: dt.datetime
    changed: List[str] = field(default_factory=list)
    note: str = ""

    @property
    def entry_id(self) -> str:
        return self.entry.id

    def to_dict(self) -> Dict[str, Any]:
        return {"id": self.entry.id, "version": self.version, "store_version": self.seq,
                "deleted": self.deleted, "author": self.author,
                "saved_at": self.saved_at.replace(tzinfo=dt.timezone.utc).isoformat(timespec="seconds"),
                "changed": list(self.changed), "note": self.note, "entry": entry_fields(self.entry)}


@dataclass(frozen=True)
class Publication:
    id: int
    version: int  # the store version (seq) served
    author: str
    published_at: dt.datetime
    entries: int


class EntryConflict(RuntimeError):
    """The save was made from `base_version`, but someone saved `current` meanwhile. The
    console answers 409 and shows `current` (who, when, what) and `changes` (base -> current)."""

    def __init__(self, entry_id: str, base_version: int, current: Optional[StoredEntry],
                 changes: Dict[str, Dict[str, Any]]):
        self.entry_id, self.base_version, self.current, self.changes = entry_id, base_version, current, changes
        if current is None:
            what = "the entry does not exist"
        else:
            what = (f"version {current.version} was saved by {current.author} at "
                    f"{current.saved_at:%Y-%m-%d %H:%M:%S} UTC"
                    + (" (deleted)" if current.deleted else "")
                    + (f", changing {', '.join(current.changed)}" if current.changed else ""))
        super().__init__(f"entry {entry_id!r} changed since version {base_version}: {what}")

    def to_dict(self) -> Dict[str, Any]:
        return {"error": "conflict", "message": str(self), "id": self.entry_id,
                "base_version": self.base_version,
                "current": self.current.to_dict() if self.current else None, "changes": self.changes}


class EntryInvalid(ValueError):
    """The entry (or the corpus it would make) has errors: `fields` maps each field to its messages."""

    def __init__(self, fields: Dict[str, List[str]], advice: Optional[Dict[str, List[str]]] = None):
        self.fields, self.advice = fields, advice or {}
        shown = "; ".join(f"{k}: {' / '.join(v)}" for k, v in fields.items())
        super().__init__(f"invalid FAQ entry: {shown}")

    def to_dict(self) -> Dict[str, Any]:
        return {"error": "invalid", "message": str(self), "fields": self.fields, "advice": self.advice}


# --- entries as plain data -------------------------------------------------------------


def entry_fields(entry: Entry) -> Dict[str, Any]:
    """What is stored of an entry (not where a YAML file had it)."""
    d = entry.to_dict()
    d.pop("source", None)
    d.pop("line", None)
    return d


def entry_from_fields(d: Dict[str, Any], source: str = "store") -> Entry:
    updated = d.get("updated")
    if isinstance(updated, dt.date):
        updated = updated.isoformat()
    return Entry.from_dict({**d, "updated": updated, "source": source, "line": 0})


def field_changes(before: Optional[Entry], after: Optional[Entry]) -> Dict[str, Dict[str, Any]]:
    """{field: {"before": ..., "after": ...}} for every field that differs."""
    a = entry_fields(before) if before is not None else {}
    b = entry_fields(after) if after is not None else {}
    out = {}
    for key in FIELDS:
        if a.get(key) != b.get(key):
            out[key] = {"before": a.get(key), "after": b.get(key)}
    return out


# --- validation ------------------------------------------------------------------------

# Synthetic line numbers: check_entries reports problems by line; each field of the entry
# being checked gets its own, so a problem maps back to the field it is about.
_FIELD_LINES = {"id": 1, "topic": 2, "question": 3, "answer.vi": 4, "answer.en": 5, "answer": 5,
                "phrasings": 6, "tags": 7}
_LINE_FIELDS = {1: "id", 2: "topic", 3: "question", 4: "answer_vi", 5: "answer_en", 6: "phrasings", 7: "tags"}
_PHRASING_LINE = 100
_CHECKED = "<entry>"


def check_entry(entry: Entry, others: Iterable[Entry]) -> Tuple[Dict[str, List[str]], Dict[str, List[str]]]:
    """(errors, advice) of `entry` among `others` (the rest of the corpus), by field name
    ("question", "answer_vi", "phrasings.2", ...), with the messages of `hotro kb validate`."""
    lines = dict(_FIELD_LINES)
    lines.update({f"phrasings.{i}": _PHRASING_LINE + i for i in range(len(entry.phrasings))})
    checked = replace(entry, source=_CHECKED, line=1, lines=lines)
    rest = [replace(e, source="store", line=0, lines={}) for e in others if e.id != entry.id]
    problems = check_entries(rest + [checked])
    problems += _limits(checked)
    errors_: Dict[str, List[str]] = {}
    advice: Dict[str, List[str]] = {}
    for p in problems:
        if p.file != _CHECKED:
            continue
        name = (f"phrasings.{p.line - _PHRASING_LINE}" if p.line >= _PHRASING_LINE
                else _LINE_FIELDS.get(p.line, "entry"))
        (advice if p.severity == ADVICE else errors_).setdefault(name, []).append(p.message)
    return errors_, advice


def _limits(e: Entry) -> List[Problem]:
    """What a YAML file cannot get wrong but a form can: the topic's form, oversized fields."""
    out = []
    label = f"entry {e.id!r}"
    if not TOPIC_RE.match(e.topic or ""):
        out.append(Problem(_CHECKED, 2, f"{label}: topic {e.topic!r} must be lowercase letters, digits, '-' or '_'"))
    if len(e.id) > 200:
        out.append(Problem(_CHECKED, 1, f"{label}: id is {len(e.id)} characters, at most 200"))
    if len(e.question) > MAX_QUESTION_CHARS:
        out.append(Problem(_CHECKED, 3, f"{label}: question is {len(e.question)} characters, "
                                        f"at most {MAX_QUESTION_CHARS}"))
    if len(e.phrasings) > MAX_PHRASINGS:
        out.append(Problem(_CHECKED, 6, f"{label}: {len(e.phrasings)} phrasings, at most {MAX_PHRASINGS}"))
    for i, p in enumerate(e.phrasings[:MAX_PHRASINGS]):
        if len(p) > MAX_QUESTION_CHARS:
            out.append(Problem(_CHECKED, _PHRASING_LINE + i,
                               f"{label}: phrasing is {len(p)} characters, at most {MAX_QUESTION_CHARS}"))
    if len(e.tags) > MAX_TAGS or any(len(t) > 50 for t in e.tags):
        out.append(Problem(_CHECKED, 7, f"{label}: at most {MAX_TAGS} tags of at most 50 characters"))
    return out


def corpus_errors(entries: Sequence[Entry]) -> List[Problem]:
    return [p for p in check_entries(entries) if p.severity == ERROR]


# --- the store -------------------------------------------------------------------------


class FaqStore:
    """The versioned FAQ entries in one SQL database (safe to share between threads)."""

    def __init__(self, url: Optional[str] = None):
        self.engine = engine_for(url)  # tables made by bot/migrations
        self.url = str(self.engine.url)
        self._session = sessionmaker(self.engine, future=True)

    # --- reading ---------------------------------------------------------------------------

    @staticmethod
    def _stored(row: EntryVersionRow) -> StoredEntry:
        return StoredEntry(entry=entry_from_fields(json.loads(row.data_json)), version=row.version,
                           seq=row.seq, deleted=bool(row.deleted), author=row.author,
                           saved_at=row.saved_at, changed=json.loads(row.changed_json or "[]"),
                           note=row.note or "")

    def head(self) -> int:
        """The latest store version (0 when empty)."""
        with self._session() as s:
            return int(s.execute(select(func.max(EntryVersionRow.seq))).scalar() or 0)

    def current(self, entry_id: str) -> Optional[StoredEntry]:
        """The latest version of an entry (also when it is a deletion), None if never saved."""
        with self._session() as s:
            row = s.execute(select(EntryVersionRow).where(EntryVersionRow.entry_id == entry_id)
                            .order_by(EntryVersionRow.version.desc()).limit(1)).scalar_one_or_none()
            return self._stored(row) if row else None

    def version(self, entry_id: str, version: int) -> Optional[StoredEntry]:
        with self._session() as s:
            row = s.execute(select(EntryVersionRow).where(EntryVersionRow.entry_id == entry_id,
                                                          EntryVersionRow.version == version)).scalar_one_or_none()
            return self._stored(row) if row else None

    def stored(self, at: Optional[int] = None, include_deleted: bool = False) -> List[StoredEntry]:
        """Every entry's latest version as of store version `at` (default: now)."""
        with self._session() as s:
            latest = select(func.max(EntryVersionRow.seq))
            if at is not None:
                latest = latest.where(EntryVersionRow.seq <= at)
            latest = latest.group_by(EntryVersionRow.entry_id)
            rows = s.execute(select(EntryVersionRow).where(EntryVersionRow.seq.in_(latest))).scalars().all()
            created = dict(s.execute(select(EntryVersionRow.entry_id, func.min(EntryVersionRow.seq))
                                     .group_by(EntryVersionRow.entry_id)).all())
            out = [self._stored(r) for r in rows if include_deleted or not r.deleted]
        # by topic, then in the order entries were first saved: an export keeps the files' order
        return sorted(out, key=lambda x: (x.entry.topic, created.get(x.entry.id, 0)))

    def entries(self, at: Optional[int] = None) -> List[Entry]:
        return [x.entry for x in self.stored(at)]

    def history(self, entry_id: str) -> List[StoredEntry]:
        """Every version of the entry, newest first."""
        with self._session() as s:
            rows = s.execute(select(EntryVersionRow).where(EntryVersionRow.entry_id == entry_id)
                             .order_by(EntryVersionRow.version.desc())).scalars().all()
            return [self._stored(r) for r in rows]

    def diff(self, entry_id: str, from_version: int, to_version: int) -> Dict[str, Dict[str, Any]]:
        """What changed between two versions of an entry (version 0: before it existed)."""
        a = self.version(entry_id, from_version) if from_version else None
        b = self.version(entry_id, to_version) if to_version else None
        if (from_version and a is None) or (to_version and b is None):
            raise KeyError(f"entry {entry_id!r} has no version {from_version if a is None else to_version}")
        return field_changes(None if a is None or a.deleted else a.entry,
                             None if b is None or b.deleted else b.entry)

    # --- writing ---------------------------------------------------------------------------

    def save(self, entry: Entry, author: str, base_version: int, note: str = "") -> StoredEntry:
        """Save `entry` as the next version of its id. `base_version` is the version the editor
        started from (0 for a new entry). Raises EntryConflict when that is not the latest
        version, EntryInvalid when the entry or the corpus it would make has errors."""
        entry = replace(clean_entry(entry), updated=utcnow().date())
        if not ID_RE.match(entry.id or ""):
            raise EntryInvalid({"id": [f"id {entry.id!r} may only use lowercase letters, digits, "
                                       f"'-', '_', '.' and must not be empty"]})
        current = self.current(entry.id)
        self._check_base(entry.id, base_version, current)
        errors_, advice = check_entry(entry, self.entries())
        if errors_:
            raise EntryInvalid(errors_, advice)
        before = None if current is None or current.deleted else current.entry
        return self._insert(entry, base_version + 1, False, author, list(field_changes(before, entry)), note)

    def delete(self, entry_id: str, author: str, base_version: int, note: str = "") -> StoredEntry:
        """Delete as a new version (restorable); the entry leaves the corpus at the next publish."""
        current = self.current(entry_id)
        self._check_base(entry_id, base_version, current)
        if current is None or current.deleted:
            raise KeyError(f"entry {entry_id!r} does not exist")
        return self._insert(current.entry, base_version + 1, True, author, ["deleted"], note)

    def restore(self, entry_id: str, version: int, author: str, base_version: Optional[int] = None) -> StoredEntry:
        """Make version `version` the latest again, as a new version (history keeps all)."""
        old = self.version(entry_id, version)
        if old is None:
            raise KeyError(f"entry {entry_id!r} has no version {version}")
        current = self.current(entry_id)
        base = current.version if base_version is None else base_version
        self._check_base(entry_id, base, current)
        errors_, advice = check_entry(old.entry, self.entries())
        if errors_:
            raise EntryInvalid(errors_, advice)
        before = current.entry if current is not None else None  # a deletion keeps the last content
        changed = list(field_changes(before, old.entry)) + (["restored"] if current and current.deleted else [])
        restored = replace(old.entry, updated=utcnow().date())
        return self._insert(restored, base + 1, False, author, changed, f"restored version {version}")

    def _check_base(self, entry_id: str, base_version: int, current: Optional[StoredEntry]) -> None:
        latest = current.version if current else 0
        if base_version != latest:
            self._conflict(entry_id, base_version, current)

    def _conflict(self, entry_id: str, base_version: int, current: Optional[StoredEntry]) -> None:
        base = self.version(entry_id, base_version) if base_version else None
        changes = field_changes(None if base is None or base.deleted else base.entry,
                                None if current is None or current.deleted else current.entry)
        raise EntryConflict(entry_id, base_version, current, changes)

    def _insert(self, entry: Entry, version: int, deleted: bool, author: str, changed: List[str],
                note: str) -> StoredEntry:
        row = EntryVersionRow(entry_id=entry.id, version=version, deleted=deleted,
                              data_json=json.dumps(entry_fields(entry), ensure_ascii=False),
                              author=(author or "?")[:MAX_AUTHOR_CHARS], saved_at=utcnow(),
                              changed_json=json.dumps(changed), note=(note or "")[:500])
        try:
            with self._session() as s, s.begin():
                s.add(row)
                s.flush()
                stored = self._stored(row)
        except IntegrityError:
            # another editor saved version `version` between our check and our insert
            log.info("FAQ store: conflicting save of %r version %d by %s", entry.id, version, author)
            self._conflict(entry.id, version - 1, self.current(entry.id))
            raise  # not reached
        log.info("FAQ store: %s %s %r version %d (store version %d)", author,
                 "deleted" if deleted else "saved", entry.id, version, stored.seq)
        return stored

    def import_entries(self, entries: Sequence[Entry], author: str, remove_missing: bool = True,
                       note: str = "import") -> Dict[str, List[str]]:
        """Make the store's entries those of `entries` (a YAML corpus or a CSV, already checked):
        new and changed ones saved as new versions, ones not in `entries` deleted (restorable).
        Returns the ids {"added", "changed", "removed", "unchanged"}."""
        problems = corpus_errors(entries)
        if problems:
            raise EntryInvalid({"corpus": [str(p) for p in problems]})
        now = {x.entry.id: x for x in self.stored(include_deleted=True)}
        out: Dict[str, List[str]] = {"added": [], "changed": [], "removed": [], "unchanged": []}
        wanted = {e.id for e in entries}
        for e in entries:
            e = clean_entry(e)
            cur = now.get(e.id)
            if cur is not None and not cur.deleted and not field_changes(cur.entry, e):
                out["unchanged"].append(e.id)
                continue
            before = None if cur is None or cur.deleted else cur.entry
            self._insert(e, (cur.version if cur else 0) + 1, False, author, list(field_changes(before, e)), note)
            out["added" if before is None else "changed"].append(e.id)
        if remove_missing:
            for entry_id, cur in now.items():
                if entry_id not in wanted and not cur.deleted:
                    self._insert(cur.entry, cur.version + 1, True, author, ["deleted"], note)
                    out["removed"].append(entry_id)
        return out

    # --- publishing ------------------------------------------------------------------------

    def publish(self, author: str) -> Publication:
        """Publish the store as it is now: every server rebuilds its index from this version.
        Refused (EntryInvalid) when the corpus has errors or no entries."""
        head = self.head()
        entries = self.entries(head)
        if not entries:
            raise EntryInvalid({"corpus": ["no entries: refusing to publish an empty FAQ"]})
        problems = corpus_errors(entries)
        if problems:
            raise EntryInvalid({"corpus": [str(p) for p in problems]})
        with self._session() as s, s.begin():
            row = PublicationRow(store_version=head, author=(author or "?")[:MAX_AUTHOR_CHARS],
                                 published_at=utcnow(), entries=len(entries))
            s.add(row)
            s.flush()
            pub = Publication(row.id, row.store_version, row.author, row.published_at, row.entries)
        log.info("FAQ store: %s published store version %d (%d entries)", author, head, len(entries))
        return pub

    def published(self) -> Optional[Publication]:
        """The latest publication (one small query: the servers poll it)."""
        with self._session() as s:
            row = s.execute(select(PublicationRow).order_by(PublicationRow.id.desc()).limit(1)).scalar_one_or_none()
            return Publication(row.id, row.store_version, row.author, row.published_at, row.entries) if row else None

    def published_entries(self) -> Tuple[Optional[Publication], List[Entry]]:
        pub = self.published()
        return pub, (self.entries(pub.version) if pub else [])

    def unpublished(self) -> int:
        """Saves made since the last publish."""
        pub = self.published()
        with self._session() as s:
            q = select(func.count(EntryVersionRow.seq))
            if pub:
                q = q.where(EntryVersionRow.seq > pub.version)
            return int(s.execute(q).scalar() or 0)

    # --- first start -----------------------------------------------------------------------

    def is_empty(self) -> bool:
        return self.head() == 0

    def seed(self, entries: Sequence[Entry], source: str, author: str = "seed") -> bool:
        """Fill an empty store with `entries` and publish them; False when it was seeded already
        (by this or another process: the marker row makes two concurrent seeds one)."""
        if not self.is_empty():
            return False
        try:
            with self._session() as s, s.begin():
                s.add(StoreMetaRow(key="seeded", value=source, at=utcnow()))
                s.flush()
                for e in entries:
                    e = clean_entry(e)
                    s.add(EntryVersionRow(entry_id=e.id, version=1, deleted=False,
                                          data_json=json.dumps(entry_fields(e), ensure_ascii=False),
                                          author=author, saved_at=utcnow(), changed_json=json.dumps(list(FIELDS)),
                                          note=f"imported from {source}"[:500]))
        except IntegrityError:
            return False
        self.publish(author)
        log.info("FAQ store seeded with %d entries from %s", len(entries), source)
        return True


def clean_entry(entry: Entry) -> Entry:
    """The entry as stored: trimmed texts, no empty phrasings or tags, no file position."""
    return Entry(id=(entry.id or "").strip(), topic=(entry.topic or "").strip(),
                 question=(entry.question or "").strip(),
                 phrasings=[p.strip() for p in entry.phrasings if p and p.strip()],
                 answer_vi=(entry.answer_vi or "").strip(),
                 answer_en=(entry.answer_en or "").strip() or None,
                 tags=[t.strip() for t in entry.tags if t and t.strip()], updated=entry.updated,
                 source="store", line=0)
