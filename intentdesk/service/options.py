"""The service's settings (`ServiceOptions`) and their checks, shared by `serve`, `export-serve` and the GUI."""

from __future__ import annotations

import math
from dataclasses import dataclass

from intentdesk.core.audio import io as audio
from intentdesk.core.errors import IntentDeskError


@dataclass
class ServiceOptions:
    max_batch: int = 16
    max_wait_ms: float = 5.0
    api_key: str | None = None
    max_body_bytes: int = 10 * 1024 * 1024
    max_seconds: float = 30.0
    header_timeout_s: float = 10.0  # a request's head must arrive within this (runner's protocol)
    body_timeout_s: float = 60.0  # ... and its body within this once the head is in
    max_concurrent: int = 512  # requests in progress at once; more get 503 (bounds buffered bodies)
    max_queue_s: float = 2.0  # no new clip while those ahead would keep it waiting longer: 503 (bounds waiting)
    keep_alive_s: float = 5.0  # an idle connection closes this long after its last answer (uvicorn's keep-alive)

    @property
    def limits(self) -> audio.AudioLimits:
        """The clip-length limit every upload is checked against before decoding."""
        return audio.AudioLimits(max_seconds=self.max_seconds)

    def validate(self) -> None:
        """Refuse settings that would crash the service or disable a limit, naming the CLI option."""
        checks = [("--max-batch", self.max_batch, self.max_batch >= 1, "at least 1"),
                  ("--max-wait-ms", self.max_wait_ms, 0 <= self.max_wait_ms <= 60_000, "between 0 and 60000"),
                  ("--max-body-mb", self.max_body_bytes / 2**20, self.max_body_bytes > 0, "more than 0"),
                  ("--max-seconds", self.max_seconds, 0 < self.max_seconds < math.inf, "more than 0"),
                  ("header timeout", self.header_timeout_s, 0 < self.header_timeout_s < math.inf, "more than 0"),
                  ("body timeout", self.body_timeout_s, 0 < self.body_timeout_s < math.inf, "more than 0"),
                  ("keep-alive", self.keep_alive_s, 0 < self.keep_alive_s < math.inf, "more than 0"),
                  ("max concurrent requests", self.max_concurrent, self.max_concurrent >= 1, "at least 1"),
                  ("--max-queue-s", self.max_queue_s, 0 < self.max_queue_s <= 3600, "between 0 and 3600")]
        for name, value, ok, rule in checks:
            if not ok:  # NaN fails every comparison, so it lands here too
                raise IntentDeskError(f"{name} must be {rule} (got {value:g})")
        if self.api_key is not None:
            check_api_key(self.api_key)


def megabytes(value: float, option: str = "--max-body-mb") -> int:
    """A size given in MB as bytes, refusing what is not a positive finite number of bytes."""
    if not 0 < value < math.inf or int(value * 2**20) < 1:
        raise IntentDeskError(f"{option} must be more than 0 (got {value:g})")
    return int(value * 2**20)


def check_api_key(key: str) -> None:
    """A key a client could never send (HTTP strips spaces at the ends, forbids control characters)."""
    if not key or key != key.strip() or any(ord(c) < 32 or ord(c) == 127 for c in key):
        raise IntentDeskError("--api-key must be non-empty, without spaces at either end or control characters")


def key_bytes(key: str) -> bytes:
    """The key as UTF-8 bytes; surrogateescape keeps argv bytes that are not valid UTF-8 as they were."""
    return key.encode("utf-8", "surrogateescape")
