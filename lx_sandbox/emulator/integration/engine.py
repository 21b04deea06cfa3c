"""The processor engine: one run's work as a sequence of small steps.

:meth:`Engine.steps` is a generator, so the run lifecycle can do the work bit by bit while the
run is IN_PROGRESS (progress grows, ``stop`` leaves partial effects) or all at once (fast runs).
Inbound: for each ``run`` level in order, every content item through that level's processors
([V] §1 ``run``); variables are published between levels; then full-mode deletion. Outbound:
every fact sheet in the configuration's scope through the outbound processors.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from lx_sandbox.emulator.integration.deletion import apply_deletion_scope
from lx_sandbox.emulator.integration.inbound import Inbound
from lx_sandbox.emulator.integration.outbound import Outbound
from lx_sandbox.emulator.integration.processor import Processor, ProcessorError
from lx_sandbox.emulator.integration.report import Report
from lx_sandbox.emulator.integration.scope import ScopeError, select
from lx_sandbox.emulator.integration.writer import Writer
from lx_sandbox.emulator.state import FactSheet

JsonDict = dict[str, Any]
_LDIF_HEADER = (
    "connectorType",
    "connectorId",
    "connectorVersion",
    "lxVersion",
    "lxWorkspace",
    "description",
    "processingDirection",
    "processingMode",
    "customFields",
)


class Engine:
    """Applies one processor configuration to one LDIF against one workspace."""

    def __init__(self, writer: Writer, config: JsonDict, ldif: JsonDict) -> None:
        self.writer = writer
        self.config = config
        self.ldif = ldif
        self.report = Report()
        self.header: JsonDict = {k: v for k, v in ldif.items() if k != "content"}
        self.direction = str(config.get("processingDirection") or ldif["processingDirection"])
        self.processors = self._compile(config.get("processors") or [])
        self.content: list[JsonDict] = list(ldif.get("content") or [])
        self.levels = sorted({p.run for p in self.processors}) or [0]
        self.scope: list[FactSheet] = []
        if self.direction == "outbound":
            try:
                self.scope = select(writer.ws, config.get("scope"))
            except ScopeError as exc:
                self.report.add(str(exc), category="SCOPE", error=True)
            self.total_units = max(1, len(self.scope))
        else:
            self.total_units = len(self.content) * len(self.levels) + 1
        self.done_units = 0
        self.level_index = 0
        self.inbound = Inbound(writer, self.report, self.header)
        self.outbound = Outbound(writer.ws, self.report, self.header)
        self.archived = 0

    def _compile(self, docs: list[Any]) -> list[Processor]:
        out: list[Processor] = []
        for index, doc in enumerate(docs):
            if not isinstance(doc, dict) or doc.get("enabled", True) is False:
                continue
            try:
                proc = Processor.compile(doc, index)
                out.append(proc)
                for key in proc.unsupported_filters:
                    # ASSUMPTION: e.g. updatedInDuration is accepted but not applied.
                    self.report.add(
                        f"filter.{key} is not emulated by the sandbox; it was ignored",
                        processor=proc.label,
                        category="NOT_EMULATED",
                    )
            except ProcessorError as exc:
                name = str(doc.get("processorName") or f"processor {index}")
                self.report.add(f"{exc}; processor skipped", processor=(name, index), error=True)
        out.sort(key=lambda p: (p.run, p.index))
        return out

    @property
    def items_in_scope(self) -> int:
        """Content items (inbound) or fact sheets in scope (outbound)."""
        return len(self.scope) if self.direction == "outbound" else len(self.content)

    @property
    def processed(self) -> int:
        """Items processed so far, growing evenly over all run levels."""
        total = self.items_in_scope
        if self.done_units >= self.total_units:
            return total
        return min(total, self.done_units * total // max(1, self.total_units))

    def steps(self) -> Iterator[None]:
        """Do the work; yields after each unit (one item at one level, or one fact sheet)."""
        if self.direction == "outbound":
            yield from self._outbound()
        else:
            yield from self._inbound()

    def _inbound(self) -> Iterator[None]:
        inbound = self.inbound
        for level_index, level in enumerate(self.levels):
            self.level_index = level_index
            procs = [p for p in self.processors if p.run == level]
            for item in self.content:
                if procs:
                    ctx = inbound.context(item)
                    for proc in procs:
                        inbound.process(proc, item, ctx)
                self.done_units += 1
                yield
            inbound.end_level()
        if self.header.get("processingMode") == "full" and self.config.get("deletionScope"):
            self.archived = apply_deletion_scope(
                self.writer, self.report, self.config["deletionScope"], inbound.touched
            )
        elif self.config.get("deletionScope") and self.header.get("processingMode") != "full":
            self.report.add(
                "deletionScope is ignored: the LDIF's processingMode is not full",
                category="DELETION",
            )
        self.done_units += 1
        yield

    def _outbound(self) -> Iterator[None]:
        for fs in self.scope:
            for proc in self.processors:
                self.outbound.process(proc, fs)
            self.done_units += 1
            yield
        self.done_units = self.total_units

    def run_to_end(self) -> None:
        """All remaining steps at once."""
        for _ in self.steps():
            pass

    def results(self) -> JsonDict | None:
        """The result LDIF (outbound, or inbound ``writeToLdif``), None when there is none."""
        if self.direction == "outbound":
            content = list(self.outbound.items.values())
        elif self.inbound.results:
            content = self.inbound.results
        else:
            return None
        header = {k: self.header[k] for k in _LDIF_HEADER if k in self.header}
        return {**header, "content": content}

    @property
    def contents_count(self) -> int:
        """Items of the result LDIF (outbound) or of the input (inbound)."""
        if self.direction == "outbound":
            return len(self.outbound.items)
        return len(self.content)
