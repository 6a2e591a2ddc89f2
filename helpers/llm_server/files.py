"""The Files API, as much of it as the Batch API needs: upload, look up, download.

    POST /v1/files                 multipart: `file` and `purpose` ("batch"): client.files.create(...)
    GET  /v1/files/{id}            the File object: client.files.retrieve(id)
    GET  /v1/files/{id}/content    the bytes: client.files.content(id).text

Files live in the server's memory, each visible to the key that uploaded it (as an OpenAI file is
to its organisation); a server restart or /sim/reset forgets them. The simulator takes uploads
for the Batch API only, so `purpose` must be "batch" and the name must end in .jsonl, as OpenAI
requires of batch input. The batch's own output and error files are stored here too, with the
purpose "batch_output".
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from aiohttp import web

from helpers.llm_server.access import api_key
from helpers.llm_server.errors import ApiError, bad_request, not_found
from helpers.llm_server.journal import request_id

MAX_FILE_BYTES = 200 * 1024 * 1024  # OpenAI's limit for a batch input file
READ_CHUNK_BYTES = 64 * 1024


@dataclass
class StoredFile:
    id: str
    key: str  # who may see it
    filename: str
    purpose: str
    content: bytes = field(repr=False)
    created_at: float = field(default_factory=time.time)

    def public(self) -> dict:
        """OpenAI's File object."""
        return {"id": self.id, "object": "file", "bytes": len(self.content), "created_at": int(self.created_at),
                "filename": self.filename, "purpose": self.purpose, "status": "processed", "expires_at": None,
                "status_details": None}


class FileStore:
    """Every file of the server, by id."""

    def __init__(self) -> None:
        self.files: dict[str, StoredFile] = {}

    def add(self, key: str, filename: str, purpose: str, content: bytes) -> StoredFile:
        stored = StoredFile(request_id("file"), key, filename, purpose, content)
        self.files[stored.id] = stored
        return stored

    def get(self, key: str, file_id: str, param: str = "id") -> StoredFile:
        """The key's file, or OpenAI's 404: another key's file is as unknown as one never uploaded."""
        stored = self.files.get(file_id)
        if stored is None or stored.key != key:
            raise not_found("File", file_id, param)
        return stored

    def clear(self) -> None:
        self.files.clear()


async def read_upload(request: web.Request) -> tuple[str, str, bytes]:
    """The multipart form's purpose, file name and file bytes, read in chunks up to MAX_FILE_BYTES.

    Read by hand rather than with `request.post()`: that applies the server's 1 MB limit for JSON
    bodies, and a batch of ten thousand requests is a few megabytes.
    """
    if not request.content_type.startswith("multipart/"):
        raise ApiError(415, f"Upload a file as multipart/form-data, got {request.content_type!r}.")
    purpose, filename, content = None, None, bytearray()
    reader = await request.multipart()
    while (part := await reader.next()) is not None:
        if part.name == "purpose":
            purpose = (await part.text()).strip()
        elif part.name == "file":
            filename = part.filename or "upload"
            while chunk := await part.read_chunk(READ_CHUNK_BYTES):
                content += chunk
                if len(content) > MAX_FILE_BYTES:
                    raise ApiError(413, f"The file is larger than {MAX_FILE_BYTES // 2**20} MB.", param="file")
    if filename is None:
        raise bad_request("Missing the file: send it in the form field 'file'.", "file")
    if purpose is None:
        raise bad_request("Missing purpose: send 'batch' in the form field 'purpose'.", "purpose")
    return purpose, filename, bytes(content)


async def upload(request: web.Request) -> web.Response:
    simulator = request.app["simulator"]
    key = api_key(request, simulator)
    purpose, filename, content = await read_upload(request)
    if purpose != "batch":
        raise bad_request(f"This simulator stores files for the Batch API only: purpose must be 'batch', "
                          f"got {purpose!r}.", "purpose")
    if not filename.endswith(".jsonl"):
        raise bad_request("Invalid file format for Batch API. Must be .jsonl", "file")
    return web.json_response(simulator.files.add(key, filename, purpose, content).public())


async def retrieve(request: web.Request) -> web.Response:
    simulator = request.app["simulator"]
    return web.json_response(simulator.files.get(api_key(request, simulator), request.match_info["file_id"]).public())


async def content(request: web.Request) -> web.Response:
    simulator = request.app["simulator"]
    stored = simulator.files.get(api_key(request, simulator), request.match_info["file_id"])
    return web.Response(body=stored.content, content_type="application/octet-stream")
