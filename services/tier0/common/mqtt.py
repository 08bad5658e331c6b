"""MQTT connection settings and paho clients configured the way Tier-0 uses them.

Publishers and consumers both use MQTT 5 persistent sessions (``clean_start=False`` plus a
session expiry), so QoS 1 messages survive a disconnect on either side, and paho's own network
thread with its reconnect backoff.

``BatchingClient`` is paho with its I/O batched; profiling showed paho spending most of a
message's CPU in system calls: it reads a packet with three ``recv`` calls (1 byte, 1 byte,
the rest), handles one incoming packet per ``select``, sends every packet with its own
``send``, and builds a ``Properties`` and ``ReasonCode`` (tens of microseconds each) for every
PUBLISH and PUBACK. Sessions, reconnects and anything unusual stay paho's own.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

DEFAULT_PORT = 1883
KEEPALIVE_SECONDS = 30
RECONNECT_MIN_SECONDS = 0.2
RECONNECT_MAX_SECONDS = 5.0
SESSION_EXPIRY_SECONDS = 24 * 3600
RECV_BYTES = 256 * 1024
WRITE_BYTES = 256 * 1024
PACKETS_PER_READ = 2000  # then go and write (acks) before reading more
PUBACK = 0x40
_SUCCESS = MQTTErrorCode.MQTT_ERR_SUCCESS
# Shared, empty: handed to callbacks on the fast paths below, which must not modify them.
NO_PUBLISH_PROPERTIES = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
NO_PUBACK_PROPERTIES = Properties(PacketTypes.PUBACK)  # type: ignore[no-untyped-call]
_PUBACK_REASONS = {
    code: ReasonCode(PacketTypes.PUBACK, identifier=code)
    for code in (0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99)
}


@dataclass(frozen=True)
class MqttEndpoint:
    host: str
    port: int
    username: str | None = None
    password: str | None = None

    @classmethod
    def from_url(cls, url: str) -> MqttEndpoint:
        """``mqtt://user:password@host:port`` (TIER0_MQTT_URL)."""
        parts = urlsplit(url)
        if parts.scheme != "mqtt" or not parts.hostname:
            raise ValueError("an MQTT URL looks like mqtt://user:password@host:port")
        return cls(parts.hostname, parts.port or DEFAULT_PORT, parts.username, parts.password)


def connect_properties(
    *, session_expiry: int = SESSION_EXPIRY_SECONDS, receive_maximum: int | None = None
) -> Properties:
    """CONNECT properties: keep the session ``session_expiry`` seconds; bound unacked deliveries."""
    properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
    properties.SessionExpiryInterval = session_expiry
    if receive_maximum is not None:
        properties.ReceiveMaximum = receive_maximum
    return properties


