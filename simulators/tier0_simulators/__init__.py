"""Device (MQTT) and user (RabbitMQ) simulators."""
