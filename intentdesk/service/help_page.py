"""What a browser shows at the service's URL (`GET /`): what the service is and a curl line that works."""

from __future__ import annotations

import html
import json
from typing import TYPE_CHECKING

from fastapi import Request

from intentdesk.service.classify import FORMATS
from intentdesk.service.options import ServiceOptions

if TYPE_CHECKING:
    from intentdesk.core.inference.classifier import Classifier


def help_page(request: Request, classifier: Classifier, options: ServiceOptions) -> str:
    base = html.escape(str(request.base_url).rstrip("/"))
    key = ' -H "X-API-Key: YOUR_KEY"' if options.api_key else ""
    key_note = ("<p>This service needs an API key: send it in the <code>X-API-Key</code> header of every "
                "request (only /health, the API docs and this page are open).</p>" if options.api_key else "")
    answer = {"ranking": [{"label": classifier.labels[0] if classifier.labels else "intent", "score": 0.93}],
              "latency_ms": 41.2, "transcript": "what was heard" if classifier.has_words else None,
              "uncertain": False}
    example = html.escape(json.dumps(answer))
    words = ("<code>\"transcript\"</code> is what the speech recogniser heard and <code>\"uncertain\"</code> is "
             "true when the clip seems to be none of the intents (out of scope or not understood); an answer the "
             "words part failed on is by sound only and its <code>\"words_problem\"</code> says why"
             if classifier.has_words else "this model classifies by sound only, so <code>\"transcript\"</code> "
             "is null and <code>\"uncertain\"</code> false")
    if classifier.words_problem:  # the model has a words part that did not load: every answer says so
        words += (f"; its words part could not be loaded, so every answer has a <code>\"words_problem\"</code> "
                  f"saying why: {html.escape(classifier.words_problem)}")
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>IntentDesk intent service</title></head>
<body style="font-family: sans-serif; max-width: 46em">
<h1>IntentDesk speech intent service</h1>
<p>Model <b>{html.escape(classifier.model_dir.name)}</b> ranks the intents of short spoken clips.
POST an audio file ({FORMATS}; at most {options.max_seconds:g} s and {options.max_body_bytes / 2**20:g} MB)
to <code>/classify</code>, as the raw body or as a multipart file:</p>
<pre>curl{key} --data-binary @clip.wav {base}/classify?top_k=3
curl{key} -F file=@clip.wav {base}/classify</pre>
<p>The answer is JSON such as <code>{example}</code>, with a <code>"note"</code> when only the start of a
long clip was used; {words}; errors are <code>{{"error": "..."}}</code>.</p>
{key_note}<p>Also: <code>GET /labels</code>, <code>GET /health</code>, API docs at <a href="/docs">/docs</a>.</p>
</body></html>
"""
