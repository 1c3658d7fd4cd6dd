#!/usr/bin/env bash
# Installs the servers the store conformance tests start themselves (redis-server, PostgreSQL,
# etcd) on Debian/Ubuntu. Idempotent: installs only what is missing, and stops/disables any
# service the packages auto-start, since the tests run their own instances on random ports.
set -euo pipefail

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive

have_postgres() { compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null || command -v postgres >/dev/null; }

missing=()
command -v redis-server >/dev/null || [ -x /usr/bin/redis-server ] || missing+=(redis-server)
have_postgres || missing+=(postgresql)
command -v etcd >/dev/null || [ -x /usr/bin/etcd ] || missing+=(etcd-server)

if [ "${#missing[@]}" -gt 0 ]; then
  echo "installing: ${missing[*]}"
  # Keep maintainer scripts from starting services during the install (removed again below).
  policy_added=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
    $SUDO chmod +x /usr/sbin/policy-rc.d
    policy_added="yes"
  fi
  trap 'if [ -n "${policy_added}" ]; then $SUDO rm -f /usr/sbin/policy-rc.d; fi' EXIT
  $SUDO apt-get update
  $SUDO apt-get install -y --no-install-recommends "${missing[@]}"
else
  echo "redis-server, postgresql and etcd are already installed"
fi

# Stop and disable services that may have been started (now or by an earlier install).
for service in redis-server redis postgresql etcd; do
  if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
    $SUDO systemctl disable --now "$service" >/dev/null 2>&1 || true
  elif command -v service >/dev/null; then
    $SUDO service "$service" stop >/dev/null 2>&1 || true
  fi
done

echo "redis-server: $(command -v redis-server || echo /usr/bin/redis-server)"
echo "postgres:     $(compgen -G '/usr/lib/postgresql/*/bin/postgres' | sort -V | tail -n 1 || command -v postgres)"
echo "etcd:         $(command -v etcd || echo /usr/bin/etcd)"
