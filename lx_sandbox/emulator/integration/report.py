"""What a run reports: its warnings (the ``Warning`` shape of §5.2) and counters."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

JsonDict = dict[str, Any]

#: Cap on stored warnings so a broken configuration over a huge LDIF cannot exhaust memory.
MAX_WARNINGS = 100_000


@dataclass
class Report:
    """Warnings and counters of one run (or one fast run)."""

    warnings: list[JsonDict] = field(default_factory=list)
    error_count: int = 0
    warning_count: int = 0
    graphql_requests: int = 0
    dropped: int = 0

    def add(
        self,
        message: str,
        *,
        processor: tuple[str, int] | None = None,
        content: str | None = None,
        detail: str | None = None,
        category: str = "PROCESSOR",
        error: bool = False,
    ) -> None:
        """Record one warning; ``error`` ones count in ``errorCount``.

        # ASSUMPTION [U] §5.2: which problems LeanIX reports as ERROR rather than WARNING is not
        # documented: here ERROR = the item's write could not be made (unknown type, no name for
        # a new fact sheet, invalid value); everything else (JUEL problems, missing values,
        # unmatched targets, not emulated features) is a WARNING.
        """
        if error:
            self.error_count += 1
        else:
            self.warning_count += 1
        if len(self.warnings) >= MAX_WARNINGS:
            self.dropped += 1
            return
        self.warnings.append(
            {
                "processor": ({"name": processor[0], "index": processor[1]} if processor else None),
                "content": content,
                "message": message,
                "detail": detail,
                "category": category,
                "status": "ERROR" if error else "WARNING",
            }
        )
