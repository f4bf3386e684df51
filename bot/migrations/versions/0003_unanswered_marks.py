"""The editors' marks on unanswered questions: ignored, added as phrasings, dismissed
(bot/console/unanswered_marks.py).

Revision ID: 0003
Revises: 0002
Created: 2026-11-30 21:44:42.809203
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    if "unanswered_marks" in sa.inspect(op.get_bind()).get_table_names():
        return  # made by create_all before this revision (as 0001 adopts the older tables)
    op.create_table('unanswered_marks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=40), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('entry_id', sa.String(length=200), nullable=True),
    sa.Column('marked_by', sa.String(length=255), nullable=False),
    sa.Column('marked_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('key')
    )


def downgrade() -> None:
    op.drop_table('unanswered_marks')
