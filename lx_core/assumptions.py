"""Every unverified LeanIX API assumption the client relies on, as named constants.

These are the places to check against a real workspace. Each constant cites the section of
``shared/reference/leanix-api.md`` it comes from and its evidence marker there:
[V] verified in LeanIX documentation or code, [V3] seen only in third-party code that calls the
real API, [I] inferred, [U] unknown. The client imports from here instead of repeating literals, so
correcting an assumption is a one-line change.
"""

from __future__ import annotations

from typing import Final

# --- Authentication (§1) ------------------------------------------------------------------------

#: §1.1 [V3]: the token endpoint answers 400/401 for a refused API token (never retried).
TOKEN_REFUSED_STATUSES: Final[frozenset[int]] = frozenset({400, 401})

#: §1.1 [I]: a client_credentials exchange has no side effect, so it is retried like a GET.
TOKEN_EXCHANGE_IS_IDEMPOTENT: Final[bool] = True

#: §1.2 [V]: "the token is valid for 3600 seconds"; used only when neither ``exp`` nor
#: ``expires_in`` is present.
DEFAULT_TOKEN_LIFETIME_SECONDS: Final[int] = 3600

#: §1.2 [I]: the refresh margin is capped at this fraction of a token's real lifetime, so a
#: workspace (or the emulator) issuing short-lived tokens does not cause an exchange per call.
MAX_REFRESH_MARGIN_FRACTION: Final[float] = 0.1

#: §1.3/§1.4 [V3] claim name; [I] on its format: scheme + host, no path, e.g.
#: ``https://acme.leanix.net``. A path is dropped; a non-http(s) value is rejected.
INSTANCE_URL_CLAIM: Final[str] = "instanceUrl"

#: §1.3 [I]: instanceUrl uses https whenever the configured host does (a downgrade to http would
#: send the bearer token in clear text, so it is refused).
INSTANCE_URL_MUST_KEEP_HTTPS: Final[bool] = True

#: §1.3 [V3]: JSON paths (not flat claim names) of the identity claims.
WORKSPACE_ID_CLAIM_PATH: Final[tuple[str, ...]] = ("principal", "permission", "workspaceId")
WORKSPACE_NAME_CLAIM_PATH: Final[tuple[str, ...]] = ("principal", "permission", "workspaceName")
PRINCIPAL_ID_CLAIM_PATH: Final[tuple[str, ...]] = ("principal", "id")
PRINCIPAL_NAME_CLAIM_PATH: Final[tuple[str, ...]] = ("principal", "username")
#: §1.3 [V3] path; [I] on its values (ADMIN/MEMBER/VIEWER). Shown by ``lx whoami`` only.
WORKSPACE_ROLE_CLAIM_PATH: Final[tuple[str, ...]] = ("principal", "permission", "role")

# --- Rate limits and retries (§0.3) -------------------------------------------------------------

#: §0.3 [V]: 1,800 requests per minute per user; LeanIXSettings caps requests_per_minute there.
RATE_LIMIT_PER_MINUTE: Final[int] = 1800

#: §0.3 [V] for 429 ("might contain Retry-After", in seconds); [I] that 502/503/504 may carry it
#: too, and [I] that it may be an HTTP-date (RFC 9110 allows both forms).
RETRY_AFTER_ON_5XX: Final[bool] = True
RETRY_AFTER_ACCEPTS_HTTP_DATE: Final[bool] = True

# --- Webhook deliveries (§4) -------------------------------------------------------------------

#: [U]: how long LeanIX waits for a PUSH delivery's answer is undocumented. We assume it gives up
#: after about 10 s, so the webhook's own deadline (LX_WEBHOOK_DEADLINE_SECONDS) defaults to half
#: of that: the 503 reaches LeanIX before it stops listening, instead of a timeout while the work
#: goes on and a duplicate delivery follows.
ASSUMED_DELIVERY_TIMEOUT_SECONDS: Final[float] = 10.0

# --- GraphQL (§2) -------------------------------------------------------------------------------

#: [U]: how long an ``allFactSheets`` cursor stays valid is undocumented. A resumed reconcile
#: whose cursor is rejected (any GraphQL error on a page after the first) starts the walk over;
#: compare-first writing makes that safe. TIME_RECONCILE_MAX_RESTARTS bounds it.
CURSOR_MAY_EXPIRE: Final[bool] = True

