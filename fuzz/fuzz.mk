# fuzz.mk - libFuzzer builds of fuzz/fuzz_*.c with clang (make fuzz).
# make -f fuzz/fuzz.mk run FUZZ_SECONDS=120 runs each target that long,
# starting from its seed corpus (copied, so the repo's corpus stays small).
BUILD := build/fuzz-clang
FUZZ_SECONDS ?= 60
PKGS := libcrypto zlib jansson
CFLAGS := -std=c11 -D_DEFAULT_SOURCE -D_POSIX_C_SOURCE=200809L -Iinclude \
          -Isrc -g -O1 -fsanitize=fuzzer,address,undefined \
          $(shell pkg-config --cflags $(PKGS))
LIBS := $(shell pkg-config --libs $(PKGS)) -lm
LIB_SRC := $(filter-out src/store/% src/auth/%,$(wildcard src/*.c))
TARGETS := $(patsubst fuzz/%.c,$(BUILD)/%,$(wildcard fuzz/fuzz_*.c))

all: $(TARGETS)

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
