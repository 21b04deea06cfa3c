"""The Integration API of one emulated workspace: stored configurations, runs, uploads and
settings. Route modules call this; :class:`~lx_sandbox.emulator.core.Emulator` owns it."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from lx_sandbox.emulator.events import EventStore
from lx_sandbox.emulator.integration.documents import Identity, identity_of
from lx_sandbox.emulator.integration.run_event import run_event
from lx_sandbox.emulator.integration.runs import Run, RunManager
from lx_sandbox.emulator.integration.settings import IntegrationSettings
from lx_sandbox.emulator.integration.storage import Uploads
from lx_sandbox.emulator.state import Workspace

JsonDict = dict[str, Any]


@dataclass
class IntegrationService:
    """Configurations by identity, runs by id, and the settings that drive them."""

    make_settings: Callable[[], IntegrationSettings]
    workspace: Callable[[], Workspace]
    events: Callable[[], EventStore]
    base_url: Callable[[], str]
    blob_connection_string: str | None = None
    configs: dict[Identity, JsonDict] = field(default_factory=dict)
    uploads: Uploads = field(default_factory=Uploads)

    def __post_init__(self) -> None:
        self.settings = self.make_settings()
        self.runs = RunManager(
            settings=self.settings,
            workspace=self.workspace,
            events=self.events,
            base_url=self.base_url,
            on_end=self._announce,
        )

    def reset(self) -> None:
        """Forget configurations, runs and uploads; settings back to the constructor's."""
        self.configs.clear()
        self.runs.reset()
        self.uploads = Uploads()
        fresh = self.make_settings()
        for name in vars(fresh):
            setattr(self.settings, name, getattr(fresh, name))

    def _announce(self, run: Run) -> None:
        self.events().append(
            run_event(
                run,
                workspace_id=self.workspace().id,
                base_url=self.base_url(),
                tag_sets=self.settings.statistics_tag_sets,
            )
        )

    def put_config(self, doc: JsonDict) -> Identity:
        """Upsert by the five identity fields, keeping the document exactly as sent.

        # ASSUMPTION [I] §5.1: GET answers exactly the document that was PUT.
        """
        identity = identity_of(doc)
        self.configs[identity] = copy.deepcopy(doc)
        return identity

    def find_config(self, identity: Identity) -> JsonDict | None:
        """The stored configuration of an identity."""
        return self.configs.get(identity)

    def run(self, run_id: str) -> Run | None:
        """A run by id, advanced to now."""
        run = self.runs.runs.get(run_id)
        if run is not None:
            self.runs.advance(run)
        return run

    def all_runs(self) -> list[Run]:
        """Every run (advanced to now), oldest first."""
        for run in self.runs.runs.values():
            self.runs.advance(run)
        return list(self.runs.runs.values())
