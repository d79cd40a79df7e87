"""The HTTP shell every service shares: error format, body limit, route-labelled metrics."""

from __future__ import annotations

from contextlib import asynccontextmanager

import httpx
from fastapi import APIRouter, FastAPI, UploadFile
from prometheus_client import CollectorRegistry
from pydantic import BaseModel

from shared.errors import Conflict
from shared.http import create_service_app
from shared.metrics import HttpMetrics


class Body(BaseModel):
    count: int


def make_app(ready: bool = True) -> FastAPI:
    router = APIRouter()

    @router.post("/v1/things/{thing_id}")
    async def create(thing_id: str, body: Body) -> dict[str, int]:
        if thing_id == "taken":
            raise Conflict("Đã có.", code="thing_exists")
        return {"count": body.count}

    @router.post("/v1/files")
    async def upload(file: UploadFile) -> dict[str, int]:
        return {"size": len(await file.read())}

    @asynccontextmanager
    async def lifespan(_: FastAPI):
        yield

    async def check() -> None:
        if not ready:
            raise ConnectionError("down")

    registry = CollectorRegistry()
    return create_service_app(
        title="t",
        version="1",
        metrics_registry=registry,
        http_metrics=HttpMetrics(registry, "svc"),
        lifespan=lifespan,
        routers=[router],
        readiness={"database": check},
        max_body_bytes=2048,
        max_upload_bytes=8192,
    )


async def call(app: FastAPI, method: str, path: str, **kwargs) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        return await client.request(method, path, **kwargs)


async def test_domain_error_keeps_its_status_code_and_vietnamese_message():
    response = await call(make_app(), "POST", "/v1/things/taken", json={"count": 1})
    assert response.status_code == 409
    assert response.json() == {"error": {"code": "thing_exists", "message": "Đã có."}}


async def test_malformed_json_is_a_400_with_a_stable_code():
    response = await call(
        make_app(),
        "POST",
        "/v1/things/a",
        content=b"{oops",
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "malformed_json"


async def test_wrong_type_is_a_422_naming_the_field_in_vietnamese():
    response = await call(make_app(), "POST", "/v1/things/a", json={"count": "nhiều"})
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_request"
    assert error["details"][0]["path"] == "count"
    assert "count" in error["details"][0]["message"]


async def test_body_over_the_limit_is_refused_with_413():
    response = await call(make_app(), "POST", "/v1/things/a", content=b"x" * 4096)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"


async def _chunks(data: bytes):  # no Content-Length: sent with chunked transfer encoding
    for start in range(0, len(data), 512):
        yield data[start : start + 512]


async def test_a_streamed_body_over_the_limit_is_a_413_in_the_project_format():
    # Without a Content-Length the limit is only crossed while FastAPI reads the body; it
    # must still be the project's 413, not FastAPI's "400 There was an error parsing the body".
    body = b'{"count": 1, "padding": "' + b"x" * 4096 + b'"}'
    app = make_app()
    response = await call(
        app,
        "POST",
        "/v1/things/a",
        content=_chunks(body),
        headers={"Content-Type": "application/json"},
    )
    assert "content-length" not in response.request.headers
    assert response.status_code == 413
    assert response.json() == {
        "error": {
            "code": "payload_too_large",
            "message": "Dữ liệu gửi lên vượt quá dung lượng cho phép.",
        }
    }
    metrics = (await call(app, "GET", "/metrics")).text
    assert (
        'danvan_http_requests_total{method="POST",route="/v1/things/{thing_id}",'
        'service="svc",status="413"} 1.0'
    ) in metrics


async def test_uploads_have_their_own_limit_declared_or_streamed():
    app = make_app()
    small = await call(app, "POST", "/v1/files", files={"file": ("a.bin", b"0" * 4096)})
    assert small.status_code == 200 and small.json() == {"size": 4096}
    big = await call(app, "POST", "/v1/files", files={"file": ("a.bin", b"0" * 9000)})
    assert big.status_code == 413 and big.json()["error"]["code"] == "payload_too_large"
    boundary = "ranh-gioi"
    form = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.bin"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        + b"0" * 9000
        + f"\r\n--{boundary}--\r\n".encode()
    )
    streamed = await call(
        app,
        "POST",
        "/v1/files",
        content=_chunks(form),
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert streamed.status_code == 413
    assert streamed.json()["error"]["code"] == "payload_too_large"
    # The JSON limit stays the smaller one: an upload's size is not a licence for JSON.
    json_body = b'{"count": 1, "padding": "' + b"x" * 4096 + b'"}'
    refused = await call(
        app, "POST", "/v1/things/a", content=json_body, headers={"Content-Type": "application/json"}
    )
    assert refused.status_code == 413


async def test_unknown_route_is_a_json_404():
    response = await call(make_app(), "GET", "/khong-co")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


async def test_metrics_are_labelled_by_route_template_not_raw_path():
    app = make_app()
    await call(app, "POST", "/v1/things/a", json={"count": 1})
    await call(app, "POST", "/v1/things/b", json={"count": 2})
    metrics = (await call(app, "GET", "/metrics")).text
    assert (
        'danvan_http_requests_total{method="POST",route="/v1/things/{thing_id}",'
        'service="svc",status="200"} 2.0'
    ) in metrics


async def test_readiness_reports_the_failing_check():
    response = await call(make_app(ready=False), "GET", "/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["database"].startswith("error")


async def test_every_answer_carries_a_request_id_and_echoes_the_callers():
    app = make_app()
    fresh = await call(app, "GET", "/healthz")
    assert len(fresh.headers["x-request-id"]) == 32
    given = await call(app, "GET", "/healthz", headers={"X-Request-Id": "abc-123"})
    assert given.headers["x-request-id"] == "abc-123"


async def test_a_nul_character_in_the_query_is_a_422_not_a_database_error():
    app = make_app()
    for path in ("/v1/things/x?period_id=%5B%00-%08%5D", "/v1/things/x?q=%00"):
        response = await call(app, "POST", path, json={"count": 1})
        assert response.status_code == 422, path
        assert response.json()["error"]["code"] == "invalid_characters"
        assert "ký tự NUL" in response.json()["error"]["message"]
    # The same request without it goes through.
    assert (await call(app, "POST", "/v1/things/x?q=%01", json={"count": 1})).status_code == 200
