"""Pydantic schemas of the API, imported by the server (responses) and the client (parsing)."""
