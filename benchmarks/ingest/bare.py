"""Baseline (a): the same broker and QoS 1 shared subscription, a subscriber that only parses.

It uses the consumer's own MQTT client (``tier0.common.mqtt.new_client``, the batching paho
client) and the same Receive Maximum (2 x the default batch), so the difference from "ours" is
what ours does on top: validation, COPY batches, commit, then PUBACK.

Run by the benchmark as ``python -m benchmarks.ingest.bare CLIENT_ID SUBSCRIPTION STATUS_FILE``
with TIER0_MQTT_URL set; it rewrites STATUS_FILE (``{"count": n, "last": epoch}``) every 0.2 s.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho

from tier0.common.mqtt import MqttEndpoint, connect_properties, new_client, start

STATUS_EVERY_SECONDS = 0.2


class ParseOnly:
    def __init__(self) -> None:
        self.count = 0
        self.last = 0.0

    def on_message(self, _c: paho.Client, _u: Any, message: paho.MQTTMessage) -> None:
        json.loads(message.payload)
        self.count += 1
        self.last = time.time()

    def on_connect(self, client: paho.Client, _u: Any, _f: Any, _r: Any, _p: Any) -> None:
        client.subscribe(sys.argv[2], qos=1)


def main() -> None:
    client_id, status_file = sys.argv[1], Path(sys.argv[3])
    endpoint = MqttEndpoint.from_url(os.environ["TIER0_MQTT_URL"])
    counter = ParseOnly()
    client = new_client(endpoint, client_id)
    client.on_message = counter.on_message
    client.on_connect = counter.on_connect
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    start(client, endpoint, connect_properties(receive_maximum=4000))
    while not stop.wait(STATUS_EVERY_SECONDS):
        partial = status_file.with_suffix(".tmp")  # readers never see a half-written file
        partial.write_text(json.dumps({"count": counter.count, "last": counter.last}))
        partial.replace(status_file)
    client.disconnect()
    client.loop_stop()


if __name__ == "__main__":
    main()
