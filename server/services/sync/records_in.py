"""The inbound record types and their handlers (docs/sync.md, Record catalogue).

A placeholder: the records helper's module replaces it at merge with the real ``HANDLERS``.
"""

from server.services.sync.incoming import Handler

HANDLERS: dict[str, Handler] = {}
