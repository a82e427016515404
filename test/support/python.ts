/**
 * Debian's interpreter for the Python tests: apt's python3-sqlalchemy, python3-psycopg2 and
 * python3-alembic live in its dist-packages, which a pyenv or venv `python3` earlier on PATH
 * (this project's machines have one) does not see.
 */
export const DEBIAN_PYTHON = '/usr/bin/python3';
