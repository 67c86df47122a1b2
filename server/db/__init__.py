"""Persistence: typed SQLAlchemy 2 models that run on SQLite and PostgreSQL."""
