"""The application uvicorn runs (`cae serve`), made in each worker process from the environment."""

from __future__ import annotations

import os

from fastapi import FastAPI


def app() -> FastAPI:
    """uvicorn's factory: `CAE_SERVE_DB`, `CAE_SERVE_OPTIONS` and `CAE_CONFIG` say what to serve."""
    from engine.config import load_rules
    from governance.config import load_governance
    from ledger.db import open_ledger
    from web.app import create_app

    options = set(filter(None, os.environ.get("CAE_SERVE_OPTIONS", "").split(",")))
    publish = None
    if "kafka" in options:
        publish = kafka_publisher()
    config = os.environ.get("CAE_CONFIG") or None
    return create_app(open_ledger(os.environ.get("CAE_SERVE_DB") or None), load_rules(config),
                      load_governance(config), config_path=config, secure_cookies="secure" in options,
                      publish=publish)


def kafka_publisher() -> object:
    """Events entered in the web, sent to the workers' topics like `cae publish` sends a file's."""
    from streams.pipeline import Raw
    from streams.publish import publish
    from streams.topics import Topics, bootstrap_servers

    servers, topics = bootstrap_servers(None), Topics.named(os.environ.get("CAE_KAFKA_TOPIC_PREFIX"))

    def send(lines: list[bytes]) -> int:
        return publish([Raw(line, "web") for line in lines], servers, topics).published
    return send
