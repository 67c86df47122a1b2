"""The API client's calls for 内外网数据同步: status, bundles (re-check, discard), the peer's
keys and one cycle now."""

from typing import Any

from shared.schemas.common import Page
from shared.schemas.sync import (
    PeerKeyPublic,
    SyncBundleDetail,
    SyncBundleRow,
    SyncRunResult,
    SyncStatus,
)

RUN_TIMEOUT = 600.0
"""立即同步 waits for the whole cycle (a gateway retried with back-off, large bundles): far
longer than an ordinary request may take."""


class SyncCalls:
    """Mixed into ``ApiClient``: uses its ``request`` (and its timeout for 立即同步)."""

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Any = None,
        timeout: float | None = None,
    ) -> Any:
        raise NotImplementedError

    def sync_status(self) -> SyncStatus:
        return SyncStatus.model_validate(self.request("GET", "/sync/status"))

    def sync_bundles(self, **params: Any) -> Page[SyncBundleRow]:
        clean = {k: v for k, v in params.items() if v is not None}
        return Page[SyncBundleRow].model_validate(
            self.request("GET", "/sync/bundles", params=clean)
        )

    def sync_bundle(self, bundle_id: int) -> SyncBundleDetail:
        return SyncBundleDetail.model_validate(self.request("GET", f"/sync/bundles/{bundle_id}"))

    def recheck_sync_bundle(self, bundle_id: int) -> SyncBundleDetail:
        raw = self.request("POST", f"/sync/bundles/{bundle_id}/recheck", timeout=RUN_TIMEOUT)
        return SyncBundleDetail.model_validate(raw)

    def discard_sync_bundle(self, bundle_id: int) -> SyncBundleDetail:
        raw = self.request("POST", f"/sync/bundles/{bundle_id}/discard")
        return SyncBundleDetail.model_validate(raw)

    def run_sync(self) -> SyncRunResult:
        return SyncRunResult.model_validate(self.request("POST", "/sync/run", timeout=RUN_TIMEOUT))

    def add_peer_key(self, public_key: str) -> PeerKeyPublic:
        raw = self.request("POST", "/sync/peer-keys", json={"public_key": public_key})
        return PeerKeyPublic.model_validate(raw)

    def retire_peer_key(self, key_id: str) -> PeerKeyPublic:
        return PeerKeyPublic.model_validate(
            self.request("POST", f"/sync/peer-keys/{key_id}/retire")
        )

    def reject_stuck_sync_record(self, seq: int, reason: str) -> SyncStatus:
        raw = self.request("POST", f"/sync/stuck/{seq}/reject", json={"reason": reason})
        return SyncStatus.model_validate(raw)
