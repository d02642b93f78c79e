"""Where air goes and what is relayed: the schedule's outputs, zones, stream, secrets and relays.

Where it sits: called by the schedule loader (`loader.py`) while it reads `station:`, each
bulletin and each slot, with the loader's node reader, so every problem keeps its file, line and
column. In: YAML nodes. Out: plain values for the model (`Station.outputs`, `zones`, `stream`,
`passwords`; `Bulletin.relay`/`duration`; `Slot.zones`), and `IcecastMount`, the parsed form
of an `icecast://user@host:port/mount` URL that the Icecast sink connects with.

Passwords live only in the secrets file (`{passwords: {"user@host:port": "..."}}`, mode 0600)
and never in a URL, a message or a log line: a problem about a secret names its key, never its
value.
"""

from __future__ import annotations

import re
import stat
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from broadcaster import i18n
from broadcaster.problems import Location, Problem
from broadcaster.schedule.model import StreamSettings
from broadcaster.sourcefile import SECRETS_LIMIT, SourceError, read_text
from broadcaster.yamlsource import compose_text

ICECAST = "icecast"
RELAY_SCHEMES = ("http", "https", ICECAST)
STREAM_FORMATS = ("mp3", "opus")
STREAM_KEYS = ("format", "bitrate")
DEFAULT_ICECAST_PORT = 8000
ZONE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
DURATION = re.compile(r"^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")
MAX_RELAY = timedelta(hours=24)

i18n.register({
    "output.both": (
        "chỉ dùng một trong 'output' và 'outputs'", "use either 'output' or 'outputs', not both"),
    "output.icecast_invalid": (
        "không hiểu địa chỉ Icecast '{value}': {detail} (ví dụ icecast://source@127.0.0.1:8000/xa.mp3)",
        "cannot parse the Icecast address '{value}': {detail} (for example icecast://source@127.0.0.1:8000/xa.mp3)"),
    "output.scheme": (
        "đầu ra '{value}' không hợp lệ: dùng tên hoặc số thiết bị, 'file:THƯ_MỤC' hoặc icecast://...",
        "invalid output '{value}': use a device name or number, 'file:DIR' or icecast://..."),
    "url.password": (
        "địa chỉ '{value}' có ghi mật khẩu: hãy bỏ mật khẩu khỏi địa chỉ và ghi nó vào tệp station.secrets",
        "the address '{value}' contains a password: remove it and put it in the station.secrets file"),
    "url.no_host": ("thiếu máy chủ", "no host"),
    "url.no_mount": ("thiếu điểm phát (mount) sau máy chủ", "no mount after the host"),
    "url.bad_port": ("cổng không hợp lệ", "invalid port"),
    "url.no_user": ("thiếu tên người dùng trước '@'", "no user name before '@'"),
    "secrets.missing_password": (
        "chưa có mật khẩu cho '{key}' trong station.secrets", "no password for '{key}' in station.secrets"),
    "secrets.none": (
        "đầu ra Icecast cần mật khẩu: khai báo station.secrets (tệp secrets.yaml, quyền 0600)",
        "an Icecast output needs a password: set station.secrets (a secrets.yaml file, mode 0600)"),
    "secrets.readable": (
        "tệp mật khẩu '{value}' để người khác đọc được (quyền {mode}): chạy chmod 600 '{value}'",
        "the secrets file '{value}' can be read by others (mode {mode}): run chmod 600 '{value}'"),
    "secrets.shape": (
        "tệp mật khẩu phải có dạng passwords: {{\"người_dùng@máy:cổng\": \"mật khẩu\"}}",
        "the secrets file must read passwords: {{\"user@host:port\": \"password\"}}"),
    "secrets.key": (
        "khóa mật khẩu '{key}' phải có dạng người_dùng@máy:cổng",
        "password key '{key}' must read user@host:port"),
    "secrets.value": (
        "mật khẩu của '{key}' phải là chữ, không để trống", "the password of '{key}' must be non-empty text"),
    "zone.name_invalid": (
        "tên vùng '{value}' chỉ được dùng chữ không dấu, số, '-', '_' và '.'",
        "zone name '{value}' may only use letters without accents, digits, '-', '_' and '.'"),
    "zone.not_icecast": (
        "vùng '{zone}' cần một địa chỉ icecast://, không phải '{value}'",
        "zone '{zone}' needs an icecast:// address, not '{value}'"),
    "slot.unknown_zone": (
        "khung giờ '{slot}' phát tới vùng không có trong station.zones: '{zone}'{hint}",
        "slot '{slot}' airs on a zone that is not in station.zones: '{zone}'{hint}"),
    "slot.relay_alone": (
        "khung giờ '{slot}' tiếp sóng '{bulletin}': khung giờ tiếp sóng chỉ phát một bản tin tiếp sóng đó",
        "slot '{slot}' relays '{bulletin}': a relay slot plays that relay and nothing else"),
    "relay.scheme": (
        "địa chỉ tiếp sóng '{value}' không hợp lệ: chỉ dùng http://, https:// hoặc icecast:// (không dùng tệp trên máy)",
        "invalid relay address '{value}': use http://, https:// or icecast:// only (no local files)"),
    "relay.no_duration": (
        "bản tin tiếp sóng '{bulletin}' cần 'duration' (ví dụ 90s, 30m, 1h30m)",
        "relay bulletin '{bulletin}' needs a 'duration' (for example 90s, 30m, 1h30m)"),
    "duration.invalid": (
        "thời lượng không hợp lệ '{value}': viết ví dụ 90s, 30m, 1h30m (tối đa 24h)",
        "invalid duration '{value}': write for example 90s, 30m, 1h30m (at most 24h)"),
    "duration.not_relay": (
        "'duration' chỉ dùng cho bản tin tiếp sóng ('relay')", "'duration' is only for relay bulletins ('relay')"),
    "section.stream": ("station.stream", "station.stream"),
})


