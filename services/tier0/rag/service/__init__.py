"""The query service: one question in, a cited answer from documents, logs, images, devices."""
