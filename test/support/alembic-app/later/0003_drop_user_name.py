"""A contract step: dropping a column blue still writes. Replication to green would break.

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    op.drop_column("users", "name")


def downgrade():
    op.add_column("users", sa.Column("name", sa.Text, nullable=True))
