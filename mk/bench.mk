# make bench: portal-gw against websocketd (when installed) on the same load,
# alternating, several rounds, then a table of medians, ratios and the
# targets of issue 5; then bench/scale.sh, several portal-gw processes on
# one port (issue 14; alone: make bench-scale). Installs nothing; says what
# is missing and skips it.
# Knobs (environment): ROUNDS=3 DUR=2 IDLE_N=10000 and the rest at the top
# of bench/run.sh. Raw results and server logs go to $(O)/bench/.
#
# $(O)/wsbench is the load client (always -O2, whatever OPT says); when
# musl-gcc is found, a static musl portal-gw is built too, for its size.

BENCH_SRC = $(wildcard bench/*.c)
BENCH_OBJ = $(BENCH_SRC:bench/%.c=$(O)/bench/%.o)
MUSL_CC ?= musl-gcc

$(O)/bench:
	mkdir -p $@

$(O)/bench/%.o: bench/%.c | $(O)/bench
	$(CC) $(CFLAGS) -O2 -Isrc -c -o $@ $<

$(O)/wsbench: $(BENCH_OBJ) $(O)/obj/sha1.o $(O)/obj/base64.o
	$(CC) $(CFLAGS) -O2 $(LDFLAGS) -o $@ $^

$(O)/bench/portal-gw.musl: src/main.c $(LIB_SRC) | $(O)/bench
	$(MUSL_CC) -static $(CSTD) $(WARN) -O2 \
	  -DPORTAL_VERSION='"$(VERSION)"' -o $@ src/main.c $(LIB_SRC)

bench: $(O)/portal-gw $(O)/wsbench
	@if command -v $(MUSL_CC) >/dev/null 2>&1; then \
	  $(MAKE) --no-print-directory $(O)/bench/portal-gw.musl; \
	else echo "bench: $(MUSL_CC) not found; no static musl size"; fi
	bash bench/run.sh $(O)
	bash bench/scale.sh $(O)
	bash bench/fanout.sh $(O)

# Only the figures of several instances on one port (bench/scale.sh).
bench-scale: $(O)/portal-gw $(O)/wsbench
	bash bench/scale.sh $(O)

.PHONY: bench bench-scale

# make bench-fanout (also run by make bench, after the rest): a broadcast
# route fed by `wsbench produce` to 10..5000 clients, portal-gw against a
# Node.js `ws` server (bench/node-fanout, npm ci'd there; needs node and
# npm). Knobs FANOUT_* at the top of bench/fanout.sh; results in
# $(O)/bench/fanout/.
bench-fanout: $(O)/portal-gw $(O)/wsbench
	bash bench/fanout.sh $(O)

.PHONY: bench-fanout

-include $(wildcard $(O)/bench/*.d)
