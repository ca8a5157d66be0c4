"""Servers on loopback for the benches and the tests: a free port, a local Kafka broker.

The stream and governance benches (`bench/stream.py`, `bench/governance.py`) start the same real
broker as the stream tests, with `deploy/kafka/kafka.sh`, and an SMTP server on a free port: what
they share lives here, outside `tests/`, so that a bench never imports the tests (issue 18).
`tests.kafka_fixtures` builds its fixtures on it. A source checkout only: `kafka.sh` is in `deploy/`.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

KAFKA_SH = Path(__file__).resolve().parent.parent / "deploy/kafka/kafka.sh"
CAE = str(Path(sys.executable).parent / "cae")  # the `cae` command of this Python's environment


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now (the system's choice), for a server of our own."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class LocalKafka:
    """A kafka.sh broker: its environment (data folder, ports), to start, stop and find it."""

    env: dict[str, str]
    owned: bool

    @classmethod
    def private(cls, data: Path) -> LocalKafka:
        env = {"CAE_KAFKA_DATA": str(data), "CAE_KAFKA_PORT": str(free_port()),
               "CAE_KAFKA_CONTROLLER_PORT": str(free_port()), "CAE_KAFKA_HEAP_OPTS": "-Xmx384m -Xms384m"}
        return cls(env, owned=True)

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.env.get('CAE_KAFKA_PORT', '9092')}"

    def _run(self, command: str, timeout: float = 240) -> None:
        done = subprocess.run(["bash", str(KAFKA_SH), command], env={**os.environ, **self.env},
                              capture_output=True, text=True, timeout=timeout)
        if done.returncode != 0:
            raise RuntimeError(f"kafka.sh {command} failed: {(done.stdout + done.stderr).strip()[-1500:]}")

    def start(self) -> None:
        self._run("start")

    def stop(self) -> None:
        self._run("stop")
