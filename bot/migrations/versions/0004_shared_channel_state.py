"""State a second replica must see, moved here from per-host files and process memory:
the channels' handled event ids, Messenger's last inbound times, Zalo's token pair and
numbered choices (bot/channels/state.py; they were in each host's channels.db), the
console's pending bot resumes (bot/console/resumes.py; they were in memory), and the
channel's error code on undelivered messages (they were kept twice: channels.db too).

Nothing is copied from an old channels.db: a Zalo refresh token rotated since the
credentials were written must be put back in the credentials (README, Zalo).

Revision ID: 0004
Revises: 0003
Created: 2026-11-30 23:30:38.750262
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('channel_seen',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('channel', sa.String(length=32), nullable=False),
    sa.Column('event_key', sa.String(length=320), nullable=False),
    sa.Column('at', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('channel', 'event_key', name='uq_channel_seen')
    )
    op.create_table('messenger_last_inbound',
    sa.Column('sender', sa.String(length=255), nullable=False),
    sa.Column('at', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('sender')
    )
    op.create_table('resume_pending',
    sa.Column('ticket_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('since', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('ticket_id')
    )
    op.create_table('zalo_choices',
    sa.Column('sender', sa.String(length=255), nullable=False),
    sa.Column('choices', sa.Text(), nullable=False),
    sa.Column('at', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('sender')
    )
    op.create_table('zalo_tokens',
    sa.Column('app_id', sa.String(length=64), nullable=False),
    sa.Column('access_token', sa.Text(), nullable=False),
    sa.Column('refresh_token', sa.Text(), nullable=False),
    sa.Column('expires_at', sa.Float(), nullable=True),
    sa.Column('seed_refresh_token', sa.Text(), nullable=True),
    sa.Column('updated_at', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('app_id')
    )
    with op.batch_alter_table('undelivered_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('error_code', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('undelivered_messages', schema=None) as batch_op:
        batch_op.drop_column('error_code')

    op.drop_table('zalo_tokens')
    op.drop_table('zalo_choices')
    op.drop_table('resume_pending')
    op.drop_table('messenger_last_inbound')
    op.drop_table('channel_seen')
