# Conformance tests for RabbitMQ's extensions (conformance/py/13-ext-*.py),
# written against RabbitMQ 3.10 before Warren implements them.  They are
# listed here, not in conformance_tests: each file moves there once Warren
# passes it.  13-ext-delayed.py and 13-ext-dedup.py test Warren-only
# features and report every case as skipped against another broker.
#   make conformance-ext          # all of them, against a fresh warrend
#   AMQP_URL=amqp://guest:guest@127.0.0.1:5673/ make conformance-ext
ext_tests =
EXTRA_DIST += conformance/lib/ext_util.py

ext_tests += conformance/py/13-ext-ttl.py
EXTRA_DIST += conformance/py/13-ext-ttl.py
ext_tests += conformance/py/13-ext-expires.py
EXTRA_DIST += conformance/py/13-ext-expires.py
ext_tests += conformance/py/13-ext-dlx.py
EXTRA_DIST += conformance/py/13-ext-dlx.py
ext_tests += conformance/py/13-ext-maxlen.py
EXTRA_DIST += conformance/py/13-ext-maxlen.py
ext_tests += conformance/py/13-ext-priority.py
EXTRA_DIST += conformance/py/13-ext-priority.py
ext_tests += conformance/py/13-ext-consumers.py
EXTRA_DIST += conformance/py/13-ext-consumers.py
ext_tests += conformance/py/13-ext-delivery-limit.py
EXTRA_DIST += conformance/py/13-ext-delivery-limit.py
ext_tests += conformance/py/13-ext-args.py
EXTRA_DIST += conformance/py/13-ext-args.py
ext_tests += conformance/py/13-ext-reply-to.py
EXTRA_DIST += conformance/py/13-ext-reply-to.py
ext_tests += conformance/py/13-ext-cc-bcc.py
EXTRA_DIST += conformance/py/13-ext-cc-bcc.py
ext_tests += conformance/py/13-ext-delayed.py
EXTRA_DIST += conformance/py/13-ext-delayed.py
ext_tests += conformance/py/13-ext-dedup.py
EXTRA_DIST += conformance/py/13-ext-dedup.py

conformance-ext: all
	$(MAKE) $(AM_MAKEFLAGS) check TESTS='$(ext_tests)'
.PHONY: conformance-ext
