# make soak: hundreds of concurrent clients against portal-gw for
# SOAK_SECONDS (default 180) with children that echo, crash, hang, flood
# stdout or stderr (some while they echo) and exit early, and clients that
# vanish mid-frame, stop reading or churn, with the gateway's stderr read
# by a slow log reader; then it asserts that every line was counted at both
# ends, that no child, zombie or descriptor is left, that the gateway's RSS
# is back near its baseline, that probes were served throughout, that every
# child's stderr line was logged or reported dropped (never an access or
# error line), and that SIGTERM ends it with exit 0. make soak-short is the CI version (30 s).
# SOAK_CLIENTS (300) sets the concurrency; see tests/soak/soak.c for the
# other SOAK_* knobs. Results and logs go to $(O)/soak/run.

SOAK_SECONDS ?= 180
SOAK_SHORT_SECONDS ?= 30
SOAK_CLIENTS ?= 300
SOAK_DIR = $(O)/soak
SOAK_TOOLS = $(SOAK_DIR)/soak $(SOAK_DIR)/soakchild

$(SOAK_DIR):
	mkdir -p $@

# The driver is every tests/soak/*.c but child.c, a program of its own.
SOAK_SRC = $(filter-out tests/soak/child.c,$(wildcard tests/soak/*.c))
SOAK_OBJ = $(SOAK_SRC:tests/soak/%.c=$(SOAK_DIR)/obj/%.o)

$(SOAK_DIR)/obj:
	mkdir -p $@

$(SOAK_DIR)/obj/%.o: tests/soak/%.c | $(SOAK_DIR)/obj
	$(CC) $(CFLAGS) -Isrc -c -o $@ $<

$(SOAK_DIR)/soak: $(SOAK_OBJ) $(O)/obj/sha1.o $(O)/obj/base64.o | $(SOAK_DIR)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^

$(SOAK_DIR)/soakchild: tests/soak/child.c tests/soak/gen.h | $(SOAK_DIR)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ tests/soak/child.c

soak-tools: $(SOAK_TOOLS)

soak: $(O)/portal-gw $(SOAK_TOOLS)
	rm -rf $(SOAK_DIR)/run
	SOAK_SECONDS=$(SOAK_SECONDS) SOAK_CLIENTS=$(SOAK_CLIENTS) \
	  $(SOAK_DIR)/soak $(O)/portal-gw $(SOAK_DIR)/soakchild \
	  tests/soak/hang.sh $(SOAK_DIR)/run

soak-short: $(O)/portal-gw $(SOAK_TOOLS)
	rm -rf $(SOAK_DIR)/run
	SOAK_SECONDS=$(SOAK_SHORT_SECONDS) SOAK_CLIENTS=$(SOAK_CLIENTS) \
	  $(SOAK_DIR)/soak $(O)/portal-gw $(SOAK_DIR)/soakchild \
	  tests/soak/hang.sh $(SOAK_DIR)/run

.PHONY: soak soak-short soak-tools

-include $(wildcard $(SOAK_DIR)/*.d $(SOAK_DIR)/obj/*.d)
