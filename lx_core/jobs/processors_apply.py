"""Processor configurations as code: plan against the workspace, apply only what differs, lint.

The desired configuration of each connector is its processor file, exactly as sent to LeanIX.
``plan`` reads the workspace's configuration for the same five identity fields and diffs them
processor by processor, key by key; ``apply`` upserts only the configurations that differ, so a
second apply writes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from lx_core.decisions.processor_diff import ConfigDiff, diff
from lx_core.decisions.processor_lint import Finding, LintContext, lint
from lx_core.integration.connectors import Connector, Registry
from lx_core.leanix.integration_api import IntegrationAPI

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ProcessorPlan:
    """One connector's desired configuration and how it differs from the workspace's."""

    connector: Connector
    diff: ConfigDiff
    desired: dict[str, Any]

    @property
    def changed(self) -> bool:
        return self.diff.changed


class ProcessorsManager:
    """Plans and applies processor configurations through the Integration API."""

    def __init__(self, api: IntegrationAPI) -> None:
        self.api = api

    def plan_one(self, connector: Connector) -> ProcessorPlan:
        desired = connector.processor_document()
        actual = self.api.get_configuration(connector.identity)
        return ProcessorPlan(connector=connector, diff=diff(desired, actual), desired=desired)

    def plan(self, connectors: Iterable[Connector]) -> list[ProcessorPlan]:
        return [self.plan_one(c) for c in connectors]

    def apply(self, plans: Iterable[ProcessorPlan]) -> list[ProcessorPlan]:
        """Upsert every changed configuration; the plans that were written."""
        written: list[ProcessorPlan] = []
        for plan in plans:
            if not plan.changed:
                continue
            self.api.upsert_configuration(plan.desired)
            log.info("processor configuration of %s written", plan.connector.identity.key)
            written.append(plan)
        return written

    def ensure(self, connector: Connector) -> bool:
        """Make the workspace hold this connector's configuration; True if it was written."""
        return bool(self.apply([self.plan_one(connector)]))


def lint_connector(connector: Connector) -> list[Finding]:
    """The lint findings of one connector's processor file, with its connector's context."""
    spec = connector.spec
    context = LintContext(
        deletion_ratio_reason=spec.deletion_ratio_reason, test_scope=spec.test_scope
    )
    return lint(
        connector.processor_document(), file=str(connector.processors_file), context=context
    )


def lint_registry(registry: Registry) -> list[Finding]:
    """Findings of every loaded connector, in connector-name order."""
    findings: list[Finding] = []
    for name in sorted(registry.connectors):
        findings.extend(lint_connector(registry.connectors[name]))
    return findings
