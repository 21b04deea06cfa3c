"""Who is asking for what: the user, service and GraphQL operation of one service request.

Computed in the middleware before the app runs, so the rate limit and fault rules can target a
user, a service or an operation. Bodies that are read here (token exchange, GraphQL) are
replayed to the app byte for byte.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import parse_qs

from starlette.types import Message, Receive, Scope

from lx_sandbox.emulator.mtm import api_token_from_request
from lx_sandbox.emulator.operations import OperationClassifier
from lx_sandbox.emulator.state import User

if TYPE_CHECKING:
    from lx_sandbox.emulator.core import Emulator

MTM_TOKEN_PATH = "/services/mtm/v1/oauth2/token"  # noqa: S105 - a path, not a secret
GRAPHQL_PATH = "/services/pathfinder/v1/graphql"
_UNSET = "<unset>"


def service_of(path: str) -> str | None:
    """``"mtm"`` for ``/services/mtm/v1/...``: the segment after ``/services/``."""
    parts = path.split("/", 3)
    if len(parts) >= 3 and parts[1] == "services" and parts[2]:
        return parts[2]
    return None


def header(scope: Scope, name: bytes) -> str | None:
    """One request header (latin-1 decoded), or None."""
    for key, value in scope.get("headers") or ():
        if key.lower() == name:
            text: str = value.decode("latin-1")
            return text
    return None


async def buffer_body(receive: Receive) -> tuple[bytes, Receive]:
    """Read the whole body now; the returned ``receive`` hands it to the app unchanged."""
    chunks: list[bytes] = []
    early: Message | None = None
    while True:
        message = await receive()
        if message["type"] != "http.request":
            early = message  # the client went away while sending
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    body = b"".join(chunks)
    pending: list[Message] = [early or {"type": "http.request", "body": body, "more_body": False}]

    async def replay() -> Message:
        if pending:
            return pending.pop()
        return await receive()

    return body, replay


@dataclass(slots=True)
class RequestInfo:
    """What fault rules and the rate limit look at."""

    method: str
    path: str
    service: str | None = None
    user: User | None = None
    body: bytes | None = None
    classifier: OperationClassifier | None = None
    _operation: str | None = field(default=_UNSET)

    def operation(self) -> str | None:
        """``"query"`` / ``"mutation"`` of a GraphQL request (None for anything else)."""
        if self._operation == _UNSET:
            kind = None
            if self.path == GRAPHQL_PATH and self.body is not None and self.classifier:
                kind = self.classifier.kind(self.body)
            self._operation = kind
        return self._operation


def needs_body(path: str) -> bool:
    """Token exchanges name their user in the body; GraphQL bodies name the operation."""
    return path in (MTM_TOKEN_PATH, GRAPHQL_PATH)


def identify(emu: Emulator, scope: Scope, path: str, body: bytes | None) -> RequestInfo:
    """The user behind the request: the API token of a token exchange, else the bearer.

    # ASSUMPTION [I] §0.3: LeanIX attributes a token exchange to the user owning the API token
    # and every other call to the bearer's user; unauthenticated requests are not limited.
    """
    service = service_of(path)
    user: User | None = None
    authorization = header(scope, b"authorization")
    if path == MTM_TOKEN_PATH:
        text = (body or b"").decode("utf-8", errors="replace")
        form = {k: v[0] for k, v in parse_qs(text, keep_blank_values=True).items()}
        api_token, _problem = api_token_from_request(authorization, form)
        if api_token is not None:
            user = emu.user_for_token(api_token)
    elif service is not None:
        user = emu.user_for_bearer(authorization)
    return RequestInfo(
        method=scope["method"],
        path=path,
        service=service,
        user=user,
        body=body,
        classifier=emu.classifier,
    )
