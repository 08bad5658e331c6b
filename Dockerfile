# One image for every Tier-0 component; each Deployment picks its command (`tier0 api`,
# `tier0 operator`, `tier0 consume mqtt`, ...). Used by skaffold/kind on machines with Docker.
# `tier0 cluster images` builds the same image without Docker: the same Debian packages
# (services/tier0/cluster/image/packages.txt) and the same install-project.sh. Only the FerretDB
# binary, which `tier0 setup` builds from source, is in the offline image alone.
FROM debian:bookworm-slim

ENV PATH=/opt/tier0/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 LANG=C.UTF-8

# The charts initialise PostgreSQL data directories themselves: no default cluster.
COPY services/tier0/cluster/image/packages.txt /tmp/packages.txt
RUN mkdir -p /etc/postgresql-common/createcluster.d \
 && echo "create_main_cluster = false" > /etc/postgresql-common/createcluster.d/tier0.conf \
 && apt-get update \
 && grep -v '^#' /tmp/packages.txt | xargs apt-get install -y --no-install-recommends \
 && rm -rf /var/lib/apt/lists/* /tmp/packages.txt \
 && groupadd --gid 10001 tier0 \
 && useradd --uid 10001 --gid 10001 --create-home --home-dir /home/tier0 \
      --shell /usr/sbin/nologin tier0

COPY pyproject.toml README.md /src/
COPY services /src/services
COPY operator /src/operator
COPY simulators /src/simulators
RUN /src/services/tier0/cluster/image/install-project.sh /src /opt/tier0 && rm -rf /src

# Root, as in the offline image: the charts set runAsUser, and the PostgreSQL container's
# instance manager drops privileges itself.
ENTRYPOINT ["/usr/bin/tini", "--", "/opt/tier0/bin/tier0"]
CMD ["--help"]
