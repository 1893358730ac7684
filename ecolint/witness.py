"""Witness: questions a run asked the file system, with their answers, to prove later that the
file system still answers the same. The extraction cache keeps the walk's (ecolint/cache.py);
the whole-run memo (ecolint/memo.py) keeps everything a run's output rests on.

It imports nothing but ``os``: the memo checks a witness before anything heavy is imported.
"""

from __future__ import annotations

import os
import stat

TYPE_CHECKING = False  # typing itself costs a few ms of a warm run's start (ecolint/memo.py)
if TYPE_CHECKING:
    from typing import Any

RECENT_NS = 2_000_000_000  # a stamp this close to a run's start may not show a change made with it


class Witness:
    """The questions a walk (or a run) asked the file system, with their answers: each directory
    it listed (its identity and stamps: adding, removing or renaming an entry changes its mtime),
    each file it read or looked for (by their stamps), and where each symlink and scanned path
    leads. While every answer is the same, the walk finds the same files: a warm run then skips
    the walk (the extraction cache keeps it)."""

    def __init__(self, answers: dict[str, Any] | None = None) -> None:
        self.answers: dict[str, Any] = {} if answers is None else answers

    def node(self, path: str | os.PathLike[str], status: os.stat_result | None = None) -> None:
        """What stat says of a path (following links): its type, identity and stamps."""
        key = "n" + os.fspath(path)
        if key not in self.answers:
            self.answers[key] = _node(key[1:]) if status is None else _stamps(status)

    def kind(self, path: str | os.PathLike[str]) -> None:
        """Whether a path exists, and as what (a file, a directory), following links; not its
        stamps: a ``.git`` directory changes with every git command, while only its being there
        decides where a project starts."""
        key = "k" + os.fspath(path)
        if key not in self.answers:
            self.answers[key] = _kind(key[1:])

    def real(self, path: str | os.PathLike[str]) -> None:
        """Where a path leads, every symlink resolved."""
        key = "r" + os.fspath(path)
        if key not in self.answers:
            self.answers[key] = os.path.realpath(key[1:])

    def holds(self) -> bool:
        """Whether the file system still gives every answer."""
        return all(_answer(key) == answer for key, answer in self.answers.items())

    def settled(self, since_ns: int) -> bool:
        """Whether no stamp is recent: a change in the same clock tick as the walk would leave
        a directory's mtime as it was (git's "racily clean" index entries), so a walk that saw
        such a stamp is not kept. The change time counts too: it moves with every change to a
        file and cannot be set back, so a stamp taken after a run that is older than the run
        shows a file the run saw as it is."""
        limit = since_ns - RECENT_NS
        return all(
            not isinstance(answer, list) or (answer[3] < limit and answer[4] < limit)
            for key, answer in self.answers.items()
            if key[0] == "n"
        )


def _answer(key: str) -> Any:
    """What the file system answers now to a question (its kind, then its path)."""
    if key[0] == "n":
        return _node(key[1:])
    if key[0] == "k":
        return _kind(key[1:])
    if key[0] == "r":
        return os.path.realpath(key[1:])
    return _UNKNOWN


_UNKNOWN = object()  # a question of no known kind: never the answer recorded


def _kind(path: str) -> int | None:
    try:
        return stat.S_IFMT(os.stat(path).st_mode)
    except (OSError, ValueError):
        return None


def _node(path: str) -> list[int] | None:
    try:
        return _stamps(os.stat(path))
    except (OSError, ValueError):
        return None


def _stamps(status: os.stat_result) -> list[int]:
    return [status.st_mode, status.st_dev, status.st_ino, status.st_mtime_ns, status.st_ctime_ns, status.st_size]
