"""Alembic's environment: online migrations only, against DATABASE_URL (set by pg-bluegreen)."""
import os
from logging.config import fileConfig

from alembic import context
from sqlalchemy import create_engine, pool

from models import metadata

config = context.config
if config.config_file_name is not None:
    fileConfig(config.config_file_name)


def sqlalchemy_url(url):
    # The tool hands over a libpq URL; SQLAlchemy 1.4 wants its own scheme (postgres:// was dropped).
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg2://" + url[len(prefix):]
    return url


def run_migrations_online():
    # NullPool: a migration run is one connection, closed when it ends.
    engine = create_engine(sqlalchemy_url(os.environ["DATABASE_URL"]), poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=metadata)
        # PostgreSQL has transactional DDL: the whole run is one transaction, so a failing revision
        # leaves nothing of this run applied.
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) mode is not used by pg-bluegreen")
run_migrations_online()
