"""User sessions: the activity events, their RabbitMQ topology and their PostgreSQL store."""
