"""Alembic migrations for copbot's tables, applied by `copbot db upgrade` and on start."""
