# facehatch: one non-recursive Makefile. `make -j2` builds build/facehatch.
# Variants: make DEBUG=1 (-O0), make SAN=1 (ASan+UBSan), make REF=1 (reference kernels only).
CC      ?= cc
BUILD   ?= build
CFLAGS  ?= -O2 -g
CFLAGS  += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wshadow -Wstrict-prototypes \
           -Wmissing-prototypes -Wno-unused-parameter -MMD -MP -Isrc -pthread
LDLIBS  += -ljpeg -lpng -lexif -lheif -lwebp -lwebpdemux -lsqlite3 -lpq -lexempi -lsodium -lmatio -lm -pthread
AVX2FLAGS := -mavx2 -mfma
# make install PREFIX=/usr DESTDIR=/tmp/pkg: the binary, the models and the man page. The
# prefix is compiled in (where the installed binary looks for its models).
PREFIX  ?= /usr/local
DESTDIR ?=
INSTALL ?= install
# FH_VERSION: `git describe` in a git checkout, else the release number (a tarball build)
VERSION := $(or $(if $(wildcard .git),$(shell git describe --always --dirty 2>/dev/null)),0.7.0)
ifeq ($(DEBUG),1)
  CFLAGS += -O0
endif
ifeq ($(SAN),1)
  BUILD   := build-san
  CFLAGS  += -fsanitize=address,undefined -fno-omit-frame-pointer
  LDFLAGS += -fsanitize=address,undefined
endif
# make fuzz (below) builds the library again with clang into build-fuzz/ (coverage for
# libFuzzer + ASan + UBSan); FUZZ=1 is that variant, the fuzz target sets it itself.
ifeq ($(FUZZ),1)
  CC      := clang
  BUILD   := build-fuzz
  CFLAGS  += -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined \
             -fno-omit-frame-pointer
  LDFLAGS += -fsanitize=address,undefined
endif
ifeq ($(REF),1)
  CFLAGS  += -DFH_REF_ONLY
endif
ifeq ($(WERROR),1)
  CFLAGS  += -Werror
endif

