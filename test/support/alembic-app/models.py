"""The tables this release of the application adds, as SQLAlchemy declares them; env.py hands them to
Alembic as target_metadata (what `alembic revision --autogenerate` would compare the database with)."""
from sqlalchemy import BigInteger, Column, DateTime, ForeignKey, MetaData, Table, Text, func

metadata = MetaData()

watchlists = Table(
    "watchlists",
    metadata,
    Column("id", BigInteger, primary_key=True),
    Column("user_id", BigInteger, ForeignKey("users.id"), nullable=False),
    Column("symbol", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)
