"""A QoS 1 MQTT publisher with a bounded window of unacknowledged messages.

paho would happily queue every message handed to it while the broker is slow or away; here
``publish`` blocks once ``window`` messages await their PUBACK, so memory stays flat and the
publish rate follows what the broker actually accepts. Unacknowledged messages survive a
reconnect (persistent session; paho resends them), so "acked" means "the broker has it".

A PUBACK saying "no matching subscribers" (0x10) is a success in MQTT terms but means the
broker dropped the message. That happens when no consumer is subscribed yet, and after a
Mosquitto 2.0.11 restart, which restores persistent sessions but not their *shared*
subscriptions until each consumer reconnects and subscribes again. Such messages are published
again after ``RETRY_UNROUTED_SECONDS`` (keeping their window slot); downstream, the
``(device_id, timestamp_utc)`` key makes any resulting duplicate harmless.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from typing import Any

import paho.mqtt.client as paho

from tier0.common import mqtt
from tier0.common.logging import get_logger

log = get_logger(__name__)

QOS = 1
DEFAULT_WINDOW = 1000
# PUBACK reason codes below 0x80 are successes; 0x10 is "no matching subscribers".
FIRST_FAILURE_CODE = 0x80
NO_MATCHING_SUBSCRIBERS = 0x10
RETRY_UNROUTED_SECONDS = 0.2
MID_WAIT_SECONDS = 5.0


class PublishTimeout(TimeoutError):
    """The broker did not acknowledge everything in time."""


class WindowedPublisher:
    """Publish QoS 1 with at most ``window`` messages in flight; counts acks and refusals."""

    def __init__(
        self, endpoint: mqtt.MqttEndpoint, client_id: str, *, window: int = DEFAULT_WINDOW
    ) -> None:
        self.endpoint = endpoint
        self.published = 0
        self.acked = 0
        self.refused = 0
        self.unrouted_retries = 0
        self._pending: dict[int, tuple[str, bytes]] = {}
        self._unrouted: deque[tuple[str, bytes]] = deque()
        self._closing = threading.Event()
        self._retrier = threading.Thread(target=self._retry_unrouted, daemon=True)
        self._window = threading.Semaphore(window)
        self._connected = threading.Event()
        self._client = mqtt.new_client(endpoint, client_id)
        # The semaphore is the window. paho's own in-flight limit would add nothing but a scan
        # of every unacknowledged message on each PUBACK (O(window) per message).
        self._client.max_inflight_messages_set(0)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_publish = self._on_publish

    @property
    def in_flight(self) -> int:
        return self.published - self.acked - self.refused

    def connect(self, timeout: float = 30.0) -> None:
        mqtt.start(self._client, self.endpoint, mqtt.connect_properties())
        self._retrier.start()
        if not self._connected.wait(timeout):
            self._client.loop_stop()
            raise ConnectionError(
                f"no MQTT connection to {self.endpoint.host}:{self.endpoint.port}"
            )

    def publish(self, topic: str, payload: bytes) -> None:
        """Queue one message; blocks while the window is full (also while reconnecting)."""
        self._window.acquire()
        self.published += 1
        self._send(topic, payload)

    def _send(self, topic: str, payload: bytes) -> None:
        info = self._client.publish(topic, payload, qos=QOS)
        self._pending[info.mid] = (topic, payload)

    def wait_acked(self, timeout: float) -> None:
        """Block until every published message has been acknowledged (or refused)."""
        deadline = time.monotonic() + timeout
        while self.in_flight > 0:
            if time.monotonic() > deadline:
                raise PublishTimeout(f"{self.in_flight} messages still unacknowledged")
            time.sleep(0.01)

    def close(self, timeout: float = 60.0) -> None:
        try:
            self.wait_acked(timeout)
        finally:
            self._closing.set()
            self._client.disconnect()
            self._client.loop_stop()

    def _on_connect(self, _c: paho.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        if reason.is_failure:
            log.warning("mqtt connect refused", reason=str(reason))
            return
        self._connected.set()

    def _on_disconnect(self, _c: paho.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        self._connected.clear()
        if not self._closing.is_set():
            log.warning("publisher disconnected; reconnecting", reason=str(reason))

    def _on_publish(self, _c: paho.Client, _u: Any, mid: int, reason: Any, _p: Any) -> None:
        message = self._take_pending(mid)
        code = int(reason.value)
        if code == NO_MATCHING_SUBSCRIBERS and message is not None:
            self._unrouted.append(message)  # keeps its window slot until routed
            return
        if code >= FIRST_FAILURE_CODE:
            self.refused += 1
        else:
            self.acked += 1
        self._window.release()

    def _take_pending(self, mid: int) -> tuple[str, bytes] | None:
        # The PUBACK can overtake the publishing thread's bookkeeping by a few microseconds.
        deadline = time.monotonic() + MID_WAIT_SECONDS
        while (message := self._pending.pop(mid, None)) is None and time.monotonic() < deadline:
            time.sleep(0.0001)
        return message

    def _retry_unrouted(self) -> None:
        while not self._closing.wait(RETRY_UNROUTED_SECONDS):
            while self._unrouted:
                self.unrouted_retries += 1
                self._send(*self._unrouted.popleft())
