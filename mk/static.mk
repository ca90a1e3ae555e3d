# make static: a static, stripped binary at $(O)/portal-gw-static, linked
# against musl, for containers (the Dockerfile runs this target) and hosts
# without a matching glibc. It is the same sources built by a nested make in
# $(O)/static with STATIC_CC: musl-gcc (Debian/Ubuntu package musl-tools) by
# default; on a musl system such as Alpine, STATIC_CC=cc (with the package
# linux-headers).
#
# Debian's musl-gcc sees no Linux kernel headers (<linux/sockios.h>, for
# SIOCOUTQ). Those headers belong to no libc, so when the compiler cannot
# find them, $(O)/static/include gets links to the system's copies
# (linux-libc-dev): linux/, asm-generic/ and this architecture's asm/.

STATIC_CC ?= musl-gcc
STRIP ?= strip
KERNEL_INCLUDE ?= /usr/include

static: $(O)/portal-gw-static

# FORCE: the nested make decides what is out of date.
$(O)/portal-gw-static: FORCE
	@command -v $(firstword $(STATIC_CC)) >/dev/null 2>&1 || { \
	  echo "make static: $(STATIC_CC) not found; install musl-tools" \
	       "(apt-get install musl-tools), or set STATIC_CC to a compiler" \
	       "that targets musl (STATIC_CC=cc on Alpine)" >&2; exit 1; }
	@set -e; cc="$(STATIC_CC)"; \
	if ! printf '#include <linux/sockios.h>\n' | \
	     $(STATIC_CC) -E -x c - >/dev/null 2>&1; then \
	  inc=$(abspath $(O)/static/include); \
	  arch=$$(gcc -print-multiarch 2>/dev/null || true); \
	  mkdir -p $$inc; \
	  ln -sfn $(KERNEL_INCLUDE)/linux $$inc/linux; \
	  ln -sfn $(KERNEL_INCLUDE)/asm-generic $$inc/asm-generic; \
	  ln -sfn $(KERNEL_INCLUDE)/$${arch:+$$arch/}asm $$inc/asm; \
	  [ -e $$inc/linux/sockios.h ] || { echo "make static: no Linux" \
	    "kernel headers in $(KERNEL_INCLUDE); install linux-libc-dev" >&2; \
	    exit 1; }; \
	  cc="$$cc -isystem $$inc"; \
	fi; \
	echo "make static: CC=$$cc"; \
	$(MAKE) --no-print-directory O=$(O)/static CC="$$cc" \
	  LDFLAGS="-static $(LDFLAGS)" $(O)/static/portal-gw
	$(STRIP) -o $@ $(O)/static/portal-gw

FORCE:

.PHONY: static FORCE
