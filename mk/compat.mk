# make compat: Debian's websocketd 0.4.1 and portal-gw side by side, on the
# same websocketd-style command lines and the same child programs (among
# them the examples the websocketd package ships), driven by one client;
# one line per case, SAME, BETTER (a row of README's comparison table) or
# DIFF with what each said; exits non-zero on any DIFF. Needs
# /usr/bin/websocketd and /usr/bin/python3 (standard library only).
# PORTAL_GW=path tests another build of portal-gw (then nothing is built),
# WEBSOCKETD=path another websocketd; COMPAT_CASES="prefix ..." runs only
# the cases whose names start so. See tests/compat/compat.py.

COMPAT_CASES ?=

ifeq ($(origin PORTAL_GW),undefined)
compat: $(O)/portal-gw
	/usr/bin/python3 -B tests/compat/compat.py --portal-gw $(abspath $(O)/portal-gw) -- $(COMPAT_CASES)
else
compat:
	/usr/bin/python3 -B tests/compat/compat.py --portal-gw $(PORTAL_GW) -- $(COMPAT_CASES)
endif

.PHONY: compat
