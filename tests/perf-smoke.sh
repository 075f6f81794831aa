#!/bin/sh
# warren-perf and bench/compare work: every scenario, briefly, against a
# warrend of this build (no timing is asserted: bench/compare --quick exits
# non-zero on any loss, duplicate or error).
srcdir=${srcdir:-.}
top=$(cd "$(dirname "$WARREND")/.." && pwd)
results=$(mktemp -d)
trap 'rm -rf "$results"' EXIT
/usr/bin/python3 "$srcdir/bench/compare" --quick --no-rabbitmq \
    --warrend "$WARREND" --perf "$top/src/tools/warren-perf" \
    --results "$results" >/dev/null
