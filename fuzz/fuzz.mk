# fuzz.mk - libFuzzer builds of fuzz/fuzz_*.c with clang (make fuzz).
# make -f fuzz/fuzz.mk run FUZZ_SECONDS=120 runs each target that long,
# starting from its seed corpus (copied, so the repo's corpus stays small).
BUILD := build/fuzz-clang
FUZZ_SECONDS ?= 60
PKGS := libcrypto zlib jansson sqlite3 hiredis
CFLAGS := -std=c11 -D_DEFAULT_SOURCE -D_POSIX_C_SOURCE=200809L -Iinclude \
          -Isrc -g -O1 -fsanitize=fuzzer,address,undefined \
          $(shell pkg-config --cflags $(PKGS))
LIBS := $(shell pkg-config --libs $(PKGS)) -lpthread -lm
# The whole library: the session interface reaches the stores.
LIB_SRC := $(wildcard src/*.c src/store/*.c src/auth/*.c)
TARGETS := $(patsubst fuzz/%.c,$(BUILD)/%,$(wildcard fuzz/fuzz_*.c))

# The HTTP targets (fuzz_http_*) take the HTTP layer and libmicrohttpd.
HTTP_CFLAGS := $(CFLAGS) -Ihttp $(shell pkg-config --cflags libmicrohttpd)
HTTP_LIBS := $(shell pkg-config --libs libmicrohttpd) $(LIBS)
HTTP_SRC := $(LIB_SRC) $(wildcard http/*.c)

all: $(TARGETS)

$(BUILD)/fuzz_http_%: fuzz/fuzz_http_%.c $(HTTP_SRC) http/http_int.h
	@mkdir -p $(BUILD)
	clang $(HTTP_CFLAGS) -o $@ $< $(HTTP_SRC) $(HTTP_LIBS)

$(BUILD)/%: fuzz/%.c $(LIB_SRC)
	@mkdir -p $(BUILD)
	clang $(CFLAGS) -o $@ $< $(LIB_SRC) $(LIBS)

run: all
	@for t in $(TARGETS); do n=$${t##*/}; \
	  mkdir -p $(BUILD)/corpus-$$n; \
	  cp -n fuzz/corpus/$$n/* $(BUILD)/corpus-$$n/ 2>/dev/null; \
	  echo "== $$n for $(FUZZ_SECONDS)s"; \
	  $$t -max_total_time=$(FUZZ_SECONDS) -max_len=8192 \
	      -artifact_prefix=$(BUILD)/ $(BUILD)/corpus-$$n || exit 1; \
	done
