"""Load test on loopback: `intentdesk serve` vs a naive server running the pipeline per request.

    python benchmarks/bench_serve.py [--clients 16 64 256] [--seconds 20]

Both servers load the same model (Wav2Vec2-base architecture, random weights, 14 labels) and
run in their own processes; the naive one is FastAPI + uvicorn with a plain `def` endpoint that
calls `pipeline("audio-classification")` for each request (in Starlette's thread pool). For each
number of clients, that many concurrent clients (one connection each) send a 3 s WAV clip in a
loop for `--seconds`; throughput counts answered requests, latencies are per request as the
client saw them, errors are non-200 answers or failed connections.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
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


def start_server(command: list[str], port: int) -> subprocess.Popen:
    import httpx

    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
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
    import httpx

    latencies: list[float] = []
    errors = 0
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(limits=limits, timeout=120) as http:
        end = time.perf_counter() + seconds

        async def client():
            nonlocal errors
            while time.perf_counter() < end:
                started = time.perf_counter()
                try:
                    reply = await http.post(url, content=body, headers={"content-type": "audio/wav"})
                    ok = reply.status_code == 200
                except httpx.HTTPError:
                    ok = False
                if ok:
                    latencies.append((time.perf_counter() - started) * 1000)
                else:
                    errors += 1

        began = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(clients)))
        elapsed = time.perf_counter() - began
    q = np.percentile(latencies, [50, 95, 99]) if latencies else [float("nan")] * 3
    return {"rps": len(latencies) / elapsed, "p50": q[0], "p95": q[1], "p99": q[2], "errors": errors,
            "done": len(latencies)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, nargs="+", default=[16, 64, 256])
    parser.add_argument("--seconds", type=float, default=20)
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
        servers = {
            "naive pipeline server": ([sys.executable, __file__, "--naive", tmp, "--port", "8011"], 8011),
            "intentdesk serve": ([sys.executable, "-m", "intentdesk", "serve", tmp, "--port", "8012",
                                  "--max-batch", "16", "--max-wait-ms", "5"], 8012),
        }
        for name, (command, port) in servers.items():
            proc = start_server(command, port)
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
    print(f"\n3 s WAV clips, {args.seconds:g} s per level, loopback, client and servers on the same 2 cores\n")
    print("| server | clients | requests/s | p50 ms | p95 ms | p99 ms | errors |")
    print("|---|---|---|---|---|---|---|")
    for name, clients, r in rows:
        print(f"| {name} | {clients} | {r['rps']:.2f} | {r['p50']:.0f} | {r['p95']:.0f} | {r['p99']:.0f} | "
              f"{r['errors']} |")
    naive = {c: r["rps"] for n, c, r in rows if n.startswith("naive")}
    ours = {c: r["rps"] for n, c, r in rows if n.startswith("intentdesk")}
    print("\nspeed-up: " + ", ".join(f"{c} clients {ours[c] / naive[c]:.2f}x" for c in ours if naive.get(c)))


if __name__ == "__main__":
    main()
