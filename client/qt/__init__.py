"""Thin Qt adapters over the plain models of ``client.models`` (table models, images)."""
