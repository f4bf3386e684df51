"""Console users, passwords, sessions and the login rate limit, in the handoff database.

- Passwords: scrypt (hashlib) with a random 16-byte salt per user, stored as
  `scrypt$n$r$p$salt$hash` (base64); compared in constant time.
- Sessions: a random token in the browser's cookie; the database keeps only its SHA-256,
  with an expiry, so a leaked database does not hand out live sessions.
- Login rate limit: `max_failures` failed logins for one username from one IP within
  `failure_window` seconds block further attempts (even with the right password) until
  the oldest of them is older than the window.
- Roles: agent < editor < lead < admin.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import re
import secrets
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import List, Optional, Tuple

from sqlalchemy import (Boolean, Column, DateTime, Integer, String, delete, func, select,
                        update)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import declarative_base, sessionmaker

from bot.db import utcnow

log = logging.getLogger(__name__)

AuthBase = declarative_base()

ROLES = ("agent", "editor", "lead", "admin")
# Roles that work tickets (take, reply, resolve); editors only look.
TICKET_ROLES = ("agent", "lead", "admin")
# Roles that may take over or resolve a ticket another agent holds.
SUPERVISOR_ROLES = ("lead", "admin")
# Roles that see the support dashboard (bot/console/dashboard.py).
DASHBOARD_ROLES = ("lead", "admin")
# Roles that edit and publish the FAQ (bot/console/faq_editor.py).
FAQ_ROLES = ("editor", "admin")

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
MIN_PASSWORD = 8
MAX_PASSWORD = 1024

SCRYPT_N, SCRYPT_R, SCRYPT_P, SCRYPT_LEN = 2 ** 14, 8, 1, 32


class UserError(ValueError):
    """A user cannot be created or changed (bad name, role or password, or a duplicate)."""


class UserRow(AuthBase):
    __tablename__ = "console_users"
    id = Column(Integer, primary_key=True)
    username = Column(String(64), unique=True, nullable=False)
    display_name = Column(String(128), nullable=False)
    role = Column(String(16), nullable=False)
    password_hash = Column(String(255), nullable=False)
    active = Column(Boolean, nullable=False, default=True)
    created_at = Column(DateTime, nullable=False, default=utcnow)
    last_login_at = Column(DateTime)


class SessionRow(AuthBase):
    __tablename__ = "console_sessions"
    token_hash = Column(String(64), primary_key=True)
    user_id = Column(Integer, index=True, nullable=False)
    created_at = Column(DateTime, nullable=False, default=utcnow)
    expires_at = Column(DateTime, index=True, nullable=False)
    ip = Column(String(64))


class LoginFailureRow(AuthBase):
    __tablename__ = "console_login_failures"
    id = Column(Integer, primary_key=True)
    username = Column(String(255), index=True, nullable=False)
    ip = Column(String(64), nullable=False)
    at = Column(DateTime, index=True, nullable=False, default=utcnow)


@dataclass(frozen=True)
class User:
    id: int
    username: str
    display_name: str
    role: str
    active: bool
    created_at: datetime
    last_login_at: Optional[datetime]

    @classmethod
    def of(cls, row: UserRow) -> "User":
        return cls(row.id, row.username, row.display_name, row.role, bool(row.active),
                   row.created_at, row.last_login_at)

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def works_tickets(self) -> bool:
        return self.role in TICKET_ROLES

    @property
    def supervises(self) -> bool:
        return self.role in SUPERVISOR_ROLES

    @property
    def sees_dashboard(self) -> bool:
        return self.role in DASHBOARD_ROLES

    @property
    def edits_faq(self) -> bool:
        return self.role in FAQ_ROLES


# --- passwords -------------------------------------------------------------------------

def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=SCRYPT_N, r=SCRYPT_R,
                            p=SCRYPT_P, dklen=SCRYPT_LEN, maxmem=64 * 1024 * 1024)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        actual = hashlib.scrypt(password.encode("utf-8"), salt=base64.b64decode(salt),
                                n=int(n), r=int(r), p=int(p), dklen=len(expected),
                                maxmem=64 * 1024 * 1024)
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


_dummy_hash: Optional[str] = None


def _dummy() -> str:
    """Checked when the username does not exist, so a wrong name costs as long as a wrong
    password (made on first use: it takes as long as hashing one)."""
    global _dummy_hash
    if _dummy_hash is None:
        _dummy_hash = hash_password(secrets.token_hex(8))
    return _dummy_hash


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def clean_username(username: str) -> str:
    return (username or "").strip().lower()


def check_new_user(username: str, password: str, role: str) -> str:
    """The cleaned username, or UserError saying what is wrong (in both languages)."""
    name = clean_username(username)
    if not USERNAME_RE.match(name):
        raise UserError("Tên đăng nhập: 2–64 ký tự a-z, 0-9, . _ - / Username: 2–64 "
                        "characters a-z, 0-9, . _ -")
    if role not in ROLES:
        raise UserError(f"Vai trò không hợp lệ / Unknown role: {role!r} "
                        f"(one of {', '.join(ROLES)})")
    check_password(password)
    return name


def check_password(password: str) -> None:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD:
        raise UserError(f"Mật khẩu cần ít nhất {MIN_PASSWORD} ký tự / Password needs at "
                        f"least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise UserError("Mật khẩu quá dài / Password too long")


# --- the store --------------------------------------------------------------------------

class UserStore:
    def __init__(self, engine, session_hours: float = 12, max_failures: int = 5,
                 failure_window: float = 300) -> None:
        self.engine = engine  # from engine_for: tables made by bot/migrations
        self._session = sessionmaker(engine, future=True, expire_on_commit=False)
        self._lock = threading.Lock()
        self.session_lifetime = timedelta(hours=session_hours)
        self.max_failures = max_failures
        self.failure_window = timedelta(seconds=failure_window)

    # users
    def add_user(self, username: str, password: str, role: str,
                 display_name: Optional[str] = None) -> User:
        name = check_new_user(username, password, role)
        display = (display_name or "").strip()[:128] or name
        row = UserRow(username=name, display_name=display, role=role,
                      password_hash=hash_password(password), active=True, created_at=utcnow())
        try:
            with self._lock, self._session() as session, session.begin():
                session.add(row)
                session.flush()
                return User.of(row)
        except IntegrityError:
            raise UserError(f"Tên đăng nhập đã tồn tại / User already exists: {name}") from None

    def get_user(self, username: str) -> Optional[User]:
        with self._session() as session:
            row = session.execute(select(UserRow).where(
                UserRow.username == clean_username(username))).scalars().first()
            return User.of(row) if row else None

    def list_users(self) -> List[User]:
        with self._session() as session:
            rows = session.execute(select(UserRow).order_by(UserRow.username)).scalars().all()
            return [User.of(r) for r in rows]

    def set_password(self, username: str, password: str) -> User:
        """New password; every session of the user ends."""
        check_password(password)
        with self._lock, self._session() as session, session.begin():
            row = session.execute(select(UserRow).where(
                UserRow.username == clean_username(username))).scalars().first()
            if row is None:
                raise UserError(f"Không có người dùng / No such user: {username}")
            row.password_hash = hash_password(password)
            session.execute(delete(SessionRow).where(SessionRow.user_id == row.id))
            return User.of(row)

    def authenticate(self, username: str, password: str) -> Optional[User]:
        with self._session() as session:
            row = session.execute(select(UserRow).where(
                UserRow.username == clean_username(username))).scalars().first()
        if row is None or not row.active:
            verify_password(password or "", _dummy())
            return None
        if not verify_password(password or "", row.password_hash):
            return None
        return User.of(row)

    # sessions
    def create_session(self, user: User, ip: str = "") -> str:
        """A new session for `user`; returns the token for the cookie (not stored)."""
        token = secrets.token_urlsafe(32)
        now = utcnow()
        with self._lock, self._session() as session, session.begin():
            session.execute(delete(SessionRow).where(SessionRow.expires_at < now))
            session.add(SessionRow(token_hash=token_hash(token), user_id=user.id,
                                   created_at=now, expires_at=now + self.session_lifetime,
                                   ip=(ip or "")[:64]))
            session.execute(update(UserRow).where(UserRow.id == user.id)
                            .values(last_login_at=now))
        return token

    def session_user(self, token: Optional[str]) -> Optional[User]:
        if not token or len(token) > 200:
            return None
        with self._session() as session:
            found = session.execute(
                select(UserRow).join(SessionRow, SessionRow.user_id == UserRow.id)
                .where(SessionRow.token_hash == token_hash(token),
                       SessionRow.expires_at > utcnow(), UserRow.active.is_(True))
            ).scalars().first()
            return User.of(found) if found else None

    def delete_session(self, token: Optional[str]) -> None:
        if not token:
            return
        with self._lock, self._session() as session, session.begin():
            session.execute(delete(SessionRow).where(SessionRow.token_hash == token_hash(token)))

    # login rate limit
    def blocked_for(self, username: str, ip: str) -> int:
        """Seconds until `username` may try again from `ip` (0: not blocked)."""
        now = utcnow()
        with self._session() as session:
            times = session.execute(
                select(LoginFailureRow.at).where(
                    LoginFailureRow.username == clean_username(username)[:255],
                    LoginFailureRow.ip == ip, LoginFailureRow.at > now - self.failure_window)
                .order_by(LoginFailureRow.at)).scalars().all()
        if len(times) < self.max_failures:
            return 0
        # Unblocked once only max_failures - 1 of them are left inside the window.
        frees_at = times[len(times) - self.max_failures] + self.failure_window
        return max(1, int((frees_at - now).total_seconds() + 0.999))

    def record_failure(self, username: str, ip: str) -> int:
        """Records a failed login; returns the failures inside the window, this one included."""
        now = utcnow()
        name = clean_username(username)[:255]
        with self._lock, self._session() as session, session.begin():
            session.execute(delete(LoginFailureRow).where(
                LoginFailureRow.at < now - self.failure_window))
            session.add(LoginFailureRow(username=name, ip=ip, at=now))
            session.flush()
            return session.execute(select(func.count()).select_from(LoginFailureRow).where(
                LoginFailureRow.username == name, LoginFailureRow.ip == ip)).scalar_one()

    def clear_failures(self, username: str, ip: str) -> None:
        with self._lock, self._session() as session, session.begin():
            session.execute(delete(LoginFailureRow).where(
                LoginFailureRow.username == clean_username(username)[:255],
                LoginFailureRow.ip == ip))


def login(store: UserStore, username: str, password: str,
          ip: str) -> Tuple[Optional[User], Optional[str], int]:
    """(user, session token, 0) on success; (None, None, seconds blocked) when rate limited;
    (None, None, 0) for a wrong username or password. Logs failures and blocks."""
    name = clean_username(username)
    blocked = store.blocked_for(name, ip)
    if blocked:
        log.warning("console login blocked (rate limit): user=%r ip=%s, %ds left", name, ip,
                    blocked)
        return None, None, blocked
    user = store.authenticate(name, password)
    if user is None:
        count = store.record_failure(name, ip)
        log.warning("console login failed: user=%r ip=%s (%d/%d in %ds)", name, ip, count,
                    store.max_failures, int(store.failure_window.total_seconds()))
        return None, None, 0
    store.clear_failures(name, ip)
    log.info("console login: user=%r role=%s ip=%s", user.username, user.role, ip)
    return user, store.create_session(user, ip), 0
