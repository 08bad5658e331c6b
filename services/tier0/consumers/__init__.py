"""Message consumers: MQTT telemetry and RabbitMQ user activity into PostgreSQL."""