GRAPHQL_PATH: Final[str] = "/services/pathfinder/v1/graphql"

#: §2.8 [V3]: where an error's type sits; both places are checked, in this order.
ERROR_TYPE_PATHS: Final[tuple[tuple[str, ...], ...]] = (("extensions", "errorType"), ("errorType",))

#: §2.6 [V3]: the error type of a stale ``rev``.
REVISION_CLASH_ERROR_TYPE: Final[str] = "REVISION_CLASH"

#: §2.8 [I]: business and validation errors come back with HTTP 200 and an ``errors`` array.
GRAPHQL_ERRORS_WITH_HTTP_200: Final[bool] = True

#: §2.6 [V]: input and scalar type names used in variable declarations of updateFactSheet.
PATCH_INPUT_TYPE: Final[str] = "Patch"
REV_SCALAR_TYPE: Final[str] = "Long"

#: §2.2 [I]: the input type of ``allFactSheets(filter:)``. Only the literal form
#: ``filter: {facetFilters: [...]}`` is verified; declaring it as a variable needs the type name.
FILTER_INPUT_TYPE: Final[str] = "FilterInput"

#: §2.2 [V]: facet key that filters by fact sheet type.
FACT_SHEET_TYPES_FACET_KEY: Final[str] = "FactSheetTypes"

#: §2.2 [U]: the maximum ``first`` is unknown; 100 is what SAP's own notes use.
DEFAULT_PAGE_SIZE: Final[int] = 100

#: §2.3 [I]: an unknown or inaccessible id answers ``factSheet: null``, not a typed error.
MISSING_FACT_SHEET_IS_NULL: Final[bool] = True

# --- Tags (§2.7) --------------------------------------------------------------------------------

#: §2.7 [V3]: ``allTagGroups`` takes no filter we rely on, and one page holds all groups.
ALL_TAG_GROUPS_UNPAGED: Final[bool] = True

#: §2.7 [V]: ``allTags(filter: {tagGroupName: ...})``; [I] that it matches the name exactly, so
#: the answer is also filtered by group id on our side.
TAG_FILTER_BY_GROUP_NAME: Final[bool] = True

#: §2.7 [V]: ``mode`` and ``restrictToFactSheetTypes`` of upsertTagGroup are enum literals
#: (``mode:SINGLE, restrictToFactSheetTypes:Application``); their variable type names are [U], so
#: they are written inline after validation instead of being declared as variables.
TAG_GROUP_MODES: Final[frozenset[str]] = frozenset({"SINGLE", "MULTIPLE"})

#: §2.7 [I]: ``description`` and ``color`` of upsertTag are Strings.
UPSERT_TAG_OPTIONAL_ARGS_ARE_STRINGS: Final[bool] = True

# --- Data model (§2.4, §2.5) --------------------------------------------------------------------

#: §2.5 [I]: standard GraphQL introspection (``__type``) works on Pathfinder, and the enum values
#: of a single-select field come back in the workspace's configured order (worst to best).
VALUE_ORDER_FROM_INTROSPECTION: Final[bool] = True

# --- Webhooks (§0.2, §4) ------------------------------------------------------------------------

WEBHOOKS_PATH: Final[str] = "/services/webhooks/v1"

#: §4.3 [I]: ``PullEvent.event`` is typed string in both generated clients but shown as an object in
#: the docs; both are accepted.
PULL_EVENT_MAY_BE_JSON_STRING: Final[bool] = True

#: §4.3 [I]: a PULL with ``autoCommit=true`` moves the cursor, so replaying it could lose a batch;
#: it is therefore not retried after a read timeout or 5xx.
PULL_WITH_AUTO_COMMIT_IS_IDEMPOTENT: Final[bool] = False

#: §4.1 [V]: the delivery log's page size limit.
MAX_DELIVERIES_PAGE_SIZE: Final[int] = 100

#: §4.2 [V]: fields the server sets; never sent back on create or update.
SUBSCRIPTION_READ_ONLY_FIELDS: Final[frozenset[str]] = frozenset(
    {"userId", "createdAt", "lastDeliveryStatus", "errorCount", "firstTimeDeliveryFailed"}
)

