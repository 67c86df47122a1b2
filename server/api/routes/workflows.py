"""Routes: 审批流程定义."""

from fastapi import APIRouter

router = APIRouter(tags=["workflows"])
