"""IntegrationAPI: processor configurations and synchronization runs (§5.1).

Every call goes through the shared HttpTransport, so tokens, pacing, retries, deadlines and error
mapping are the same as everywhere else. What may be replayed follows from the endpoint:

* GETs, ``PUT /configurations`` (an upsert by the five identity fields) and ``DELETE
  /configurations`` are idempotent and retried after a 5xx, a read timeout or a malformed body;
* creating a run (inline, ``withConfig``, ``withUrlInput``, ``withExecutionGroup``), starting and
  stopping one, and fast runs that write are not: once sent they may have been processed, so a
  5xx is raised as is (only "never sent" failures and 429s are retried). The caller reconciles a
  lost answer with ``list_runs`` instead of creating a second run.

``submit`` is the one way to send a big LDIF: it is serialised once into a spooled file (in memory
up to the threshold, then on disk), sent inline when small, else uploaded to the SAS URL LeanIX
hands out and started with ``withUrlInput``, so memory stays bounded by the threshold.
"""

from __future__ import annotations

import json
import logging
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from enum import StrEnum
from types import TracebackType
from typing import IO, TYPE_CHECKING, Any, BinaryIO, Self, TypeVar, cast
from urllib.parse import parse_qsl, quote, urlsplit

import requests
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from lx_core import assumptions, deadline
from lx_core.config import IntegrationSettings, load
from lx_core.errors import (
    BadRequestError,
    DeadlineExceededError,
    MalformedResponseError,
    NotFoundError,
    error_for_status,
)
from lx_core.integration.identity import ConnectorIdentity
from lx_core.leanix._mapping import (
    error_from_exception,
    is_not_json_object,
    json_of,
    leanix_message,
    path_only,
)
from lx_core.leanix.transport import HttpTransport

if TYPE_CHECKING:
    from lx_core.integration.ldif import ContentItem, LdifHeader

logger = logging.getLogger(__name__)

_BASE = assumptions.INTEGRATION_API_PATH
_CONFIGURATIONS = _BASE + "/configurations"
_RUNS = _BASE + "/synchronizationRuns"
_FAST_RUNS = _BASE + "/fastSynchronizationRuns"
_STORAGE = _BASE + "/storages/azure"
_RESULT_CHUNK_BYTES = 64 * 1024

#: What ``create_run`` and friends accept as an LDIF: a pydantic model (``Ldif``), a mapping, or
#: the serialised JSON bytes.
LdifInput = BaseModel | Mapping[str, Any] | bytes
M = TypeVar("M", bound=BaseModel)


class RunState(StrEnum):
    """``StatusResponse.status`` values (§5.2 [V])."""

    CREATED = "CREATED"
    PENDING = "PENDING"
    IN_PROGRESS = "IN_PROGRESS"
    FINISHED = "FINISHED"
    STOPPED = "STOPPED"
    FAILED = "FAILED"


class RunStatus(BaseModel):
    """A run's status. An unknown ``status`` is kept as the plain string and is not terminal,
    so a state LeanIX adds later keeps the run watched rather than ending it silently."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    id: str
    status: str
    description: str | None = None

    @field_validator("status")
    @classmethod
    def _known(cls, value: str) -> str:
        try:
            return RunState(value)
        except ValueError:
            return value

    @property
    def state(self) -> RunState | None:
        """The status as a RunState, or None when LeanIX sent a value we do not know."""
        return self.status if isinstance(self.status, RunState) else None

    @property
    def terminal(self) -> bool:
        return self.status in assumptions.RUN_TERMINAL_STATES

    @property
    def started(self) -> bool:
        return self.status in assumptions.RUN_STARTED_STATES


class RunProgress(BaseModel):
    """``SyncRunInboundProgressReport`` (§5.2): every count optional, unknown fields kept.
    ``status`` is an integer in the spec; a string is tolerated."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    processed_content_count: int | None = Field(None, alias="processedContentCount")
    error_count: int | None = Field(None, alias="errorCount")
    warnings_count: int | None = Field(None, alias="warningsCount")
    items_in_scope_count: int | None = Field(None, alias="itemsInScopeCount")
    contents_count: int | None = Field(None, alias="contentsCount")
    graphql_request_count: int | None = Field(None, alias="graphQLRequestCount")
    run_level_index: int | None = Field(None, alias="runLevelIndex")
    status: int | str | None = None