class BatchingClient(paho.Client):
    """paho with buffered reads, many packets per read pass and coalesced writes.

    * ``_sock_recv`` serves paho's small reads from one large ``recv``; the buffer belongs to
      one socket and is dropped with it, so a reconnect never sees the old connection's bytes.
    * ``loop_read`` keeps reading until the socket is drained (or ``PACKETS_PER_READ`` packets
      were handled) and never leaves bytes in the buffer, which ``select`` could not see.
    * ``_packet_write`` joins the queued packets into one ``send`` (order kept; QoS 0 PUBLISH
      and DISCONNECT, which paho post-processes, are left as they are).
    * ``ack_many`` queues the PUBACKs of a whole batch as one write with one wake-up of the
      network thread, not one per message.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._rbuf = b""
        self._rpos = 0

    def _sock_recv(self, bufsize: int) -> bytes:
        if self._rpos >= len(self._rbuf):
            data: bytes = super()._sock_recv(max(bufsize, RECV_BYTES))
            if len(data) <= bufsize:
                return data
            self._rbuf, self._rpos = data, 0
        start = self._rpos
        self._rpos = min(start + bufsize, len(self._rbuf))
        return self._rbuf[start : self._rpos]

    def _sock_close(self) -> None:
        self._rbuf, self._rpos = b"", 0
        super()._sock_close()

    def loop_read(self, max_packets: int = 1) -> MQTTErrorCode:
        del max_packets  # paho's own default handles one packet per select() here
        packets = 0
        while True:
            if self._sock is None:
                return MQTTErrorCode.MQTT_ERR_NO_CONN
            rc = self._packet_read()
            if rc > 0:
                return self._loop_rc_handle(rc)
            packets += 1
            drained = self._rpos >= len(self._rbuf)
            if drained and (rc == MQTTErrorCode.MQTT_ERR_AGAIN or packets >= PACKETS_PER_READ):
                return MQTTErrorCode.MQTT_ERR_SUCCESS

    def _packet_write(self) -> MQTTErrorCode:
        self._coalesce()
        return super()._packet_write()

    def _coalesce(self) -> None:
        # Only this (network) thread takes from the left; others append on the right.
        queue = self._out_packet
        if len(queue) < 2:
            return
        parts: list[bytes | bytearray] = []
        size = 0
        while queue and size < WRITE_BYTES:
            packet = queue[0]
            kind = packet["command"] & 0xF0
            if kind == paho.DISCONNECT or (kind == paho.PUBLISH and not packet["qos"]):
                break
            queue.popleft()
            parts.append(packet["packet"][packet["pos"] :])
            size += packet["to_process"]
        if parts:
            joined = b"".join(parts)
            merged = {"command": PUBACK, "mid": 0, "qos": 1, "pos": 0, "info": None}
            queue.appendleft({**merged, "to_process": len(joined), "packet": joined})  # type: ignore[typeddict-item]

    def _handle_publish(self) -> MQTTErrorCode:
        """QoS 0/1 MQTT 5 PUBLISH without properties, decoded directly; anything else by paho."""
        header, packet = self._in_packet["command"], self._in_packet["packet"]
        qos = (header & 0x06) >> 1
        if qos == 2 or self._protocol != paho.MQTTv5:
            return super()._handle_publish()
        topic_end = 2 + int.from_bytes(packet[:2], "big")
        properties_at = topic_end + 2 if qos else topic_end
        if len(packet) <= properties_at or packet[properties_at] != 0:
            return super()._handle_publish()
        mid = int.from_bytes(packet[topic_end:properties_at], "big")
        message = paho.MQTTMessage(mid, bytes(packet[2:topic_end]))
        message.dup = bool(header & 0x08)
        message.qos = qos
        message.retain = bool(header & 0x01)
        message.properties = NO_PUBLISH_PROPERTIES
        message.payload = bytes(packet[properties_at + 1 :])
        message.timestamp = paho.time_func()
        self._handle_on_message(message)
        if qos == 1 and not self._manual_ack:
            return self._send_puback(mid)
        return _SUCCESS

    def _handle_pubackcomp(self, cmd: Any) -> MQTTErrorCode:
        """An MQTT 5 PUBACK without properties, decoded directly; anything else by paho."""
        packet = self._in_packet["packet"]
        size = len(packet)
        if cmd != "PUBACK" or self._protocol != paho.MQTTv5 or size not in (2, 3, 4):
            return super()._handle_pubackcomp(cmd)
        reason = _PUBACK_REASONS.get(packet[2] if size > 2 else 0)
        if reason is None or (size == 4 and packet[3] != 0):
            return super()._handle_pubackcomp(cmd)
        mid = int.from_bytes(packet[:2], "big")
        with self._out_message_mutex:
            if mid in self._out_messages:
                return self._do_on_publish(mid, reason, NO_PUBACK_PROPERTIES)
        return _SUCCESS

    def ack_many(self, mids: Iterable[int]) -> None:
        """PUBACK (success) every QoS 1 message in ``mids``, as one write."""
        packet = b"".join(struct.pack("!BBH", PUBACK, 2, mid) for mid in mids)
        if packet:
            self._packet_queue(PUBACK, packet, 0, 1)


def new_client(
    endpoint: MqttEndpoint, client_id: str, *, manual_ack: bool = False
) -> BatchingClient:
    """An MQTT 5 client with credentials and reconnect backoff; not yet connected."""
    client = BatchingClient(
        CallbackAPIVersion.VERSION2,
        client_id=client_id,
        protocol=paho.MQTTv5,
        manual_ack=manual_ack,
    )
    if endpoint.username:
        client.username_pw_set(endpoint.username, endpoint.password)
    client.reconnect_delay_set(RECONNECT_MIN_SECONDS, RECONNECT_MAX_SECONDS)  # type: ignore[arg-type]
    return client


def start(client: paho.Client, endpoint: MqttEndpoint, properties: Properties) -> None:
    """Connect in the background and keep reconnecting (paho's network thread) until stopped."""
    client.connect_async(
        endpoint.host,
        endpoint.port,
        keepalive=KEEPALIVE_SECONDS,
        clean_start=False,
        properties=properties,
    )
    client.loop_start()


def forget_session(endpoint: MqttEndpoint, client_id: str) -> None:
    """Delete a persistent session (and its queued messages): a clean start with zero expiry.

    For a consumer that is gone for good (a scale-down); otherwise its session keeps taking a
    share of a shared subscription's messages until it expires.
    """
    client = new_client(endpoint, client_id)
    client.connect(
        endpoint.host,
        endpoint.port,
        clean_start=True,
        properties=connect_properties(session_expiry=0),
    )
    client.loop_start()
    client.disconnect()
    client.loop_stop()
