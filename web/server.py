"""The application uvicorn runs (`cae serve`), made in each worker process from the environment."""

from __future__ import annotations

import os

from typing import TYPE_CHECKING

from fastapi import FastAPI

if TYPE_CHECKING:
    from streams.pipeline import Raw
    from streams.publish import Published
    from web.routing import Publisher


def app() -> FastAPI:
    """uvicorn's factory: `CAE_SERVE_DB`, `CAE_SERVE_OPTIONS` and `CAE_CONFIG` say what to serve."""
    from engine.config import load_rules
    from governance.config import load_governance
    from ledger.db import open_ledger
    from web.app import THREADS, create_app

    options = set(filter(None, os.environ.get("CAE_SERVE_OPTIONS", "").split(",")))
    publish = None
    if "kafka" in options:
        publish = kafka_publisher()
    config = os.environ.get("CAE_CONFIG") or None
    threads = int(os.environ.get("CAE_SERVE_THREADS") or THREADS)
    return create_app(open_ledger(os.environ.get("CAE_SERVE_DB") or None), load_rules(config),
                      load_governance(config), config_path=config, secure_cookies="secure" in options,
                      publish=publish, threads=threads)


def kafka_publisher() -> Publisher:
    """Events entered in the web, sent to the workers' topics like `cae publish` sends a file's.

    A producer per call: the web sends an event or a few at a time, and an idle connection
    kept in each worker would only have to be watched for going stale.
    """
    from streams.publish import publish
    from streams.topics import Topics, bootstrap_servers, ensure_topics

    servers, topics = bootstrap_servers(None), Topics.named(os.environ.get("CAE_KAFKA_TOPIC_PREFIX"))
    ensure_topics(servers, topics)  # as `cae publish` does; `KafkaUnavailable` when Kafka is not there

    def send(raws: list[Raw]) -> Published:
        return publish(raws, servers, topics)
    return send