class WarningProcessor(BaseModel):
    """The processor a warning came from (``{name, index}``)."""

    model_config = ConfigDict(extra="allow")

    name: str | None = None
    index: int | None = None


class RunWarning(BaseModel):
    """One run warning (§5.2 ``Warning``); unknown fields kept."""

    model_config = ConfigDict(extra="allow")

    processor: WarningProcessor | None = None
    content: str | None = None
    message: str | None = None
    detail: str | None = None
    category: str | None = None
    status: str | None = None

    @field_validator("processor", mode="before")
    @classmethod
    def _processor_name(cls, value: Any) -> Any:
        return {"name": value} if isinstance(value, str) else value

    @field_validator("content", mode="before")
    @classmethod
    def _content_id(cls, value: Any) -> Any:
        if value is None or isinstance(value, str):
            return value
        if isinstance(value, dict) and isinstance(value.get("id"), str):
            return value["id"]
        return str(value)


class SasTarget(BaseModel):
    """``GET /storages/azure``: a writable blob URL (its query string is the secret)."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    sas: SecretStr = Field(alias="SAS", repr=False)
    expire_at: str | None = Field(None, alias="expireAt")

    @property
    def url(self) -> str:
        return self.sas.get_secret_value()

    @property
    def shown_url(self) -> str:
        """The URL without its query string, for logs and errors."""
        parts = urlsplit(self.url)
        return f"{parts.scheme}://{parts.netloc}{parts.path}"


class FastRunStats(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)

    duration: str | None = None
    processed_content_count: int | None = Field(None, alias="processedContentCount")
    processor_count: int | None = Field(None, alias="processorCount")


class FastRunResponse(BaseModel):
    """The synchronous answer of ``fastSynchronizationRuns`` (§5.2)."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    status: str | None = None
    warnings: list[RunWarning] = Field(default_factory=list)
    stats: FastRunStats | None = None
    results: Any = None


class ResultsStream:
    """A run's result LDIF as a streamed answer: read it in chunks and close it (a context
    manager), so a result of any size never has to fit in memory."""

    def __init__(self, response: requests.Response, *, path: str) -> None:
        self._response = response
        self._path = path

    @property
    def content_type(self) -> str | None:
        return self._response.headers.get("Content-Type")

    @property
    def content_length(self) -> int | None:
        value = self._response.headers.get("Content-Length")
        return int(value) if value and value.isdigit() else None

    def iter_bytes(self, chunk_size: int = _RESULT_CHUNK_BYTES) -> Iterator[bytes]:
        """The body in chunks; a broken connection is a TransportError (retryable)."""
        try:
            for chunk in self._response.iter_content(chunk_size=chunk_size):
                if chunk:
                    yield chunk
        except requests.RequestException as exc:
            raise error_from_exception(exc, method="GET", path=self._path) from exc

    def copy_to(self, out: IO[bytes], chunk_size: int = _RESULT_CHUNK_BYTES) -> int:
        """Write the whole body to ``out``; returns the number of bytes."""
        total = 0
        for chunk in self.iter_bytes(chunk_size):
            out.write(chunk)
            total += len(chunk)
        return total

    def json(self) -> Any:
        """The whole body parsed; for small results only (it loads everything)."""
        body = b"".join(self.iter_bytes())
        try:
            return json.loads(body)
        except ValueError:
            raise MalformedResponseError(
                "LeanIX answered 200 but the result is not JSON",
                method="GET",
                path=self._path,
                status=self._response.status_code,
            ) from None

    def close(self) -> None:
        self._response.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _is_not_json_list(response: requests.Response) -> bool:
    return not isinstance(json_of(response), list)


