"""The shop's own profile: its name, hotline, email, office hours, holidays, and the
greeting and out-of-hours words an admin writes in the console.

hotro.yml's `support:` section gives the defaults; what an admin saves
(`save_shop_profile`) lives in the SQL database (`handoff.database_url`, table
`shop_profile`, with a `shop_profile_history` row per save), so every process and replica
sees it. `shop_profile()` re-reads the database at most every REFRESH_SECONDS per
process: a change reaches every replica's next message within seconds, without a retrain
or restart. If the database cannot be read, the last profile read is used (and logged).

Low layer: imports bot.settings and bot.db only (below handoff, channels and the console).
"""
from __future__ import annotations

import json
import logging
import re
import string
import threading
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, time, timezone
from time import monotonic
from typing import Any, Dict, List, Optional, Tuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Column, DateTime, Integer, String, Text, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import declarative_base, sessionmaker

from bot.db import database_url, engine_for, utcnow

log = logging.getLogger(__name__)

REFRESH_SECONDS = 2.0
LANGUAGES = ("vi", "en")
MAX_TEXT_CHARS = 1000
MAX_NAME_CHARS = 100
MAX_HOLIDAYS = 400
# The variables greeting and out-of-hours texts may use ({name} in the text).
GREETING_VARIABLES = ("shop_name", "hotline", "email", "hours")
OUT_OF_HOURS_VARIABLES = GREETING_VARIABLES + ("ticket",)
EDITABLE = ("name", "hotline", "email", "office_hours", "holidays", "greeting",
            "out_of_hours")

_DEFAULTS = {
    "name": "Hotro Shop",
    "hotline": "",
    "email": "",
    "timezone": "Asia/Ho_Chi_Minh",
    "office_hours": {"days": list(range(7)), "open": "08:00", "close": "21:00"},
}

ShopBase = declarative_base()


class ShopProfileRow(ShopBase):
    """One row (id 1): the values an admin saved, over hotro.yml's defaults."""
    __tablename__ = "shop_profile"
    id = Column(Integer, primary_key=True)
    values_json = Column(Text, nullable=False, default="{}")
    version = Column(Integer, nullable=False, default=0)
    updated_at = Column(DateTime)
    updated_by = Column(String(255), nullable=False, default="")


class ShopProfileHistoryRow(ShopBase):
    """Every save: who, when, the values before and after."""
    __tablename__ = "shop_profile_history"
    id = Column(Integer, primary_key=True)
    version = Column(Integer, nullable=False)
    saved_at = Column(DateTime, nullable=False, default=utcnow)
    saved_by = Column(String(255), nullable=False)
    before_json = Column(Text, nullable=False)
    after_json = Column(Text, nullable=False)


class ShopProfileConflict(RuntimeError):
    """The save was made from an out-of-date version: someone saved in between."""

    def __init__(self, expected: int, current: "ShopProfile") -> None:
        super().__init__(
            f"Thông tin cửa hàng vừa được {current.updated_by or '?'} thay đổi; hãy tải lại "
            f"trang và lưu lại. / The shop profile was changed by {current.updated_by or '?'} "
            f"meanwhile (version {current.version}, yours {expected}); reload and save again.")
        self.expected, self.current = expected, current


class ShopProfileError(ValueError):
    """Bad input; `fields` maps each wrong field ("hotline", "office_hours.open",
    "greeting.vi", ...) to what is wrong, in Vietnamese and English."""

    def __init__(self, fields: Dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in fields.items()))
        self.fields = dict(fields)


