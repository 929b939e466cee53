# salesline: one Makefile, GNU make.
#
#   make            build lib/libsalesline.a and the commands in bin/
#   make check      install missing packages, build a sanitized copy in
#                   build/san (ASan + UBSan) and run every test on it
#   make bench      build optimised and print the benchmark figures
#   make demo       install missing packages, build, run the demo
#   make fuzz       run the libFuzzer targets (FUZZ_SECONDS each)
#   make install    PREFIX, DESTDIR, BINDIR, MANDIR, SHAREDIR
#   make lint       mandoc -Tlint on the pages, shellcheck on the scripts
#
# O is the build directory (default: the source tree itself).  make WERROR=
# drops -Werror for an unfamiliar compiler.

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
SHAREDIR ?= $(PREFIX)/share/salesline

CC ?= cc
CFLAGS ?= -O2 -g
WERROR ?= -Werror
O ?= .

override CFLAGS += -std=c11 -D_POSIX_C_SOURCE=200809L \
	-Wall -Wextra -Wpedantic -Wshadow -Wwrite-strings \
	-Wstrict-prototypes -Wmissing-prototypes $(WERROR) \
	-Ilib -I/usr/include/postgresql -MMD -MP \
	-DSL_SHAREDIR=\"$(SHAREDIR)\"
LDLIBS_SL = -Wl,--as-needed -lcurl -ljq -lsqlite3 -lpq -lcrypto -lm
LDLIBS_MHD = -lmicrohttpd

# Commands that serve HTTP.
$(O)/bin/tg-webhook: LDLIBS_SL += $(LDLIBS_MHD)
$(O)/bin/rep-admin: LDLIBS_SL += $(LDLIBS_MHD)

SANFLAGS = -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer

LIB_SRC := $(wildcard lib/*.c)
LIB_OBJ := $(LIB_SRC:%.c=$(O)/%.o)
LIB_A := $(O)/lib/libsalesline.a
BIN_SRC := $(wildcard bin/*.c)
BINS := $(BIN_SRC:%.c=$(O)/%)
SCRIPTS := $(filter-out $(wildcard bin/*.c bin/*.1 bin/*.d bin/*.o) $(BIN_SRC:.c=),$(wildcard bin/*))
UNIT_SRC := $(wildcard tests/unit/*.c)
UNITS := $(UNIT_SRC:%.c=$(O)/%)
FAKE_SRC := $(wildcard tests/fake/*.c)
FAKE := $(O)/tests/fake/fake-api
BENCH_SRC := $(wildcard tests/bench/*.c)
BENCHES := $(BENCH_SRC:%.c=$(O)/%)
MAN1 := $(wildcard bin/*.1)
MAN7 := $(wildcard docs/*.7)

all: $(BINS)

$(O)/lib/%.o: lib/%.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -c -o $@ $<

$(LIB_A): $(LIB_OBJ)
	@mkdir -p $(@D)
	rm -f $@
	$(AR) rcs $@ $(LIB_OBJ)

$(O)/bin/%: bin/%.c $(LIB_A)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIB_A) $(LDLIBS_SL)

$(O)/tests/unit/%: tests/unit/%.c tests/unit/tap.h $(LIB_A)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Itests/unit $(LDFLAGS) -o $@ $< $(LIB_A) $(LDLIBS_SL)

$(O)/tests/bench/%: tests/bench/%.c $(LIB_A)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIB_A) $(LDLIBS_SL)

$(FAKE): $(FAKE_SRC) $(LIB_A)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Itests/fake $(LDFLAGS) -o $@ $(FAKE_SRC) $(LIB_A) \
		$(LDLIBS_MHD) $(LDLIBS_SL)

tests-build: $(BINS) $(UNITS) $(FAKE)

deps:
	@sh tests/deps

check: deps
	$(MAKE) O=build/san CFLAGS='$(SANFLAGS)' LDFLAGS='-fsanitize=address,undefined' tests-build
	SL_BUILD=build/san tests/run

# The same tests on the plain optimised build, without sanitizers.
check-fast: tests-build
	SL_BUILD=. tests/run

bench: deps
	$(MAKE) O=build/bench CFLAGS='-O2 -g -DNDEBUG' tests-build $(BENCHES:$(O)/%=build/bench/%)
	SL_BUILD=build/bench sh tests/bench/run

demo: deps all
	bin/salesline-demo

FUZZ_SECONDS ?= 60
fuzz:
	@sh tests/deps --fuzz
	$(MAKE) O=build/fuzz CC=clang CFLAGS='-O1 -g -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer' build/fuzz/lib/libsalesline.a
	@mkdir -p build/fuzz/tests/fuzz
	for f in tests/fuzz/*.c; do \
		n=$$(basename $$f .c); \
		clang -std=c11 -D_POSIX_C_SOURCE=200809L -O1 -g -Ilib -I/usr/include/postgresql \
			-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
			-o build/fuzz/tests/fuzz/$$n $$f build/fuzz/lib/libsalesline.a $(LDLIBS_SL) || exit 1; \
		mkdir -p build/fuzz/corpus/$$n; \
		build/fuzz/tests/fuzz/$$n -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -close_fd_mask=2 \
			build/fuzz/corpus/$$n tests/fuzz/seed/$$n || exit 1; \
	done

install: all
	mkdir -p $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man7 $(DESTDIR)$(SHAREDIR)
	install -m 0755 $(BINS) $(SCRIPTS) $(DESTDIR)$(BINDIR)
	install -m 0644 $(MAN1) $(DESTDIR)$(MANDIR)/man1
	install -m 0644 $(MAN7) $(DESTDIR)$(MANDIR)/man7
	cp -R sql skills $(DESTDIR)$(SHAREDIR)/

lint:
	@sh tests/deps --lint
	mandoc -Tlint -Wwarning $(MAN1) $(MAN7)
	shellcheck -S warning -s sh $(SCRIPTS) tests/run tests/deps tests/lib.sh \
		tests/*.t tests/bench/run tests/bench/telegram tests/bench/agent \
		tests/bench/*.sh
	shellcheck -S warning .ci/run

clean:
	rm -rf build lib/*.o lib/*.d lib/*.a $(BINS) bin/*.d tests/unit/*.d \
		$(UNITS) tests/fake/*.d $(FAKE) tests/bench/*.d $(BENCHES) var/*.db*

.PHONY: all check check-fast bench demo fuzz install lint clean deps tests-build

-include $(wildcard $(O)/lib/*.d $(O)/bin/*.d $(O)/tests/unit/*.d $(O)/tests/fake/*.d $(O)/tests/bench/*.d)
