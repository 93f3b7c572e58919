"""Load test on loopback: `intentdesk serve` vs a naive server running the pipeline per request.

    python benchmarks/bench_serve.py [--clients 16 64 256] [--seconds 20]
    python benchmarks/bench_serve.py --connections 1000 [--seconds 20]
    python benchmarks/bench_serve.py --clients 64 --ray-python RAY_VENV/bin/python   # the Ray Serve export too

Both servers load the same model (Wav2Vec2-base architecture, random weights, 14 labels) and
run in their own processes; the naive one is FastAPI + uvicorn with a plain `def` endpoint that
calls `pipeline("audio-classification")` for each request (in Starlette's thread pool). For each
number of clients, that many concurrent clients (one connection each) send a 3 s WAV clip in a
loop for `--seconds`; throughput counts answered requests, latencies are per request as the
client saw them; a 503 (busy, by design) makes that client wait its Retry-After; errors are other
non-200 answers or failed connections.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from fastapi import FastAPI, Request  # module level: FastAPI resolves the endpoint's annotations here

from intentdesk.core.audio.io import SAMPLE_RATE

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))


def naive_app(model_dir: str):
    """The baseline: what a first deployment of the tutorial model usually looks like."""
    import soundfile as sf
    from transformers import pipeline

    classify = pipeline("audio-classification", model=model_dir, device="cpu")
    app = FastAPI()

    def run(body: bytes):
        samples, rate = sf.read(io.BytesIO(body), dtype="float32")
        return classify({"raw": samples, "sampling_rate": rate}, top_k=14)

    @app.post("/classify")
    async def endpoint(request: Request):
        from starlette.concurrency import run_in_threadpool

        return {"ranking": await run_in_threadpool(run, await request.body())}

    @app.get("/health")
    def health():
        return {"status": "ok"}

    return app


def start_server(command: list[str], port: int, cwd: str | None = None) -> subprocess.Popen:
    import httpx

    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=cwd)
    for _ in range(600):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.2)
        if proc.poll() is not None:
            raise SystemExit(f"server failed: {proc.stderr.read().decode()[-2000:]}")
    raise SystemExit("server did not start")


async def load(url: str, body: bytes, clients: int, seconds: float) -> dict:
    """Each client posts, waits for the answer, posts again. A 503 (the service's admission by waiting
    time) is counted as `busy` and the client waits the Retry-After it was given, as a well-behaved
    client does; retrying at once would turn the client into a busy loop on the server's own cores."""
    import httpx

    latencies: list[float] = []
    errors = busy = 0
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(limits=limits, timeout=120) as http:
        end = time.perf_counter() + seconds

        async def client():
            nonlocal errors, busy
            while time.perf_counter() < end:
                started = time.perf_counter()
                try:
                    reply = await http.post(url, content=body, headers={"content-type": "audio/wav"})
                    status = reply.status_code
                except httpx.HTTPError:
                    status = None
                if status == 200:
                    latencies.append((time.perf_counter() - started) * 1000)
                elif status == 503:
                    busy += 1
                    await asyncio.sleep(min(float(reply.headers.get("retry-after", 1)), end - time.perf_counter()))
                else:
                    errors += 1

        began = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(clients)))
        elapsed = time.perf_counter() - began
    q = np.percentile(latencies, [50, 95, 99]) if latencies else [float("nan")] * 3
    return {"rps": len(latencies) / elapsed, "p50": q[0], "p95": q[1], "p99": q[2], "errors": errors,
            "busy": busy, "done": len(latencies)}


async def post(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, head: bytes, body: bytes) -> int:
    """One POST on a kept-alive connection; its status code (the answer's body is read and dropped)."""
    writer.write(head + body)
    await writer.drain()
    status = int((await reader.readline()).split()[1])
    length = 0
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    await reader.readexactly(length)
    return status


async def many_connections(port: int, body: bytes, connections: int, seconds: float) -> dict:
    """`connections` raw loopback connections (asyncio streams: httpx's own cost would swamp 2 cores at
    1,000), each posting the clip in a loop for `seconds`; 200s timed, 503s (the service's limit, by
    design) and failures (a reset, a timeout, anything else) counted."""
    head = (f"POST /classify HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: audio/wav\r\n"
            f"content-length: {len(body)}\r\n\r\n").encode()
    latencies: list[float] = []
    counts = {"ok": 0, "busy_503": 0, "failed": 0}
    reasons: dict[str, int] = {}
    end = time.perf_counter() + seconds

    async def client() -> None:
        while time.perf_counter() < end:  # a connection per 503 (the service closes it after one)
            try:
                reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 60)
            except (OSError, asyncio.TimeoutError) as error:
                counts["failed"] += 1
                reasons[type(error).__name__] = reasons.get(type(error).__name__, 0) + 1
                return
            try:
                while time.perf_counter() < end:
                    started = time.perf_counter()
                    status = await asyncio.wait_for(post(reader, writer, head, body), 120)
                    if status == 200:
                        counts["ok"] += 1
                        latencies.append((time.perf_counter() - started) * 1000)
                        continue
                    counts["busy_503" if status == 503 else "failed"] += 1
                    break
            except (OSError, ValueError, IndexError, asyncio.IncompleteReadError, asyncio.TimeoutError) as error:
                counts["failed"] += 1  # the server closed or broke the connection, or no answer in 120 s
                reasons[type(error).__name__] = reasons.get(type(error).__name__, 0) + 1
                return
            finally:
                writer.close()
            await asyncio.sleep(0.5)  # told to retry shortly

    began = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(connections)))
    elapsed = time.perf_counter() - began
    q = np.percentile(latencies, [50, 99]) if latencies else [float("nan")] * 2
    return {"rps": counts["ok"] / elapsed, "p50": q[0], "p99": q[1], "seconds": elapsed, "reasons": reasons, **counts}