@dataclass(frozen=True)
class ShopProfile:
    name: str                      # "Hotro Shop"
    hotline: str                   # "1900 6868"
    email: str
    timezone: str                  # from hotro.yml support.timezone (not editable in the console)
    office_hours: Dict[str, Any]   # {"days": [0..6 Monday=0], "open": "08:00", "close": "21:00"}
    holidays: Tuple[date, ...]     # closed all day
    greeting: Dict[str, str]       # {"vi": "...", "en": "..."}; "" means: the catalogue's default
    out_of_hours: Dict[str, str]   # same; what a customer gets on a handoff outside office hours
    updated_at: Optional[datetime] = None  # UTC, aware; None: never saved in the console
    updated_by: str = ""
    version: int = 0  # saves so far; pass it back to save_shop_profile

    def hours_text(self) -> str:
        return f"{self.office_hours['open']}–{self.office_hours['close']}"

    def is_open(self, now: Optional[datetime] = None) -> bool:
        """Office hours and holidays, in the shop's time zone."""
        zone = _zone(self.timezone)
        local = (now or datetime.now(zone)).astimezone(zone)
        if local.date() in self.holidays:
            return False
        hours = self.office_hours
        opens = time.fromisoformat(hours["open"])
        # "24:00" closes at the end of the day (round-the-clock support).
        closes = time.max if hours["close"] == "24:00" else time.fromisoformat(hours["close"])
        return local.weekday() in hours["days"] and opens <= local.time() < closes

    def editable(self) -> Dict[str, Any]:
        """The values an admin can change, as JSON-ready data (what the console shows)."""
        return {"name": self.name, "hotline": self.hotline, "email": self.email,
                "office_hours": {"days": list(self.office_hours["days"]),
                                 "open": self.office_hours["open"],
                                 "close": self.office_hours["close"]},
                "holidays": [d.isoformat() for d in self.holidays],
                "greeting": dict(self.greeting), "out_of_hours": dict(self.out_of_hours)}


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        log.error("shop: unknown time zone %r in hotro.yml support.timezone; using "
                  "Asia/Ho_Chi_Minh", name)
        return ZoneInfo("Asia/Ho_Chi_Minh")


# --- validation -------------------------------------------------------------------------

