# crumb - GNU Makefile. `make test` and `make run` install missing Debian
# packages first (scripts/deps.sh), then build.
#
#   make            libcrumb, the crumb command, crumb-shop, the tests
#   make test       everything, then every test, then the unit tests again
#                   under -fsanitize=address,undefined
#   make run        build and start crumb-shop on http://127.0.0.1:8080
#   make fuzz       libFuzzer targets (clang); FUZZ_SECONDS=60 make fuzz-run
#   make bench      the benchmarks in bench/
#   make install    PREFIX=/usr/local DESTDIR=

PREFIX ?= /usr/local
DESTDIR ?=
BUILD ?= build
CC ?= cc
SAN ?=

PKGS := libcrypto zlib jansson sqlite3 hiredis libmicrohttpd
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS = $(shell pkg-config --libs $(PKGS) 2>/dev/null)

WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
        -Wmissing-prototypes -Wno-unused-parameter
CFLAGS ?= -O2 -g
ALL_CFLAGS = -std=c11 -D_DEFAULT_SOURCE -D_POSIX_C_SOURCE=200809L \
             -Iinclude -Isrc -Ihttp $(WARN) $(CFLAGS) $(PKG_CFLAGS) -fPIC
ifneq ($(SAN),)
ALL_CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer \
              -fno-sanitize-recover=undefined
LDSAN = -fsanitize=address,undefined
endif
LDLIBS_ALL = $(PKG_LIBS) -lpthread -lm

LIB_SRC := $(sort $(wildcard src/*.c src/store/*.c src/auth/*.c))
HTTP_SRC := $(sort $(wildcard http/*.c))
CLI_SRC := $(sort $(wildcard cli/*.c))
SHOP_SRC := $(sort $(wildcard app/shop/*.c))
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
CLI_TEST_SRC := $(sort $(wildcard tests/cli/*.c))
FUZZ_SRC := $(sort $(wildcard fuzz/fuzz_*.c))
BENCH_SRC := $(sort $(wildcard bench/*.c))
EXAMPLE_SRC := $(sort $(wildcard examples/*.c))

LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
HTTP_OBJ := $(HTTP_SRC:%.c=$(BUILD)/obj/%.o)
CLI_OBJ := $(CLI_SRC:%.c=$(BUILD)/obj/%.o)
SHOP_OBJ := $(SHOP_SRC:%.c=$(BUILD)/obj/%.o)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
CLI_TEST_BIN := $(CLI_TEST_SRC:tests/cli/%.c=$(BUILD)/tests/cli/%)
REPLAY_BIN := $(FUZZ_SRC:fuzz/%.c=$(BUILD)/fuzz/replay_%)
BENCH_BIN := $(BENCH_SRC:bench/%.c=$(BUILD)/bench/%)
# bare SQLite doing the sqlite store's transactions: its ceiling
FLOOR_BIN := $(BUILD)/bench/sqlite_floor
EXAMPLE_BIN := $(EXAMPLE_SRC:examples/%.c=$(BUILD)/examples/%)

LIBA := $(BUILD)/libcrumb.a
LIBSO := $(BUILD)/libcrumb.so.0
HTTPA := $(BUILD)/libcrumb_http.a
CRUMB := $(BUILD)/crumb
SHOP := $(BUILD)/crumb-shop

.PHONY: all lib test test-build run install fuzz fuzz-run bench clean \
        deps-build deps-test examples format
all: lib $(if $(CLI_SRC),$(CRUMB)) $(if $(SHOP_SRC),$(SHOP)) \
     $(UNIT_BIN) $(CLI_TEST_BIN) $(REPLAY_BIN) \
     $(EXAMPLE_BIN)
lib: $(LIBA) $(LIBSO) $(if $(HTTP_SRC),$(HTTPA))

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(LIBA): $(LIB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(LIBSO): $(LIB_OBJ)
	$(CC) -shared -Wl,-soname,libcrumb.so.0 $(LDSAN) -o $@ $^ $(LDLIBS_ALL)
	ln -sf libcrumb.so.0 $(BUILD)/libcrumb.so

$(HTTPA): $(HTTP_OBJ)
	rm -f $@ && ar rcs $@ $^

$(CRUMB): $(CLI_OBJ) $(LIBA)
	$(CC) $(LDSAN) -o $@ $(CLI_OBJ) $(LIBA) $(LDLIBS_ALL)

$(SHOP): $(SHOP_OBJ) $(HTTPA) $(LIBA)
	$(CC) $(LDSAN) -o $@ $(SHOP_OBJ) $(HTTPA) $(LIBA) $(LDLIBS_ALL)

$(BUILD)/tests/%: tests/unit/%.c tests/unit/test.h $(LIBA) $(if $(HTTP_SRC),$(HTTPA))
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Itests/unit $(LDSAN) -o $@ $< \
	    $(if $(HTTP_SRC),$(HTTPA)) $(LIBA) $(LDLIBS_ALL)

# Helper programs of the cli tests (tests/cli/*.sh run them).
$(BUILD)/tests/cli/%: tests/cli/%.c $(LIBA)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LDSAN) -o $@ $< $(LIBA) $(LDLIBS_ALL)

# The fuzz targets built with a small main that replays a corpus: runs in
# `make test` with gcc; `make fuzz` builds the real libFuzzer binaries.
# They link the HTTP layer too when there is one (fuzz_http_* need it).
$(BUILD)/fuzz/replay_%: fuzz/%.c fuzz/replay.c $(LIBA) \
                        $(if $(HTTP_SRC),$(HTTPA))
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LDSAN) -o $@ $< fuzz/replay.c \
	    $(if $(HTTP_SRC),$(HTTPA)) $(LIBA) $(LDLIBS_ALL)

$(BUILD)/bench/%: bench/%.c $(LIBA)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(LIBA) $(LDLIBS_ALL)

$(FLOOR_BIN): bench/peers/sqlite_floor.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(LDLIBS_ALL)

$(BUILD)/examples/%: examples/%.c $(LIBA)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(if $(HTTP_SRC),$(HTTPA)) $(LIBA) \
	    $(LDLIBS_ALL)

deps-build:
	@scripts/deps.sh build
deps-test:
	@scripts/deps.sh test

test: deps-test
	$(MAKE) -j2 all
	$(MAKE) -j2 all BUILD=build/asan SAN=1 CFLAGS="-O1 -g"
	tests/run.sh

run: deps-build
	$(MAKE) -j2 all
	$(SHOP)

fuzz:
	$(MAKE) -f fuzz/fuzz.mk

fuzz-run: fuzz
	$(MAKE) -f fuzz/fuzz.mk run

bench: $(BENCH_BIN) $(FLOOR_BIN)
	@for b in $(BENCH_BIN) $(FLOOR_BIN); do echo "== $$b"; $$b; done

examples: $(EXAMPLE_BIN)

install: lib $(CRUMB) crumb.pc.in
	install -d $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/bin \
	    $(DESTDIR)$(PREFIX)/include/crumb $(DESTDIR)$(PREFIX)/lib/pkgconfig
	install -m 644 $(LIBA) $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(LIBSO) $(DESTDIR)$(PREFIX)/lib/
	ln -sf libcrumb.so.0 $(DESTDIR)$(PREFIX)/lib/libcrumb.so
	install -m 644 include/crumb/*.h $(DESTDIR)$(PREFIX)/include/crumb/
	install -m 755 $(CRUMB) $(DESTDIR)$(PREFIX)/bin/
	sed -e 's|@PREFIX@|$(PREFIX)|g' crumb.pc.in \
	    > $(DESTDIR)$(PREFIX)/lib/pkgconfig/crumb.pc

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