#: §4.6: payload ``type`` → event type. [V] Created/Updated; [V3] Deleted/Archived. That the
#: pairing follows the naming pattern (``FactSheetXEvent`` ↔ ``FACT_SHEET_X``) is [I].
PAYLOAD_TYPE_TO_EVENT: Final[dict[str, str]] = {
    "FactSheetCreatedEvent": "FACT_SHEET_CREATED",
    "FactSheetUpdatedEvent": "FACT_SHEET_UPDATED",
    "FactSheetArchivedEvent": "FACT_SHEET_ARCHIVED",
    "FactSheetDeletedEvent": "FACT_SHEET_DELETED",
}

#: §4.2 [U]: whether GET returns a subscription's ``authorizationHeader``. Not assumed either
#: way: where the read carries it, it is compared; where not, plans report it as unverifiable
#: and ``lx config apply --resend-secrets`` sends it anyway.
SUBSCRIPTION_SECRET_FIELDS: Final[frozenset[str]] = frozenset({"authorizationHeader"})

# --- Integration API (§5) -----------------------------------------------------------------------

INTEGRATION_API_PATH: Final[str] = "/services/integration-api/v1"

#: §5.2 [V] enum, [I] that these three end a run: the watcher stops polling on any of them.
#: Any other value (including one LeanIX may add later) is treated as still running.
RUN_TERMINAL_STATES: Final[frozenset[str]] = frozenset({"FINISHED", "FAILED", "STOPPED"})

#: §5.1 [I]: a run whose status is one of these has been started (so a 400 "already started" on
#: a repeated ``/start`` means our earlier start went through and is not an error).
RUN_STARTED_STATES: Final[frozenset[str]] = frozenset(
    {"PENDING", "IN_PROGRESS", "FINISHED", "FAILED", "STOPPED"}
)

#: §5.1 [V3]: the create-run answer is read as ``{"id": ...}`` (LeanIX's own script) and a list
#: ``[{"id": ...}]`` (the OpenAPI type) is tolerated; the first item's id is the run.
CREATE_RUN_RESPONSE_MAY_BE_LIST: Final[bool] = True

#: §5.1 [I]: ``GET /configurations`` without filters answers a list (with them, one object).
CONFIGURATIONS_UNFILTERED_IS_LIST: Final[bool] = True

#: §5.1 [V]: the warnings page size limit.
MAX_WARNINGS_PAGE_SIZE: Final[int] = 100

#: §5.6 [V] endpoints, [I] flow: a large LDIF is PUT to the SAS URL of ``GET /storages/azure``
#: as one block blob, then ``withUrlInput`` is called with ``type: azureStorage``. The
#: x-ms-version is pinned so the single-PUT limit is 5000 MiB (2019-12-12 and later).
SAS_UPLOAD_HEADERS: Final[dict[str, str]] = {
    "x-ms-blob-type": "BlockBlob",
    "x-ms-version": "2021-12-02",
    "Content-Type": "application/json",
}
URL_INPUT_TYPE: Final[str] = "azureStorage"

# --- LDIF and processor configurations (§5.3, §5.4; integration-api-processors.md §1) ---------

#: §5.3 [V] for header strings; [I] that content ``type`` and ``id`` obey the same 500-character
#: limit (an external id longer than that is refused before the LDIF is sent).
LDIF_CONTENT_KEY_MAX_CHARS: Final[int] = 500

#: processors.md §1 [V3] form, [U] server acceptance: the flat external identifier
#: ``{"external": {"type": "externalId", "id": "${content.id}"}}`` (plain strings instead of
#: ``{"expr": ...}``) from LeanIX's massDataGenerator script is accepted by validation.
FLAT_EXTERNAL_IDENTIFIER_ACCEPTED: Final[bool] = True

# --- Recurring runs (connectors as code) ------------------------------------------------------

#: §5.1 [U]: the ``description`` of a run in ``GET /synchronizationRuns`` carries the LDIF's
#: ``description``. The sync job writes its attempt id there and, after a lost create answer,
#: adopts the run that carries it. If LeanIX does not echo it, nothing is adopted and a new run
#: is created; the orphan was created with ``start=false``, so it never runs: no data is
#: written twice either way.
RUN_DESCRIPTION_ECHOES_LDIF: Final[bool] = True

#: §5.1 [I]: ``GET /configurations`` returns a configuration exactly as it was PUT, so comparing
#: it with the file decides whether an upsert is needed (``lx processors plan``). Defaults that
#: LeanIX might add would show as differences, never be lost.
CONFIGURATION_READ_AS_WRITTEN: Final[bool] = True

# --- The notification relay (integration-api-processors.md §2, §4; leanix-api.md §8) ----------

