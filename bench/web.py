"""The web application under load: a member's statement page, the API statement, the staff's month.

    python bench/web.py --json

1. setup (reported as `setup_s`, in a child process): bench/payroll.py's year of events for
   `--members` members (10,000 by default: 260,000 events or so), ingested as `cae ingest` does,
   January to November paid; then a staff account and `--clients` member accounts, each with a
   personal API token;
2. `cae serve` on a free loopback port, one worker, as users start it;
3. `--clients` concurrent clients (16 by default), each with its own keep-alive connection,
   its own session (signed in through the login form) and its own member:
   - `raw`: `GET /healthz`, the server's own limit on this machine, same clients, same run;
   - `api_statement`: `GET /api/members/ID/statement?month=…` with the member's token;
   - `statement_page`: `GET /members/ID/statement?month=…`, the HTML page, signed in;
   - `api_statement_cold`: the API statement with a staff token, each request another of the
     members, so that none is answered from what the server keeps (web.readcache): the cost
     of computing a statement from the ledger;
   each for `--requests` requests in all; their requests/s, p50 and p95 latency in ms, and
   `ratio` = requests/s ÷ the raw requests/s;
4. `staff_month`: `GET /staff?month=…` (the month at a glance over every member), one client,
   `--staff-requests` times: p50, p95, max in ms;
5. `server_peak_rss_mb`: the server's peak resident memory (VmHWM), read before it stops, and
   what it holds then: `server_rss_anon_mb` its own memory (what it keeps included),
   `server_rss_file_mb` the pages of the ledger file SQLite maps (shared with the OS's cache).

Latency is measured by the client, from sending a request to reading the whole answer. The
client is aiohttp (it comes with the test extras): a synchronous client cannot keep 16
connections busy. Client and server share the machine's cores, as on a small server with
its reverse proxy. Targets (issue 10): page p95 < 50 ms, API p95 < 20 ms and ≥ 1,000
requests/s, staff month < 500 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp  # noqa: E402

from ledger.db import open_ledger  # noqa: E402
from web import accounts  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
CAE = str(Path(sys.executable).parent / "cae")
PASSWORD = "bench password, long enough"
MONTH = "2026-11"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def build_ledger(url: str, members: int, seed: int) -> dict[str, Any]:
    """bench/payroll.py's setup, in a child process so that its memory stays out of the figures."""
    clock = time.perf_counter()
    child = subprocess.run([sys.executable, str(ROOT / "bench/payroll.py"), "--setup-only", url,
                            "--members", str(members), "--seed", str(seed)],
                           capture_output=True, text=True, check=False)
    if child.returncode != 0:
        raise SystemExit(f"bench setup failed: {child.stderr.strip()[-2000:]}")
    return {**json.loads(child.stdout.splitlines()[-1]), "setup_s": round(time.perf_counter() - clock, 3)}


def add_accounts(url: str, clients: int, members: int) -> dict[str, Any]:
    """A staff account and its token, and `clients` member accounts spread over the members,
    each as (email, member, token)."""
    engine = open_ledger(url)
    width = len(str(members))
    made = []
    with engine.begin() as conn:
        accounts.add_user(conn, "staff@bench.test", PASSWORD, "staff", None, "bench")
        staff_token = accounts.create_token(conn, "staff@bench.test", "bench", "bench")[1]
        for k in range(clients):
            member = f"M{k * (members // clients) + 1:0{width}d}"
            email = f"{member.lower()}@bench.test"
            accounts.add_user(conn, email, PASSWORD, "member", member, "bench")
            made.append((email, member, accounts.create_token(conn, email, "bench", "bench")[1]))
    engine.dispose()
    return {"members": members, "staff_token": staff_token, "accounts": made}


class Server:
    """`cae serve` in its own process, on a free loopback port."""

    def __init__(self, url: str, log: Path) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = log.open("wb")
        self.process = subprocess.Popen([CAE, "serve", "--db", url, "--port", str(self.port)],
                                        stdout=self.log, stderr=subprocess.STDOUT, cwd=ROOT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                if self.process.poll() is not None:
                    break
                time.sleep(0.1)
        raise SystemExit(f"cae serve did not start: {log.read_text(errors='replace')[-2000:]}")

    def memory_mb(self) -> dict[str, float]:
        """The server's peak resident memory, and what it holds now: its own (anonymous) memory and
        the pages of the ledger file it maps (SQLite's mmap: the OS's page cache, shared, reclaimable)."""
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        figures = {name: round(int(value) / 1024, 1) for name, value in re.findall(r"(\w+):\s+(\d+) kB", status)}
        return {"server_peak_rss_mb": figures["VmHWM"], "server_rss_anon_mb": figures["RssAnon"],
                "server_rss_file_mb": figures["RssFile"]}

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)
        self.log.close()


async def signed_in(base: str, email: str) -> aiohttp.ClientSession:
    """A client with one keep-alive connection, signed in through the login form."""
    session = aiohttp.ClientSession(base, connector=aiohttp.TCPConnector(limit=1),
                                    cookie_jar=aiohttp.CookieJar(unsafe=True))  # cookies for 127.0.0.1
    async with session.get("/login") as page:
        csrf = re.search(r'name="csrf" value="([^"]+)"', await page.text()).group(1)  # type: ignore[union-attr]
    async with session.post("/login", data={"csrf": csrf, "email": email, "password": PASSWORD, "next": "/"},
                            allow_redirects=False) as done:
        if done.status != 303:
            raise SystemExit(f"bench: login of {email} answered {done.status}")
    return session


