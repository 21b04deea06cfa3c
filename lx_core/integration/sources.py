"""Inbound sources declared in connector files, and the readers that turn them into LDIF content.

Two kinds, told apart by ``kind``:

* ``https``: a JSON endpoint, paged by a next link or by a page-number parameter, with an
  optional auth header whose secret comes from an app setting, and a JMESPath mapping from each
  listed item to ``{type, id, data}``. Expressions are compiled when the file is validated, so a
  bad one fails ``lx connectors validate`` naming the field, not the first run.
* ``blob``: content stored in the data account's inbound container (``lx-sources``): an LDIF
  (its ``content``), a JSON list of content objects, or JSON lines (one object per line).

``read_source`` is lazy: one page (or one line) at a time, so memory is bounded by a page, and
the caller (the LDIF writer) streams what it yields. Items whose ``id`` or ``type`` is not a
non-empty string are skipped and counted in ``SourceStats`` (with a few examples); a source
whose every item was skipped is an error, because a mapping that matches nothing must not look
like an empty source (in ``full`` mode that would ask LeanIX to delete everything in scope).
Data keys whose expression gives null are left out: a missing field is no data, not a null.

HTTP: every request has a timeout (capped by the ambient ``lx_core.deadline``); transport
errors, 408, 429 and 5xx are retried twice with a short back-off (honouring ``Retry-After`` up
to a cap and never past the deadline), then raise ``SourceUnavailableError`` (retryable). Any
other error status, a redirect, a body that is not JSON or larger than ``maxPageBytes``, or a
mapping that is not a list raise ``SourceError`` (not retryable). Redirects are not followed
and next links must stay on the source's own origin, so the secret is never sent elsewhere.
Messages name the URL without its query string and never the secret.
"""

from __future__ import annotations

import json
import re
import time
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any, Literal
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import jmespath
import jmespath.exceptions
from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    Tag,
    field_validator,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import core_schema

from lx_core import deadline
from lx_core.errors import ConfigurationError, SourceError, SourceUnavailableError
from lx_core.storage.blob import SOURCES_CONTAINER, BlobStore, check_blob_name, check_container

if TYPE_CHECKING:
    import requests

ContentDict = dict[str, Any]

#: Hosts that may be reached over plain http (the sandbox's source API); everything else: https.
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
#: Attempts per request (the first plus two retries), and the back-off before retry n: B * 2**n.
ATTEMPTS = 3
BACKOFF_SECONDS = 0.5
#: A server's Retry-After longer than this is not waited for within one read.
MAX_RETRY_AFTER_SECONDS = 10.0
#: Largest LDIF / JSON-list blob read whole (parsed JSON takes several times its size in memory;
#: use the ``jsonl`` format, which streams, for larger inputs).
MAX_BLOB_SOURCE_BYTES = 64 * 1024 * 1024
#: Longest line of a ``jsonl`` blob.
MAX_LINE_BYTES = 16 * 1024 * 1024
#: Skipped items described in SourceStats.skipped_examples.
MAX_SKIP_EXAMPLES = 5
_SETTING = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_SETTING_REF = re.compile(r"^%([A-Za-z_][A-Za-z0-9_]*)%$")
_KEY_VAULT_PREFIX = "@Microsoft.KeyVault("
_READ_CHUNK = 64 * 1024
MAX_EXPRESSION_CHARS = 2000


def _describe(exc: jmespath.exceptions.JMESPathError) -> str:
    """jmespath's error on one line: its message and column (its own text draws a caret)."""
    lines = str(exc).strip().splitlines()
    message = lines[0].rstrip(":") if lines else type(exc).__name__
    column = getattr(exc, "lex_position", getattr(exc, "lexer_position", None))
    where = f" at column {column}" if isinstance(column, int) else ""
    return " ".join(f"{message}{where}".split())