@dataclass(frozen=True)
class IcecastMount:
    """An Icecast source mount parsed from `icecast://user@host:port/mount` (no password in it)."""

    user: str
    host: str
    port: int
    mount: str                          # starts with "/"

    @property
    def key(self) -> str:
        """How the secrets file names this server's password: user@host:port."""
        return f"{self.user}@{self.host}:{self.port}"

    @property
    def url(self) -> str:
        return f"icecast://{self.key}{self.mount}"

    @property
    def listen_url(self) -> str:
        return f"http://{self.host}:{self.port}{self.mount}"


def redact(url: str) -> str:
    """`url` with any password replaced by ***, safe to show and log."""
    return re.sub(r"^([a-z][a-z0-9+.-]*://[^/:@]*):[^/@]*@", r"\1:***@", url.strip(), flags=re.I)


def parse_icecast(url: str) -> IcecastMount:
    """Parse an icecast:// URL; raises ValueError with the operator's i18n key and detail.

    `ValueError.args` is (message key, params) so callers can report it at the right place.
    """
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise ValueError("output.icecast_invalid", {"detail": i18n.tr("url.bad_port")}) from None
    if parts.password is not None:
        raise ValueError("url.password", {})
    if parts.scheme.lower() != ICECAST:
        raise ValueError("output.scheme", {})
    if not parts.hostname:
        raise ValueError("output.icecast_invalid", {"detail": i18n.tr("url.no_host")})
    if not parts.username:
        raise ValueError("output.icecast_invalid", {"detail": i18n.tr("url.no_user")})
    if not parts.path.strip("/") or parts.query or parts.fragment:
        raise ValueError("output.icecast_invalid", {"detail": i18n.tr("url.no_mount")})
    return IcecastMount(parts.username, parts.hostname, port or DEFAULT_ICECAST_PORT, parts.path)


def parse_duration(text: str) -> timedelta | None:
    """`90s`, `30m`, `1h30m` -> timedelta; None when malformed, zero or over a day."""
    match = DURATION.match(text.strip().lower())
    if not match or not any(match.groups()):
        return None
    hours, minutes, seconds = (int(g) if g else 0 for g in match.groups())
    length = timedelta(hours=hours, minutes=minutes, seconds=seconds)
    return length if timedelta(0) < length <= MAX_RELAY else None


def is_icecast(spec: str) -> bool:
    return spec.strip().lower().startswith(ICECAST + "://")


# -- station ------------------------------------------------------------------------------------

