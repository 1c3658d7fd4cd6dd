#!/usr/bin/env bash
# The real system's watchdog, "respawn-if-gone", written from its description (issue 11), for
# verify-real. It never judges a live orchestrator by its lease:
#   loop: sleep CHECK_INTERVAL; if the tracked child is gone (PID file missing, PID dead, or its
#   command line no longer the orchestrator's), read the lease; a healthy lease
#   (now - last heartbeat < ttl + GRACE) means "healthy leader exists, skipping respawn";
#   otherwise spawn a new orchestrator at once and sleep STARTUP_DELAY before looping again.
# An empty, missing or unreadable lease file, or a released lease, counts as "no leader".
#
# Environment (all times in milliseconds): PIDFILE, LEASE_FILE, CHECK_INTERVAL_MS, GRACE_MS,
# STARTUP_DELAY_MS, CMDLINE_MATCH (a string the child's /proc/PID/cmdline must contain), LOG
# (events: "<epoch ms> <event> key=value ..."), MAX_LOOPS (a bound on the loop). The command to
# spawn is "$@". Stop it with SIGTERM.
set -u
: "${PIDFILE:?}" "${LEASE_FILE:?}" "${CHECK_INTERVAL_MS:?}" "${GRACE_MS:?}" "${STARTUP_DELAY_MS:?}" "${CMDLINE_MATCH:?}" "${LOG:?}"
MAX_LOOPS=${MAX_LOOPS:-100000}

now_ms() { local t=${EPOCHREALTIME/./}; echo $((t / 1000)); }
secs() { printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)); }
log() { echo "$(now_ms) $*" >>"$LOG"; }

child_gone() {
  [[ -s $PIDFILE ]] || return 0
  local pid
  pid=$(<"$PIDFILE")
  [[ $pid =~ ^[0-9]+$ ]] || return 0
  kill -0 "$pid" 2>/dev/null || return 0
  # A zombie (exited, not reaped yet) is gone too: the state letter follows the ")" in /proc/PID/stat.
  local stat
  stat=$(<"/proc/$pid/stat") 2>/dev/null || return 0
  stat=${stat##*) }
  [[ ${stat:0:1} == Z ]] && return 0
  local cmdline
  cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 0
  [[ $cmdline == *"$CMDLINE_MATCH"* ]] || return 0
  return 1
}

# Prints "<holder> <last heartbeat epoch ms>" for the single lease in the file, or nothing.
read_lease() {
  [[ -s $LEASE_FILE ]] || return 0
  local text holder ttl expires
  text=$(<"$LEASE_FILE") 2>/dev/null || return 0
  [[ $text =~ \"holder\":\ *\"([^\"]*)\" ]] || return 0
  holder=${BASH_REMATCH[1]}
  [[ $text =~ \"ttlMs\":\ *([0-9]+) ]] || return 0
  ttl=${BASH_REMATCH[1]}
  [[ $text =~ \"expiresAtWallMs\":\ *([0-9]+) ]] || return 0
  expires=${BASH_REMATCH[1]}
  echo "$holder $((expires - ttl)) $ttl"
}

spawn() {
  "$@" </dev/null &
  echo $! >"$PIDFILE"
}

trap 'log stop; exit 0' TERM INT
log start
spawn "$@"
log spawn pid="$(<"$PIDFILE")" reason=initial
for ((loop = 0; loop < MAX_LOOPS; loop++)); do
  sleep "$(secs "$CHECK_INTERVAL_MS")" &
  wait $!
  child_gone || continue
  lease=$(read_lease)
  now=$(now_ms)
  if [[ -n $lease ]]; then
    read -r holder last ttl <<<"$lease"
    age=$((now - last))
    if ((age < ttl + GRACE_MS)); then
      log skip lease_age_ms="$age" holder="$holder"
      continue
    fi
    log respawn lease_age_ms="$age" holder="$holder"
  else
    log respawn lease_age_ms=none holder=none
  fi
  spawn "$@"
  log spawn pid="$(<"$PIDFILE")" reason=respawn
  sleep "$(secs "$STARTUP_DELAY_MS")" &
  wait $!
done
log stop reason=max-loops
