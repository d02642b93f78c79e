"""Recordings uploaded at the desk become `audio:` bulletins, stored under a name the desk makes up.

In: the upload stream (never its file name: that only goes to the audit trail). Out: a path
relative to the station folder, `audio/desk/<id>-<random>.<ext>`. The bytes are copied with a
size limit, then ffprobe must find an audio stream in one of the formats the programme stage
decodes; anything else is deleted and refused.
"""

from __future__ import annotations

import json
import secrets
import subprocess
from pathlib import Path

from broadcaster import i18n
from broadcaster.desk.store import DeskError

UPLOAD_FOLDER = "audio/desk"
FORMATS = {"mp3": "mp3", "wav": "wav", "ogg": "ogg", "mov,mp4,m4a,3gp,3g2,mj2": "m4a"}
CHUNK = 1024 * 1024


def store_upload(stream, station_folder: Path, bulletin_id: str, *, limit: int) -> str:
    folder = Path(station_folder) / UPLOAD_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    partial = folder / f".upload-{secrets.token_hex(8)}.part"
    try:
        size = 0
        with open(partial, "wb") as handle:
            while chunk := stream.read(CHUNK):
                size += len(chunk)
                if size > limit:
                    raise DeskError(413, i18n.tr("desk.upload_too_big", limit=limit // (1024 * 1024)))
                handle.write(chunk)
        extension = _probe(partial)
        final = folder / f"{bulletin_id}-{secrets.token_hex(4)}.{extension}"
        partial.rename(final)
        return final.relative_to(station_folder).as_posix()
    finally:
        partial.unlink(missing_ok=True)


def _probe(path: Path) -> str:
    """The file's extension by what ffprobe finds inside it, or DeskError 415."""
    try:
        result = subprocess.run(
            ["ffprobe", "-v", "error", "-show_entries", "format=format_name:stream=codec_type",
             "-of", "json", str(path)], capture_output=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise DeskError(415, i18n.tr("desk.upload_not_audio", detail=exc)) from exc
    try:
        info = json.loads(result.stdout or b"{}")
    except ValueError:
        info = {}
    name = info.get("format", {}).get("format_name", "")
    audio = any(s.get("codec_type") == "audio" for s in info.get("streams", []))
    if result.returncode != 0 or name not in FORMATS or not audio:
        detail = result.stderr.decode(errors="replace").strip().splitlines()[-1:] or [name or "?"]
        raise DeskError(415, i18n.tr("desk.upload_not_audio", detail=detail[0]))
    return FORMATS[name]
