"""A Python application's writer for the client tests: SQLAlchemy 1.4 + psycopg2 with SQLAlchemy's own
connection pool (QueuePool), several threads sharing it, each writing short transactions.

Reads DATABASE_URL from the environment. Prints one line per event, flushed at once so the test's
ledger is never behind what the database acknowledged:
  ready                       the engine is up (the test waits for it)
  ack <id> <port> <ms>        a committed transaction: the server port says which side took it, ms how
                              long the transaction took from the pool checkout to the COMMIT
  error <Type>: <message>     anything the application would see raised
Stops after the transaction in flight on SIGTERM or when the file named by STOP_FILE exists, then
prints `done` and exits 0.
"""
import os
import random
import signal
import sys
import threading
import time

import sqlalchemy
from sqlalchemy import create_engine, text

assert sqlalchemy.__version__.startswith("1.4"), sqlalchemy.__version__

stop = threading.Event()
signal.signal(signal.SIGTERM, lambda *_: stop.set())
out_lock = threading.Lock()


def say(line):
    with out_lock:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


def url_for_sqlalchemy(url):
    # SQLAlchemy 1.4 no longer accepts the `postgres://` scheme libpq and node-postgres take.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg2://" + url[len(prefix):]
    return url


THREADS = int(os.environ.get("WRITER_THREADS", "4"))
# Fewer connections than threads: threads queue on the pool, as an application's workers do.
engine = create_engine(
    url_for_sqlalchemy(os.environ["DATABASE_URL"]),
    pool_size=int(os.environ.get("POOL_SIZE", "3")),
    max_overflow=0,
    pool_timeout=30,
    connect_args={"application_name": "sqlalchemy-client"},
)
stop_file = os.environ.get("STOP_FILE")
INSERT = text(
    "INSERT INTO orders (account_id, symbol, side, quantity, limit_price) "
    "VALUES (:account, 'PY', 'buy', 1, 100) RETURNING id, inet_server_port()"
)
DEBIT = text("UPDATE accounts SET balance = balance - 1 WHERE id = :account")


def should_stop():
    return stop.is_set() or (stop_file is not None and os.path.exists(stop_file))


def worker():
    while not should_stop():
        account = random.randint(1, 1000)
        start = time.monotonic()
        try:
            # engine.begin(): a checkout from the pool, BEGIN, COMMIT on success, ROLLBACK on error.
            with engine.begin() as conn:
                row = conn.execute(INSERT, {"account": account}).one()
                conn.execute(DEBIT, {"account": account})
            say("ack %d %d %d" % (row[0], row[1], round((time.monotonic() - start) * 1000)))
        except Exception as error:  # noqa: BLE001 - everything the application would see is the point
            say("error %s: %s" % (type(error).__name__, " ".join(str(error).split())))
        time.sleep(0.01)


with engine.connect() as first:
    first.execute(text("SELECT 1"))
say("ready")
threads = [threading.Thread(target=worker) for _ in range(THREADS)]
for t in threads:
    t.start()
while not should_stop():
    time.sleep(0.05)
stop.set()
for t in threads:
    t.join()
engine.dispose()
say("done")
