#!/bin/sh
# A chat room with join and leave notices, for a --hub route:
#   portal-gw --port 4433 --hub /room=./examples/chat-hub.sh
# The hub reads "+ID ADDR URI" (joined), "=ID Name value" (a --hub-header),
# "ID TEXT" (a message) and "-ID CODE" (left); it prints "* TEXT" to send
# to everyone (or "ID TEXT" to one client, "-ID CODE TEXT" to close one).
# echo writes each line at once: stdout is a pipe.
while read -r id text; do
	case $id in
	+*) echo "* ${id#+} joined" ;;
	-*) echo "* ${id#-} left" ;;
	=*) ;;
	*) echo "* $id: $text" ;;
	esac
done
