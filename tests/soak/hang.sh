#!/bin/sh
# hang: a soak child (tests/soak/soak.c) that never reads its stdin, ignores
# SIGINT and SIGTERM and leaves a background job that ignores them too, so only SIGKILL
# to its process group ends it. The sleeps are bounded so that a gateway
# that fails to end them leaks them for half a minute, not forever.
#   hang.sh LOGFILE     appends "start hang TOKEN SID PID" to LOGFILE
trap '' INT TERM
tok=${QUERY_STRING#t=}
tok=${tok%%&*}
printf 'start hang %s %s %s\n' "$tok" "${UNIQUE_ID##*-}" "$$" >>"$1"
sleep 30 &
sleep 30
