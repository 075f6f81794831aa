#!/bin/sh
# The seed corpus of tests/fuzz/fuzz_codec.c through the target, built
# without libFuzzer by this build's compiler: every input must go through
# without a crash, a sanitizer report or a broken round trip.
exec tests/fuzz/replay_codec "${srcdir:-.}/tests/fuzz/corpus/codec"
