#!/bin/sh
# Install Tier-0 into its own virtualenv. The Dockerfile and `tier0 cluster images` both run
# this script, so the Docker image and the offline image hold the same installation.
#
# usage: install-project.sh [--deps-only | --project-only] PROJECT [PREFIX]
#   PROJECT         the project's source directory or its wheel
#   PREFIX          the virtualenv to create (default /opt/tier0)
#   --deps-only     everything but the project itself: an image layer that code changes keep
#   --project-only  the project alone, into a PREFIX that --deps-only prepared
# Offline builds set PIP_NO_INDEX=1 and PIP_FIND_LINKS=<wheelhouse>; pip reads both from the
# environment, so this script never needs to know where its packages come from.
set -eu

PROJECT_NAME=tier0

mode=all
case "${1:-}" in
    --deps-only) mode=deps; shift ;;
    --project-only) mode=project; shift ;;
esac
project=$1
prefix=${2:-/opt/tier0}
pip="$prefix/bin/pip"
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1

# Bytecode is compiled here, validated by hash rather than by mtime: image layers are packed
# with fixed mtimes, and containers running as a non-root user could not rewrite it.
compile() {
    "$prefix/bin/python" -m compileall -q --invalidation-mode unchecked-hash "$@" >/dev/null
}

if [ "$mode" = project ]; then
    "$pip" install --no-compile --no-deps "$project"
    site=$("$prefix/bin/python" -c 'import sysconfig; print(sysconfig.get_path("purelib"))')
    packages=$("$prefix/bin/python" -c 'import importlib.metadata as m, sys
print(m.distribution(sys.argv[1]).read_text("top_level.txt"))' "$PROJECT_NAME")
    for package in $packages; do
        compile "$site/$package"
    done
    exit 0
fi

python3 -m venv "$prefix"
"$pip" install --no-compile "$project"
if [ "$mode" = deps ]; then
    "$pip" uninstall -y -q "$PROJECT_NAME"
fi
compile "$prefix/lib"
