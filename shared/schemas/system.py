from shared.schemas.common import Schema


class Health(Schema):
    status: str
    database: str
    version: str
