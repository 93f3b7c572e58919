"""Every error answer is JSON `{"error": "..."}`: the request errors we raise and FastAPI's own (404/405/422/500)."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException


class BadRequest(Exception):
    """A request we refuse: status and the message sent back as `{"error": message}`."""

    def __init__(self, status: int, message: str, close: bool = False, headers: dict | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.close = close  # the rest of the body was not read: end the connection after answering
        self.headers = dict(headers or {})  # Retry-After of a 503


def error_response(status: int, message: str, close: bool = False, headers: dict | None = None) -> JSONResponse:
    headers = dict(headers or {})
    if close:
        headers["connection"] = "close"
    return JSONResponse({"error": message}, status_code=status, headers=headers)


def refusal(error: BadRequest) -> JSONResponse:
    """The answer to a refused request."""
    return error_response(error.status, error.message, close=error.close, headers=error.headers)


def install_error_handlers(app: FastAPI) -> None:
    """Every error answer is `{"error": "..."}` JSON, FastAPI's own 404/405/422 and crashes included."""

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, error: HTTPException):
        if error.status_code == 404:
            message = (f"no such path {request.url.path}: the service answers POST /classify, GET /labels "
                       "and GET /health (docs at /docs)")
        elif error.status_code == 405:
            allowed = (error.headers or {}).get("allow") or (error.headers or {}).get("Allow") or "another method"
            message = f"{request.method} is not allowed on {request.url.path}; use {allowed}"
        else:
            message = str(error.detail)
        return error_response(error.status_code, message, headers=error.headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_request: Request, error: RequestValidationError):
        problems = []
        for item in error.errors():
            where = ".".join(str(part) for part in item.get("loc", ()) if part not in ("query", "body", "path"))
            given = f" (got {item['input']!r:.40})" if "input" in item and item["input"] is not None else ""
            problems.append(f"{where or 'request'}: {item.get('msg', 'invalid')}{given}")
        return error_response(422, "bad parameter: " + "; ".join(problems))

    @app.exception_handler(Exception)
    async def internal_error(_request: Request, error: Exception):
        return error_response(500, f"internal error ({type(error).__name__}); the server log has the details")
