#!/bin/sh
# --framed in sh: `cat` alone would be an exact echo; this one also
# decodes each text message to show how: printf %b undoes the escaping.
#   portal-gw --framed --port 4433 /echo=./examples/framed/echo.sh
while IFS= read -r frame; do
	case $frame in
	"T "*)
		text=$(printf '%b' "${frame#T }")   # the message, newlines and all
		printf 'got %d bytes of text\n' "${#text}" >&2
		printf '%s\n' "$frame"                # echo it, still framed
		;;
	"B "*)
		printf '%s\n' "$frame"                # binary: base64, echoed as is
		;;
	esac
done
