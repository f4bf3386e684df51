"""Customer profiles: one customer across channels, joined by the phone or email they give.

An identity is a conversation on one channel (channel, sender_id). When a customer
leaves a phone number or email, `link` attaches their identity to the customer who owns
that contact (or to a new customer). Everything given in one conversation belongs to one
person, so a contact owned by another customer merges the two (the older one stays).
A customer can thus hold several phones and emails: contacts live in their own table.

Kept in the ticket database (same `Base`, same engine), every write committed before
the call returns.
"""
from __future__ import annotations

import logging
import threading
import unicodedata
from typing import Dict, List, Optional, Tuple

from sqlalchemy import (Column, DateTime, ForeignKey, Integer, String, UniqueConstraint,
                        and_, delete, or_, select, update)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.handoff.contact import find_email, find_phone
from bot.handoff.store import Base, TicketStore, ticket_store, utcnow
from bot.text import normalize

logger = logging.getLogger(__name__)

PHONE, EMAIL = "phone", "email"
_ATTEMPTS = 3  # another process may link the same contact or identity at the same moment


class CustomerRow(Base):
    __tablename__ = "customers"
    id = Column(Integer, primary_key=True)
    created_at = Column(DateTime, nullable=False, default=utcnow)


class ContactRow(Base):
    """A phone (0xxxxxxxxx) or email (lower case) that belongs to one customer."""
    __tablename__ = "customer_contacts"
    __table_args__ = (UniqueConstraint("kind", "value"),)
    id = Column(Integer, primary_key=True)
    customer_id = Column(Integer, ForeignKey("customers.id"), index=True, nullable=False)
    kind = Column(String(8), nullable=False)
    value = Column(String(255), nullable=False)
    added_at = Column(DateTime, nullable=False, default=utcnow)


class IdentityRow(Base):
    """One conversation of a customer on one channel."""
    __tablename__ = "customer_identities"
    __table_args__ = (UniqueConstraint("channel", "sender_id"),)
    id = Column(Integer, primary_key=True)
    channel = Column(String(64), nullable=False)
    sender_id = Column(String(255), nullable=False)
    customer_id = Column(Integer, ForeignKey("customers.id"), index=True, nullable=False)
    linked_at = Column(DateTime, nullable=False, default=utcnow)


def phone_key(value: Optional[str]) -> Optional[str]:
    """0xxxxxxxxx for any way of writing the number ("+84 912 345 678", no-break spaces,
    full-width digits), None if it is no valid Vietnamese number."""
    if not value:
        return None
    return find_phone(normalize(unicodedata.normalize("NFKC", value)))


def email_key(value: Optional[str]) -> Optional[str]:
    if not value:
        return None
    return find_email(normalize(unicodedata.normalize("NFKC", value)))


