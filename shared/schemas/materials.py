"""Application materials (申请材料) as the API and the client see them."""

from datetime import datetime

from pydantic import Field

from shared.approvals import MaterialKind
from shared.schemas.common import Schema

TITLE_MAX = 100


class MaterialPublic(Schema):
    id: int
    application_id: int
    round: int = Field(description="上传时申请所处的轮次")
    title: str = Field(description="材料名称，例如“营业执照扫描件”")
    filename: str
    media_type: MaterialKind = Field(description="由文件内容判定的类型")
    size: int = Field(description="字节数")
    sha256: str
    uploaded_at: datetime
    uploaded_by: str
