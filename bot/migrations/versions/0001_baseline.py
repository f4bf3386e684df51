"""hotro's tables as create_all made them before there were migrations.

A database made by that create_all is adopted: each table is created only when it is
missing, and tickets.order_id (added at start-up by hotro before migrations) only when
the tickets table lacks it, so no row is touched.

Revision ID: 0001
Revises:
Created: 2026-11-30
"""
from alembic import op
import sqlalchemy as sa

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    inspector = sa.inspect(op.get_bind())
    existing = set(inspector.get_table_names())
    if "agent_away" not in existing:
        op.create_table("agent_away",
            sa.Column("username", sa.String(length=255), nullable=False),
            sa.Column("since", sa.DateTime(), nullable=False),
            sa.PrimaryKeyConstraint("username")
        )
    if "agent_presence" not in existing:
        op.create_table("agent_presence",
            sa.Column("username", sa.String(length=255), nullable=False),
            sa.Column("last_seen", sa.DateTime(), nullable=False),
            sa.PrimaryKeyConstraint("username")
        )
    if "canned_replies" not in existing:
        op.create_table("canned_replies",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("shortcut", sa.String(length=32), nullable=False),
            sa.Column("title", sa.String(length=100), nullable=False),
            sa.Column("text", sa.Text(), nullable=False),
            sa.Column("updated_by", sa.String(length=255), nullable=False),
            sa.Column("updated_at", sa.DateTime(), nullable=False),
            sa.PrimaryKeyConstraint("id"),
            sa.UniqueConstraint("shortcut")
        )
    if "console_login_failures" not in existing:
        op.create_table("console_login_failures",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("username", sa.String(length=255), nullable=False),
            sa.Column("ip", sa.String(length=64), nullable=False),
            sa.Column("at", sa.DateTime(), nullable=False),
            sa.PrimaryKeyConstraint("id")
        )
        op.create_index("ix_console_login_failures_at", "console_login_failures", ["at"])
        op.create_index("ix_console_login_failures_username", "console_login_failures", ["username"])
    if "console_sessions" not in existing:
        op.create_table("console_sessions",
            sa.Column("token_hash", sa.String(length=64), nullable=False),
            sa.Column("user_id", sa.Integer(), nullable=False),
            sa.Column("created_at", sa.DateTime(), nullable=False),
            sa.Column("expires_at", sa.DateTime(), nullable=False),
            sa.Column("ip", sa.String(length=64), nullable=True),
            sa.PrimaryKeyConstraint("token_hash")
        )
        op.create_index("ix_console_sessions_expires_at", "console_sessions", ["expires_at"])
        op.create_index("ix_console_sessions_user_id", "console_sessions", ["user_id"])
    if "console_users" not in existing:
        op.create_table("console_users",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("username", sa.String(length=64), nullable=False),
            sa.Column("display_name", sa.String(length=128), nullable=False),
            sa.Column("role", sa.String(length=16), nullable=False),
            sa.Column("password_hash", sa.String(length=255), nullable=False),
            sa.Column("active", sa.Boolean(), nullable=False),
            sa.Column("created_at", sa.DateTime(), nullable=False),
            sa.Column("last_login_at", sa.DateTime(), nullable=True),
            sa.PrimaryKeyConstraint("id"),
            sa.UniqueConstraint("username")
        )
    if "csat_ratings" not in existing:
        op.create_table("csat_ratings",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("conversation_id", sa.String(length=255), nullable=False),
            sa.Column("ticket_id", sa.Integer(), nullable=True),
            sa.Column("rating", sa.Integer(), nullable=False),
            sa.Column("created_at", sa.DateTime(), nullable=False),
            sa.PrimaryKeyConstraint("id")
        )
        op.create_index("ix_csat_ratings_conversation_id", "csat_ratings", ["conversation_id"])
    if "customers" not in existing:
        op.create_table("customers",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("created_at", sa.DateTime(), nullable=False),
            sa.PrimaryKeyConstraint("id")
        )
    if "kb_entry_versions" not in existing:
        op.create_table("kb_entry_versions",
            sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
            sa.Column("entry_id", sa.String(length=200), nullable=False),
            sa.Column("version", sa.Integer(), nullable=False),
            sa.Column("deleted", sa.Boolean(), nullable=False),
            sa.Column("data_json", sa.Text(), nullable=False),
            sa.Column("author", sa.String(length=255), nullable=False),
            sa.Column("saved_at", sa.DateTime(), nullable=False),
            sa.Column("changed_json", sa.Text(), nullable=False),
            sa.Column("note", sa.String(length=500), nullable=False),
            sa.PrimaryKeyConstraint("seq"),
            sa.UniqueConstraint("entry_id", "version", name="uq_kb_entry_version")
        )
        op.create_index("ix_kb_entry_versions_entry_id", "kb_entry_versions", ["entry_id"])
    if "kb_publications" not in existing:
        op.create_table("kb_publications",
            sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
            sa.Column("store_version", sa.Integer(), nullable=False),
            sa.Column("author", sa.String(length=255), nullable=False),
            sa.Column("published_at", sa.DateTime(), nullable=False),
            sa.Column("entries", sa.Integer(), nullable=False),
            sa.PrimaryKeyConstraint("id")
        )
    if "kb_store_meta" not in existing:
        op.create_table("kb_store_meta",
            sa.Column("key", sa.String(length=50), nullable=False),
            sa.Column("value", sa.Text(), nullable=False),
            sa.Column("at", sa.DateTime(), nullable=False),
            sa.PrimaryKeyConstraint("key")
        )
    if "shop_profile" not in existing:
        op.create_table("shop_profile",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("values_json", sa.Text(), nullable=False),
            sa.Column("version", sa.Integer(), nullable=False),
            sa.Column("updated_at", sa.DateTime(), nullable=True),
            sa.Column("updated_by", sa.String(length=255), nullable=False),
            sa.PrimaryKeyConstraint("id")
        )
    if "shop_profile_history" not in existing:
        op.create_table("shop_profile_history",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("version", sa.Integer(), nullable=False),
            sa.Column("saved_at", sa.DateTime(), nullable=False),
            sa.Column("saved_by", sa.String(length=255), nullable=False),
            sa.Column("before_json", sa.Text(), nullable=False),
            sa.Column("after_json", sa.Text(), nullable=False),
            sa.PrimaryKeyConstraint("id")
        )
    if "ticket_notes" not in existing:
        op.create_table("ticket_notes",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("ticket_id", sa.Integer(), nullable=False),
            sa.Column("author", sa.String(length=255), nullable=False),
            sa.Column("author_name", sa.String(length=255), nullable=False),
            sa.Column("text", sa.Text(), nullable=False),
            sa.Column("created_at", sa.DateTime(), nullable=False),
            sa.PrimaryKeyConstraint("id")
        )
        op.create_index("ix_ticket_notes_ticket_id", "ticket_notes", ["ticket_id"])
    if "tickets" not in existing:
        op.create_table("tickets",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("conversation_id", sa.String(length=255), nullable=False),
            sa.Column("channel", sa.String(length=64), nullable=False),
            sa.Column("customer_name", sa.String(length=255), nullable=True),
            sa.Column("language", sa.String(length=8), nullable=False),
            sa.Column("reason", sa.String(length=64), nullable=False),
            sa.Column("status", sa.String(length=16), nullable=False),
            sa.Column("created_at", sa.DateTime(), nullable=False),
            sa.Column("assigned_to", sa.String(length=255), nullable=True),
            sa.Column("assigned_at", sa.DateTime(), nullable=True),
            sa.Column("resolved_at", sa.DateTime(), nullable=True),
            sa.Column("contact", sa.String(length=255), nullable=True),
            sa.Column("order_id", sa.String(length=64), nullable=True),
            sa.Column("transcript_json", sa.Text(), nullable=False),
            sa.PrimaryKeyConstraint("id")
        )
        op.create_index("ix_tickets_conversation_id", "tickets", ["conversation_id"])
        op.create_index("ix_tickets_status", "tickets", ["status"])
    if "undelivered_messages" not in existing:
        op.create_table("undelivered_messages",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("ticket_id", sa.Integer(), nullable=False),
            sa.Column("conversation_id", sa.String(length=255), nullable=False),
            sa.Column("channel", sa.String(length=64), nullable=False),
            sa.Column("text", sa.Text(), nullable=False),
            sa.Column("error", sa.Text(), nullable=True),
            sa.Column("window_closed", sa.Boolean(), nullable=False),
            sa.Column("created_at", sa.DateTime(), nullable=False),
            sa.PrimaryKeyConstraint("id")
        )
        op.create_index("ix_undelivered_messages_ticket_id", "undelivered_messages", ["ticket_id"])
    if "webhook_outbox" not in existing:
        op.create_table("webhook_outbox",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("url", sa.String(length=1000), nullable=False),
            sa.Column("body", sa.Text(), nullable=False),
            sa.Column("attempts", sa.Integer(), nullable=False),
            sa.Column("next_attempt_at", sa.DateTime(), nullable=False),
            sa.Column("delivered_at", sa.DateTime(), nullable=True),
            sa.Column("last_error", sa.String(length=500), nullable=True),
            sa.PrimaryKeyConstraint("id")
        )
    if "customer_contacts" not in existing:
        op.create_table("customer_contacts",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("customer_id", sa.Integer(), nullable=False),
            sa.Column("kind", sa.String(length=8), nullable=False),
            sa.Column("value", sa.String(length=255), nullable=False),
            sa.Column("added_at", sa.DateTime(), nullable=False),
            sa.ForeignKeyConstraint(["customer_id"], ["customers.id"], ),
            sa.PrimaryKeyConstraint("id"),
            sa.UniqueConstraint("kind", "value")
        )
        op.create_index("ix_customer_contacts_customer_id", "customer_contacts", ["customer_id"])
    if "customer_identities" not in existing:
        op.create_table("customer_identities",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("channel", sa.String(length=64), nullable=False),
            sa.Column("sender_id", sa.String(length=255), nullable=False),
            sa.Column("customer_id", sa.Integer(), nullable=False),
            sa.Column("linked_at", sa.DateTime(), nullable=False),
            sa.ForeignKeyConstraint(["customer_id"], ["customers.id"], ),
            sa.PrimaryKeyConstraint("id"),
            sa.UniqueConstraint("channel", "sender_id")
        )
        op.create_index("ix_customer_identities_customer_id", "customer_identities", ["customer_id"])
    if "tickets" in existing and "order_id" not in {
            c["name"] for c in inspector.get_columns("tickets")}:
        op.add_column("tickets", sa.Column("order_id", sa.String(length=64), nullable=True))


def downgrade() -> None:
    for table in (
            "customer_identities",
            "customer_contacts",
            "webhook_outbox",
            "undelivered_messages",
            "tickets",
            "ticket_notes",
            "shop_profile_history",
            "shop_profile",
            "kb_store_meta",
            "kb_publications",
            "kb_entry_versions",
            "customers",
            "csat_ratings",
            "console_users",
            "console_sessions",
            "console_login_failures",
            "canned_replies",
            "agent_presence",
            "agent_away",
    ):
        op.drop_table(table)  # indexes go with their table
