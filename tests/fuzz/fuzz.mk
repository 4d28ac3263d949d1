# The libFuzzer build of the fuzz targets, driven by `make fuzz` in the
# top build directory (which passes srcdir, builddir and FUZZ_SECONDS).
# A separate Makefile so that the normal build never needs clang: the
# library's core is compiled again here with clang, instrumented for
# coverage and with AddressSanitizer and UndefinedBehaviorSanitizer, and
# linked statically into each target. Providers are loaded from the
# normal build (they are plain modules behind the provider ABI), the
# pinned test provider from tests/providers (`make fuzz` builds it).
#
#   make fuzz                      every target for FUZZ_SECONDS (60) each
#   make fuzz FUZZ_SECONDS=20 FUZZ_TARGETS=access
#   make fuzz FUZZ_STRICT=1        no tolerance for the known issue-11 deviation
#
# New inputs go to tests/fuzz/work/<target>/corpus (not the committed
# corpus); a crash leaves tests/fuzz/work/<target>/crash-* and fails the
# run. Copy a crash into tests/fuzz/corpus/<target>/ to make it a
# regression test: `make check` replays that directory.

CLANG ?= clang
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= access config share vhost
FUZZ_STRICT ?= 1
# A fixed libFuzzer seed makes a run repeatable (CI uses one); empty: random.
FUZZ_SEED ?=
FUZZ_MAX_LEN_access = 4096
FUZZ_MAX_LEN_config = 4096
FUZZ_MAX_LEN_share = 8192
FUZZ_MAX_LEN_vhost = 4096

GLIB_CFLAGS := $(shell pkg-config --cflags glib-2.0)
GLIB_LIBS := $(shell pkg-config --libs glib-2.0)

work = $(builddir)/tests/fuzz/work
PROVIDER_PATH = $(builddir)/providers/mmap/.libs:$(builddir)/providers/memfd/.libs:$(builddir)/providers/hugetlbfs/.libs

FUZZ_CFLAGS = -g -O1 -fno-omit-frame-pointer \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	-I$(builddir) -I$(builddir)/include -I$(srcdir)/include $(GLIB_CFLAGS) \
	-DVMMEM_PROVIDERDIR='"/nonexistent"' -DVMMEM_SYSCONFDIR='"/nonexistent"' \
	-DFUZZ_PROVIDER_PATH='"$(PROVIDER_PATH)"' -DFUZZ_STRICT_HOLE=$(FUZZ_STRICT) \
	-DFUZZ_PINNED_PROVIDER='"$(builddir)/tests/providers/.libs/pinned.so"'

CORE_SRC = $(wildcard $(srcdir)/core/*.c)
COMMON_SRC = $(srcdir)/tests/fuzz/fuzz-common.c $(srcdir)/tests/fdcount.c

all: $(FUZZ_TARGETS:%=$(work)/fuzz-%)

$(work)/fuzz-%: $(srcdir)/tests/fuzz/fuzz-%.c $(COMMON_SRC) $(CORE_SRC) $(srcdir)/tests/fuzz/fuzz.h
	@mkdir -p $(work)
	$(CLANG) $(FUZZ_CFLAGS) -o $@ $(srcdir)/tests/fuzz/fuzz-$*.c $(COMMON_SRC) $(CORE_SRC) \
		$(GLIB_LIBS) -ldl

# One line per target: its execs and OK or CRASH; fails if any crashed.
run: all
	@failed=0; \
	for t in $(FUZZ_TARGETS); do \
		d=$(work)/$$t; mkdir -p $$d/corpus; rm -f $$d/crash-* $$d/leak-* $$d/timeout-* $$d/oom-*; \
		case $$t in access) ml=$(FUZZ_MAX_LEN_access);; config) ml=$(FUZZ_MAX_LEN_config);; \
			vhost) ml=$(FUZZ_MAX_LEN_vhost);; *) ml=$(FUZZ_MAX_LEN_share);; esac; \
		$(work)/fuzz-$$t -max_total_time=$(FUZZ_SECONDS) -max_len=$$ml -timeout=30 \
			$(if $(FUZZ_SEED),-seed=$(FUZZ_SEED)) \
			-print_final_stats=1 -artifact_prefix=$$d/ \
			$$d/corpus $(srcdir)/tests/fuzz/corpus/$$t >$$d/fuzz.log 2>&1; \
		rc=$$?; \
		execs=$$(sed -n 's/^stat::number_of_executed_units: *//p' $$d/fuzz.log | tail -1); \
		artifact=$$(ls $$d/crash-* $$d/leak-* $$d/timeout-* $$d/oom-* 2>/dev/null | head -1); \
		if [ $$rc -eq 0 ] && [ -z "$$artifact" ]; then \
			echo "fuzz-$$t: $${execs:-0} execs in $(FUZZ_SECONDS) s: OK"; \
		else \
			echo "fuzz-$$t: $${execs:-0} execs: CRASH (exit $$rc) $$artifact, log $$d/fuzz.log"; \
			grep -m3 -E '^fuzz: |ERROR: |SUMMARY: ' $$d/fuzz.log | sed 's/^/    /'; \
			failed=1; \
		fi; \
	done; \
	exit $$failed

.PHONY: all run
