"""What the notice handlers share: the client, the relay's notice log, the workspace URL for
links, and a person's name for a user id."""

from __future__ import annotations

from dataclasses import dataclass

from lx_core.errors import LeanIXError
from lx_core.leanix.client import LeanIXClient
from lx_core.notify.notices import Notice
from lx_core.notify.outbox import NoticeLog
from lx_core.state.base import StateStore, store_required


@dataclass
class NoticeContext:
    client: LeanIXClient
    store: StateStore
    url: str | None = None

    @classmethod
    def from_runtime(cls) -> NoticeContext:
        from lx_core import runtime

        store = runtime.state_store()
        if store is None:
            raise store_required("notices are recorded")
        return cls(runtime.leanix_client(), store)

    def workspace_url(self) -> str | None:
        if self.url is None:
            from lx_core import runtime

            self.url = runtime.workspace_url(self.client, runtime.relay_settings())
        return self.url

    def person(self, user_id: str | None) -> str | None:
        """The user's name or e-mail for a notice; the id itself when the lookup fails (the
        notice must still be recorded)."""
        if not user_id:
            return None
        try:
            user = self.client.users.workspace_user(user_id)
        except LeanIXError:
            return user_id
        return user.display if user is not None else user_id

    def record(self, notice: Notice, *, now: float) -> str:
        return NoticeLog(self.store).record(notice, now=now)
