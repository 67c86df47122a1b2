"""HTTP access to the SGSS server on ``requests``; no Qt here, shared schemas out.

``ApiClient`` is imported on first use (PEP 562): ``requests`` and the schemas are most of the
desk's start-up, and the sign-in window needs only ``ApiError``.
"""

from typing import TYPE_CHECKING, Any

from client.api.errors import ApiError

if TYPE_CHECKING:
    from client.api.client import ApiClient

__all__ = ["ApiClient", "ApiError"]


def __getattr__(name: str) -> Any:
    if name == "ApiClient":
        from client.api.client import ApiClient

        return ApiClient
    raise AttributeError(f"module 'client.api' has no attribute {name!r}")
