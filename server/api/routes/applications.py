"""Routes: applications."""

from fastapi import APIRouter

router = APIRouter(tags=["applications"])
