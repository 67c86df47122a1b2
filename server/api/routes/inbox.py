"""Routes: inbox."""

from fastapi import APIRouter

router = APIRouter(tags=["inbox"])
