# QuoteWatch build. `make run` and `make test` install what is missing first.
# Objects: build/obj (release, -O2), build/asan (ASan+UBSan, -O1).

CC       ?= cc
PKGS     := jansson libzstd libwebsockets sqlite3 libpq snappy libcrypto libssl libcurl
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
WARN     := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
            -Wformat=2 -Wvla -Wimplicit-fallthrough
CFLAGS_BASE := -std=c17 -D_GNU_SOURCE -Isrc $(WARN) -g -MMD -MP $(PKG_CFLAGS)
OPT      ?= -O2
CFLAGS   := $(CFLAGS_BASE) $(OPT) $(EXTRA_CFLAGS)
LDLIBS   := $(PKG_LIBS) -lz -lm -lpthread
ASAN_FLAGS := -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all

LIB_SRC  := $(sort $(shell find src -name '*.c' ! -path 'src/app/*'))
APP_SRC  := $(sort $(wildcard src/app/*.c))
TEST_SRC := $(sort $(wildcard tests/unit/*.c))
BENCH_SRC := $(sort $(wildcard bench/*.c))

LIB_OBJ  := $(LIB_SRC:%.c=build/obj/%.o)
APP_OBJ  := $(APP_SRC:%.c=build/obj/%.o)
TEST_OBJ := $(TEST_SRC:%.c=build/obj/%.o)
ALIB_OBJ := $(LIB_SRC:%.c=build/asan/%.o)
AAPP_OBJ := $(APP_SRC:%.c=build/asan/%.o)
ATEST_OBJ := $(TEST_SRC:%.c=build/asan/%.o)

BIN      := build/quotewatch
ABIN     := build/asan/quotewatch
ARGS     ?=
# parallel compile jobs for the builds `make run/test/bench` start
JOBS     ?= $(shell nproc 2>/dev/null || echo 2)

.PHONY: web all deps run test test-only unit asan bench fuzz format format-check \
        compile_commands clean lint
# the first rule is the default: plain `make` builds the program and its tools
all: $(BIN) build/test_unit build/gen_feed build/bench_parse build/web/index.html

# the dashboard page (web/build.sh; uPlot from npm, pinned)
build/web/index.html: web/index.html web/app.js web/style.css web/package-lock.json web/build.sh
	@web/build.sh build/web

web: build/web/index.html

# unit tests alone (release, then ASan+UBSan); ASan builds of everything
unit: build/test_unit build/asan/test_unit
	build/test_unit
	build/asan/test_unit

asan: $(ABIN) build/asan/test_unit

deps:
	@scripts/install-deps.sh
	@scripts/install-npm.sh tests/js web

run: deps
	@$(MAKE) --no-print-directory -j$(JOBS) all
	$(BIN) $(ARGS)

test: deps
	@$(MAKE) --no-print-directory -j$(JOBS) test-only

test-only: all build/asan/test_unit $(ABIN) fuzz-bins
	@tests/run.sh

bench: deps
	@$(MAKE) --no-print-directory -j$(JOBS) all
	@bench/run.sh

Q ?= @
build/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

build/asan/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC asan $<"
	$(Q)$(CC) $(CFLAGS_BASE) $(ASAN_FLAGS) -c $< -o $@

build/libqw.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

build/asan/libqw.a: $(ALIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BIN): $(APP_OBJ) build/libqw.a
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(ABIN): $(AAPP_OBJ) build/asan/libqw.a
	$(CC) $(CFLAGS_BASE) $(ASAN_FLAGS) -o $@ $^ $(LDLIBS)

build/test_unit: $(TEST_OBJ) build/libqw.a
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

build/asan/test_unit: $(ATEST_OBJ) build/asan/libqw.a
	$(CC) $(CFLAGS_BASE) $(ASAN_FLAGS) -o $@ $^ $(LDLIBS)

build/gen_feed: build/obj/bench/gen_feed.o build/libqw.a
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

build/bench_parse: build/obj/bench/bench_parse.o build/libqw.a
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

comma := ,
# ---- fuzzing (clang libFuzzer). fuzz-bins: corpus runners used by tests ----
FUZZ_SRC := $(sort $(wildcard fuzz/fuzz_*.c))
FUZZ_BIN := $(FUZZ_SRC:fuzz/%.c=build/fuzz/%)
FUZZ_FLAGS := -std=c17 -D_GNU_SOURCE -Isrc -g -O1 $(PKG_CFLAGS) \
              -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
.PHONY: fuzz-bins
fuzz-bins: $(FUZZ_BIN)
FUZZ_OBJ := $(LIB_SRC:%.c=build/fuzzobj/%.o)
build/fuzzobj/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC fuzz $<"
	$(Q)clang $(subst -fsanitize=fuzzer$(comma),-fsanitize=fuzzer-no-link$(comma),$(FUZZ_FLAGS)) -MMD -MP -c $< -o $@
build/fuzz/libqw.a: $(FUZZ_OBJ)
	@mkdir -p build/fuzz
	@rm -f $@
	@ar rcs $@ $^
build/fuzz/%: fuzz/%.c build/fuzz/libqw.a
	@mkdir -p build/fuzz
	@echo "  FUZZ    $@"
	$(Q)clang $(FUZZ_FLAGS) -o $@ $< build/fuzz/libqw.a $(LDLIBS)

# Long fuzz session: make fuzz FUZZ_SECONDS=600
FUZZ_SECONDS ?= 60
fuzz: deps fuzz-bins
	@for f in $(FUZZ_BIN); do n=$$(basename $$f); mkdir -p build/fuzz/new-$$n; \
	  echo "== $$n"; $$f -max_total_time=$(FUZZ_SECONDS) -max_len=65536 build/fuzz/new-$$n fuzz/corpus/$$n || exit 1; done

format:
	clang-format -i $$(find src tests bench fuzz -name '*.[ch]')

format-check:
	@clang-format --dry-run -Werror $$(find src tests bench fuzz -name '*.[ch]')

lint:
	@tools/checksrc.sh

compile_commands:
	bear -- $(MAKE) -B all

clean:
	rm -rf build

-include $(shell find build -name '*.d' 2>/dev/null)
