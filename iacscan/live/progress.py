"""A one-line progress display on standard error, only when it is a terminal."""
from __future__ import annotations

import sys
import threading
from typing import TextIO


class Progress:
    """``snapshot: 2/17 regions done; eu-west-1 DescribeInstances`` rewritten in place.

    Disabled (prints nothing) unless ``enabled``; ``for_stderr()`` enables it when
    standard error is a terminal. Only region and operation names are shown.
    """

    def __init__(self, total: int = 0, enabled: bool = False, stream: TextIO | None = None) -> None:
        self.total = total
        self.enabled = enabled
        self.stream = stream if stream is not None else sys.stderr
        self.finished = 0
        self._lock = threading.Lock()
        self._shown = False

    @classmethod
    def for_stderr(cls) -> Progress:
        isatty = getattr(sys.stderr, "isatty", None)
        return cls(enabled=bool(isatty and isatty()))

    def step(self, region: str, operation: str) -> None:
        """A call is about to be made."""
        self._show(f"{region} {operation}")

    def region_done(self, region: str) -> None:
        with self._lock:
            self.finished += 1
        self._show(f"{region} done")

    def done(self) -> None:
        """Clear the line."""
        if self.enabled and self._shown:
            with self._lock:
                self.stream.write("\r\x1b[K")
                self.stream.flush()

    def _show(self, what: str) -> None:
        if not self.enabled:
            return
        with self._lock:
            self.stream.write(f"\r\x1b[Ksnapshot: {self.finished}/{self.total} regions done; {what}")
            self.stream.flush()
            self._shown = True