LIB_SRC  := $(filter-out src/cli/%,$(wildcard src/*/*.c src/nn/ops/*.c src/nn/kern/*.c src/nn/kern/*/*.c))
CLI_SRC  := $(wildcard src/cli/*.c)
TEST_SRC := $(wildcard tests/*/test_*.c)
BENCH_SRC := $(wildcard bench/*.c)

LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o)
CLI_OBJ  := $(CLI_SRC:%.c=$(BUILD)/%.o)
TEST_BIN := $(patsubst %.c,$(BUILD)/%,$(TEST_SRC))
LIB      := $(BUILD)/libfacehatch.a
BIN      := $(BUILD)/facehatch
EXAMPLE  := $(BUILD)/examples/example

.PHONY: all test models bench bench-train bench-peers bench-scale check-deps clean demo tools install uninstall fuzz FORCE
all: $(BIN) $(EXAMPLE)

# ---- server: libmicrohttpd, and web/ embedded into the binary ------------------------------
# tools/embed (compiled first, for the build machine) turns web/* into build/gen/web_assets.c
LDLIBS   += -lmicrohttpd -lcjson
WEB      := $(sort $(wildcard web/*))
EMBED    := $(BUILD)/tools/embed
LIB_OBJ  += $(BUILD)/gen/web_assets.o

$(EMBED): tools/embed.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $<

$(BUILD)/gen/web_assets.c: $(EMBED) $(WEB)
	@mkdir -p $(dir $@)
	$(EMBED) $@ $(WEB)

$(BUILD)/gen/web_assets.o: $(BUILD)/gen/web_assets.c
	$(CC) $(CFLAGS) -c $< -o $@

tools: $(EMBED)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

# libpq's header lives in its own folder; only the PostgreSQL driver includes it
$(BUILD)/src/store/db_pg.o: CFLAGS += -I/usr/include/postgresql
# ... and Exempi's (XMP face regions) is included by meta/xmp.c only
$(BUILD)/src/meta/xmp.o: CFLAGS += -I/usr/include/exempi-2.0

# only the x86 kernel files get AVX2/FMA, so no AVX instruction leaks into shared code
$(BUILD)/src/nn/kern/x86/%.o: src/nn/kern/x86/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(AVX2FLAGS) -c $< -o $@
# ... and the AVX-512 files theirs (dispatch.c calls them only on a CPU that has them)
AVX512FLAGS := -mavx512f -mavx512bw -mavx512vl -mavx512dq
$(BUILD)/src/nn/kern/x86/kern_avx512.o: AVX2FLAGS += $(AVX512FLAGS)
$(BUILD)/src/nn/kern/x86/kern_avx512_vnni.o: AVX2FLAGS += $(AVX512FLAGS) -mavx512vnni

$(LIB): $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BIN): $(CLI_OBJ) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# the version and the prefix go into two CLI files only, rebuilt when either changes: the
# stamp is rewritten only then (so an unchanged `make install` compiles nothing)
BUILD_INFO := $(BUILD)/gen/build-info
BUILD_INFO_OBJ := $(BUILD)/src/cli/cmd_version.o $(BUILD)/src/cli/models_dir.o
$(BUILD_INFO): FORCE
	@mkdir -p $(dir $@)
	@echo '$(VERSION) $(PREFIX)' | cmp -s - $@ || echo '$(VERSION) $(PREFIX)' >$@
$(BUILD_INFO_OBJ): $(BUILD_INFO)
$(BUILD_INFO_OBJ): CFLAGS += -DFH_VERSION='"$(VERSION)"' -DFH_PREFIX='"$(PREFIX)"'
FORCE:

$(EXAMPLE): examples/example.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIB) $(LDLIBS)

$(BUILD)/tests/%: tests/%.c $(LIB) tests/harness.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests $(LDFLAGS) -o $@ $< $(LIB) $(LDLIBS)

models:
	tools/fetch_models.sh models

MODEL_FILES := pnet.tflite rnet.tflite onet.tflite MobileFaceNet.tflite ulfd.onnx SHA256SUMS
SHARE := $(DESTDIR)$(PREFIX)/share
install: $(BIN) models
	$(INSTALL) -d $(DESTDIR)$(PREFIX)/bin $(SHARE)/facehatch/models/samples $(SHARE)/facehatch/models/faceboxes $(SHARE)/man/man1
	$(INSTALL) -m 755 $(BIN) $(DESTDIR)$(PREFIX)/bin/facehatch
	$(INSTALL) -m 644 $(addprefix models/,$(MODEL_FILES)) $(SHARE)/facehatch/models/
	$(INSTALL) -m 644 models/samples/*.jpg $(SHARE)/facehatch/models/samples/
	$(INSTALL) -m 644 models/faceboxes/model.json models/faceboxes/faceboxes.bin $(SHARE)/facehatch/models/faceboxes/
	$(INSTALL) -m 644 docs/facehatch.1 $(SHARE)/man/man1/facehatch.1

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/facehatch $(SHARE)/man/man1/facehatch.1
	rm -f $(addprefix $(SHARE)/facehatch/models/,$(MODEL_FILES)) $(SHARE)/facehatch/models/samples/sample*.jpg
	rm -f $(SHARE)/facehatch/models/faceboxes/model.json $(SHARE)/facehatch/models/faceboxes/faceboxes.bin
	-rmdir $(SHARE)/facehatch/models/samples $(SHARE)/facehatch/models/faceboxes $(SHARE)/facehatch/models $(SHARE)/facehatch 2>/dev/null

# The default test run: unit + op + golden + pipeline + CLI tests. Needs `make models`
# and ../shared (golden, data); tests that need them say so and fail if missing.
# reference outputs made here with the reference runtimes (PyTorch 1.13 from Debian,
# onnxruntime-node and tfjs from npm), never committed; the golden tests read them
GOLDEN := $(BUILD)/golden/torch_parity.bin $(BUILD)/golden/ulfd_golden.bin $(BUILD)/golden/faceboxes_golden.bin
$(BUILD)/golden/torch_parity.bin: tools/torch_parity.py
	@mkdir -p $(dir $@)
	/usr/bin/python3 tools/torch_parity.py $@
$(BUILD)/golden/ulfd_golden.bin: tools/ulfd_golden.sh tools/ulfd_golden.js $(BUILD)/tests/golden/test_ulfd | models
	OUT=$@ BUILD=$(BUILD) tools/ulfd_golden.sh
$(BUILD)/golden/faceboxes_golden.bin: tools/faceboxes_golden.sh tools/faceboxes_golden.js tools/tfjs_graph.js $(BUILD)/tests/golden/test_faceboxes | models
	OUT=$@ BUILD=$(BUILD) tools/faceboxes_golden.sh

test: all $(TEST_BIN) models $(GOLDEN)
	BUILD=$(BUILD) tests/run.sh $(TEST_BIN)

$(BUILD)/bench/%: bench/%.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIB) $(LDLIBS)

# kernel table (AVX2 vs reference, verified first), then nets and end to end
bench: $(BIN) $(BUILD)/bench/bench_kern models
	$(BUILD)/bench/bench_kern
	$(BIN) bench

# training speed: one full step (forward, ArcFace head, backward, SGD) of MobileFaceNet and
# mfn-s at batch 64 on 2 threads, ours and PyTorch 1.13 CPU side by side (bench/README.md)
bench-train: $(BUILD)/bench/bench_train
	bench/train_table.sh $(BUILD) $(or $(RUNS),7)

# peers side by side (OpenCV Haar, TFLite+XNNPACK wasm, face-api tfjs-wasm, and native: XNNPACK
# and ONNX Runtime on the same nets); installs their pinned npm packages under bench/peers/ on
# first use. Not part of the tests. run.sh builds XNN_BENCH itself (make $(XNN_BENCH)), so
# `ONLY=native bench/peers/run.sh` works alone; without libxnnpack-dev its rows say n/a.
XNN_BENCH := $(BUILD)/bench/xnn_bench
$(XNN_BENCH): bench/peers/xnnpack/xnn_bench.c bench/bench_time.h $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIB) -lXNNPACK -lpthreadpool $(LDLIBS)

bench-peers: $(BIN) models
	BUILD=$(BUILD) bench/peers/run.sh

# issue 10's scale benchmarks (not tests): so far the gallery search at 10^4/10^5/10^6
# vectors (bench/bench_search.c: memory, ms per query, recall against an exact float scan),
# then Faiss on the same kind of vectors when Debian's python3-faiss is installed
bench-scale: $(BUILD)/bench/bench_search $(BUILD)/bench/bench_recluster $(BIN)
	$(BUILD)/bench/bench_search $(or $(N),1000000) $(or $(QUERIES),50)
	@if /usr/bin/python3 -c 'import faiss' 2>/dev/null; then echo; /usr/bin/python3 bench/faiss_search.py $(or $(N),1000000) $(or $(QUERIES),50); \
	else echo "(Faiss rows skipped: apt-get install python3-faiss)"; fi
	@echo; FACEHATCH=$(BIN) bench/bench_workers.sh
	@echo; BUILD=$(BUILD) bench/bench_recluster.sh

# libFuzzer harnesses tests/fuzz/fuzz_<entry>.c, each linked with -fsanitize=fuzzer against the
# clang-built library, run FUZZ_SECONDS each on a copy of tests/fuzz/corpus/<entry> (kept and
# grown in build-fuzz/corpus/<entry>); fails on the first crash, leak or sanitizer report.
FUZZ_SECONDS ?= 60
FUZZ_BIN := $(patsubst tests/fuzz/%.c,build-fuzz/fuzz/%,$(wildcard tests/fuzz/fuzz_*.c))
fuzz:
	$(MAKE) FUZZ=1 $(FUZZ_BIN)
	tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_BIN)

$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -fsanitize=fuzzer $(LDFLAGS) -o $@ $< $(LIB) $(LDLIBS)

# module dependency rule (docs/architecture.md): which modules each may include
check-deps:
	@tools/check_deps.sh

clean:
	rm -rf build build-san build-fuzz

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d)

# The README's first command ends here: fetch the models, build, index the demo photos
# (plus a few LFW people from ../shared/data when it is there) into build/demo.db, and
# serve the web UI on http://127.0.0.1:8080 (Ctrl-C stops it).
DEMO_LFW := $(wildcard ../shared/data/lfw/lfw-deepfunneled/Serena_Williams ../shared/data/lfw/lfw-deepfunneled/Tony_Blair ../shared/data/lfw/lfw-deepfunneled/Colin_Powell ../shared/data/lfw/lfw-deepfunneled/Jennifer_Aniston ../shared/data/lfw/lfw-deepfunneled/Hugo_Chavez)
demo: all models
	$(BIN) index models/samples $(DEMO_LFW) --db $(BUILD)/demo.db
	$(BIN) persons --db $(BUILD)/demo.db
	$(BIN) serve --db $(BUILD)/demo.db --bind 127.0.0.1 --port 8080