_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
_EMAIL = re.compile(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$")
# Digits of a Vietnamese number: 1900/1800 + 4 or 6 digits; mobile 03/05/07/08/09 + 8;
# landline 02 + 9 (with +84 or 84 instead of the leading 0).
_PHONE_DIGITS = re.compile(r"^(?:1[89]00(?:\d{4}|\d{6})|(?:0|84)(?:[35789]\d{8}|2\d{9}))$")
_PHONE_CHARS = re.compile(r"^\+?[\d .\-()]+$")


def _clean(value: Any) -> str:
    return unicodedata.normalize("NFC", str(value)).strip()


def _check_hotline(value: Any) -> str:
    text = re.sub(r"\s+", " ", _clean(value))
    digits = re.sub(r"\D", "", text)
    if not text or not _PHONE_CHARS.match(text) or not _PHONE_DIGITS.match(digits) \
            or (text.startswith("+") and not digits.startswith("84")):
        raise ValueError("Số điện thoại không hợp lệ (ví dụ 1900 6868, 0912 345 678, "
                         "024 3456 7890). / Not a valid phone number (e.g. 1900 6868, "
                         "0912 345 678, +84 24 3456 7890).")
    return text


def _check_email(value: Any) -> str:
    text = _clean(value)
    if len(text) > 254 or not _EMAIL.match(text):
        raise ValueError("Email không hợp lệ (ví dụ hotro@shop.vn). / Not a valid email "
                         "address (e.g. support@shop.vn).")
    return text


def _check_name(value: Any) -> str:
    text = re.sub(r"\s+", " ", _clean(value))
    if not text:
        raise ValueError("Cần có tên cửa hàng. / The shop needs a name.")
    if len(text) > MAX_NAME_CHARS:
        raise ValueError(f"Tên tối đa {MAX_NAME_CHARS} ký tự. / At most {MAX_NAME_CHARS} "
                         f"characters.")
    return text


def _check_time(value: Any, allow_midnight_end: bool) -> str:
    text = _clean(value)
    if allow_midnight_end and text == "24:00":
        return text
    if len(text) == 4 and text[1] == ":":  # "8:00"
        text = "0" + text
    if not _HHMM.match(text):
        raise ValueError("Giờ theo dạng HH:MM, ví dụ 08:00. / A time as HH:MM, e.g. 08:00.")
    return text


def _check_days(value: Any) -> List[int]:
    if isinstance(value, (str, int)):
        value = [value]
    try:
        days = sorted({int(v) for v in value})
    except (TypeError, ValueError):
        days = [-1]
    if any(d < 0 or d > 6 for d in days):
        raise ValueError("Ngày làm việc là các số 0 (thứ Hai) đến 6 (Chủ nhật). / Working "
                         "days are numbers 0 (Monday) to 6 (Sunday).")
    return days


def _check_holidays(value: Any) -> List[date]:
    if isinstance(value, str):
        value = [v for v in re.split(r"[\s,;]+", value) if v]
    if not isinstance(value, (list, tuple)):
        raise ValueError("Danh sách ngày nghỉ không hợp lệ. / Holidays must be a list of dates.")
    found, bad = set(), []
    for item in value:
        if isinstance(item, date) and not isinstance(item, datetime):
            found.add(item)
            continue
        try:
            found.add(date.fromisoformat(_clean(item)))
        except ValueError:
            bad.append(_clean(item)[:20])
    if bad:
        raise ValueError(f"Ngày không hợp lệ: {', '.join(bad)} — dùng dạng YYYY-MM-DD, ví dụ "
                         f"2026-02-17. / Not a date: {', '.join(bad)} — use YYYY-MM-DD, e.g. "
                         f"2026-02-17.")
    if len(found) > MAX_HOLIDAYS:
        raise ValueError(f"Tối đa {MAX_HOLIDAYS} ngày nghỉ. / At most {MAX_HOLIDAYS} holidays.")
    return sorted(found)


def _check_text(value: Any, variables: Tuple[str, ...]) -> str:
    text = unicodedata.normalize("NFC", str(value).replace("\r\n", "\n")).strip()
    if len(text) > MAX_TEXT_CHARS:
        raise ValueError(f"Tối đa {MAX_TEXT_CHARS} ký tự (hiện có {len(text)}). / At most "
                         f"{MAX_TEXT_CHARS} characters (this has {len(text)}).")
    allowed = ", ".join("{" + v + "}" for v in variables)
    try:
        parts = list(string.Formatter().parse(text))
    except ValueError:
        raise ValueError(f"Dấu ngoặc {{ }} không khớp; biến được dùng: {allowed} (viết {{{{ "
                         f"để có dấu {{). / Unbalanced {{ }}; the variables are: {allowed} "
                         f"(write {{{{ for a literal {{).") from None
    for _, name, spec, conversion in parts:
        if name is None:
            continue
        if name not in variables or spec or conversion:
            shown = "{" + name + ("!" + conversion if conversion else "") + \
                    (":" + spec if spec else "") + "}"
            raise ValueError(f"Biến không có: {shown}; biến được dùng: {allowed}. / Unknown "
                             f"variable {shown}; the variables are: {allowed}.")
    return text


def _check_words(value: Any, key: str, variables: Tuple[str, ...],
                 current: Dict[str, str], errors: Dict[str, str]) -> Dict[str, str]:
    """{"vi", "en"} texts; a missing language keeps the current text."""
    if not isinstance(value, dict):
        errors[key] = "Cần một đoạn văn cho mỗi ngôn ngữ (vi, en). / Needs a text per " \
                      "language (vi, en)."
        return current
    out = dict(current)
    for language, text in value.items():
        if language not in LANGUAGES:
            errors[f"{key}.{language}"] = "Chỉ có tiếng Việt (vi) và tiếng Anh (en). / " \
                                          "Only Vietnamese (vi) and English (en)."
            continue
        try:
            out[language] = _check_text("" if text is None else text, variables)
        except ValueError as error:
            errors[f"{key}.{language}"] = str(error)
    return out


def validate_changes(changes: Dict[str, Any], current: ShopProfile) -> Dict[str, Any]:
    """The changed values, cleaned, as stored (JSON-ready); ShopProfileError with a message
    per wrong field."""
    if not isinstance(changes, dict):
        raise ShopProfileError({"": "Cần một đối tượng JSON. / Expected a JSON object."})
    errors: Dict[str, str] = {}
    out: Dict[str, Any] = {}
    for key in changes:
        if key not in EDITABLE:
            errors[key] = "Không sửa được trường này. / This field cannot be changed."
    checks = {"name": _check_name, "hotline": _check_hotline, "email": _check_email}
    for key, check in checks.items():
        if key in changes:
            try:
                out[key] = check("" if changes[key] is None else changes[key])
            except ValueError as error:
                errors[key] = str(error)
    if "office_hours" in changes:
        hours = changes["office_hours"]
        if not isinstance(hours, dict):
            errors["office_hours"] = "Cần days, open, close. / Needs days, open, close."
        else:
            merged = {**current.office_hours, **hours}
            checked: Dict[str, Any] = {}
            for part, check in (("days", _check_days),
                                ("open", lambda v: _check_time(v, False)),
                                ("close", lambda v: _check_time(v, True))):
                try:
                    checked[part] = check(merged.get(part))
                except ValueError as error:
                    errors[f"office_hours.{part}"] = str(error)
            if "open" in checked and "close" in checked and checked["close"] != "24:00" \
                    and checked["open"] >= checked["close"]:
                errors["office_hours.close"] = (
                    "Giờ đóng cửa phải sau giờ mở cửa (hoặc 24:00). / Closing time must be "
                    "after opening time (or 24:00).")
            out["office_hours"] = checked
    if "holidays" in changes:
        try:
            out["holidays"] = [d.isoformat() for d in _check_holidays(changes["holidays"])]
        except ValueError as error:
            errors["holidays"] = str(error)
    if "greeting" in changes:
        out["greeting"] = _check_words(changes["greeting"], "greeting", GREETING_VARIABLES,
                                       current.greeting, errors)
    if "out_of_hours" in changes:
        out["out_of_hours"] = _check_words(changes["out_of_hours"], "out_of_hours",
                                           OUT_OF_HOURS_VARIABLES, current.out_of_hours,
                                           errors)
    if errors:
        raise ShopProfileError(errors)
    return out


# --- building a profile -------------------------------------------------------------------

def _words(value: Any) -> Dict[str, str]:
    value = value if isinstance(value, dict) else {}
    return {language: str(value.get(language) or "") for language in LANGUAGES}


def _holidays(value: Any) -> Tuple[date, ...]:
    out = set()
    for item in value or ():
        try:
            out.add(item if isinstance(item, date) else date.fromisoformat(str(item)))
        except ValueError:
            log.error("shop: ignoring holiday %r (not YYYY-MM-DD)", item)
    return tuple(sorted(out))


def _build(support: Dict[str, Any], saved: Dict[str, Any], version: int = 0,
           updated_at: Optional[datetime] = None, updated_by: str = "") -> ShopProfile:
    merged = {**_DEFAULTS, **{k: v for k, v in support.items() if v is not None}, **saved}
    hours = {**_DEFAULTS["office_hours"], **(merged.get("office_hours") or {})}
    return ShopProfile(
        name=str(merged.get("name") or _DEFAULTS["name"]),
        hotline=str(merged.get("hotline") or ""),
        email=str(merged.get("email") or ""),
        timezone=str(support.get("timezone") or _DEFAULTS["timezone"]),
        office_hours={"days": [int(d) for d in hours["days"]], "open": str(hours["open"]),
                      "close": str(hours["close"])},
        holidays=_holidays(merged.get("holidays")),
        greeting=_words(merged.get("greeting")),
        out_of_hours=_words(merged.get("out_of_hours")),
        updated_at=updated_at.replace(tzinfo=timezone.utc) if updated_at else None,
        updated_by=updated_by or "",
        version=version)


# --- the store ----------------------------------------------------------------------------

@dataclass
class _Saved:
    """What the database holds, as last read by this process."""
    values: Dict[str, Any]
    version: int = 0
    updated_at: Optional[datetime] = None
    updated_by: str = ""


_cache: Dict[str, Tuple[float, _Saved]] = {}  # url -> (monotonic time read, saved)
_failing: Dict[str, bool] = {}
_lock = threading.Lock()


def _read(url: str) -> _Saved:
    engine = engine_for(url)
    with sessionmaker(engine, future=True)() as session:
        row = session.get(ShopProfileRow, 1)
        if row is None:
            return _Saved({})
        return _Saved(json.loads(row.values_json or "{}"), row.version, row.updated_at,
                      row.updated_by)


def _saved(url: str, force: bool = False) -> _Saved:
    now = monotonic()
    with _lock:
        cached = _cache.get(url)
    if cached and not force and now - cached[0] < REFRESH_SECONDS:
        return cached[1]
    try:
        saved = _read(url)
    except (SQLAlchemyError, ValueError, OSError) as error:
        fallback = cached[1] if cached else _Saved({})
        if not _failing.get(url):
            log.error("shop: reading the shop profile from the database failed (%s); using "
                      "the last one read (version %d) until it works again", error,
                      fallback.version)
        _failing[url] = True
        with _lock:
            _cache[url] = (now, fallback)  # try again in REFRESH_SECONDS, not every message
        return fallback
    if _failing.pop(url, False):
        log.info("shop: the shop profile is readable again (version %d)", saved.version)
    with _lock:
        _cache[url] = (now, saved)
    return saved


def _settings(settings: Optional[Dict[str, Any]]) -> Dict[str, Any]:
    if settings is None:
        from bot.settings import load_settings

        settings = load_settings()
    return settings


def shop_profile(settings: Optional[Dict[str, Any]] = None, fresh: bool = False) -> ShopProfile:
    """hotro.yml's defaults (its `support:` section) overlaid with what an admin saved in
    the database; re-read from the database at most every REFRESH_SECONDS per process, so
    every replica sees a change within seconds; a database error falls back to the last
    known profile (and logs). `fresh`: read the database now (the console's form)."""
    settings = _settings(settings)
    saved = _saved(database_url(settings), force=fresh)
    return _build(settings.get("support") or {}, saved.values, saved.version,
                  saved.updated_at, saved.updated_by)


def save_shop_profile(changes: Dict[str, Any], by: str, expected_version: Optional[int] = None,
                      settings: Optional[Dict[str, Any]] = None) -> ShopProfile:
    """Validates and saves `changes` (keys of EDITABLE; "greeting"/"out_of_hours" may hold
    one language only), keeping the previous values in a history row (who, when).

    Raises ShopProfileError (a message per wrong field) on bad input, and
    ShopProfileConflict when `expected_version` (the `version` of the profile the change
    was made from) is no longer the saved one: someone saved in between.
    """
    settings = _settings(settings)
    url = database_url(settings)
    support = settings.get("support") or {}
    current = _read(url)  # fresh, and a database error goes to the caller
    profile = _build(support, current.values, current.version, current.updated_at,
                     current.updated_by)
    if expected_version is not None and int(expected_version) != current.version:
        raise ShopProfileConflict(int(expected_version), profile)
    cleaned = validate_changes(changes, profile)
    values = {**current.values, **cleaned}
    who = (by or "?")[:255]
    now = utcnow()
    engine = engine_for(url)
    try:
        with sessionmaker(engine, future=True)() as session, session.begin():
            if current.version == 0 and session.get(ShopProfileRow, 1) is None:
                session.add(ShopProfileRow(id=1, values_json=_dump(values), version=1,
                                           updated_at=now, updated_by=who))
                session.flush()
            else:
                # Conditional on the version read: a concurrent save makes this match nothing.
                done = session.execute(
                    update(ShopProfileRow)
                    .where(ShopProfileRow.id == 1, ShopProfileRow.version == current.version)
                    .values(values_json=_dump(values), version=current.version + 1,
                            updated_at=now, updated_by=who)
                    .execution_options(synchronize_session=False))
                if done.rowcount != 1:
                    raise _Lost()
            session.add(ShopProfileHistoryRow(
                version=current.version + 1, saved_at=now, saved_by=who,
                before_json=_dump(profile.editable()),
                after_json=_dump(_build(support, values).editable())))
    except (_Lost, IntegrityError):
        latest = _read(url)
        raise ShopProfileConflict(current.version, _build(
            support, latest.values, latest.version, latest.updated_at,
            latest.updated_by)) from None
    log.info("shop: %s saved the shop profile (version %d): %s", who, current.version + 1,
             ", ".join(sorted(cleaned)))
    saved = _Saved(values, current.version + 1, now, who)
    with _lock:
        _cache[url] = (monotonic(), saved)
    return _build(support, values, saved.version, now, who)


class _Lost(Exception):
    """Another save got in between the read and the write."""


def _dump(values: Dict[str, Any]) -> str:
    return json.dumps(values, ensure_ascii=False, sort_keys=True)


def shop_profile_history(settings: Optional[Dict[str, Any]] = None,
                         limit: int = 20) -> List[Dict[str, Any]]:
    """The latest saves, newest first: version, saved_at (UTC), saved_by, before, after."""
    engine = engine_for(database_url(_settings(settings)))
    with sessionmaker(engine, future=True)() as session:
        rows = session.execute(select(ShopProfileHistoryRow)
                               .order_by(ShopProfileHistoryRow.id.desc())
                               .limit(limit)).scalars().all()
        return [{"version": r.version,
                 "saved_at": r.saved_at.replace(tzinfo=timezone.utc).isoformat(
                     timespec="seconds"),
                 "saved_by": r.saved_by, "before": json.loads(r.before_json),
                 "after": json.loads(r.after_json)} for r in rows]
