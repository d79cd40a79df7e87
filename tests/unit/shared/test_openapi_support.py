"""The OpenAPI check itself: it flags answers FastAPI could not describe and passes models."""

from fastapi import FastAPI
from fastapi.responses import Response
from pydantic import BaseModel

from tests.support.openapi import undescribed_answers


class Thing(BaseModel):
    name: str


def test_bare_dicts_and_untyped_answers_are_flagged_and_models_pass():
    app = FastAPI()

    @app.get("/bare")
    async def bare() -> dict[str, object]:
        return {}

    @app.get("/model", response_model=Thing)
    async def model() -> Thing:
        return Thing(name="a")

    @app.get("/many")
    async def many() -> list[Thing]:
        return []

    @app.get("/file", response_class=Response, responses={200: {"content": {"text/csv": {}}}})
    async def file() -> Response:
        return Response(b"a", media_type="text/csv")

    assert undescribed_answers(app.openapi()) == ["GET /bare 200"]
