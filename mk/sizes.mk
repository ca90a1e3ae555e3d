# make sizes: the binary sizes README.md quotes, measured on this build, one
# line each:
#
#   stripped: 119 KiB (121464 bytes), build/portal-gw.stripped
#   static: 174 KiB (178168 bytes), build/portal-gw-static
#
# "stripped" is $(O)/portal-gw stripped, as `make install` installs it
# (glibc, dynamic); "static" is `make static` (musl, mk/static.mk), or a
# line saying why not when $(STATIC_CC) is missing. KiB are 1024 bytes,
# rounded. tests/e2e_contrib.bats holds the README to these figures.

# $(call size_line,NAME,FILE): the shell that prints FILE's line.
size_line = b=$$(wc -c <$(2)) && \
	echo "$(1): $$(((b + 512) / 1024)) KiB ($$b bytes), $(2)"

sizes: $(O)/portal-gw
	@$(STRIP) -o $(O)/portal-gw.stripped $(O)/portal-gw
	@$(call size_line,stripped,$(O)/portal-gw.stripped)
	@if command -v $(firstword $(STATIC_CC)) >/dev/null 2>&1; then \
	  $(MAKE) --no-print-directory O=$(O) static >/dev/null && \
	  $(call size_line,static,$(O)/portal-gw-static); \
	else \
	  echo "static: not built: $(STATIC_CC) not found (apt-get install musl-tools)"; \
	fi

.PHONY: sizes
