#!/usr/bin/env bash
# A Python base image made of Debian's packages, for hosts that cannot pull python:3.11-slim
# (an air-gapped data centre, or CI that reaches only Debian's and PyPI's mirrors):
#   deploy/docker/debian-python-base.sh [TAG]          # default danvan-python-base:bookworm
#   docker build --network host --build-arg PYTHON_IMAGE=danvan-python-base:bookworm -t danvan:0.1.0 .
# Needs root, debootstrap and a Docker engine. Debian bookworm's python3 is 3.11, the version
# the project pins. The host's own certificate authorities (/usr/local/share/ca-certificates,
# e.g. a TLS-inspecting proxy's) are trusted in the image, so pip there trusts what the host
# trusts.
set -euo pipefail
tag="${1:-danvan-python-base:bookworm}"
suite="${DEBIAN_SUITE:-bookworm}"
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
root="$(mktemp -d)"
chmod 755 "$root" # the image's / : mktemp makes it 0700, which locks every non-root user out
trap 'rm -rf "$root"' EXIT

debootstrap --variant=minbase --include=python3,python3-venv,python-is-python3,ca-certificates \
  "$suite" "$root" "$mirror" >/dev/null
if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
  cp /usr/local/share/ca-certificates/*.crt "$root/usr/local/share/ca-certificates/"
  chroot "$root" update-ca-certificates >/dev/null
fi
printf '[global]\ncert = /etc/ssl/certs/ca-certificates.crt\n' >"$root/etc/pip.conf"
chroot "$root" apt-get clean
rm -rf "$root"/var/lib/apt/lists/*
tar -C "$root" -c . | docker import --change 'CMD ["python3"]' - "$tag" >/dev/null
echo "$tag"
