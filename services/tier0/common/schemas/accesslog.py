"""Apache common/combined log lines, with an optional trailing latency in microseconds (%D).

%h %l %u %t "%r" %>s %b ["%{Referer}i" "%{User-agent}i"] [%D]

Written by the API's own access log and the log simulator, read back by the log loader; the
writer and the reader sit side by side so that every line written parses.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from datetime import datetime

TIME_FORMAT = "%d/%b/%Y:%H:%M:%S %z"
LINE = re.compile(
    r"^(?P<ip>\S+) \S+ \S+ \[(?P<ts>[^\]]+)\] "
    r'"(?P<request>(?:[^"\\]|\\.)*)" (?P<status>\d{3}) (?P<bytes>\d+|-)'
    r'(?: "(?P<referrer>(?:[^"\\]|\\.)*)" "(?P<agent>(?:[^"\\]|\\.)*)")?'
    r"(?: (?P<latency>\d+))?\s*$"
)


@dataclass(frozen=True)
class AccessLogEntry:
    ip: str
    ts: datetime
    method: str
    path: str
    protocol: str
    status: int
    bytes: int
    referrer: str | None
    user_agent: str | None
    latency_ms: float | None


def _unescape(value: str | None) -> str | None:
    if value is None or value == "-":
        return None
    return value.replace('\\"', '"').replace("\\\\", "\\")


def parse_line(line: str) -> AccessLogEntry | str:
    """The entry on ``line``, or the reason it is not one (what dead_letters.reason holds)."""
    match = LINE.match(line)
    if match is None:
        return "unparseable: not an Apache common/combined log line"
    try:
        ip = str(ipaddress.ip_address(match["ip"]))
    except ValueError:
        return f"bad_ip: {match['ip'][:64]!r}"
    try:
        ts = datetime.strptime(match["ts"], TIME_FORMAT)
    except ValueError:
        return f"bad_timestamp: {match['ts'][:64]!r}"
    parts = (_unescape(match["request"]) or "").split(" ")
    if len(parts) != 3 or not parts[0].isalpha() or not parts[2].startswith("HTTP/"):
        return f"bad_request_line: {match['request'][:120]!r}"
    status = int(match["status"])
    if not 100 <= status <= 599:
        return f"bad_status: {status}"
    latency = match["latency"]
    return AccessLogEntry(
        ip=ip,
        ts=ts,
        method=parts[0].upper(),
        path=parts[1],
        protocol=parts[2],
        status=status,
        bytes=0 if match["bytes"] == "-" else int(match["bytes"]),
        referrer=_unescape(match["referrer"]),
        user_agent=_unescape(match["agent"]),
        latency_ms=int(latency) / 1000.0 if latency is not None else None,
    )


def _quote(value: str | None) -> str:
    if not value:
        return '"-"'
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def format_combined(entry: AccessLogEntry) -> str:
    """``entry`` as one combined-format line, latency appended as %D (microseconds)."""
    line = (
        f"{entry.ip} - - [{entry.ts.strftime(TIME_FORMAT)}] "
        f"{_quote(f'{entry.method} {entry.path} {entry.protocol}')} {entry.status} "
        f"{entry.bytes if entry.bytes else '-'} {_quote(entry.referrer)} {_quote(entry.user_agent)}"
    )
    if entry.latency_ms is not None:
        line += f" {round(entry.latency_ms * 1000)}"
    return line
