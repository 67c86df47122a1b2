"""Named jobs that turn bytes into page images (Qt's QImage, so not for ``client.models``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from client.jobs.job import LOCAL, ApiJob, Job

if TYPE_CHECKING:
    from client.api import ApiClient


class LoadMaterialPages(ApiJob):
    """One material's file, fetched and rendered page by page (big scans never stall the UI)."""

    def __init__(self, material_id: int, media_type: str) -> None:
        super().__init__()
        self.material_id, self.media_type = material_id, media_type

    def call(self, api: ApiClient) -> list[Any]:
        from client.qt.material_pages import page_images

        return page_images(api.material_content(self.material_id), self.media_type)


class RenderPdfPages(Job):
    """A PDF already in hand (the print file) as page images, for the printer."""

    resource = LOCAL

    def __init__(self, data: bytes) -> None:
        super().__init__()
        self.data = data

    def run(self) -> list[Any]:
        from client.qt.material_pages import page_images
        from shared.approvals import MaterialKind

        return page_images(self.data, MaterialKind.pdf.value)