async def load(sessions: list[aiohttp.ClientSession], paths: list[list[str]], headers: list[dict[str, str]],
               total: int) -> dict[str, Any]:
    """`total` requests shared by the clients, each client sending its next as soon as one is
    answered, going round its list of paths."""
    latencies: list[float] = []
    per_client = total // len(sessions)

    async def client(k: int) -> None:
        for n in range(per_client):
            path = paths[k][n % len(paths[k])]
            clock = time.perf_counter()
            async with sessions[k].get(path, headers=headers[k]) as answer:
                await answer.read()
                if answer.status != 200:
                    raise SystemExit(f"bench: GET {path} answered {answer.status}")
            latencies.append(time.perf_counter() - clock)

    await asyncio.gather(*(client(k) for k in range(len(sessions))))  # warm-up: connections, caches
    latencies.clear()
    paths = [list(reversed(p)) for p in paths]  # a cold measure stays cold: the warm-up's last paths come last
    clock = time.perf_counter()
    await asyncio.gather(*(client(k) for k in range(len(sessions))))
    seconds = time.perf_counter() - clock
    return {"requests": len(latencies), "requests_per_s": round(len(latencies) / seconds), **_percentiles(latencies)}


def _percentiles(latencies: list[float]) -> dict[str, float]:
    ordered = sorted(latencies)
    at = lambda q: round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 2)  # noqa: E731
    return {"p50_ms": at(0.50), "p95_ms": at(0.95), "max_ms": round(ordered[-1] * 1000, 2)}


async def measure(base: str, kept: dict[str, Any], clients: int, requests: int,
                  staff_requests: int) -> dict[str, Any]:
    made = kept["accounts"][:clients]
    sessions = [await signed_in(base, email) for email, _, _ in made]
    staff = await signed_in(base, "staff@bench.test")
    try:
        none: list[dict[str, str]] = [{} for _ in made]
        result: dict[str, Any] = {"raw": await load(sessions, [["/healthz"]] * clients, none, requests)}
        result["api_statement"] = await load(
            sessions, [[f"/api/members/{member}/statement?month={MONTH}"] for _, member, _ in made],
            [{"authorization": f"Bearer {token}"} for _, _, token in made], requests)
        result["statement_page"] = await load(
            sessions, [[f"/members/{member}/statement?month={MONTH}"] for _, member, _ in made], none, requests)
        width = len(str(kept["members"]))
        everyone = [f"/api/members/M{n + 1:0{width}d}/statement?month={MONTH}" for n in range(kept["members"])]
        result["api_statement_cold"] = await load(
            sessions, [everyone[k::clients] for k in range(clients)],
            [{"authorization": f"Bearer {kept['staff_token']}"}] * clients, min(requests, len(everyone) // 2))
        for name in ("api_statement", "statement_page", "api_statement_cold"):
            result[name]["ratio"] = round(result[name]["requests_per_s"] / result["raw"]["requests_per_s"], 3)
        latencies = []
        for _ in range(staff_requests + 1):
            clock = time.perf_counter()
            async with staff.get(f"/staff?month={MONTH}") as answer:
                await answer.read()
                if answer.status != 200:
                    raise SystemExit(f"bench: the staff month page answered {answer.status}")
            latencies.append(time.perf_counter() - clock)
        result["staff_month"] = {"requests": staff_requests, **_percentiles(latencies[1:])}  # the first warms up
        return result
    finally:
        for session in [*sessions, staff]:
            await session.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=16, help="concurrent clients (default 16)")
    parser.add_argument("--requests", type=int, default=8_000, help="requests per measure, all clients together")
    parser.add_argument("--staff-requests", type=int, default=10)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--ledger", metavar="PATH", default=None,
                        help="a SQLite ledger to keep and reuse: built there if missing (with PATH.accounts.json)")
    parser.add_argument("--json", action="store_true", help="print one JSON line")
    args = parser.parse_args(argv)
    if min(args.members, args.clients, args.requests, args.staff_requests) < 1 or args.clients > args.members:
        parser.error("--members, --clients, --requests and --staff-requests must be positive, clients ≤ members")
    work = Path(tempfile.mkdtemp(prefix="cae-bench-web-"))
    server: Server | None = None
    try:
        result: dict[str, Any] = {"members": args.members, "clients": args.clients}
        path = Path(args.ledger).resolve() if args.ledger else work / "web.db"
        url, kept = f"sqlite:///{path}", path.with_name(path.name + ".accounts.json")
        if path.exists() and kept.exists():
            made = json.loads(kept.read_text())
            if len(made["accounts"]) < args.clients:
                parser.error(f"{path} was built for {len(made['accounts'])} clients")
            result["members"] = made["members"]
        else:
            result.update(build_ledger(url, args.members, args.seed))
            made = add_accounts(url, args.clients, args.members)
            kept.write_text(json.dumps(made))
        server = Server(url, work / "serve.log")
        result.update(asyncio.run(measure(server.base, made, args.clients, args.requests, args.staff_requests)))
        result.update(server.memory_mb())
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(work, ignore_errors=True)
    if args.json:
        print(json.dumps(result))
        return
    for name in ("raw", "api_statement", "statement_page", "api_statement_cold"):
        r = result[name]
        print(f"{name:18} {r['requests_per_s']:6} req/s  p50 {r['p50_ms']:7.2f} ms  p95 {r['p95_ms']:7.2f} ms"
              + (f"  ratio to raw {r['ratio']:.3f}" if "ratio" in r else ""))
    s = result["staff_month"]
    print(f"staff_month     p50 {s['p50_ms']:.1f} ms  p95 {s['p95_ms']:.1f} ms  max {s['max_ms']:.1f} ms; "
          f"server peak RSS {result['server_peak_rss_mb']} MB (now {result['server_rss_anon_mb']} MB its own, "
          f"{result['server_rss_file_mb']} MB of mapped ledger; {result['members']} members, "
          f"{result['clients']} clients, SQLite)")


if __name__ == "__main__":
    main()
