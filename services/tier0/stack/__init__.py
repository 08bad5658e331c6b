"""Supervisor for real servers run as local processes (tests and ``make local``)."""
