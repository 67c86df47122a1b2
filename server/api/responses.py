"""A JSON response straight from a pydantic model, for the hottest endpoints.

FastAPI validates and re-serialises a returned model against ``response_model`` on every
request; for an inbox page of 50 rows that costs more than its database queries. The models
here are built by our own code from typed columns, so ``model_dump_json`` (pydantic's Rust
serialiser) is used directly. ``response_model`` stays on the route for the OpenAPI schema.
"""

from fastapi import Response
from pydantic import BaseModel


def fast_json(model: BaseModel) -> Response:
    return Response(content=model.model_dump_json(), media_type="application/json")
