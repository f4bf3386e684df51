"""The vectors of unanswered messages, embedded by the console in the background before an
editor's view reads them (bot/console/unanswered_vectors.py); they were in each console
process's memory.

Revision ID: 0005
Revises: 0004
Created: 2026-12-01 00:14:17.520468
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('unanswered_vectors',
    sa.Column('text_hash', sa.String(length=64), nullable=False),
    sa.Column('embedder', sa.String(length=255), nullable=False),
    sa.Column('vector', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('text_hash', 'embedder')
    )


def downgrade() -> None:
    op.drop_table('unanswered_vectors')
