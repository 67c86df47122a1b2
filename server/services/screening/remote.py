"""Screening through the police data service (公安数据服务) over HTTP.

Protocol (one request per screening run)::

    POST {screening_url}
    Content-Type: application/json

    {"persons": [{"id_number": "33010219900101123X", "name": "张三"}, ...],
     "categories": ["criminal_record", "detention_education", "drug_rehabilitation",
                    "wanted_fugitive", "mental_illness_incident"]}

    200 OK
    {"results": [{"id_number": "33010219900101123X", "category": "criminal_record",
                  "outcome": "clear" | "hit", "detail": "…" | null}, ...]}

``persons`` holds each ID number once (upper-case ``X``); ``categories`` are the values of
``ScreeningCategory``. The service answers one result per person and category; ``detail`` is
free text shown to the clerk (for a hit: which record, which authority). The service may also
answer ``"error"`` for a single item it could not check.

Whatever goes wrong stays inside the findings: a timeout, a refused connection, a non-2xx
status, a body that is not the JSON above, or an item left out of ``results`` becomes outcome
``error`` with a Chinese ``detail`` for the affected people and categories. The caller never
sees an exception from here, and a re-run is how the clerk recovers.
"""

import logging
from collections.abc import Sequence
from typing import Any

import requests

from server.services.screening.base import Finding, PersonQuery, distinct, id_key, uniform
from shared.approvals import ScreeningCategory, ScreeningOutcome

log = logging.getLogger(__name__)

TIMEOUT = "公安数据服务无响应（超时）"
UNREACHABLE = "无法连接公安数据服务"
FAILED = "公安数据服务请求失败"
UNREADABLE = "公安数据服务返回的数据无法识别"
NOT_ANSWERED = "公安数据服务未返回该项结果"
CONTRADICTORY = "公安数据服务对该项返回了相互矛盾的结果"


Answers = dict[tuple[str, ScreeningCategory], tuple[ScreeningOutcome, str | None]]


class _QueryFailedError(Exception):
    """The whole request failed; ``detail`` is what the clerk reads for every item."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


def _parse(body: Any) -> Answers:
    """The answered items by (ID number, category); an item answered twice differently is an
    error, since neither answer can be trusted."""
    if not isinstance(body, dict) or not isinstance(body.get("results"), list):
        raise _QueryFailedError(UNREADABLE)
    answers: Answers = {}
    for item in body["results"]:
        try:
            key = (id_key(str(item["id_number"])), ScreeningCategory(item["category"]))
            outcome = ScreeningOutcome(item["outcome"])
        except (KeyError, TypeError, ValueError):
            raise _QueryFailedError(UNREADABLE) from None
        detail = item.get("detail")
        detail = None if detail is None else str(detail)
        if outcome == ScreeningOutcome.error and not detail:
            detail = FAILED
        if key in answers and answers[key][0] != outcome:
            answers[key] = (ScreeningOutcome.error, CONTRADICTORY)
        elif key not in answers:
            answers[key] = (outcome, detail)
    return answers


class HttpScreeningProvider:
    name = "http"

    def __init__(
        self, url: str, timeout: float, http_session: requests.Session | None = None
    ) -> None:
        self.url = url
        self.timeout = timeout
        self._http = http_session or requests.Session()

    def _ask(self, queries: list[PersonQuery]) -> Answers:
        payload = {
            "persons": [{"id_number": q.id_number, "name": q.name} for q in queries],
            "categories": [c.value for c in ScreeningCategory],
        }
        try:
            response = self._http.post(self.url, json=payload, timeout=self.timeout)
        except requests.Timeout:
            log.warning("screening service timed out after %ss: %s", self.timeout, self.url)
            raise _QueryFailedError(TIMEOUT) from None
        except requests.ConnectionError as err:
            log.warning("screening service unreachable: %s (%s)", self.url, err)
            raise _QueryFailedError(UNREACHABLE) from None
        except requests.RequestException as err:
            log.warning("screening request failed: %s (%s)", self.url, err)
            raise _QueryFailedError(FAILED) from None
        if not response.ok:
            log.warning("screening service answered HTTP %s", response.status_code)
            raise _QueryFailedError(f"公安数据服务返回错误（HTTP {response.status_code}）")
        try:
            body = response.json()
        except ValueError:
            log.warning("screening service sent a body that is not JSON: %.200r", response.text)
            raise _QueryFailedError(UNREADABLE) from None
        return _parse(body)

    def check(self, persons: Sequence[PersonQuery]) -> list[Finding]:
        queries = distinct(persons)
        if not queries:
            return []
        try:
            answers = self._ask(queries)
        except _QueryFailedError as err:
            return uniform(queries, ScreeningOutcome.error, err.detail)
        return [
            Finding(
                query.id_number,
                category,
                *answers.get((query.id_number, category), (ScreeningOutcome.error, NOT_ANSWERED)),
            )
            for query in queries
            for category in ScreeningCategory
        ]
