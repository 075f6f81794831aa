#!/bin/sh
# warren-perf and bench/compare work: every scenario, briefly, against a
# warrend of this build (no timing is asserted: bench/compare --quick exits
# non-zero on any loss, duplicate or error); then the relay mode of
# loopback (the latency floor) on its own, which must time its messages.
srcdir=${srcdir:-.}
top=$(cd "$(dirname "$WARREND")/.." && pwd)
results=$(mktemp -d)
trap 'rm -rf "$results"' EXIT
/usr/bin/python3 "$srcdir/bench/compare" --quick --no-rabbitmq \
    --warrend "$WARREND" --perf "$top/src/tools/warren-perf" \
    --results "$results" >/dev/null || exit 1
"$top/src/tools/warren-perf" loopback --rate 2000 -d 1 -Q \
    >"$results/relay.json" || exit 1
/usr/bin/python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
if r.get("mode") != "relay" or r["latency_us"]["count"] <= 0:
    sys.exit("relay mode: no latency measured: %s" % json.dumps(r))
' "$results/relay.json"
