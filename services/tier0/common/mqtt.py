"""MQTT connection settings and paho clients configured the way Tier-0 uses them.

Publishers and consumers both use MQTT 5 persistent sessions (``clean_start=False`` plus a
session expiry), so QoS 1 messages survive a disconnect on either side, and paho's own network
thread with its reconnect backoff.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

DEFAULT_PORT = 1883
KEEPALIVE_SECONDS = 30
RECONNECT_MIN_SECONDS = 0.2
RECONNECT_MAX_SECONDS = 5.0
SESSION_EXPIRY_SECONDS = 24 * 3600


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


def new_client(endpoint: MqttEndpoint, client_id: str, *, manual_ack: bool = False) -> paho.Client:
    """An MQTT 5 client with credentials and reconnect backoff; not yet connected."""
    client = paho.Client(
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
