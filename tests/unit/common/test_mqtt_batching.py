"""BatchingClient: its fast paths decode exactly what paho decodes, its buffering loses nothing."""

from __future__ import annotations

import socket
import struct
from typing import Any

import paho.mqtt.client as paho
import pytest

from tier0.common.mqtt import BatchingClient, MqttEndpoint, new_client

ENDPOINT = MqttEndpoint("127.0.0.1", 1883)


def publish_packet(topic: bytes, payload: bytes, *, mid: int, qos: int) -> tuple[int, bytes]:
    body = struct.pack("!H", len(topic)) + topic
    if qos:
        body += struct.pack("!H", mid)
    return 0x30 | (qos << 1), body + b"\x00" + payload  # no properties


def received(client: paho.Client, command: int, body: bytes) -> list[paho.MQTTMessage]:
    got: list[paho.MQTTMessage] = []
    client.on_message = lambda _c, _u, message: got.append(message)
    client._in_packet = {"command": command, "packet": bytearray(body)}  # type: ignore[typeddict-item]
    client._handle_publish()
    return got


@pytest.mark.parametrize("qos", [0, 1])
def test_publish_fast_path_matches_paho(qos: int) -> None:
    command, body = publish_packet(b"og/field/a/b/c", b'{"x": 1}', mid=4242, qos=qos)
    ours = received(new_client(ENDPOINT, "ours", manual_ack=True), command, body)
    theirs = received(paho.Client(paho.CallbackAPIVersion.VERSION2, protocol=paho.MQTTv5,
                                  manual_ack=True), command, body)  # fmt: skip
    assert len(ours) == len(theirs) == 1
    for attribute in ("topic", "payload", "qos", "mid", "dup", "retain"):
        assert getattr(ours[0], attribute) == getattr(theirs[0], attribute), attribute


def puback_reasons(client: paho.Client, body: bytes) -> list[tuple[int, int]]:
    seen: list[tuple[int, int]] = []
    client.on_publish = lambda _c, _u, mid, reason, _p: seen.append((mid, reason.value))
    client._out_messages[7] = paho.MQTTMessage(7, b"t")
    client._out_messages[7].qos = 1
    client._in_packet = {"command": 0x40, "packet": bytearray(body)}  # type: ignore[typeddict-item]
    client._handle_pubackcomp("PUBACK")
    return seen


@pytest.mark.parametrize("body", [b"\x00\x07", b"\x00\x07\x10", b"\x00\x07\x87\x00"])
def test_puback_fast_path_matches_paho(body: bytes) -> None:
    theirs = paho.Client(paho.CallbackAPIVersion.VERSION2, protocol=paho.MQTTv5)
    assert puback_reasons(new_client(ENDPOINT, "ours"), body) == puback_reasons(theirs, body)


def test_reads_are_buffered_and_writes_coalesced_in_order() -> None:
    left, right = socket.socketpair()
    client = new_client(ENDPOINT, "ours")
    client._sock = left
    client.on_socket_register_write = lambda *_: None  # queue writes until _packet_write
    try:
        right.sendall(b"abcdef")
        assert [client._sock_recv(1), client._sock_recv(2), client._sock_recv(9)] == [
            b"a",
            b"bc",
            b"def",
        ]
        for mid in (1, 2, 3):
            client._send_puback(mid)
        client.ack_many([4, 5])
        assert len(client._out_packet) == 4
        client._coalesce()
        assert len(client._out_packet) == 1
        assert client._packet_write() == paho.MQTTErrorCode.MQTT_ERR_SUCCESS
        expected = b"".join(struct.pack("!BBH", 0x40, 2, mid) for mid in (1, 2, 3, 4, 5))
        assert right.recv(100) == expected
    finally:
        client._sock_close()
        right.close()


def test_the_buffer_dies_with_its_socket() -> None:
    client: Any = BatchingClient(paho.CallbackAPIVersion.VERSION2, protocol=paho.MQTTv5)
    client._rbuf, client._rpos = b"stale bytes", 2
    client._sock_close()
    assert (client._rbuf, client._rpos) == (b"", 0)
