"""Routes: 申请材料."""

from fastapi import APIRouter

router = APIRouter(tags=["materials"])
