"""Every data store of Tier-0 as local processes, started in parallel in one temporary tree."""

from __future__ import annotations

import logging
import shutil
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import TracebackType

from tier0.stack.base import LOOPBACK
from tier0.stack.ferretdb import DATABASE as FERRETDB_DATABASE
from tier0.stack.ferretdb import FerretDB
from tier0.stack.mosquitto import Mosquitto
from tier0.stack.postgres import PostgresCluster
from tier0.stack.rabbitmq import RabbitMQ
from tier0.stack.redis import MASTER_NAME, RedisGroup

log = logging.getLogger(__name__)


class Harness:
    """PostgreSQL (+replica), FerretDB, Redis (+replica, 3 Sentinels), Mosquitto, RabbitMQ.

    Use as a context manager. Data and logs live under ``root``; they are removed on a clean
    exit unless ``keep`` is set, and kept (with their path logged) when the block raised.
    """

    def __init__(self, *, keep: bool = False, root: Path | None = None) -> None:
        self.root = root or Path(tempfile.mkdtemp(prefix="tier0-stack-"))
        self.keep = keep
        self.postgres = PostgresCluster(self.root / "postgres")
        self.redis = RedisGroup(self.root / "redis")
        self.mosquitto = Mosquitto(self.root / "mosquitto")
        self.rabbitmq = RabbitMQ(self.root / "rabbitmq")
        self.ferretdb = FerretDB(
            self.root / "ferretdb",
            lambda: self.postgres.dsn(self.postgres.primary, FERRETDB_DATABASE),
        )
        self.startup_seconds = 0.0

    def _start_postgres_and_ferretdb(self) -> None:
        self.postgres.start()
        self.postgres.primary.psql(f"CREATE DATABASE {FERRETDB_DATABASE} OWNER tier0")
        self.ferretdb.start()

    def start(self) -> None:
        started = time.monotonic()
        tasks = (
            self._start_postgres_and_ferretdb,
            self.redis.start,
            self.mosquitto.start,
            self.rabbitmq.start,
        )
        with ThreadPoolExecutor(len(tasks)) as pool:
            futures = [pool.submit(task) for task in tasks]
            errors = [f.exception() for f in futures if f.exception() is not None]
        if errors:
            self.stop()
            raise errors[0]  # type: ignore[misc]
        self.startup_seconds = time.monotonic() - started
        log.info("stack up in %.1f s under %s", self.startup_seconds, self.root)

    def stop(self) -> None:
        for store in (self.ferretdb, self.rabbitmq, self.mosquitto, self.redis, self.postgres):
            try:
                store.stop()
            except Exception:  # keep stopping the others; the error is in the log
                log.exception("stopping %s failed", type(store).__name__)

    def environment(self) -> dict[str, str]:
        """Settings for Tier-0 components (the ``TIER0_`` variables) pointing at this stack."""
        pg = self.postgres
        sentinels = ",".join(f"{LOOPBACK}:{port}" for port in self.redis.sentinel_ports)
        return {
            "TIER0_POSTGRES_DSN": pg.multihost_dsn(),
            "TIER0_POSTGRES_PRIMARY_DSN": pg.dsn(pg.primary),
            "TIER0_POSTGRES_REPLICA_DSN": pg.dsn(pg.replica),
            "TIER0_REDIS_SENTINELS": sentinels,
            "TIER0_REDIS_MASTER_NAME": MASTER_NAME,
            "TIER0_REDIS_PASSWORD": self.redis.password,
            "TIER0_MQTT_URL": self.mosquitto.url,
            "TIER0_AMQP_URL": self.rabbitmq.url,
            "TIER0_MONGO_URL": self.ferretdb.url,
        }

    def __enter__(self) -> Harness:
        try:
            self.start()
        except BaseException:
            log.error("stack failed to start; logs kept in %s", self.root)
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
        if exc_type is None and not self.keep:
            shutil.rmtree(self.root, ignore_errors=True)
        else:
            log.warning("stack data and logs kept in %s", self.root)
