"""Scaling past one machine: `intentdesk export-serve MODEL_DIR OUT` writes a Ray Serve app.

OUT gets a copy of the model folder, `app.py` (a Serve deployment wrapping the same
`Classifier`, with Serve's own request batching and replica autoscaling) and
`serve_config.yaml`. Start it with `cd OUT && serve run serve_config.yaml` (or `serve deploy`
on a cluster). The deployment logic lives in `IntentDeployment` below, a plain class, so it is
tested without Ray; `app.py` only wraps it with Ray's decorators.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

from intentdesk.core.errors import AudioError, IntentDeskError
from intentdesk.core.inference import check_model_folder


class IntentDeployment:
    """One replica: a loaded classifier, batched scoring, and the HTTP request handling."""

    def __init__(self, model_dir: str, max_seconds: float = 30.0) -> None:
        from intentdesk.core.inference import Classifier

        self.classifier = Classifier(model_dir, max_seconds=max_seconds)

    def score_batch(self, waves: list[np.ndarray]) -> list[np.ndarray]:
        """Serve's @batch hands a list of clips; exact groups share a forward pass."""
        return list(self.classifier.scores_many(waves, batch_size=len(waves)))

    def decode(self, body: bytes) -> np.ndarray:
        if not body:
            raise AudioError("request body", "empty body", "send an audio file")
        return self.classifier.load(body, "request body")

    def answer(self, probabilities: np.ndarray, top_k: int | None) -> dict:
        ranking = self.classifier.rank(probabilities, top_k)
        return {"ranking": [p.as_dict() for p in ranking]}


APP_TEMPLATE = '''"""Ray Serve application for the IntentDesk model in ./model (written by intentdesk export-serve).

    serve run serve_config.yaml        # local Ray; POST audio to http://127.0.0.1:8000/classify
"""

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from ray import serve

from intentdesk.core.errors import AudioError
from intentdesk.service.ray_export import IntentDeployment

MODEL_DIR = str(Path(__file__).resolve().parent / "model")
api = FastAPI(title="IntentDesk on Ray Serve")


@serve.deployment(
    ray_actor_options={{"num_cpus": {num_cpus}}},
    autoscaling_config={{"min_replicas": {min_replicas}, "max_replicas": {max_replicas},
                        "target_ongoing_requests": {target_ongoing}}},
    max_ongoing_requests={max_ongoing},
)
@serve.ingress(api)
class IntentService:
    def __init__(self) -> None:
        self.inner = IntentDeployment(MODEL_DIR)

    @serve.batch(max_batch_size={max_batch}, batch_wait_timeout_s={batch_wait_s})
    async def score(self, waves):
        return self.inner.score_batch(waves)

    @api.post("/classify")
    async def classify(self, request: Request, top_k: int | None = None):
        try:
            wave = self.inner.decode(await request.body())
        except AudioError as error:
            return JSONResponse({{"error": str(error)}}, status_code=400)
        return self.inner.answer(await self.score(wave), top_k)

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


def export_ray_app(model_dir: Path | str, out: Path | str, max_batch: int = 16, batch_wait_ms: float = 5.0,
                   min_replicas: int = 1, max_replicas: int = 4, num_cpus: int = 2) -> Path:
    model_dir = check_model_folder(Path(model_dir))
    out = Path(out).expanduser()
    if out.exists() and any(out.iterdir()):
        raise IntentDeskError(f"{out}: folder exists and is not empty; choose a new folder")
    staging = out.with_name(f".{out.name}.partial")
    shutil.rmtree(staging, ignore_errors=True)
    shutil.copytree(model_dir, staging / "model")
    (staging / "app.py").write_text(APP_TEMPLATE.format(
        num_cpus=num_cpus, min_replicas=min_replicas, max_replicas=max_replicas,
        target_ongoing=max_batch, max_ongoing=4 * max_batch, max_batch=max_batch,
        batch_wait_s=batch_wait_ms / 1000))
    (staging / "serve_config.yaml").write_text(CONFIG_TEMPLATE)
    if out.exists():
        out.rmdir()
    staging.rename(out)
    return out
