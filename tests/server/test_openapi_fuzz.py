"""schemathesis over the whole ``/openapi.json``, signed in and not, on both engines, each run on
a fresh database: no answer is a server error, every status is documented for its operation, and
every answer matches its documented schema and content type.

Bounded (a few examples per operation and mode) so the run stays around half a minute per engine;
the examples are derandomised, so a failure repeats."""

from collections.abc import Callable
from typing import Any

import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.server.conftest import Api

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
EXAMPLES = 5
SIGNED_IN_SKIPS = {("POST", "/api/v1/auth/logout")}  # would end the session the run uses


def _run(operation: Any, mode: GenerationMode, headers: dict[str, str]) -> str | None:
    failure: list[str] = []

    @hypothesis_settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.explicit, Phase.generate],
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def examples(case: Any) -> None:
        try:
            case.call_and_validate(headers=headers, checks=CHECKS)
        except (Exception, BaseExceptionGroup) as err:  # collect each operation's first failure
            if not failure:
                failure.append(f"{operation.method.upper()} {operation.path} [{mode}]: {err}")

    try:
        examples()
    except Unsatisfiable:  # nothing to make invalid: an operation without parameters or body
        assert mode == GenerationMode.NEGATIVE, operation.path
    return failure[0] if failure else None


def _fuzz(app: FastAPI, headers: dict[str, str], skip: Callable[[str, str], bool]) -> list[str]:
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    failures = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if skip(operation.method.upper(), operation.path):
            continue
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            failure = _run(operation, mode, headers)
            if failure:
                failures.append(failure)
    return failures


def test_signed_in(app: FastAPI, admin: Api) -> None:
    headers = {"Authorization": f"Bearer {admin.token}"}
    failures = _fuzz(app, headers, lambda method, path: (method, path) in SIGNED_IN_SKIPS)
    assert not failures, "\n\n".join(failures)


def test_not_signed_in(app: FastAPI, initialised: Any) -> None:
    failures = _fuzz(app, {}, lambda method, path: False)
    assert not failures, "\n\n".join(failures)