#: §2 [I]: a statistics event's ``synchronizationId`` is the run id of POST /synchronizationRuns.
#: The relay keys a run's notice on it (``run-<id>``), so LeanIX's event and our own outcome row
#: of the same run give one message. If they differ, a run is announced twice, never lost.
SYNCHRONIZATION_ID_IS_RUN_ID: Final[bool] = True

#: §2 [V] + [V3]: the statistics events' tag sets disagree between sources; the PULL
#: subscription in webhooks.json carries both. Every payload field the relay reads is optional:
#: ``progress``, ``connectorId``, ``scope``, ``direction``, ``errorCount``, ``warningsCount``,
#: ``processedContentCount``, ``synchronizationId``, ``test``, ``createdAt``.
STATISTICS_TAG_SETS: Final[tuple[tuple[str, ...], ...]] = (
    ("integrations", "statistics"),
    ("integrations", "INTEGRATION-API", "statistics"),
)

#: [I]: a fact sheet opens at ``{workspace URL}/factsheet/{type}/{id}`` in the LeanIX UI.
FACT_SHEET_URL_SEGMENT: Final[str] = "factsheet"

#: §8.1 [I]: a Slack incoming webhook accepts a message with HTTP 200 and the body ``ok``.
SLACK_ACCEPTED_BODY: Final[str] = "ok"

#: §8.2 [U]: Teams Workflows' own rate limits are undocumented; the relay's defaults are the
#: documented connector limits (4 per second, 60 per 30 s, 100 per hour), configurable per
#: channel in notifications.json. A throttled connector may answer 2xx with this text in the
#: body ([V]), so the body is inspected too.
TEAMS_THROTTLED_TEXT: Final[str] = "Microsoft Teams endpoint returned HTTP error 429"

#: §8.2 [I]: a Workflows webhook accepts with any 2xx (commonly 202); the legacy connector body
#: is ``1``.
TEAMS_ACCEPTS_ANY_2XX: Final[bool] = True

# --- Fact-sheet subscriptions and users (issue 8 handlers) -------------------------------------

#: [V3] SAP's "Create a Fact Sheet Subscription" page (as copied by third parties): the mutation
#: ``createSubscription(factSheetId, user: {id | email}, type, roleIds)`` with ``type`` one of
#: ACCOUNTABLE, RESPONSIBLE, OBSERVER, and ``allSubscriptionRoles`` for role ids. [V3] public
#: clients read ``factSheet.subscriptions.edges.node { id type user { id email displayName
#: technicalUser } roles { id name } }``. [U]: LeanIX refuses a second subscription of the same
#: user and type (the handler re-reads first, and after a refusal re-reads again: subscribed by
#: then means "already subscribed", whatever the error says).
FACT_SHEET_SUBSCRIPTION_FIELDS: Final[tuple[str, ...]] = (
    "id",
    "type",
    "user.id",
    "user.email",
    "user.displayName",
    "user.technicalUser",
    "roles.id",
    "roles.name",
)

#: [U]: a workspace user is looked up over MTM REST at this path; 404 means "not a user of this
#: workspace"; the answer's ``data`` carries ``id``, ``email``, ``userName``, ``firstName``,
#: ``lastName``, ``technicalUser`` and ``status``.
WORKSPACE_USER_PATH: Final[str] = "/services/mtm/v1/workspaces/{workspace}/users/{user}"

#: §4.6 [U]: SUBSCRIPTION_CREATED / _DELETED payloads. The handlers read only ids and the
#: subscription's type from them (``payload.factSheet.id``, ``payload.factSheet.type``,
#: ``payload.subscription.id``, ``.type``, ``.user.id``) and re-read the rest through GraphQL.
#: FACT_SHEET_ARCHIVED [V3]: ``payload.factSheet.id``, ``.type``, ``.name`` and the actor's
#: ``userId``. QUALITY_SEAL_BROKEN [U]: the tag set ``["pathfinder", "QUALITY_SEAL_BROKEN"]`` is
#: the public automation client's (not in the event list §4.5); its handler reads only
#: ``payload.factSheet.id``/``.type`` and ``userId`` and re-reads the rest. The payload class
#: names below are [U] except the fact-sheet ones in PAYLOAD_TYPE_TO_EVENT above.
SUBSCRIPTION_PAYLOAD_TYPES: Final[dict[str, str]] = {
    "SubscriptionCreatedEvent": "SUBSCRIPTION_CREATED",
    "SubscriptionUpdatedEvent": "SUBSCRIPTION_UPDATED",
    "SubscriptionDeletedEvent": "SUBSCRIPTION_DELETED",
    "QualitySealBrokenEvent": "QUALITY_SEAL_BROKEN",
}

