"""The API reference at `/docs`, rendered on the server from the OpenAPI schema: plain HTML, nothing to fetch.

FastAPI's own `/docs` is Swagger UI loaded from a CDN, so a service on a computer without internet (the
offline hand-over this product is for) showed a blank page there. The machine-readable schema stays at
`/openapi.json`; this page is what a person reads.
"""

from __future__ import annotations

import html
import json
from typing import Any

METHODS = ("get", "post", "put", "patch", "delete", "head")


def api_docs_page(schema: dict[str, Any]) -> str:
    info = schema.get("info", {})
    title = html.escape(str(info.get("title", "API")))
    sections = [operation_html(path, method, operation)
                for path, item in schema.get("paths", {}).items()
                for method, operation in item.items() if method in METHODS]
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>{title} API</title></head>
<body style="font-family: sans-serif; max-width: 52em">
<h1>{title} API</h1>
<p>{html.escape(str(info.get("summary", "")))}</p>
<p>Every error answer is JSON <code>{{"error": "..."}}</code> saying what is wrong. The same description for programs:
<a href="/openapi.json">/openapi.json</a>.</p>
{"".join(sections)}
</body></html>
"""


def operation_html(path: str, method: str, operation: dict[str, Any]) -> str:
    parts = [f"<h2><code>{method.upper()} {html.escape(path)}</code></h2>",
             f"<p>{html.escape(str(operation.get('summary', '')))}</p>"]
    if operation.get("description"):
        parts.append(f"<p>{html.escape(str(operation['description']))}</p>")
    parameters = operation.get("parameters", [])
    if parameters:
        rows = "".join(
            f"<li><code>{html.escape(str(p.get('name')))}</code> ({html.escape(str(p.get('in')))}"
            f"{', required' if p.get('required') else ''}; {html.escape(type_of(p.get('schema', {})))})"
            f"{': ' + html.escape(str(p['description'])) if p.get('description') else ''}</li>" for p in parameters)
        parts.append(f"<p>Parameters:</p><ul>{rows}</ul>")
    body = operation.get("requestBody", {})
    if body:
        kinds = ", ".join(f"<code>{html.escape(kind)}</code>" for kind in body.get("content", {}))
        parts.append(f"<p>Body: {html.escape(str(body.get('description', '')))} ({kinds})</p>")
    answers = "".join(f"<li><b>{html.escape(code)}</b>: {html.escape(str(answer.get('description', '')))}</li>"
                      for code, answer in operation.get("responses", {}).items())
    if answers:
        parts.append(f"<p>Answers:</p><ul>{answers}</ul>")
    return "\n".join(parts)


KINDS = {"integer": "a whole number", "number": "a number", "string": "text", "boolean": "true or false"}


def type_of(schema: dict[str, Any]) -> str:
    """What a parameter's schema allows, in words: `a whole number, at least 1, optional`."""
    options = schema.get("anyOf", [schema])
    kinds = [option for option in options if option.get("type") != "null"]
    words = " or ".join(kind_of(option) for option in kinds) or "anything"
    return words + (", optional" if len(kinds) < len(options) else "")


def kind_of(schema: dict[str, Any]) -> str:
    kind = str(schema.get("type", "any"))
    parts = [KINDS.get(kind, kind)]
    if "minimum" in schema:
        parts.append(f"at least {schema['minimum']}")
    if "maximum" in schema:
        parts.append(f"at most {schema['maximum']}")
    if "enum" in schema:
        parts.append("one of " + ", ".join(json.dumps(value) for value in schema["enum"]))
    return ", ".join(parts)
