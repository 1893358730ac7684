"""A progress line on standard error for long runs on a terminal: ``checked 1200/5400 files``.

Shown only when standard error is a terminal and not in CI (``CI`` set, as every CI service
sets it), and only once a run has taken two seconds: a short run never flickers, a CI log never
fills with carriage returns. The line is rewritten in place and wiped before the report.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import IO, Any

DELAY_S = 2.0
EVERY_S = 0.1  # at most ten updates a second


def wanted(stream: IO[Any], env: dict[str, str] | None = None) -> bool:
    env = dict(os.environ) if env is None else env
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty()) and not env.get("CI")


class ProgressLine:
    def __init__(self, stream: IO[Any], clock: Callable[[], float] = time.monotonic) -> None:
        self.stream = stream
        self.clock = clock
        self.start = clock()
        self.last = float("-inf")
        self.width = 0
        self.shown = False  # whether the line was ever shown

    def __call__(self, done: int, total: int | None) -> None:
        now = self.clock()
        if now - self.start < DELAY_S or now - self.last < EVERY_S:
            return
        self.last = now
        text = f"checked {done}/{total} files" if total is not None else f"checked {done} files"
        self.stream.write("\r" + text.ljust(self.width))
        self.stream.flush()
        self.width = len(text)
        self.shown = True

    def close(self) -> None:
        """Wipe the line, if one was shown."""
        if self.width:
            self.stream.write("\r" + " " * self.width + "\r")
            self.stream.flush()
            self.width = 0
