"""A release's mistake: an index on a column no revision created. PostgreSQL refuses it.

Revision ID: 0003
Revises: 0002
"""
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("orders_client_reference_idx", "orders", ["client_reference"])


def downgrade():
    op.drop_index("orders_client_reference_idx", table_name="orders")
