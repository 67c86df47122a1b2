"""SGSS desktop client (PySide6). Arrives with the client-shell issue."""