def read_station(reader, fields: dict, folder: Path, settings: dict[str, Any]) -> None:
    """`station.output(s)`, `zones`, `stream`, `secrets`, `relay_gap`, `relay_notice` into `settings`.

    `output` keeps meaning one local output; `outputs` lists several, and the first local one
    (device or file:) becomes `Station.output` for the sound-card path.
    """
    if "output" in fields and "outputs" in fields:
        reader.report(fields["outputs"][0], "output.both")
    outputs: list[tuple[yaml.Node, str]] = []
    if "outputs" in fields:
        for item in reader.sequence(fields["outputs"][1], "outputs") or []:
            spec = _output_item(reader, item)
            if spec is not None:
                outputs.append((item, spec))
    mounts: list[tuple[yaml.Node, IcecastMount]] = []
    for node, spec in outputs:
        if is_icecast(spec) or "://" in spec:
            mount = _mount(reader, node, spec)
            if mount is not None:
                mounts.append((node, mount))
    zones: dict[str, str] = {}
    if "zones" in fields and reader.mapping(fields["zones"][1], "zones"):
        for zone, (zone_node, url_node) in reader.items(fields["zones"][1], "station.zones", None).items():
            if not ZONE_NAME.match(zone):
                reader.report(zone_node, "zone.name_invalid", value=zone)
                continue
            url = reader.text(url_node, zone)
            if url is None:
                continue
            if not is_icecast(url) and "://" not in url:
                reader.report(url_node, "zone.not_icecast", zone=zone, value=redact(url))
                continue
            mount = _mount(reader, url_node, url.strip())
            if mount is not None:
                mounts.append((url_node, mount))
                zones[zone] = mount.url
    if "stream" in fields:
        settings["stream"] = _stream(reader, fields["stream"][1])
    passwords: dict[str, str] = {}
    secrets, problems = None, []
    if "secrets" in fields:
        secrets = reader.file(fields["secrets"][1], "secrets", folder)
        if secrets is not None:
            settings["secrets"] = secrets
            passwords, problems = load_passwords(secrets, reader.at(fields["secrets"][1]))
            reader.problems.extend(problems)
    if "relay_gap" in fields:
        settings["relay_gap"] = reader.number(fields["relay_gap"][1], "relay_gap", 1, 600)
    if "relay_notice" in fields:
        notice = reader.text(fields["relay_notice"][1], "relay_notice")
        settings["relay_notice"] = notice.strip() if notice and notice.strip() else None
    if mounts and "secrets" not in fields:
        reader.report(mounts[0][0], "secrets.none")
    elif secrets is not None and not problems:
        for node, mount in mounts:
            if mount.key not in passwords:
                reader.report(node, "secrets.missing_password", key=mount.key)
    if outputs:
        settings["outputs"] = tuple(spec for _, spec in outputs)
        local = [spec for spec in settings["outputs"] if not is_icecast(spec)]
        if local:
            settings["output"] = local[0]
    elif "output" in settings:
        settings["outputs"] = (settings["output"],)
    settings["zones"] = zones
    settings["passwords"] = passwords


def _output_item(reader, node: yaml.Node) -> str | None:
    raw = reader.value(node) if isinstance(node, yaml.ScalarNode) else None
    if isinstance(raw, bool) or raw is None or not isinstance(raw, (str, int)) or not str(raw).strip():
        reader.report(node, "output.invalid", value=raw)
        return None
    return str(raw).strip()


def _mount(reader, node: yaml.Node, url: str) -> IcecastMount | None:
    try:
        return parse_icecast(url)
    except ValueError as exc:
        key, params = exc.args
        reader.report(node, key, value=redact(url), **params)
        return None


def _stream(reader, node: yaml.Node) -> StreamSettings | None:
    if not reader.mapping(node, "stream"):
        return None
    fields = reader.items(node, i18n.tr("section.stream"), STREAM_KEYS)
    values: dict[str, Any] = {}
    if "format" in fields:
        raw = reader.text(fields["format"][1], "format")
        if raw is not None and raw.strip().lower() not in STREAM_FORMATS:
            reader.report(fields["format"][1], "choice.invalid", key="format", value=raw,
                          choices=", ".join(STREAM_FORMATS))
        elif raw is not None:
            values["format"] = raw.strip().lower()
    if "bitrate" in fields:
        values["bitrate"] = reader.integer(fields["bitrate"][1], "bitrate", 16, 320)
    return StreamSettings(**{k: v for k, v in values.items() if v is not None})


