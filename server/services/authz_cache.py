"""Principals reused across requests while nothing about access has changed.

Building a principal takes several queries (roles, permissions, scope, approval roles, the org
subtree) and every request needs one. A request reads the access epoch together with its token
(one query, ``services/auth.authenticate``) and reuses a principal built under the same epoch;
any change of access moves the epoch on (``db/authz_epoch``), on every server process at once.
Revoked, expired and disabled accounts are still checked on every request, from the database.
"""

from collections import OrderedDict
from threading import Lock

from server.services.authz import Principal

CACHE_SIZE = 4096


class PrincipalCache:
    """Principals by (user, epoch), least recently used dropped first; thread-safe."""

    def __init__(self, size: int = CACHE_SIZE) -> None:
        self.size = size
        self._items: OrderedDict[tuple[int, int], Principal] = OrderedDict()
        self._lock = Lock()

    def get(self, user_id: int, epoch: int) -> Principal | None:
        with self._lock:
            principal = self._items.get((user_id, epoch))
            if principal is not None:
                self._items.move_to_end((user_id, epoch))
            return principal

    def put(self, user_id: int, epoch: int, principal: Principal) -> None:
        with self._lock:
            self._items[(user_id, epoch)] = principal
            while len(self._items) > self.size:
                self._items.popitem(last=False)
