"""HTTP access to the SGSS server on ``requests``; no Qt here, shared schemas out."""

from client.api.client import ApiClient
from client.api.errors import ApiError

__all__ = ["ApiClient", "ApiError"]