# --- Surveys (issue 9) ----------------------------------------------------------------------------

#: §6.3 [U]: only TEXT answers are shown (``value`` a string). Assumed for the other types: a
#: number for numeric questions, a list of strings for multiple choice, and choice values that
#: may be option ids, resolved to labels through the poll definition. Any other shape makes a
#: result unscorable (lx_core.surveys.answers).
SURVEY_ANSWER_SHAPES: Final[tuple[str, ...]] = ("text", "number", "list of text", "option id")

#: §6.1 [V]: Survey API v1 is current; Poll API v2 the legacy fallback ([I]: keep v2 only as
#: that). Both list results per run; only v1 documents one result by id (§6.2).
SURVEY_V1_PATH: Final[str] = "/services/survey/v1"
POLL_V2_PATH: Final[str] = "/services/poll/v2"
#: §6.1 [I]: the migration guide writes both ``poll_results`` and ``pollResults``; the results
#: page (§6.2 [V]) uses ``pollResults``.
POLL_RESULTS_SEGMENT: Final[str] = "pollResults"
#: [I]: a workspace without Survey API v1 answers 404 on ``GET /services/survey/v1/polls``;
#: detection calls that once per workspace and process. A 404 on one result means the result
#: is gone, never that the API is missing.
SURVEY_API_PROBE: Final[str] = "/polls"
#: §6.3 [V]: ``DONE`` is a submitted result; any other status [U] is not (yet) answered.
POLL_RESULT_DONE: Final[str] = "DONE"
#: §6.4 [V3]: a run is open while ``STARTED``; ``FINISHED`` when ended.
POLL_RUN_OPEN_STATUSES: Final[frozenset[str]] = frozenset({"STARTED"})
#: §6.3 [U]: the poll definition (``GET /polls/{id}``) holds its questions under
#: ``questionnaire.questions`` (or ``questions``), each ``{id, type, label, options: [{id,
#: label}]}``; options resolve choice answers given as option ids.
POLL_QUESTION_PATHS: Final[tuple[tuple[str, ...], ...]] = (
    ("questionnaire", "questions"),
    ("questions",),
)
#: §6.5 [U]: a public automation client lists these tag sets; no source shows the payload. The
#: survey handler reads only ids from it: ``pollResultId`` (or ``pollResult.id``) and
#: ``pollRunId`` (or ``pollRun.id``), and fetches the rest. The payload class names are [U].
SURVEY_EVENT_TAG_SETS: Final[tuple[tuple[str, ...], ...]] = (
    ("pollResult", "POLL_RESULT_UPDATED"),
    ("poll", "POLL_FINISHED"),
)
SURVEY_PAYLOAD_TYPES: Final[dict[str, str]] = {
    "PollResultUpdatedEvent": "POLL_RESULT_UPDATED",
    "PollFinishedEvent": "POLL_FINISHED",
}
#: [U] (not in the reference): a comment on a fact sheet is ``createComment(factSheetId,
#: message, status)`` and read back as ``comments { edges { node { id message } } }``. The
#: comment target is optional because of this.
COMMENT_MUTATION: Final[str] = "createComment"

# --- Metrics (issue 9) ----------------------------------------------------------------------------

#: §7.1 [V]: schemas and points are Metrics **v2**.
METRICS_V2_PATH: Final[str] = "/services/metrics/v2"
#: §7.2 [V]: answers are bare JSON (the public script reads ``response.json()["uuid"]``); [U]
#: that the lists (``GET /schemas``, points) are bare arrays too; an enveloped ``data`` is also
#: accepted.
METRICS_BARE_JSON: Final[bool] = True
#: §7.2 [U]: a range of points is read with ``start`` (inclusive) and ``end`` (exclusive).
METRICS_RANGE_PARAMS: Final[tuple[str, str]] = ("start", "end")
#: §7.2 [V]: point timestamps as ISO-8601 with milliseconds and ``Z``.
METRICS_TIMESTAMP_FORMAT: Final[str] = "%Y-%m-%dT%H:%M:%S.000Z"
