# Fuzzing (issue 3): libFuzzer targets for the pure codecs in tests/fuzz/.
#
#   make fuzz          build each target with clang and libFuzzer into
#                      $(O)/fuzz/ and run it for FUZZ_SECONDS (default 60)
#                      on a copy of its corpus, FUZZ_JOBS targets at once
#                      (default 1); fails on any crash
#   make fuzz-replay   run the seed corpora and the kept crashers
#                      (tests/fuzz/regress/TARGET/) through each target built
#                      with $(CC) and $(CFLAGS), without libFuzzer; fast
#
# FUZZ_CC (clang) and FUZZ_FLAGS (extra libFuzzer flags) may be set too.

FUZZ_TARGETS = http ws wsenc utf8 env opts cgi range mime hub
FUZZ_SECONDS ?= 60
FUZZ_CC ?= clang
FUZZ_FLAGS ?=
FUZZ_CFLAGS = $(CSTD) $(WARN) -g -O1 -fno-omit-frame-pointer \
	      -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
FUZZ_REPLAY_CFLAGS = $(filter-out -MMD -MP,$(CFLAGS))

# What each target links besides tests/fuzz/fuzz_TARGET.c.
FUZZ_SRC_http = src/http.c src/handshake.c src/sha1.c src/base64.c
FUZZ_SRC_ws = tests/fuzz/ws_trace.c src/ws.c src/utf8.c
FUZZ_SRC_wsenc = $(FUZZ_SRC_ws)
FUZZ_SRC_utf8 = src/utf8.c
FUZZ_SRC_env = src/env.c
FUZZ_SRC_opts = src/opts.c src/opts_table.c src/net.c src/log.c src/logsink.c \
		src/loop.c src/loop_$(LOOP).c src/utf8.c src/program.c
FUZZ_SRC_cgi = src/cgi.c
FUZZ_SRC_range = src/range.c
FUZZ_SRC_mime = src/mime.c
FUZZ_SRC_hub = src/hub.c src/utf8.c
FUZZ_DEPS = tests/fuzz/fuzz.h tests/fuzz/ws_trace.h $(wildcard src/*.h)

define fuzz_rules
$(O)/fuzz/fuzz_$(1): tests/fuzz/fuzz_$(1).c $(FUZZ_SRC_$(1)) $(FUZZ_DEPS)
	@mkdir -p $$(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -Isrc -o $$@ $$< $(FUZZ_SRC_$(1))

$(O)/fuzz/replay_$(1): tests/fuzz/replay.c tests/fuzz/fuzz_$(1).c \
		$(FUZZ_SRC_$(1)) $(FUZZ_DEPS)
	@mkdir -p $$(@D)
	$(CC) $(FUZZ_REPLAY_CFLAGS) -Isrc $(LDFLAGS) -o $$@ tests/fuzz/replay.c \
		tests/fuzz/fuzz_$(1).c $(FUZZ_SRC_$(1))
endef
$(foreach t,$(FUZZ_TARGETS),$(eval $(call fuzz_rules,$(t))))

fuzz: $(FUZZ_TARGETS:%=$(O)/fuzz/fuzz_%)
	FUZZ_FLAGS='$(FUZZ_FLAGS)' sh tests/fuzz/run.sh fuzz $(O)/fuzz \
		$(FUZZ_SECONDS) $(FUZZ_TARGETS)

fuzz-replay: $(FUZZ_TARGETS:%=$(O)/fuzz/replay_%)
	@sh tests/fuzz/run.sh replay $(O)/fuzz $(FUZZ_TARGETS)

.PHONY: fuzz fuzz-replay
