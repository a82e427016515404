"""A nullable column on a table blue keeps writing: rows blue sends without it are accepted.

Revision ID: 0002
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("orders", sa.Column("client_ref", sa.Text, nullable=True))


def downgrade():
    op.drop_column("orders", "client_ref")
