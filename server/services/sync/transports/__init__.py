"""How bundles cross (SYNC.md, Transports): a folder pair for a file ferry, or the portal's
HTTP gateway. Both present the same ``Transport`` (``base``) to the cycle."""

from server.config import Settings
from server.services.sync.transports.base import Transport


def from_settings(settings: Settings) -> Transport:
    """The transport ``settings`` configure. A placeholder: the transports helper's module
    replaces it at merge with the files and HTTP transports."""
    raise NotImplementedError("the files and HTTP transports come with the transports helper")
