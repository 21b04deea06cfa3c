"""Lease: at most one owner of a named piece of work at a time, across every instance.

A lease is one row ``leases/<name>`` holding its owner and expiry. It is taken by inserting the
row, or by replacing it (ETag-guarded) once it has expired; it is kept by renewing before it
expires, again ETag-guarded, so an owner that paused past its expiry learns at the next renewal
that someone else took over (``LeaseLostError``) instead of working on beside the new owner.

Expiry is judged on each instance's own wall clock, so clocks must roughly agree (Azure's do, by
NTP). Choose a duration well above clock skew plus the longest pause between renewals.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Self

from lx_core.errors import LeaseLostError, StateConflictError
from lx_core.state.base import Row, StateStore, check_key

log = logging.getLogger(__name__)

PARTITION = "leases"

Clock = Callable[[], float]


@dataclass(frozen=True)
class LeaseHolder:
    """Who holds a lease, and until when (epoch seconds)."""

    owner: str
    expires_at: float
    acquired_at: float


def _holder(row: Row) -> LeaseHolder | None:
    data = row.data
    owner, expires, acquired = data.get("owner"), data.get("expires_at"), data.get("acquired_at")
    if not isinstance(owner, str) or not isinstance(expires, int | float):
        return None  # a damaged row: treat as free
    return LeaseHolder(owner, float(expires), float(acquired or expires))


class Lease:
    """A named, expiring claim. ``acquire`` → work, ``renew`` often → ``release``."""

    def __init__(
        self,
        store: StateStore,
        name: str,
        *,
        owner: str,
        duration: float,
        clock: Clock = time.time,
    ) -> None:
        if duration <= 0:
            raise ValueError("lease duration must be positive")
        self.store = store
        self.name = check_key(name, "lease name")
        self.owner = check_key(owner, "lease owner")
        self.duration = duration
        self._clock = clock
        self._etag: str | None = None
        self._acquired_at: float | None = None
        #: The other owner seen by the last failed ``acquire`` (for messages), else None.
        self.blocked_by: LeaseHolder | None = None

    @property
    def held(self) -> bool:
        """Whether this object believes it holds the lease (a renewal will tell for sure)."""
        return self._etag is not None

    def _data(self, now: float) -> dict[str, object]:
        return {
            "owner": self.owner,
            "expires_at": now + self.duration,
            "acquired_at": self._acquired_at if self._acquired_at is not None else now,
            "renewed_at": now,
        }

    def acquire(self) -> bool:
        """Take the lease if it is free, expired or already ours. False if another owner holds
        it (``blocked_by`` then says who, and until when)."""
        self.blocked_by = None
        now = self._clock()
        row = self.store.get(PARTITION, self.name)
        try:
            if row is None:
                self._acquired_at = now
                new = self.store.insert(PARTITION, self.name, self._data(now))
            else:
                holder = _holder(row)
                if holder is not None and holder.owner != self.owner and holder.expires_at > now:
                    self.blocked_by = holder
                    return False
                mine = holder is not None and holder.owner == self.owner
                self._acquired_at = holder.acquired_at if mine and holder else now
                new = self.store.replace(PARTITION, self.name, self._data(now), etag=row.etag)
        except StateConflictError:
            # Someone else inserted or replaced it between our read and our write.
            latest = self.store.get(PARTITION, self.name)
            self.blocked_by = _holder(latest) if latest is not None else None
            self._etag = None
            return False
        self._etag = new.etag
        return True

    def renew(self) -> None:
        """Push the expiry out by ``duration``; LeaseLostError if someone else took over."""
        if self._etag is None:
            raise LeaseLostError(
                f"lease {self.name} is not held", partition=PARTITION, key=self.name
            )
        now = self._clock()
        try:
            row = self.store.replace(PARTITION, self.name, self._data(now), etag=self._etag)
        except StateConflictError:
            self._etag = None
            latest = self.store.get(PARTITION, self.name)
            self.blocked_by = _holder(latest) if latest is not None else None
            raise LeaseLostError(
                f"lease {self.name} was taken over", partition=PARTITION, key=self.name
            ) from None
        self._etag = row.etag

    def release(self) -> None:
        """Give the lease up if it is still ours (best effort: expiry frees it anyway)."""
        etag, self._etag = self._etag, None
        if etag is None:
            return
        try:
            self.store.delete(PARTITION, self.name, etag=etag)
        except StateConflictError:
            log.info("lease %s was no longer ours at release", self.name)

    def holder(self) -> LeaseHolder | None:
        """The current holder as stored (expired or not), or None."""
        row = self.store.get(PARTITION, self.name)
        return None if row is None else _holder(row)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()
