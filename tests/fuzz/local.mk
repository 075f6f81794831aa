# Fuzzing (included from tests/local.mk).  tests/fuzz/fuzz_codec.c is a
# libFuzzer target for the codec: frames, methods, basic properties and
# field tables (src/frame.c method.c props.c wire.c).

# make check: the target built with the compiler and flags of this build
# (ASan and UBSan in the sanitizer build) and driven by replay.c over the
# seed corpus, which make-corpus.py writes.
check_PROGRAMS += tests/fuzz/replay_codec
TESTS += tests/fuzz/replay-codec.sh
tests_fuzz_replay_codec_SOURCES = tests/fuzz/replay.c tests/fuzz/fuzz_codec.c
tests_fuzz_replay_codec_LDADD = $(BROKER_LIBS)
EXTRA_DIST += tests/fuzz/replay-codec.sh tests/fuzz/make-corpus.py \
	tests/fuzz/corpus tests/fuzz/stream-fuzz.py

# make fuzz: the target under libFuzzer with ASan and UBSan, built by
# clang from the codec's sources alone, run for FUZZ_SECONDS over a copy
# of the corpus in tests/fuzz/codec-run/ (crash-* files are left there).
# FUZZ_OPTIONS adds libFuzzer options, e.g. FUZZ_OPTIONS=-jobs=2.
FUZZ_CC = clang
FUZZ_SECONDS = 60
FUZZ_OPTIONS =
FUZZ_COMPILE = -g -O1 -fno-omit-frame-pointer \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
fuzz_codec_srcs = $(srcdir)/src/wire.c $(srcdir)/src/frame.c \
	$(srcdir)/src/method.c $(srcdir)/src/props.c \
	$(srcdir)/tests/fuzz/fuzz_codec.c

tests/fuzz/fuzz_codec: $(fuzz_codec_srcs) $(srcdir)/src/wire.h \
    $(srcdir)/src/method.h $(srcdir)/include/amqp_defs.h config.h
	@$(MKDIR_P) tests/fuzz
	$(FUZZ_CC) $(DEFS) $(DEFAULT_INCLUDES) $(AM_CPPFLAGS) $(CPPFLAGS) \
	    $(AM_CFLAGS) $(FUZZ_COMPILE) -o $@ $(fuzz_codec_srcs) \
	    $(LIBEVENT_LIBS)

fuzz:
	@command -v $(FUZZ_CC) >/dev/null 2>&1 || { \
	    echo "make fuzz: no $(FUZZ_CC): libFuzzer comes with clang" \
	        "(apt-get install clang, or make fuzz FUZZ_CC=clang-NN)" >&2; \
	    exit 1; }
	@$(MAKE) $(AM_MAKEFLAGS) tests/fuzz/fuzz_codec
	rm -rf tests/fuzz/codec-run/corpus
	$(MKDIR_P) tests/fuzz/codec-run/corpus
	cp $(srcdir)/tests/fuzz/corpus/codec/* tests/fuzz/codec-run/corpus/
	cd tests/fuzz/codec-run && ../fuzz_codec \
	    -max_total_time=$(FUZZ_SECONDS) $(FUZZ_OPTIONS) corpus

clean-local: clean-fuzz
clean-fuzz:
	rm -rf tests/fuzz/fuzz_codec tests/fuzz/codec-run
.PHONY: fuzz clean-fuzz
