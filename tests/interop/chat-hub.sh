#!/bin/sh
# The hub chat room of issue 12, for `make interop` (chat_chromium.py):
#   portal-gw --hub /room=tests/interop/chat-hub.sh
# On stdin "+ID ADDR URI" (joined), "-ID CODE" (gone), "ID TEXT" (a
# message); it prints "* TEXT" lines, which the gateway sends to every
# client of the route. The loop is the issue's, word for word; the same
# room is to live in examples/chat-hub.sh, which replaces this copy then.
while read -r id text; do
  case $id in
    +*) echo "* ${id#+} joined" ;;
    -*) echo "* ${id#-} left" ;;
    *)  echo "* $id: $text" ;;
  esac
done
