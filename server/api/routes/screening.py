"""Routes: 人员背景审查."""

from fastapi import APIRouter

router = APIRouter(tags=["screening"])
