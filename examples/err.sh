#!/bin/sh
# Portal's error handler, as a script: the child reports a problem on
# stderr (logged by portal-gw, never sent to the client) and exits with a
# status that becomes Close 1011 "exit status 3".
printf 'hello, about to fail\n'
printf 'err.sh: something went wrong\n' >&2
exit 3
