"""`intentdesk serve` and `intentdesk export-serve`: the HTTP inference service, here or as a Ray Serve app."""

from __future__ import annotations

import argparse
from pathlib import Path

from intentdesk.cli.parser import add_precision_option


def cmd_serve(args: argparse.Namespace) -> int:
    from intentdesk.service.options import ServiceOptions, megabytes
    from intentdesk.service.runner import serve

    options = ServiceOptions(max_batch=args.max_batch, max_wait_ms=args.max_wait_ms, api_key=args.api_key,
                             max_body_bytes=megabytes(args.max_body_mb), max_seconds=args.max_seconds,
                             max_queue_s=args.max_queue_s)
    serve(args.model, args.host, args.port, options, precision=args.precision)  # options/port checked first
    return 0


def cmd_export_serve(args: argparse.Namespace) -> int:
    from intentdesk.core.files import stop_when_disk_full
    from intentdesk.service.options import megabytes
    from intentdesk.service.ray_export import export_ray_app

    target = Path(args.out).expanduser().absolute()
    with stop_when_disk_full(target.parent, f"nothing was written to {target}"):  # its partial copy is removed
        out = export_ray_app(args.model, target, max_batch=args.max_batch, min_replicas=args.min_replicas,
                             max_replicas=args.max_replicas, max_seconds=args.max_seconds,
                             max_body_bytes=megabytes(args.max_body_mb))
    print(f"{out}: start it with  cd {out} && serve run serve_config.yaml")
    return 0


def add_parsers(sub) -> None:
    p = sub.add_parser("serve", help="HTTP inference service for a model folder (POST /classify)")
    p.add_argument("model")
    p.add_argument("--host", default="127.0.0.1", help="other than loopback needs --api-key")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--max-batch", type=int, default=16, help="most clips in one model call")
    p.add_argument("--max-wait-ms", type=float, default=5.0, help="longest wait for batch-mates")
    p.add_argument("--api-key", help="required in the X-API-Key header of every request")
    p.add_argument("--max-body-mb", type=float, default=10.0)
    p.add_argument("--max-seconds", type=float, default=30.0, help="longest clip accepted")
    p.add_argument("--max-queue-s", type=float, default=2.0,
                   help="busy (503, retry) while the clips queued ahead would keep a new one waiting longer")
    add_precision_option(p)
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("export-serve", help="write a Ray Serve application for a model folder")
    p.add_argument("model")
    p.add_argument("out")
    p.add_argument("--max-batch", type=int, default=16)
    p.add_argument("--min-replicas", type=int, default=1)
    p.add_argument("--max-replicas", type=int, default=4)
    p.add_argument("--max-body-mb", type=float, default=10.0)
    p.add_argument("--max-seconds", type=float, default=30.0, help="longest clip accepted")
    p.set_defaults(func=cmd_export_serve)
