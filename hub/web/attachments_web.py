"""The kept files through the API (`hub.core.attachments`): a photo, a sketch, a CAD file,
a signature, decrypted for a signed-in person who may see clients' books, never cached.

Uploading is each layer's own route (a job's photo goes with the job): its handler reads
the file with `kernel.read_upload(request, max_bytes=store.attachments.max_bytes)`, declared
with `table.api(..., upload=True)`, and hands it to `store.attachments.store` or `staged`.
"""

from __future__ import annotations

from urllib.parse import quote

from aiohttp import web

from hub.web.kernel import Endpoints, store_of


def _disposition(name: str | None) -> str:
    """Shown in the browser, under its own name when it has one (RFC 6266's UTF-8 form,
    so an accent or a quote in a name cannot break the header)."""
    if not name:
        return "inline"
    return f"inline; filename*=UTF-8''{quote(name, safe='')}"


async def attachment_file(request: web.Request) -> web.Response:
    data, content_type, meta = await store_of(request).attachments.open(
        request.match_info["hash"])
    return web.Response(body=data, content_type=content_type, headers={
        "Cache-Control": "no-store", "Content-Disposition": _disposition(meta.get("name"))})


def setup(table: Endpoints) -> None:
    table.api("GET", "/api/v1/attachments/{hash}", attachment_file, permission="clients.view",
              summary="A kept file (a photo, sketch, CAD file or signature) as it was sent")
