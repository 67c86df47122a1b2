from fastapi.testclient import TestClient

from shared import __version__


def test_health_names_the_database(client: TestClient, settings) -> None:  # type: ignore[no-untyped-def]
    body = client.get("/api/v1/health").json()
    assert body == {"status": "ok", "database": settings.database_kind, "version": __version__}


def test_openapi_is_published(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert "/api/v1/auth/login" in spec["paths"]
    assert spec["info"]["title"].startswith("SGSS")


def test_unknown_route_has_error_shape(client: TestClient) -> None:
    response = client.get("/api/v1/nowhere")
    assert response.status_code == 404
    assert response.json() == {
        "code": "NOT_FOUND",
        "message": "请求的记录不存在或不在您的数据范围内",
        "details": None,
    }


def test_malformed_json_is_a_validation_error(client: TestClient) -> None:
    response = client.post(
        "/api/v1/auth/login", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    assert response.json()["code"] == "VALIDATION_ERROR"
