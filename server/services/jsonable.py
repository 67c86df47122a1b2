from datetime import date, datetime
from enum import Enum
from typing import Any


def jsonable(value: Any) -> Any:
    """Plain JSON values only, so an audit record hashes the same after a database round trip."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [jsonable(v) for v in value]
        return sorted(items, key=repr) if isinstance(value, set | frozenset) else items
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    return value
