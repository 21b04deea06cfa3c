"""Request limits of the local host, defaulting to the Azure Functions host's own.

Azure documents an HTTP request length limit of 100 MB (104,857,600 bytes) and a URL length limit
of 4 KB (4,096 bytes) for HTTP triggers. Enforcing the same numbers locally means a webhook that
only works because the dev server accepted something Azure would refuse fails here first.
The request timeout has no Azure twin (the front end has its own); it bounds how long a slow or
stalled client can hold a worker thread, so a slowloris cannot exhaust the host.
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_REQUEST_BODY_BYTES = 104_857_600  # 100 MiB, Azure's default request length limit
MAX_URL_BYTES = 4_096  # Azure's URL length limit (path and query)
REQUEST_TIMEOUT_S = 10.0  # request line, headers and body must all arrive within this
MAX_HEADER_LINE_BYTES = 8_192  # one header or chunk-size line
LINGER_S = 1.0  # after an early refusal, read and drop the rest so the client sees the answer


@dataclass(frozen=True)
class HostLimits:
    """What one request may cost; ``FunctionsHost(limits=...)`` and the CLI flags set it."""

    max_body_bytes: int = MAX_REQUEST_BODY_BYTES
    max_url_bytes: int = MAX_URL_BYTES
    request_timeout_s: float = REQUEST_TIMEOUT_S
    linger_s: float = LINGER_S

    def __post_init__(self) -> None:
        if self.max_body_bytes < 0 or self.max_url_bytes < 1:
            raise ValueError("body and URL limits must be positive")
        if self.request_timeout_s <= 0 or self.linger_s < 0:
            raise ValueError("request_timeout_s must be > 0 and linger_s >= 0")
