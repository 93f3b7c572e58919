"""Scaling past one machine: `intentdesk export-serve MODEL_DIR OUT` writes a Ray Serve app.

OUT gets a copy of the model folder's model files (with the model files of the local speech
recogniser and text encoder folders of a words part copied into it, so OUT runs on another machine;
nothing else a folder holds, and never through a link out: an export of a model someone sent you
leaks none of your files), `app.py` (a Serve deployment wrapping the same
`Classifier`, with Serve's own request batching and replica autoscaling) and
`serve_config.yaml`. Start it with `cd OUT && serve run serve_config.yaml` (or `serve deploy`
on a cluster). The deployment logic lives in `IntentDeployment` below, a plain class, so it is
tested without Ray; `app.py` only wraps it with Ray's decorators. A request is handled exactly
as `intentdesk serve` handles it (`intentdesk.service.classify`): the same body size limit and
deadline, the clip length checked before decoding, the same `{"error": ...}` answers.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import numpy as np

from intentdesk.core.errors import IntentDeskError
from intentdesk.core.inference.classifier import Classifier
from intentdesk.core.inference.model_folder import check_model_folder
from intentdesk.core.inference.words_part import ClipScore
from intentdesk.core.models import checksums
from intentdesk.core.words.layout import copy_model_folder
from intentdesk.service.classify import Score, classify_request, score_batch
from intentdesk.service.errors import BadRequest, refusal
from intentdesk.service.options import ServiceOptions


class IntentDeployment:
    """One replica: a loaded classifier, batched scoring, and the HTTP request handling."""

    def __init__(self, model_dir: str, max_seconds: float = 30.0, max_body_bytes: int = 10 * 2**20,
                 body_timeout_s: float = 60.0) -> None:
        self.classifier = Classifier(model_dir, max_seconds=max_seconds)
        self.options = ServiceOptions(max_seconds=max_seconds, max_body_bytes=max_body_bytes,
                                      body_timeout_s=body_timeout_s)

    def score_batch(self, waves: list[np.ndarray]) -> list[ClipScore]:
        """Serve's @batch hands a list of clips, scored as `intentdesk serve` scores its batches."""
        return score_batch(self.classifier, waves)

    async def classify(self, request, top_k: int | None, score: Score):
        """POST /classify: the ranking, or a JSON error (413 too big or too long, 400 not audio...)."""
        try:
            return await classify_request(request, self.classifier, score, top_k, self.options)
        except BadRequest as error:
            return refusal(error)


APP_TEMPLATE = '''"""Ray Serve application for the IntentDesk model in ./model (written by intentdesk export-serve).

    serve run serve_config.yaml        # local Ray; POST audio to http://127.0.0.1:8000/classify
"""

from pathlib import Path

from fastapi import FastAPI, Query, Request
from ray import serve

from intentdesk.service.errors import install_error_handlers
from intentdesk.service.ray_export import IntentDeployment

MODEL_DIR = str(Path(__file__).resolve().parent / "model")
api = FastAPI(title="IntentDesk on Ray Serve")
install_error_handlers(api)  # 404/405/422/500 answer {{"error": ...}} like intentdesk serve


@serve.deployment(
    ray_actor_options={{"num_cpus": {num_cpus}}},
    autoscaling_config={{"min_replicas": {min_replicas}, "max_replicas": {max_replicas},
                        "target_ongoing_requests": {target_ongoing}}},
    max_ongoing_requests={max_ongoing},
)
@serve.ingress(api)
class IntentService:
    def __init__(self) -> None:
        self.inner = IntentDeployment(MODEL_DIR, max_seconds={max_seconds!r}, max_body_bytes={max_body_bytes!r})

    @serve.batch(max_batch_size={max_batch}, batch_wait_timeout_s={batch_wait_s})
    async def score(self, waves):
        return self.inner.score_batch(waves)

    @api.post("/classify")
    async def classify(self, request: Request, top_k: int | None = Query(None, ge=1)):
        return await self.inner.classify(request, top_k, self.score)

    @api.get("/labels")
    async def labels(self):
        return {{"labels": self.inner.classifier.labels}}

    @api.get("/health")
    async def health(self):
        return {{"status": "ok"}}


app = IntentService.bind()
'''

# No runtime_env: Serve configs accept only remote URIs as working_dir. `serve run` from this
# folder imports app.py locally; for a cluster, zip the folder to a URI and add it as working_dir.
CONFIG_TEMPLATE = """# Ray Serve config: `serve run serve_config.yaml` from this folder (checked with Ray 2.60).
applications:
  - name: intentdesk
    route_prefix: /
    import_path: app:app
"""


def check_export_settings(max_batch: int, batch_wait_ms: float, min_replicas: int, max_replicas: int,
                          max_seconds: float, max_body_bytes: int) -> None:
    """Settings Ray would refuse only when the app starts (or that disable a limit), refused now."""
    ServiceOptions(max_batch=max_batch, max_wait_ms=batch_wait_ms, max_seconds=max_seconds,
                   max_body_bytes=max_body_bytes).validate()
    if min_replicas < 0:
        raise IntentDeskError(f"--min-replicas must be 0 or more (got {min_replicas})")
    if max_replicas < max(1, min_replicas):
        raise IntentDeskError(f"--max-replicas must be at least 1 and at least --min-replicas "
                              f"(got {max_replicas} with --min-replicas {min_replicas})")


def check_output_folder(model_dir: Path, out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise IntentDeskError(f"{out}: exists and is not a folder; choose a new folder")
    if out.exists() and any(out.iterdir()):
        raise IntentDeskError(f"{out}: folder exists and is not empty; choose a new folder")
    if out.resolve().is_relative_to(model_dir.resolve()):
        raise IntentDeskError(f"{out}: is inside the model folder {model_dir}; choose a folder outside it")


def export_ray_app(model_dir: Path | str, out: Path | str, max_batch: int = 16, batch_wait_ms: float = 5.0,
                   min_replicas: int = 1, max_replicas: int = 4, num_cpus: int = 2, max_seconds: float = 30.0,
                   max_body_bytes: int = 10 * 2**20) -> Path:
    """Write the app into a fresh hidden staging folder next to OUT, then rename it to OUT: a failed
    export leaves nothing behind, and nothing that was already there is ever removed."""
    check_export_settings(max_batch, batch_wait_ms, min_replicas, max_replicas, max_seconds, max_body_bytes)
    model_dir = check_model_folder(Path(model_dir))
    checksums.verify(model_dir)  # the words head too: the copy must not carry a damaged part it would fall back from
    out = Path(out).expanduser().absolute()
    check_output_folder(model_dir, out)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".partial", dir=out.parent))
    try:
        app_dir = staging / out.name  # made with the usual permissions (mkdtemp's own folder is private)
        copy_model_folder(model_dir, app_dir / "model")  # model files only; local words parts inside it
        (app_dir / "app.py").write_text(APP_TEMPLATE.format(
            num_cpus=num_cpus, min_replicas=min_replicas, max_replicas=max_replicas,
            target_ongoing=max_batch, max_ongoing=4 * max_batch, max_batch=max_batch,
            batch_wait_s=batch_wait_ms / 1000, max_seconds=float(max_seconds), max_body_bytes=int(max_body_bytes)))
        (app_dir / "serve_config.yaml").write_text(CONFIG_TEMPLATE)
        if out.exists():
            out.rmdir()
        app_dir.rename(out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return out
