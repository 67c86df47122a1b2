"""The desk's 内外网数据同步 work, one named job per thing the administrator asks for (as in
``client.jobs.api_jobs``: plain Python, one call each)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from client.jobs.job import ApiJob

if TYPE_CHECKING:
    from client.api import ApiClient


class LoadSyncStatus(ApiJob):
    def call(self, api: ApiClient) -> Any:
        return api.sync_status()


class LoadSyncBundles(ApiJob):
    def __init__(self, **params: Any) -> None:
        super().__init__()
        self.params = params

    def call(self, api: ApiClient) -> Any:
        return api.sync_bundles(**self.params)


class _OnBundle(ApiJob):
    def __init__(self, bundle_id: int) -> None:
        super().__init__()
        self.bundle_id = bundle_id


class LoadSyncBundle(_OnBundle):
    def call(self, api: ApiClient) -> Any:
        return api.sync_bundle(self.bundle_id)


class RecheckSyncBundle(_OnBundle):
    def call(self, api: ApiClient) -> Any:
        return api.recheck_sync_bundle(self.bundle_id)


class DiscardSyncBundle(_OnBundle):
    def call(self, api: ApiClient) -> Any:
        return api.discard_sync_bundle(self.bundle_id)


class RunSync(ApiJob):
    """立即同步: one cycle on the server; answers its one-line summary (``SyncRunResult``)."""

    def call(self, api: ApiClient) -> Any:
        return api.run_sync()


class AddPeerKey(ApiJob):
    def __init__(self, public_key: str) -> None:
        super().__init__()
        self.public_key = public_key

    def call(self, api: ApiClient) -> Any:
        return api.add_peer_key(self.public_key)


class RetirePeerKey(ApiJob):
    def __init__(self, key_id: str) -> None:
        super().__init__()
        self.key_id = key_id

    def call(self, api: ApiClient) -> Any:
        return api.retire_peer_key(self.key_id)


class RejectStuckRecord(ApiJob):
    """退回该记录: the record the stream is stuck on; answers the new ``SyncStatus``."""

    def __init__(self, seq: int, reason: str) -> None:
        super().__init__()
        self.seq, self.reason = seq, reason

    def call(self, api: ApiClient) -> Any:
        return api.reject_stuck_sync_record(self.seq, self.reason)
