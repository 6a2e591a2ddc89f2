"""The output: a Batch API results file, one line per request, appended the moment each one ends.

    {"id": "batch_req_…", "custom_id": "request-000001", "error": null,
     "response": {"status_code": 200, "request_id": "chatcmpl-…", "body": {...the API's answer...}}}

A failure keeps the server's answer and says why in `error`: {"code": ..., "message": ...};
`response` is null when there was no answer at all (a timeout, a dropped connection).

Losing nothing: each line is written whole and flushed to the operating system at once, so a
process killed at any moment (Ctrl-C, SIGKILL, a kernel restart) leaves every finished result
in the file. It is not fsync'ed: the OS keeps what a dead process wrote, and an fsync per line
would stall the event loop for milliseconds at a time; only a crash of the machine itself could
lose the last lines, and resuming would simply send those requests again.

Resume: `done_ids()` reads the ids already there. A kill in the middle of a write can leave a
last line without its newline; that torn line is cut off (its request is sent again).
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import IO, Any

from helpers.batch.ids import IdSet


class ResultsFileError(ValueError):
    """A results file that is damaged somewhere other than a torn last line."""


def result_id() -> str:
    return "batch_req_" + secrets.token_hex(16)


class ResultsFile:
    """Append results to `path`; `done_ids()` first, to resume."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._out: IO[str] | None = None

    def cut_torn_line(self) -> bool:
        """Remove a last line that has no newline (a write cut short by a kill). True if there was one."""
        if not self.path.exists():
            return False
        with self.path.open("rb+") as raw:
            complete = sum(len(line) for line in raw if line.endswith(b"\n"))  # one line in memory at a time
            if complete == raw.tell():
                return False
            raw.truncate(complete)
            return True

    def done_ids(self) -> IdSet:
        """The custom_ids already in the file (after cutting a torn last line), streamed, 8 bytes each."""
        self.cut_torn_line()
        return IdSet(result["custom_id"] for result in iter_results(self.path))

    def append(self, result: dict[str, Any]) -> None:
        """Write one result as one line and flush it to the OS at once."""
        if self._out is None:
            self._out = self.path.open("a", encoding="utf-8")
        self._out.write(json.dumps(result, ensure_ascii=False) + "\n")
        self._out.flush()

    def close(self) -> None:
        if self._out is not None:
            self._out.close()
            self._out = None

    def __enter__(self) -> ResultsFile:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def iter_results(path: str | Path):
    """Each result of a results file, one line at a time (no file yet: none)."""
    path = Path(path)
    if not path.exists():
        return
    with path.open(encoding="utf-8") as lines:
        for number, text in enumerate(lines, start=1):
            if not text.strip():
                continue
            try:
                result = json.loads(text)
            except json.JSONDecodeError as error:
                raise ResultsFileError(f"{path}, line {number}: not valid JSON ({error.msg}); "
                                       "is this a results file?") from None
            if not (isinstance(result, dict) and isinstance(result.get("custom_id"), str)):
                raise ResultsFileError(f"{path}, line {number}: a result needs a custom_id; is this a results file?")
            yield result


def read_results(path: str | Path) -> list[dict[str, Any]]:
    """Every result in the file, in the order they were written (which is the order they finished)."""
    return list(iter_results(path))