def _is_not_json_container(response: requests.Response) -> bool:
    return not isinstance(json_of(response), dict | list)


def _is_not_json_or_empty(response: requests.Response) -> bool:
    if response.status_code == 204 or not response.content:
        return False
    return not isinstance(json_of(response), dict)


def _flags(start: bool, test: bool) -> dict[str, str]:
    """The ``start``/``test`` query; a test run must be started at once (§5.1), so asking for
    a test run that is only created is refused before anything is sent."""
    if test and not start:
        raise ValueError("test=True needs start=True (a test run is started when created)")
    return {"start": _bool(start), "test": _bool(test)}


def _bool(value: bool) -> str:
    return "true" if value else "false"


def _run_path(run_id: str, suffix: str = "") -> str:
    if not run_id:
        raise ValueError("run id must not be empty")
    return f"{_RUNS}/{quote(run_id, safe='')}{suffix}"


def _ldif_body(ldif: LdifInput) -> dict[str, Any]:
    """The keyword arguments that send ``ldif`` as the request body."""
    if isinstance(ldif, bytes):
        return {"data": ldif, "headers": {"Content-Type": "application/json"}}
    return {"json": _ldif_json(ldif)}


def _ldif_json(ldif: BaseModel | Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(ldif, BaseModel):
        dumped: dict[str, Any] = ldif.model_dump(by_alias=True, exclude_none=True, mode="json")
        return dumped
    return dict(ldif)


def _identity_matches(doc: Mapping[str, Any], identity: ConnectorIdentity) -> bool:
    wanted = identity.params()
    defaults = {"processingMode": "partial"}
    return all(doc.get(k, defaults.get(k)) == v for k, v in wanted.items())


class IntegrationAPI:
    """The Integration API (``/services/integration-api/v1``)."""

    def __init__(
        self, transport: HttpTransport, *, settings: IntegrationSettings | None = None
    ) -> None:
        self.transport = transport
        self._settings = settings

    @property
    def settings(self) -> IntegrationSettings:
        """IntegrationSettings, read from the environment on first use unless given."""
        if self._settings is None:
            self._settings = load(IntegrationSettings)
        return self._settings

    # --- plumbing ------------------------------------------------------------------------------

    def _json(
        self,
        method: str,
        path: str,
        *,
        idempotent: bool,
        unusable: Callable[[requests.Response], bool] = is_not_json_object,
        **kwargs: Any,
    ) -> Any:
        response = self.transport.request(
            method, path, idempotent=idempotent, unusable=unusable, **kwargs
        )
        return json_of(response)

    @staticmethod
    def _model(model: type[M], body: Any, *, method: str, path: str) -> M:
        try:
            return model.model_validate(body)
        except ValidationError as exc:
            first = exc.errors(include_input=False, include_url=False)[0]
            where = ".".join(str(p) for p in first["loc"]) or "body"
            raise MalformedResponseError(
                f"LeanIX answer does not fit {model.__name__} ({where}: {first['msg']})",
                method=method,
                path=path_only(path),
                status=200,
            ) from None

    def _created(self, path: str, *, params: Mapping[str, str], **body: Any) -> str:
        """POST that creates a run (never replayed once sent) and read its id."""
        response = self.transport.request("POST", path, params=params, idempotent=False, **body)
        raw = json_of(response)
        if isinstance(raw, list) and raw and assumptions.CREATE_RUN_RESPONSE_MAY_BE_LIST:
            raw = raw[0]
        run_id = raw.get("id") if isinstance(raw, dict) else None
        if not isinstance(run_id, str) or not run_id:
            raise MalformedResponseError(
                "LeanIX answered but gave no run id",
                method="POST",
                path=path,
                status=response.status_code,
            )
        logger.info("Integration API run created", extra={"lx_run_id": run_id, "lx_path": path})
        return run_id

    # --- configurations ------------------------------------------------------------------------

    def get_configuration(self, identity: ConnectorIdentity) -> dict[str, Any] | None:
        """The stored processor configuration for ``identity``, or None when there is none."""
        try:
            body = self._json(
                "GET",
                _CONFIGURATIONS,
                idempotent=True,
                params=identity.params(),
                unusable=_is_not_json_container,
            )
        except NotFoundError:
            return None
        if isinstance(body, list):  # a server that ignored the filter: pick ours
            found = [d for d in body if isinstance(d, dict) and _identity_matches(d, identity)]
            return found[0] if found else None
        result: dict[str, Any] = body
        return result

    def list_configurations(self) -> list[dict[str, Any]]:
        """Every processor configuration of the workspace."""
        body = self._json("GET", _CONFIGURATIONS, idempotent=True, unusable=_is_not_json_container)
        if isinstance(body, dict):
            return [body]
        return [d for d in body if isinstance(d, dict)]

    def upsert_configuration(self, doc: Mapping[str, Any]) -> None:
        """PUT (204): create or replace by the five identity fields; idempotent."""
        self.transport.request("PUT", _CONFIGURATIONS, json=dict(doc), idempotent=True)

    def delete_configuration(
        self, identity: ConnectorIdentity, *, missing_ok: bool = False
    ) -> None:
        """DELETE by identity; 400/422 are BadRequestError, 404 NotFoundError unless
        ``missing_ok`` (use it when a retried delete may already have succeeded)."""
        try:
            self.transport.request(
                "DELETE", _CONFIGURATIONS, params=identity.params(), idempotent=True
            )
        except NotFoundError:
            if not missing_ok:
                raise

    # --- runs ----------------------------------------------------------------------------------

    def list_runs(self) -> list[RunStatus]:
        """Every run LeanIX knows (used to adopt an orphan run after a lost create answer)."""
        body = self._json("GET", _RUNS, idempotent=True, unusable=_is_not_json_list)
        return [self._model(RunStatus, item, method="GET", path=_RUNS) for item in body]

    def create_run(self, ldif: LdifInput, *, start: bool = False, test: bool = False) -> str:
        """POST the LDIF inline; returns the run id. Not replayed once sent."""
        return self._created(_RUNS, params=_flags(start, test), **_ldif_body(ldif))

    def create_run_with_config(
        self,
        ldif: BaseModel | Mapping[str, Any],
        configuration: Mapping[str, Any],
        *,
        start: bool = False,
        test: bool = False,
    ) -> str:
        """A run with its own processor configuration. For testing configurations only: the
        spec marks ``withConfig`` "not for production use cases"."""
        body = {"input": _ldif_json(ldif), "processorConfiguration": dict(configuration)}
        return self._created(_RUNS + "/withConfig", params=_flags(start, test), json=body)

    def create_run_with_url(
        self, url: str, *, start: bool = False, test: bool = False, kind: str | None = None
    ) -> str:
        """A run whose LDIF LeanIX reads from ``url`` (a SAS URL from ``storage_sas``)."""
        body = {"url": url, "type": kind or assumptions.URL_INPUT_TYPE}
        return self._created(_RUNS + "/withUrlInput", params=_flags(start, test), json=body)

    def create_run_with_execution_group(
        self, ldif: LdifInput, group_name: str, *, start: bool = False, test: bool = False
    ) -> str:
        """A run against every configuration of an execution group."""
        if not group_name:
            raise ValueError("group_name must not be empty")
        params = {"groupName": group_name, **_flags(start, test)}
        return self._created(_RUNS + "/withExecutionGroup", params=params, **_ldif_body(ldif))

    def start_run(self, run_id: str, *, test: bool = False) -> None:
        """POST start (not replayed). A 400 for a run whose status shows it started already
        (our own earlier start, whose answer was lost) counts as done [I]; any other 400, or one
        for a run still CREATED, is raised."""
        path = _run_path(run_id, "/start")
        try:
            self.transport.request("POST", path, params={"test": _bool(test)}, idempotent=False)
        except BadRequestError as exc:
            if exc.status != 400 or not self._already(run_id, lambda s: s.started):
                raise
            logger.info("run was already started", extra={"lx_run_id": run_id})

    def stop_run(self, run_id: str) -> None:
        """POST stop (not replayed). A 400 for a run that has already ended counts as done."""
        path = _run_path(run_id, "/stop")
        try:
            self.transport.request("POST", path, idempotent=False)
        except BadRequestError as exc:
            if exc.status != 400 or not self._already(run_id, lambda s: s.terminal):
                raise
            logger.info("run had already ended when asked to stop", extra={"lx_run_id": run_id})

    def _already(self, run_id: str, check: Callable[[RunStatus], bool]) -> bool:
        try:
            return check(self.status(run_id))
        except NotFoundError:
            return False

    def status(self, run_id: str) -> RunStatus:
        path = _run_path(run_id, "/status")
        body = self._json("GET", path, idempotent=True)
        body.setdefault("id", run_id)
        return self._model(RunStatus, body, method="GET", path=path)

    def progress(self, run_id: str) -> RunProgress:
        path = _run_path(run_id, "/progress")
        body = self._json("GET", path, idempotent=True)
        return self._model(RunProgress, body, method="GET", path=path)

    def results(self, run_id: str) -> ResultsStream | None:
        """The result LDIF, streamed; None on 204 ("no LDIF to produce, or not ready yet")."""
        path = _run_path(run_id, "/results")
        response = self.transport.request("GET", path, idempotent=True, stream=True)
        if response.status_code == 204:
            response.close()
            return None
        return ResultsStream(response, path=path)

    def results_url(self, run_id: str) -> str | None:
        """The download URL of the results; None until the run has finished."""
        path = _run_path(run_id, "/resultsUrl")
        body = self._json("GET", path, idempotent=True, unusable=_is_not_json_or_empty)
        url = body.get("url") if isinstance(body, dict) else None
        if url is not None and not isinstance(url, str):
            raise MalformedResponseError(
                "LeanIX resultsUrl is not a string", method="GET", path=path, status=200
            )
        return url or None

    def warnings(self, run_id: str, *, offset: int = 0, limit: int = 100) -> list[RunWarning]:
        """One page of warnings (``offset`` ≥ 0, ``limit`` 1..100)."""
        if offset < 0:
            raise ValueError("offset must be >= 0")
        if not 1 <= limit <= assumptions.MAX_WARNINGS_PAGE_SIZE:
            raise ValueError(f"limit must be 1..{assumptions.MAX_WARNINGS_PAGE_SIZE}")
        path = _run_path(run_id, "/warnings")
        body = self._json(
            "GET",
            path,
            idempotent=True,
            params={"offset": offset, "limit": limit},
            unusable=_is_not_json_list,
        )
        return [self._model(RunWarning, item, method="GET", path=path) for item in body]

    def iter_warnings(
        self, run_id: str, *, max_items: int, page_size: int = 100
    ) -> Iterator[RunWarning]:
        """Warnings page by page, at most ``max_items`` (a server that ignores ``offset`` cannot
        make this loop forever); stops at the first short page."""
        taken = 0
        while taken < max_items:
            limit = min(page_size, max_items - taken)
            page = self.warnings(run_id, offset=taken, limit=limit)
            yield from page[:limit]
            taken += min(len(page), limit)
            if len(page) < limit:
                return

    # --- fast runs -----------------------------------------------------------------------------

    def fast_run(self, ldif: LdifInput, *, test: bool = False) -> FastRunResponse:
        """A synchronous run (inbound only). For testing configurations only; a test run
        changes nothing and is therefore replayed like a read."""
        params = {"test": _bool(test)}
        body = self._json("POST", _FAST_RUNS, idempotent=test, params=params, **_ldif_body(ldif))
        return self._model(FastRunResponse, body, method="POST", path=_FAST_RUNS)

    def fast_run_with_config(
        self,
        ldif: BaseModel | Mapping[str, Any],
        configuration: Mapping[str, Any],
        *,
        test: bool = False,
    ) -> FastRunResponse:
        """A synchronous run with its own configuration. For testing configurations only."""
        path = _FAST_RUNS + "/withConfig"
        payload = {"input": _ldif_json(ldif), "processorConfiguration": dict(configuration)}
        body = self._json("POST", path, idempotent=test, params={"test": _bool(test)}, json=payload)
        return self._model(FastRunResponse, body, method="POST", path=path)

    # --- large inputs --------------------------------------------------------------------------

    def storage_sas(self) -> SasTarget:
        """A writable blob for a large LDIF (``GET /storages/azure``)."""
        body = self._json("GET", _STORAGE, idempotent=True)
        return self._model(SasTarget, body, method="GET", path=_STORAGE)

    def submit(
        self,
        header: LdifHeader,
        items: Iterable[ContentItem | Mapping[str, Any]],
        *,
        start: bool = False,
        test: bool = False,
        threshold_bytes: int | None = None,
    ) -> str:
        """Serialise the LDIF once and create the run the cheapest safe way: inline when it is
        at most the threshold (LX_INTEGRATION_URL_INPUT_THRESHOLD_BYTES), else through the SAS
        upload and ``withUrlInput``. Memory stays within about twice the threshold."""
        from lx_core.integration.ldif import write_ldif

        params = _flags(start, test)
        threshold = threshold_bytes or self.settings.url_input_threshold_bytes
        with tempfile.SpooledTemporaryFile(max_size=threshold, mode="w+b") as spool:
            count = write_ldif(header, items, cast(BinaryIO, spool))
            size = spool.tell()
            extra = {"lx_items": count, "lx_bytes": size, "lx_connector": header.identity.key}
            if size <= threshold:
                logger.info("submitting LDIF inline", extra=extra)
                spool.seek(0)
                body = spool.read()
                return self._created(
                    _RUNS, params=params, data=body, headers={"Content-Type": "application/json"}
                )
            logger.info("submitting LDIF through the SAS upload", extra=extra)
            target = self.storage_sas()
            self.upload(target, cast(IO[bytes], spool), size=size)
            return self.create_run_with_url(target.url, start=start, test=test)

    def upload(self, target: SasTarget, body: IO[bytes], *, size: int) -> None:
        """PUT ``body`` (from its start) to the SAS URL as one block blob, streamed. One attempt
        under the transport's timeouts, capped by the ambient deadline: a failure is raised
        (retryable when it is) before any run exists, so the caller can simply submit again."""
        shown = target.shown_url
        left = deadline.remaining()
        if left < deadline.MIN_USEFUL_SECONDS:
            raise DeadlineExceededError("no time left to upload the LDIF", method="PUT", path=shown)
        connect = min(self.transport.settings.connect_timeout, left)
        read = min(self.transport.settings.read_timeout, left)
        headers = {**assumptions.SAS_UPLOAD_HEADERS, "Content-Length": str(size)}
        body.seek(0)
        try:
            response = requests.put(target.url, data=body, headers=headers, timeout=(connect, read))
        except requests.RequestException as exc:
            passed = deadline.current() is not None and deadline.remaining() < 0.25
            # ``from None``: the requests exception's text holds the full SAS URL.
            raise error_from_exception(
                exc, method="PUT", path=shown, deadline_passed=passed
            ) from None
        with response:
            if response.status_code >= 300:
                cls = error_for_status(response.status_code)
                raise cls(
                    "uploading the LDIF to the SAS URL failed",
                    method="PUT",
                    path=shown,
                    status=response.status_code,
                    leanix_message=leanix_message(response, _sas_redactor(target.url)),
                )
        logger.info("LDIF uploaded", extra={"lx_bytes": size, "lx_path": shown})


def _sas_redactor(url: str) -> Callable[[str], str]:
    """Hide the SAS query string (and each of its values) from an error text."""
    query = urlsplit(url).query
    secrets = [query, *(v for _, v in parse_qsl(query) if len(v) >= 8)]

    def redact(text: str) -> str:
        for secret in secrets:
            if secret:
                text = text.replace(secret, "***")
        return text

    return redact
