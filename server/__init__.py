"""SGSS server: FastAPI + SQLAlchemy 2, holding all data and all rules."""
