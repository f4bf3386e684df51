"""One unresolved ticket per conversation, as a partial unique index.

Before it, a thread lock in each process kept it, so two processes (the action server and
the console) could each have opened one. Such duplicates are resolved first, keeping the
conversation's ticket an agent holds (status open), else its newest: no row is deleted,
the others stay readable with their transcripts.

Revision ID: 0002
Revises: 0001
Created: 2026-11-30
"""
from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

UNRESOLVED = sa.text("status != 'resolved'")


def upgrade() -> None:
    bind = op.get_bind()
    rows = bind.execute(sa.text(
        "SELECT id, conversation_id, status FROM tickets WHERE status != 'resolved' "
        "ORDER BY conversation_id, status = 'open', id")).all()
    keep = {}
    for ticket_id, conversation_id, _status in rows:  # the last of each conversation wins
        keep[conversation_id] = ticket_id
    duplicates = [row[0] for row in rows if keep[row[1]] != row[0]]
    if duplicates:
        now = datetime.now(timezone.utc).replace(tzinfo=None)  # stored as naive UTC
        bind.execute(sa.text("UPDATE tickets SET status = 'resolved', resolved_at = :now "
                             "WHERE id IN :ids")
                     .bindparams(sa.bindparam("ids", expanding=True)),
                     {"now": now, "ids": duplicates})
    op.create_index("uq_tickets_one_unresolved", "tickets", ["conversation_id"], unique=True,
                    sqlite_where=UNRESOLVED, postgresql_where=UNRESOLVED)


def downgrade() -> None:
    op.drop_index("uq_tickets_one_unresolved", "tickets")