def load_passwords(path: Path, where: Location | None = None) -> tuple[dict[str, str], list[Problem]]:
    """The secrets file's passwords, keyed user@host:port, and its problems (never its values).

    A file that group or other users may read or write is an error: a commune office machine is
    often shared, and the source password lets anyone replace what the loudspeakers play.
    """
    problems: list[Problem] = []
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
        source = read_text(path, SECRETS_LIMIT)
    except SourceError as exc:
        at = where or Location(path, 1, 1)
        return {}, [Problem(at.path, at.line, at.column, exc.key, {"value": str(path), **exc.params})]
    except (OSError, UnicodeDecodeError) as exc:
        at = where or Location(path, 1, 1)
        return {}, [Problem(at.path, at.line, at.column, "file.unreadable",
                            {"value": str(path), "detail": getattr(exc, "strerror", None) or str(exc)})]
    if mode & 0o077:
        at = where or Location(path, 1, 1)
        problems.append(Problem(at.path, at.line, at.column, "secrets.readable",
                                {"value": path.name, "mode": f"{mode:04o}"}))
    try:
        root = compose_text(source)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        # The YAML error's own text may quote the file's content: a password must not be echoed.
        return {}, problems + [Problem(path, line, column, "secrets.shape")]
    passwords: dict[str, str] = {}
    table = None
    if isinstance(root, yaml.MappingNode):
        table = next((v for k, v in root.value if isinstance(k, yaml.ScalarNode) and k.value == "passwords"), None)
    if not isinstance(table, yaml.MappingNode):
        node = table or root
        line, column = (node.start_mark.line + 1, node.start_mark.column + 1) if node is not None else (1, 1)
        return {}, problems + [Problem(path, line, column, "secrets.shape")]
    for key_node, value_node in table.value:
        key = key_node.value if isinstance(key_node, yaml.ScalarNode) else ""
        at = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
        if not re.match(r"^[^@\s]+@[^:\s]+:\d+$", key):
            problems.append(Problem(path, *at, "secrets.key", {"key": key}))
            continue
        if not isinstance(value_node, yaml.ScalarNode) or not value_node.value.strip():
            problems.append(Problem(path, *at, "secrets.value", {"key": key}))
            continue
        passwords[key] = value_node.value
    return passwords, problems


# -- bulletins and slots -----------------------------------------------------------------------

def read_relay(reader, bulletin_id: str, id_node: yaml.Node, fields: dict, values: dict[str, Any]) -> None:
    """A bulletin's `relay:` URL and `duration:` into `values` (the caller checked it has one source)."""
    if "relay" in fields:
        node = fields["relay"][1]
        url = reader.text(node, "relay")
        if url is not None:
            values["relay"] = _relay_url(reader, node, url.strip())
        if "duration" not in fields:
            reader.report(id_node, "relay.no_duration", bulletin=bulletin_id)
    if "duration" in fields:
        node = fields["duration"][1]
        if "relay" not in fields:
            reader.report(fields["duration"][0], "duration.not_relay")
            return
        raw = node.value if isinstance(node, yaml.ScalarNode) else ""
        length = parse_duration(str(raw))
        if length is None:
            reader.report(node, "duration.invalid", value=raw)
        values["duration"] = length


def _relay_url(reader, node: yaml.Node, url: str) -> str | None:
    try:
        parts = urlsplit(url)
        parts.port
    except ValueError:
        reader.report(node, "relay.scheme", value=redact(url))
        return None
    if parts.password is not None:
        reader.report(node, "url.password", value=redact(url))
        return None
    if parts.scheme.lower() not in RELAY_SCHEMES or not parts.hostname:
        reader.report(node, "relay.scheme", value=redact(url))
        return None
    return url


def read_slot_zones(reader, node: yaml.Node, label: str, zones: dict[str, str]) -> tuple[tuple[str, ...], bool]:
    """A slot's `zones: [..]`: the names, and whether all are known."""
    names: list[str] = []
    ok = True
    for item in reader.sequence(node, "zones") or []:
        name = reader.text(item, "zones")
        if name is None:
            ok = False
            continue
        name = name.strip()
        if name not in zones:
            reader.report(item, "slot.unknown_zone", slot=label, zone=name, hint=reader.hint(name, zones))
            ok = False
        elif name not in names:
            names.append(name)
    return tuple(names), ok


def check_relay_alone(reader, node: yaml.Node, label: str, play: list[str], bulletins: dict) -> bool:
    """A slot that relays a stream plays that relay alone: a live stream has no end to queue after."""
    relays = [b for b in play if b in bulletins and bulletins[b].relay is not None]
    if relays and len(play) > 1:
        reader.report(node, "slot.relay_alone", slot=label, bulletin=relays[0])
        return False
    return True