def peak_rss_mb(pid: int) -> float:
    """The process's peak resident memory so far (Linux: VmHWM)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def run_connections(args, tmp: str, body: bytes) -> None:
    """--connections: only `intentdesk serve`, that many connections at once; answers, latency, memory."""
    command = [sys.executable, "-m", "intentdesk", "serve", tmp, "--port", "8012", "--max-batch", "16",
               "--max-wait-ms", "5"]
    proc = start_server(command, 8012)
    try:
        asyncio.run(many_connections(8012, body, 4, 3))  # warm-up
        before = peak_rss_mb(proc.pid)
        result = asyncio.run(many_connections(8012, body, args.connections, args.seconds))
        after = peak_rss_mb(proc.pid)
        import httpx

        healthy = httpx.get("http://127.0.0.1:8012/health", timeout=30).status_code == 200  # answering after
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
    print(result)
    print(f"\n{args.connections} connections, 3 s WAV clips, {args.seconds:g} s, loopback, same cores\n")
    print("| connections | answered 200 | 503 (busy, by design) | failed | requests/s | p50 ms | p99 ms | "
          "server peak RSS before → after |")
    print("|---|---|---|---|---|---|---|---|")
    print(f"| {args.connections} | {result['ok']} | {result['busy_503']} | {result['failed']} | {result['rps']:.2f} | "
          f"{result['p50']:.0f} | {result['p99']:.0f} | {before:.0f} → {after:.0f} MB |")
    print(f"/health after the run: {'200' if healthy else 'not 200'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, nargs="+", default=[16, 64, 256])
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--connections", type=int, help="instead: only intentdesk serve, this many connections "
                        "at once (e.g. 1000): 200s, 503s, failures, p50/p99, server memory")
    parser.add_argument("--max-queue-s", type=float, help="passed to intentdesk serve (default: its own)")
    parser.add_argument("--ray-python", metavar="PYTHON", help="also the Ray Serve export (`intentdesk export-serve`), "
                        "run by `serve` beside this Python, which has Ray Serve and IntentDesk installed")
    parser.add_argument("--naive", metavar="MODEL_DIR", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=8011, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.naive:
        import uvicorn

        uvicorn.run(naive_app(args.naive), host="127.0.0.1", port=args.port, log_level="warning")
        return
    import soundfile as sf
    from bench_inference import make_model

    rng = np.random.default_rng(0)
    buffer = io.BytesIO()
    sf.write(buffer, (rng.standard_normal(48000) * 0.1).astype(np.float32), SAMPLE_RATE, format="WAV")
    body = buffer.getvalue()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        make_model(Path(tmp))
        if args.connections:
            return run_connections(args, tmp, body)
        servers = {
            "naive pipeline server": ([sys.executable, __file__, "--naive", tmp, "--port", "8011"], 8011),
            "intentdesk serve": ([sys.executable, "-m", "intentdesk", "serve", tmp, "--port", "8012",
                                  "--max-batch", "16", "--max-wait-ms", "5"]
                                 + (["--max-queue-s", str(args.max_queue_s)] if args.max_queue_s else []), 8012),
        }
        ray_app = Path(tmp + "-ray") / "app"  # outside the model folder, as export-serve requires
        if args.ray_python:
            subprocess.run([sys.executable, "-m", "intentdesk", "export-serve", tmp, str(ray_app)], check=True,
                           capture_output=True)
            servers["Ray Serve export"] = ([str(Path(args.ray_python).parent / "serve"), "run", "serve_config.yaml"],
                                           8000)
        for name, (command, port) in servers.items():
            proc = start_server(command, port, str(ray_app) if name == "Ray Serve export" else None)
            try:
                url = f"http://127.0.0.1:{port}/classify"
                asyncio.run(load(url, body, 4, 3))  # warm-up
                for clients in args.clients:
                    result = asyncio.run(load(url, body, clients, args.seconds))
                    rows.append((name, clients, result))
                    print(name, clients, {k: round(v, 1) for k, v in result.items()}, flush=True)
            finally:
                proc.terminate()
                proc.wait(timeout=30)
                if name == "Ray Serve export":  # `serve run` leaves Ray's own processes behind
                    subprocess.run([str(Path(args.ray_python).parent / "ray"), "stop", "--force"],
                                   capture_output=True)
                    shutil.rmtree(ray_app.parent, ignore_errors=True)
    print(f"\n3 s WAV clips, {args.seconds:g} s per level, loopback, client and servers on the same 2 cores\n")
    print("| server | clients | requests/s | p50 ms | p95 ms | p99 ms | 503 (busy: waited Retry-After) | errors |")
    print("|---|---|---|---|---|---|---|---|")
    for name, clients, r in rows:
        print(f"| {name} | {clients} | {r['rps']:.2f} | {r['p50']:.0f} | {r['p95']:.0f} | {r['p99']:.0f} | "
              f"{r['busy']} | {r['errors']} |")
    naive = {c: r["rps"] for n, c, r in rows if n.startswith("naive")}
    for server in ("intentdesk serve", "Ray Serve export"):
        ours = {c: r["rps"] for n, c, r in rows if n == server}
        if ours:
            print(f"\n{server} speed-up: " + ", ".join(f"{c} clients {ours[c] / naive[c]:.2f}x" for c in ours
                                                      if naive.get(c)))


if __name__ == "__main__":
    main()
