"""The wire contracts between Tier-0's producers and its consumers.

A simulator (or a real field device, a real web server) knows only these modules: the MQTT
topic layout and telemetry payload, the user-activity event and the queue it travels on, and
the access-log line. Each contract lives here once so that both sides import the same
definition instead of one side importing the other.
"""
