"""OpenAPI 3 from the permission × endpoint table: the document cannot drift from the routes."""

from __future__ import annotations

import re
from typing import Any

from hub.runtime import Runtime
from hub.web.kernel import PUBLIC, Endpoints

_ERROR = {"description": "Refused", "content": {"application/json": {"schema": {
    "$ref": "#/components/schemas/Error"}}}}


def openapi_document(table: Endpoints, runtime: Runtime) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for e in table.all:
        if e.kind not in ("api", "ws"):
            continue
        op: dict[str, Any] = {
            "summary": e.summary,
            "operationId": f"{e.method.lower()}_{re.sub(r'[^a-z0-9]+', '_', e.path.lower()).strip('_')}",
            "tags": [e.layer],
            "x-permission": e.permission or "public",
            # 2XX: a creation answers 201; a file route answers its file's type.
            "responses": {"2XX": {"description": "Done", "content": {
                kind: {} for kind in e.produces}}, "4XX": _ERROR},
        }
        params = [{"name": n, "in": "path", "required": True, "schema": {"type": "string"}}
                  for n in re.findall(r"{(\w+)}", e.path)]
        params += [{"name": n, "in": "query", "required": False, "schema": {"type": "string"}}
                   for n in e.query]
        if params:
            op["parameters"] = params
        if e.kind == "ws":
            op["responses"] = {"101": {"description": "The WebSocket: one JSON event a"
                                                      " message"}, "4XX": _ERROR}
        if e.body is not None:
            op["requestBody"] = {"required": True, "content": {"application/json": {
                "schema": e.body}}}
        elif e.upload:  # `kernel.read_upload`: one file in a form, or the raw bytes
            op["requestBody"] = {"required": True, "content": {
                "multipart/form-data": {"schema": {
                    "type": "object", "required": ["file"],
                    "properties": {"file": {"type": "string", "format": "binary"}}}},
                "application/octet-stream": {"schema": {"type": "string",
                                                        "format": "binary"}}}}
        if e.permission != PUBLIC:
            op["security"] = [{"session": []}]
        paths.setdefault(e.path, {})[e.method.lower()] = op
    return {
        "openapi": "3.0.3",
        "info": {"title": "Loupe hub API", "version": "1",
                 "description": f"The in-store hub of {runtime.config.store_name}."
                                " State-changing calls need the session's X-CSRF-Token."},
        "paths": paths,
        "components": {
            "securitySchemes": {"session": {"type": "apiKey", "in": "cookie",
                                            "name": "loupe_session"}},
            "schemas": {"Error": {"type": "object", "required": ["error", "detail"],
                                  "properties": {"error": {"type": "string"},
                                                 "detail": {"type": "string"},
                                                 "field": {"type": "string"}}}},
        },
    }
