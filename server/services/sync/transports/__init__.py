"""How bundles cross (SYNC.md, Transports): a folder pair for a file ferry, or the portal's
HTTP gateway. Both present the same ``Transport`` (``base``) to the cycle."""
