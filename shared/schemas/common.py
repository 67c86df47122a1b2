from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict


class Schema(BaseModel):
    model_config = ConfigDict(from_attributes=True, str_strip_whitespace=True)


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """A page of a list endpoint: ``?page=1&page_size=20`` → ``{"items": [...], "total": N}``."""

    items: list[T]
    total: int
    page: int = 1
    page_size: int = 20


class ErrorBody(BaseModel):
    code: str
    message: str
    details: Any = None
