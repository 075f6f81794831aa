#!/bin/sh
# Every configuration key warrend knows is documented in warrend.conf(5)
# and warrend(8); a key missing from either fails this test.
srcdir=${srcdir:-.}
warrend=${WARREND:-src/warrend}
keys=$("$warrend" --dump-config | sed -n 's/^\([a-z_]*\) .*/\1/p')
[ -n "$keys" ] || { echo "warrend --dump-config printed no keys"; exit 1; }
status=0
for k in $keys; do
	for page in "$srcdir/man/warrend.conf.5" "$srcdir/man/warrend.8"; do
		if ! grep -q "Cm $k\b\|Cm [a-z_, ]*$k" "$page"; then
			echo "$page does not document $k"
			status=1
		fi
	done
done
[ $status -eq 0 ] && echo "all $(echo $keys | wc -w) keys documented"
exit $status
