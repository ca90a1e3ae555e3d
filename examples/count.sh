#!/bin/sh
# Count: a number per second, from 1 to 10; then the session ends with
# Close 1000. stdout is a pipe, so printf flushes each line itself.
i=1
while [ "$i" -le 10 ]; do
	printf '%d\n' "$i"
	i=$((i + 1))
	sleep 1
done
