"""In production the service publishes no interactive docs: anonymous callers reach only the
health probes, the checkpoint and the key (the API description is openapi/openapi.json)."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Environment, Settings


def test_production_serves_no_docs_to_anonymous_callers(tmp_path: Path, database_url: str) -> None:
    key = tmp_path / "signer.key"
    from app.keys import write_signer_key

    write_signer_key(key, "prod.example/log")
    settings = Settings(
        environment=Environment.production,
        database_url=database_url,
        signer_key_path=key,
        checkpoint_state_path=tmp_path / "state",
        log_origin="prod.example/log",
    )
    with TestClient(create_app(settings)) as client:
        for path in ("/docs", "/redoc", "/openapi.json"):
            assert client.get(path).status_code == 404, path
        assert client.get("/healthz").status_code == 200
        assert client.get("/v1/log/checkpoint").status_code == 200
