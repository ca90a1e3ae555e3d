#!/bin/sh
# Echo: every message the client sends comes back, one line each way.
while IFS= read -r line; do
	printf '%s\n' "$line"
done
