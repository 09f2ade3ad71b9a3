"""Wegweiser storage: SQLAlchemy models, queries and Alembic migrations."""