class CustomerProfiles:
    def __init__(self, engine) -> None:
        self.engine = engine  # from engine_for: tables made by bot/migrations
        self.session = sessionmaker(engine, future=True, expire_on_commit=False)
        self._lock = threading.Lock()  # one writer at a time within a process

    def link(self, channel: str, sender_id: str, phone: Optional[str] = None,
             email: Optional[str] = None) -> Optional[int]:
        """Attaches the identity to the customer owning `phone` or `email` (created if
        none; merged if they belong to different customers). Returns the customer id, or
        None when neither is a valid contact."""
        contacts = [(kind, value) for kind, value in ((PHONE, phone_key(phone)),
                                                      (EMAIL, email_key(email))) if value]
        if not contacts:
            return None
        for attempt in range(1, _ATTEMPTS + 1):
            try:
                with self._lock, self.session() as session, session.begin():
                    return self._link(session, channel or "", sender_id, contacts)
            except IntegrityError:
                if attempt == _ATTEMPTS:
                    raise
                logger.info("profiles: %s/%s linked concurrently elsewhere, retrying",
                            channel, sender_id)
        raise AssertionError("unreachable")

    def _link(self, session: Session, channel: str, sender_id: str,
              contacts: List[Tuple[str, str]]) -> int:
        owners = set(session.execute(select(ContactRow.customer_id).where(or_(*(
            and_(ContactRow.kind == kind, ContactRow.value == value)
            for kind, value in contacts)))).scalars())
        identity = session.execute(select(IdentityRow).where(
            IdentityRow.channel == channel, IdentityRow.sender_id == sender_id)
        ).scalars().first()
        if identity is not None:
            owners.add(identity.customer_id)
        if owners:
            target = min(owners)
        else:
            customer = CustomerRow(created_at=utcnow())
            session.add(customer)
            session.flush()
            target = customer.id
        merged = owners - {target}
        if merged:
            for row in (ContactRow, IdentityRow):
                session.execute(update(row).where(row.customer_id.in_(merged))
                                .values(customer_id=target)
                                .execution_options(synchronize_session=False))
            session.execute(delete(CustomerRow).where(CustomerRow.id.in_(merged))
                            .execution_options(synchronize_session=False))
            logger.info("profiles: customers %s merged into #%d (%s/%s)", sorted(merged),
                        target, channel, sender_id)
        known = {tuple(row) for row in session.execute(
            select(ContactRow.kind, ContactRow.value).where(ContactRow.customer_id == target))}
        for kind, value in contacts:
            if (kind, value) not in known:
                session.add(ContactRow(customer_id=target, kind=kind, value=value,
                                       added_at=utcnow()))
        if identity is None:
            session.add(IdentityRow(channel=channel, sender_id=sender_id, customer_id=target,
                                    linked_at=utcnow()))
        else:
            identity.customer_id = target
        return target

    def customer_of(self, channel: str, sender_id: str) -> Optional[int]:
        with self.session() as session:
            return session.execute(select(IdentityRow.customer_id).where(
                IdentityRow.channel == (channel or ""), IdentityRow.sender_id == sender_id)
            ).scalars().first()

    def linked_conversations(self, channel: str, sender_id: str) -> List[Tuple[str, str]]:
        """(channel, sender_id) of the customer's other identities, oldest link first."""
        customer = self.customer_of(channel, sender_id)
        if customer is None:
            return []
        with self.session() as session:
            rows = session.execute(
                select(IdentityRow.channel, IdentityRow.sender_id)
                .where(IdentityRow.customer_id == customer)
                .order_by(IdentityRow.linked_at, IdentityRow.id)).all()
        return [(c, s) for c, s in rows if (c, s) != (channel or "", sender_id)]

    def contacts_of(self, identities: List[Tuple[str, str]]
                    ) -> Dict[Tuple[str, str], Dict[str, List[str]]]:
        """{(channel, sender_id): {"phone": [...], "email": [...]}} of each linked identity's
        customer, oldest contact first (unlinked identities are left out). One query."""
        wanted = {(c or "", s) for c, s in identities}
        if not wanted:
            return {}
        with self.session() as session:
            rows = session.execute(
                select(IdentityRow.channel, IdentityRow.sender_id, ContactRow.kind,
                       ContactRow.value)
                .join(ContactRow, ContactRow.customer_id == IdentityRow.customer_id)
                .where(IdentityRow.sender_id.in_({s for _, s in wanted}))
                .order_by(ContactRow.added_at, ContactRow.id)).all()
        found: Dict[Tuple[str, str], Dict[str, List[str]]] = {}
        for channel, sender_id, kind, value in rows:
            if (channel, sender_id) in wanted:
                found.setdefault((channel, sender_id), {PHONE: [], EMAIL: []})[kind].append(value)
        return found


_profiles: Dict[str, CustomerProfiles] = {}
_profiles_lock = threading.Lock()


def customer_profiles(store: Optional[TicketStore] = None) -> CustomerProfiles:
    """The profiles kept beside `store`'s tickets (default: the process's ticket store)."""
    store = store or ticket_store()
    key = str(store.engine.url)
    with _profiles_lock:
        if key not in _profiles:
            _profiles[key] = CustomerProfiles(store.engine)
        return _profiles[key]
