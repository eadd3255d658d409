"""``/data/export``, ``/data/import`` and ``/data/file`` (EMQX 4.1+, reference 2.2): backups in
EMQX 4.4's export format (``service/backup``), kept as files in ``<data_dir>/backup/``. Reading
a file hands out password hashes: administrators only, as every write is."""

from __future__ import annotations

import time
from typing import Any

from starlette.responses import Response

from brookmq.api.legacy.framework import Call, Ok, Route, node_of, required


def _on_node(call: Call, info: dict[str, Any]) -> dict[str, Any]:
    return {**info, "node": call.services.node.name}


def export(call: Call) -> Ok:
    return Ok(_on_node(call, call.services.backup.write()))


def list_exports(call: Call) -> Ok:
    return Ok([_on_node(call, info) for info in call.services.backup.files()])


def import_data(call: Call) -> Ok:
    """``{filename[, node]}`` of a kept file, or the export itself as the body."""
    if isinstance(call.body, dict) and "version" in call.body:
        call.services.backup.import_(call.body)
        return Ok()
    (filename,) = required(call, "filename")
    node_of(call, call.params.get("node"))
    call.services.backup.import_file(filename)
    return Ok()


def download(call: Call) -> Response:
    filename = call.path["filename"]
    content = call.services.backup.read(filename)
    disposition = f'attachment; filename="{filename}"'
    return Response(
        content, media_type="application/octet-stream", headers={"content-disposition": disposition}
    )


def upload(call: Call) -> Ok:
    """``{filename?, file}``: ``file`` the export (JSON text or the object)."""
    (content,) = required(call, "file")
    default = time.strftime("emqx-export-upload-%Y-%m-%d-%H-%M-%S.json")
    return Ok(_on_node(call, call.services.backup.upload(call.params.get("filename") or default, content)))


def delete_file(call: Call) -> Ok:
    call.services.backup.delete(call.path["filename"])
    return Ok()


ROUTES = [
    Route("export", "POST", "/data/export", export, "Export data"),
    Route("list_exports", "GET", "/data/export", list_exports, "List exports"),
    Route("import", "POST", "/data/import", import_data, "Import data"),
    Route("download", "GET", "/data/file/{filename}", download, "Download an export", admin=True),
    Route("upload", "POST", "/data/file", upload, "Upload an export"),
    Route("delete", "DELETE", "/data/file/{filename}", delete_file, "Delete an export"),
]
