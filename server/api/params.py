"""Query parameter types shared by the list endpoints, each with its bound.

Ids use ``shared.schemas.common.Id`` and page numbers ``server.services.paging.PageNumber``;
text filters are short, and NUL in any query string is refused once for all (``guards``).
"""

from typing import Annotated

from fastapi import Query

Search = Annotated[str | None, Query(max_length=100, description="名称等包含的文字")]
Sort = Annotated[str | None, Query(max_length=40, description="排序字段，前加 - 为倒序")]
Code = Annotated[str | None, Query(max_length=64)]
