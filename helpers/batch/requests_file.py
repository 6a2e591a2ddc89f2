"""The input: a Batch API requests file, one JSON object a line, read as a stream.

    {"custom_id": "request-000001", "method": "POST", "url": "/v1/chat/completions", "body": {...}}

Opening a `RequestsFile` reads it once from end to end, one line at a time, before anything is
sent: it checks every line (clear errors naming the line), counts the requests (the progress
bar's total) and refuses a custom_id given twice. A mistake on line 90,000 then costs nothing,
instead of stopping a run that has already paid for 89,999 calls. Iterating reads it again, a
line at a time: memory holds one line and 8 bytes per id (ids.py), however long the file.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from itertools import count
from pathlib import Path
from typing import Any, NamedTuple

from helpers.batch.ids import IdSet, digest

METHODS = ("POST",)


class BatchRequest(NamedTuple):
    """One line of the input, checked."""

    line: int
    custom_id: str
    method: str
    url: str  # as the Batch API writes it: "/v1/chat/completions", "/v1/embeddings"
    body: dict[str, Any]


class RequestsFileError(ValueError):
    """A requests file that cannot be run, with the line to look at."""

    def __init__(self, path: Path, line: int | None, problem: str) -> None:
        where = f"{path}, line {line}" if line else str(path)
        super().__init__(f"{where}: {problem}")


def parse_line(path: Path, number: int, text: str) -> BatchRequest:
    try:
        item = json.loads(text.rstrip("\r\n"))
    except json.JSONDecodeError as error:
        raise RequestsFileError(path, number, f"not valid JSON ({error.msg} at column {error.colno})") from None
    if not isinstance(item, dict):
        raise RequestsFileError(path, number, "each line must be a JSON object")
    custom_id, method, url, body = (item.get(name) for name in ("custom_id", "method", "url", "body"))
    if not (isinstance(custom_id, str) and custom_id):
        raise RequestsFileError(path, number, "custom_id must be a non-empty string")
    if method not in METHODS:
        raise RequestsFileError(path, number, f"method must be \"POST\", got {method!r}")
    if not (isinstance(url, str) and url.startswith("/v1/")):
        raise RequestsFileError(path, number, f"url must be a path starting with /v1/, got {url!r}")
    if not isinstance(body, dict):
        raise RequestsFileError(path, number, "body must be a JSON object (the request's parameters)")
    return BatchRequest(number, custom_id, method, url, body)


def lines_of(path: Path) -> Iterator[tuple[int, str]]:
    """(line number, text) of each non-blank line, read one at a time."""
    with path.open(encoding="utf-8") as lines:
        for number, text in enumerate(lines, start=1):
            if text.strip():
                yield number, text


class RequestsFile:
    """A checked requests file: `len(file)` requests, iterated one line at a time."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise RequestsFileError(self.path, None, "no such file")
        ids = IdSet(parse_line(self.path, number, text).custom_id for number, text in lines_of(self.path))
        if repeated := ids.repeated():
            self._refuse_duplicate(repeated)
        self.ids = ids

    def _refuse_duplicate(self, repeated: set[int]) -> None:
        """Name the first id given twice and both its lines (a second pass, only when there is one)."""
        first_seen: dict[int, int] = {}
        for request in self:
            if (key := digest(request.custom_id)) in repeated:
                if key in first_seen:
                    raise RequestsFileError(self.path, request.line, f"custom_id {request.custom_id!r} was already "
                                            f"used on line {first_seen[key]}; each request needs its own")
                first_seen[key] = request.line

    def __len__(self) -> int:
        return len(self.ids)

    def __iter__(self) -> Iterator[BatchRequest]:
        for number, text in lines_of(self.path):
            yield parse_line(self.path, number, text)


def iter_requests(path: str | Path) -> Iterator[BatchRequest]:
    """The requests of a file, checked first (see RequestsFile), then streamed."""
    return iter(RequestsFile(path))


def write_requests(path: str | Path, bodies: Iterable[dict[str, Any]], *, url: str = "/v1/chat/completions",
                   ids: Iterable[str] | None = None) -> Path:
    """Write a Batch API requests file from request bodies; ids default to request-000001, request-000002..."""
    path = Path(path)
    with path.open("w", encoding="utf-8") as out:
        names = ids if ids is not None else (f"request-{n:06d}" for n in count(1))
        for custom_id, body in zip(names, bodies, strict=ids is not None):
            out.write(json.dumps({"custom_id": custom_id, "method": "POST", "url": url, "body": body}) + "\n")
    return path