class JMESPath:
    """A compiled JMESPath expression that keeps its text (for messages and round trips).

    In a pydantic model it validates from a string (a syntax error is a validation error of that
    field) and serialises back to the string.
    """

    __slots__ = ("_compiled", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", PendingDeprecationWarning)
            try:
                self._compiled = jmespath.compile(text)
            except jmespath.exceptions.JMESPathError as exc:
                raise ValueError(
                    f"invalid JMESPath expression {text!r}: {_describe(exc)}"
                ) from None
        if any(issubclass(w.category, PendingDeprecationWarning) for w in caught):
            # jmespath still reads `Application` as a string, but the spec deprecates it.
            raise ValueError(
                f"JMESPath expression {text!r} uses the deprecated `text` literal: write a "
                "string constant as 'text' (or `\"text\"`)"
            )

    def search(self, value: Any) -> Any:
        """The expression applied to ``value`` (JMESPath: a missing key gives None)."""
        return self._compiled.search(value)

    def __repr__(self) -> str:
        return f"JMESPath({self.text!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, JMESPath) and other.text == self.text

    def __hash__(self) -> int:
        return hash(self.text)

    @classmethod
    def _validate(cls, value: Any) -> JMESPath:
        if isinstance(value, JMESPath):
            return value
        if not isinstance(value, str) or not value.strip():
            raise ValueError("must be a JMESPath expression (a non-empty string)")
        if len(value) > MAX_EXPRESSION_CHARS:
            raise ValueError(f"must be at most {MAX_EXPRESSION_CHARS} characters")
        return cls(value)

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source_type: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        # One plain validator (not a union), so a bad expression is exactly one error on its
        # field, which the connector-file loader reports as the file's error.
        return core_schema.no_info_plain_validator_function(
            cls._validate,
            serialization=core_schema.plain_serializer_function_ser_schema(lambda v: v.text),
        )

    @classmethod
    def __get_pydantic_json_schema__(
        cls, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {"type": "string", "format": "jmespath", "maxLength": MAX_EXPRESSION_CHARS}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class HeaderAuth(_Model):
    """A request header built from an app setting: ``<header>: <scheme> <value of setting>``
    (just the value when ``scheme`` is null). The file names the setting, never the secret."""

    header: str = Field("Authorization", pattern=r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+$", max_length=100)
    scheme: str | None = Field("Bearer", pattern=r"^[A-Za-z][A-Za-z0-9._~+/-]*$", max_length=50)
    setting: str = Field(pattern=_SETTING.pattern, max_length=200)


class NextLinkPaging(_Model):
    """Follow the link ``nextLink`` selects in each page (null or "" ends); relative links are
    resolved against the page's URL and must stay on the source's origin."""

    next_link: JMESPath = Field(alias="nextLink")


class PageParamPaging(_Model):
    """Request pages ``start``, ``start + 1``, ... in the query parameter ``pageParam`` (and a
    fixed page size in ``sizeParam``, if given) until a page lists no item."""

    page_param: str = Field("page", alias="pageParam", min_length=1, max_length=100)
    start: int = Field(1, ge=0)
    size_param: str | None = Field(None, alias="sizeParam", min_length=1, max_length=100)
    size: int | None = Field(None, ge=1, le=100_000)

    @model_validator(mode="after")
    def _size_pair(self) -> PageParamPaging:
        if (self.size_param is None) != (self.size is None):
            raise ValueError("sizeParam and size go together")
        if self.size_param == self.page_param:
            raise ValueError("sizeParam and pageParam must differ")
        return self


def _paging_kind(value: Any) -> str:
    if isinstance(value, NextLinkPaging):
        return "nextLink"
    if isinstance(value, Mapping) and ("nextLink" in value or "next_link" in value):
        return "nextLink"
    return "pageParam"


Paging = Annotated[
    Annotated[NextLinkPaging, Tag("nextLink")] | Annotated[PageParamPaging, Tag("pageParam")],
    Discriminator(_paging_kind),
]


class ContentMapping(_Model):
    """JMESPath expressions: ``items`` selects the list in a page; ``id``, ``type`` and each
    ``data`` value are applied to one item. A constant is a raw string literal: ``"'Application'"``.
    Numeric ids need ``to_string(id)``: LDIF ids are strings."""

    items: JMESPath
    id: JMESPath
    type: JMESPath
    data: dict[Annotated[str, Field(min_length=1, max_length=200)], JMESPath] = Field(
        default_factory=dict
    )


class HttpsJsonSource(_Model):
    """A JSON endpoint read over https (http only on loopback, for the sandbox). ``url`` is a
    URL or ``%APP_SETTING%`` naming the setting that holds it (resolved when read)."""

    kind: Literal["https"]
    url: str = Field(min_length=1, max_length=2000)
    auth: HeaderAuth | None = None
    paging: Paging | None = None
    max_pages: int = Field(
        1000,
        alias="maxPages",
        ge=1,
        le=100_000,
        description="Most pages fetched; more is an error.",
    )
    timeout_seconds: float = Field(30.0, alias="timeoutSeconds", gt=0, le=300)
    max_page_bytes: int = Field(
        32 * 1024 * 1024, alias="maxPageBytes", ge=1024, le=256 * 1024 * 1024
    )
    mapping: ContentMapping

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        value = value.strip()
        if _SETTING_REF.fullmatch(value):
            return value
        check_source_url(value)
        return value

    def resolved_url(self, env: Mapping[str, str]) -> str:
        """The URL, read from its app setting when ``url`` is ``%SETTING%``."""
        ref = _SETTING_REF.fullmatch(self.url)
        if ref is None:
            return self.url
        name = ref.group(1)
        value = env.get(name, "").strip()
        if not value:
            raise ConfigurationError(f"source URL setting {name} is not set", settings=[name])
        try:
            return check_source_url(value)
        except ValueError as exc:
            raise ConfigurationError(f"source URL setting {name}: {exc}", settings=[name]) from None


class BlobSource(_Model):
    """Content stored in the data account (the app may only read the ``lx-sources`` container).

    ``ldif``: an LDIF document, its ``content`` array; ``json-list``: a JSON array of content
    objects; both read whole, at most MAX_BLOB_SOURCE_BYTES. ``jsonl``: one content object per
    line, streamed, any size.
    """

    kind: Literal["blob"]
    container: str = SOURCES_CONTAINER
    name: str
    format: Literal["ldif", "json-list", "jsonl"] = "ldif"

    _check_container = field_validator("container")(check_container)
    _check_name = field_validator("name")(check_blob_name)


Source = Annotated[HttpsJsonSource | BlobSource, Field(discriminator="kind")]


def check_source_url(url: str) -> str:
    """``url`` if it is an https URL (http on a loopback host) without credentials or
    fragment, else ValueError."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ValueError("must be an https URL (or %APP_SETTING% naming one)")
    if parts.scheme == "http" and parts.hostname not in LOOPBACK_HOSTS:
        raise ValueError("must use https (plain http only on 127.0.0.1, localhost or ::1)")
    if parts.username is not None or parts.password is not None:
        raise ValueError("must not contain credentials: use auth with an app setting")
    if parts.fragment:
        raise ValueError("must not contain a fragment")
    return url


def shown_url(url: str) -> str:
    """``url`` without its query string and fragment, for messages (a query may hold a key)."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


@dataclass(slots=True)
class SourceStats:
    """What one read did: pages and requests, retries, items yielded and skipped."""

    pages: int = 0
    requests: int = 0
    retries: int = 0
    items: int = 0
    skipped: int = 0
    #: The first few skipped items, as "page 2 item 7: id is null".
    skipped_examples: list[str] = field(default_factory=list)

    def skip(self, where: str, why: str) -> None:
        self.skipped += 1
        if len(self.skipped_examples) < MAX_SKIP_EXAMPLES:
            self.skipped_examples.append(f"{where}: {why}")


class SourceReader(Iterator[ContentDict]):
    """The items of one source, lazily; ``stats`` fills in as they are read. ``close()`` (or
    exhausting it) releases the HTTP session it opened."""

    def __init__(self, items: Iterator[ContentDict], stats: SourceStats) -> None:
        self._items = items
        self.stats = stats

    def __iter__(self) -> SourceReader:
        return self

    def __next__(self) -> ContentDict:
        return next(self._items)

    def close(self) -> None:
        close = getattr(self._items, "close", None)
        if close is not None:
            close()


def read_source(
    source: HttpsJsonSource | BlobSource,
    *,
    env: Mapping[str, str],
    blob: BlobStore | None = None,
    session: requests.Session | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> SourceReader:
    """The source's content items, ``{"type", "id", "data"}``, one page at a time.

    Settings are resolved now (a missing one is a ConfigurationError naming it); the first
    request is made at the first ``next()``. ``session`` is used as given and left open; without
    one a session is opened and closed when the reader is exhausted or closed.
    """
    stats = SourceStats()
    if isinstance(source, BlobSource):
        if blob is None:
            raise ConfigurationError(
                "a blob source needs blob storage: set LX_BLOB_ACCOUNT_URL or "
                "LX_BLOB_CONNECTION_STRING",
                settings=["LX_BLOB_ACCOUNT_URL", "LX_BLOB_CONNECTION_STRING"],
            )
        where = f"{source.container}/{source.name}"
        return SourceReader(_checked(_blob_items(source, blob, stats), stats, where), stats)
    url = source.resolved_url(env)
    headers = {"Accept": "application/json", "User-Agent": "lx-functions"}
    headers.update(auth_headers(source.auth, env))
    reader = _HttpReader(source, url, headers, session, stats, sleep)
    return SourceReader(_checked(reader.items(), stats, shown_url(url)), stats)


def auth_headers(auth: HeaderAuth | None, env: Mapping[str, str]) -> dict[str, str]:
    """The auth header with its secret from ``env``; ConfigurationError naming the setting
    (never its value) when it is missing, an unresolved Key Vault reference, or multi-line."""
    if auth is None:
        return {}
    value = env.get(auth.setting, "").strip()
    if not value:
        raise ConfigurationError(
            f"source auth setting {auth.setting} is not set", settings=[auth.setting]
        )
    if value.startswith(_KEY_VAULT_PREFIX):
        raise ConfigurationError(
            f"source auth setting {auth.setting} is an unresolved Key Vault reference; check "
            "the app's identity and vault access",
            settings=[auth.setting],
        )
    if "\r" in value or "\n" in value:
        raise ConfigurationError(
            f"source auth setting {auth.setting} must be one line", settings=[auth.setting]
        )
    return {auth.header: f"{auth.scheme} {value}" if auth.scheme else value}


def _checked(items: Iterator[ContentDict], stats: SourceStats, where: str) -> Iterator[ContentDict]:
    """``items``, then an error if every item was skipped (a mapping that matches nothing)."""
    yield from items
    if stats.items == 0 and stats.skipped:
        raise SourceError(
            f"all {stats.skipped} items were skipped (first: {stats.skipped_examples[0]}): "
            "check the source's mapping",
            url=where,
        )


def _content(
    stats: SourceStats, where: str, type_: Any, id_: Any, data: Mapping[str, Any]
) -> ContentDict | None:
    for label, value in (("id", id_), ("type", type_)):
        if not isinstance(value, str) or not value:
            shown = "null" if value is None else f"a {type(value).__name__}, not a string"
            stats.skip(where, f"{label} is {'empty' if value == '' else shown}")
            return None
    stats.items += 1
    return {"type": type_, "id": id_, "data": {k: v for k, v in data.items() if v is not None}}


# ---------------------------------------------------------------------------------------------
# https
# ---------------------------------------------------------------------------------------------


def _with_query(url: str, params: Mapping[str, str]) -> str:
    """``url`` with ``params`` set in its query (replacing any values already there)."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in params]
    query.extend(params.items())
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), parts.fragment))


def _retry_after(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None  # an HTTP date: fall back to our own back-off
    return max(0.0, seconds)


class _HttpReader:
    """Pages of one https source, and the mapping of their items."""

    def __init__(
        self,
        source: HttpsJsonSource,
        url: str,
        headers: Mapping[str, str],
        session: requests.Session | None,
        stats: SourceStats,
        sleep: Callable[[float], None],
    ) -> None:
        self.source = source
        self.url = url
        self.origin = urlsplit(url)[:2]
        self.headers = dict(headers)
        self.session = session
        self.stats = stats
        self.sleep = sleep

    def items(self) -> Iterator[ContentDict]:
        import requests

        own = self.session is None
        session = self.session if self.session is not None else requests.Session()
        try:
            for page_no, items in self._pages(session):
                mapping = self.source.mapping
                for index, item in enumerate(items):
                    where = f"page {page_no} item {index}"
                    try:
                        values = (
                            mapping.type.search(item),
                            mapping.id.search(item),
                            {key: expr.search(item) for key, expr in mapping.data.items()},
                        )
                    except jmespath.exceptions.JMESPathError as exc:
                        self.stats.skip(where, f"mapping failed ({type(exc).__name__})")
                        continue
                    content = _content(self.stats, where, *values)
                    if content is not None:
                        yield content
        finally:
            if own:
                session.close()

    def _items_of(self, body: Any, url: str, page_no: int) -> list[Any]:
        items = self.source.mapping.items.search(body)
        if not isinstance(items, list):
            found = "nothing" if items is None else f"a {type(items).__name__}"
            raise SourceError(
                f"page {page_no}: mapping.items {self.source.mapping.items.text!r} selected "
                f"{found}, not a list",
                url=shown_url(url),
            )
        return items

    def _pages(self, session: requests.Session) -> Iterator[tuple[int, list[Any]]]:
        paging = self.source.paging
        limit = self.source.max_pages
        if paging is None:
            yield 1, self._items_of(self._get(session, self.url), self.url, 1)
            return
        if isinstance(paging, NextLinkPaging):
            url, seen = self.url, {self.url}
            for page_no in range(1, limit + 1):
                body = self._get(session, url)
                yield page_no, self._items_of(body, url, page_no)
                link = paging.next_link.search(body)
                if link is None or link == "":
                    return
                url = self._next_url(url, link, seen)
            raise self._too_many(limit)
        for offset in range(limit):
            page_no = paging.start + offset
            params = {paging.page_param: str(page_no)}
            if paging.size_param is not None:
                params[paging.size_param] = str(paging.size)
            url = _with_query(self.url, params)
            items = self._items_of(self._get(session, url), url, offset + 1)
            if not items:
                return
            yield offset + 1, items
        raise self._too_many(limit)

    def _too_many(self, limit: int) -> SourceError:
        return SourceError(
            f"the source has more than maxPages={limit} pages: raise maxPages or check paging",
            url=shown_url(self.url),
        )

    def _next_url(self, url: str, link: Any, seen: set[str]) -> str:
        if not isinstance(link, str):
            raise SourceError(
                f"paging.nextLink selected a {type(link).__name__}, not a URL", url=shown_url(url)
            )
        target = urljoin(url, link)
        if urlsplit(target)[:2] != self.origin:
            raise SourceError(
                f"next link leads to another origin ({shown_url(target)}); it is not followed, "
                "so the source's credentials are never sent there",
                url=shown_url(url),
            )
        if target in seen:
            raise SourceError("next link repeats an earlier page", url=shown_url(target))
        seen.add(target)
        return target

    def _get(self, session: requests.Session, url: str) -> Any:
        """One page as JSON, with bounded retries of transient failures."""
        import requests

        shown = shown_url(url)
        for attempt in range(ATTEMPTS):
            left = deadline.remaining()
            if left < deadline.MIN_USEFUL_SECONDS:
                raise SourceUnavailableError("the caller's deadline passed", url=shown)
            self.stats.requests += 1
            try:
                answer = self._attempt(session, url, shown, min(self.source.timeout_seconds, left))
            except requests.Timeout:
                problem = SourceUnavailableError("timed out", url=shown)
            except requests.RequestException as exc:
                problem = SourceUnavailableError(f"no answer ({type(exc).__name__})", url=shown)
            else:
                if answer.problem is None:
                    self.stats.pages += 1
                    return answer.body
                problem = answer.problem
            wait = BACKOFF_SECONDS * 2**attempt
            if problem.retry_after is not None:
                wait = max(wait, problem.retry_after)
            last = attempt == ATTEMPTS - 1
            if last or wait > MAX_RETRY_AFTER_SECONDS or wait >= deadline.remaining():
                raise problem
            self.stats.retries += 1
            self.sleep(wait)
        raise SourceUnavailableError("no attempt left", url=shown)  # not reached: loop raises

    def _attempt(self, session: requests.Session, url: str, shown: str, timeout: float) -> _Answer:
        """One request: the page's JSON or a retryable problem; SourceError on a final answer."""
        response = session.get(
            url, headers=self.headers, timeout=timeout, stream=True, allow_redirects=False
        )
        with response:
            status = response.status_code
            if 200 <= status < 300:
                return _Answer(self._json(response, shown))
            if status in (408, 429) or status >= 500:
                return _Answer(
                    None,
                    SourceUnavailableError(
                        f"answered {status}",
                        url=shown,
                        status=status,
                        retry_after=_retry_after(response.headers.get("Retry-After")),
                    ),
                )
        if 300 <= status < 400:
            raise SourceError(
                "answered a redirect, which is not followed: configure the final URL",
                url=shown,
                status=status,
            )
        if status in (401, 403) and self.source.auth is not None:
            raise SourceError(
                f"refused the credentials: check the secret in {self.source.auth.setting}",
                url=shown,
                status=status,
            )
        raise SourceError(f"answered {status}", url=shown, status=status)

    def _json(self, response: requests.Response, shown: str) -> Any:
        limit = self.source.max_page_bytes
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > limit:
            raise SourceError(f"page larger than maxPageBytes={limit}", url=shown)
        body = bytearray()
        for part in response.iter_content(_READ_CHUNK):
            body += part
            if len(body) > limit:
                raise SourceError(f"page larger than maxPageBytes={limit}", url=shown)
        try:
            return json.loads(body)
        except ValueError:
            raise SourceError("answer is not JSON", url=shown) from None


@dataclass(frozen=True, slots=True)
class _Answer:
    """One attempt's outcome: the page's JSON, or the retryable problem."""

    body: Any
    problem: SourceUnavailableError | None = None


# ---------------------------------------------------------------------------------------------
# blob
# ---------------------------------------------------------------------------------------------


def _blob_items(source: BlobSource, store: BlobStore, stats: SourceStats) -> Iterator[ContentDict]:
    where = f"{source.container}/{source.name}"
    chunks = store.open_chunks(source.container, source.name)
    try:
        if source.format == "jsonl":
            objects: Iterable[tuple[str, Any]] = _jsonl(chunks, where)
        else:
            objects = _whole(chunks, where, source.format)
        for label, obj in objects:
            if not isinstance(obj, dict):
                stats.skip(label, f"a {type(obj).__name__}, not an object")
                continue
            data = obj.get("data", {})
            if not isinstance(data, dict):
                stats.skip(label, "data is not an object")
                continue
            content = _content(stats, label, obj.get("type"), obj.get("id"), data)
            if content is not None:
                yield content
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            close()


def _whole(chunks: Iterator[bytes], where: str, fmt: str) -> Iterator[tuple[str, Any]]:
    raw = bytearray()
    for chunk in chunks:
        raw += chunk
        if len(raw) > MAX_BLOB_SOURCE_BYTES:
            raise SourceError(
                f"blob larger than {MAX_BLOB_SOURCE_BYTES} bytes: store it as 'jsonl' (one "
                "content object per line), which is streamed",
                url=where,
            )
    try:
        doc = json.loads(raw)
    except ValueError:
        raise SourceError(f"blob is not JSON (format {fmt!r})", url=where) from None
    del raw
    if fmt == "ldif":
        content = doc.get("content") if isinstance(doc, dict) else None
        if not isinstance(content, list):
            raise SourceError("blob is not an LDIF: no 'content' list", url=where)
        doc = content
    elif not isinstance(doc, list):
        raise SourceError("blob is not a JSON list (format 'json-list')", url=where)
    for index, obj in enumerate(doc):
        yield f"item {index}", obj


def _jsonl(chunks: Iterator[bytes], where: str) -> Iterator[tuple[str, Any]]:
    pending = bytearray()
    line_no = 0

    def parse(line: bytes) -> Any:
        try:
            return json.loads(line)
        except ValueError:
            raise SourceError(f"line {line_no} is not JSON", url=where) from None

    for chunk in chunks:
        pending += chunk
        while (end := pending.find(b"\n")) >= 0:
            line_no += 1
            line = bytes(pending[:end])
            del pending[: end + 1]
            if line.strip():
                yield f"line {line_no}", parse(line)
        if len(pending) > MAX_LINE_BYTES:
            raise SourceError(f"line {line_no + 1} longer than {MAX_LINE_BYTES} bytes", url=where)
    if pending.strip():
        line_no += 1
        yield f"line {line_no}", parse(bytes(pending))
