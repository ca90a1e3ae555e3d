# portal-gw: a CGI-style WebSocket gateway.
#
#   make            build build/portal-gw (O=DIR to build elsewhere)
#   make run        build, then serve the examples on port 4433 (PORT=...)
#   make test       build, then run the unit tests, the fuzz corpora and
#                   the bats suite
#   make install    install the stripped binary and the man page under
#                   $(DESTDIR)$(PREFIX) (INSTALL_STRIP= keeps the symbols)
#   make clean      remove $(O)
#
# LOOP=poll builds the poll(2) event loop instead of epoll(7).

VERSION = 0.1.0
PREFIX ?= /usr/local
O ?= build
LOOP ?= epoll
PORT ?= 4433

CC ?= cc
WARN = -Wall -Wextra -Wshadow -Wconversion -Wmissing-prototypes \
       -Wstrict-prototypes -Wvla
# Warnings are errors in CI (CI=true) and in development builds (DEV=1), not
# in the build a user runs, where a newer compiler may warn about new things.
ifneq ($(CI)$(DEV),)
WARN += -Werror
endif
CSTD = -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE
OPT ?= -O2 -g
CFLAGS += $(CSTD) $(WARN) $(OPT) -pthread -DPORTAL_VERSION='"$(VERSION)"' -MMD -MP
LDFLAGS ?=

LIB_SRC = $(filter-out src/main.c src/loop_%.c,$(wildcard src/*.c)) \
          src/loop_$(LOOP).c
LIB_OBJ = $(LIB_SRC:src/%.c=$(O)/obj/%.o)
UNIT_SRC = $(wildcard tests/unit/test_*.c)
UNIT_BIN = $(UNIT_SRC:tests/unit/%.c=$(O)/%)
TOOLS = $(O)/wsclient

all: $(O)/portal-gw

$(O)/obj/%.o: src/%.c | $(O)/obj
	$(CC) $(CFLAGS) -c -o $@ $<

$(O)/obj:
	mkdir -p $@

$(O)/portal-gw: $(O)/obj/main.o $(LIB_OBJ)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^

$(O)/test_%: tests/unit/test_%.c $(LIB_OBJ) tests/unit/check.h
	$(CC) $(CFLAGS) -Isrc $(LDFLAGS) -o $@ $< $(LIB_OBJ)

$(O)/wsclient: tests/wsclient.c $(LIB_OBJ)
	$(CC) $(CFLAGS) -Isrc $(LDFLAGS) -o $@ $< $(LIB_OBJ)

unit: $(UNIT_BIN)
	@set -e; for t in $(UNIT_BIN); do $$t; done

BATS = $(shell sh tests/find-bats.sh)
# No test may hang the suite: bats fails one that runs longer than this.
BATS_TEST_TIMEOUT ?= 300
e2e: $(O)/portal-gw $(TOOLS)
	BATS_TEST_TIMEOUT=$(BATS_TEST_TIMEOUT) PORTAL_GW=$(abspath $(O)/portal-gw) WSCLIENT=$(abspath $(O)/wsclient) \
	  $(BATS) $(BATS_FLAGS) tests/

# fuzz-replay (mk/fuzz.mk): the fuzz corpora and kept crashers, without libFuzzer.
test: unit fuzz-replay e2e

run: $(O)/portal-gw
	@echo "portal-gw: open http://localhost:$(PORT)/echo (or /count, /err, /greet)" \
	  "in a browser, or connect to ws://localhost:$(PORT)/echo"
	cd examples && $(abspath $(O))/portal-gw --devconsole --port $(PORT) \
	  /echo=./echo.sh /count=./count.sh /err=./err.sh /greet=./greet.py

INSTALL_STRIP ?= -s
install: $(O)/portal-gw
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 755 $(INSTALL_STRIP) $(O)/portal-gw $(DESTDIR)$(PREFIX)/bin/portal-gw
	install -m 644 man/portal-gw.1 $(DESTDIR)$(PREFIX)/share/man/man1/portal-gw.1

clean:
	rm -rf $(O)

.PHONY: all unit e2e test run install clean

# Further targets (fuzz, interop, bench, soak) live in mk/*.mk.
include $(wildcard mk/*.mk)

-include $(wildcard $(O)/obj/*.d)
