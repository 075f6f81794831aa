# Conformance tests: each drives a live broker.  Without AMQP_URL, the test
# starts its own warrend on a free port with a temporary data directory.
# Python and Node tests speak TAP, so every case is counted on its own.
TEST_EXTENSIONS = .py .js
PY_LOG_COMPILER = /usr/bin/python3
PY_LOG_DRIVER = env AM_TAP_AWK='$(AWK)' $(SHELL) \
	$(top_srcdir)/build-aux/tap-driver.sh
JS_LOG_COMPILER = node
JS_LOG_DRIVER = env AM_TAP_AWK='$(AWK)' $(SHELL) \
	$(top_srcdir)/build-aux/tap-driver.sh
AM_TESTS_ENVIRONMENT = \
	WARREND='$(abs_top_builddir)/src/warrend'; \
	WARREN_SRCDIR='$(abs_top_srcdir)'; \
	PYTHONPATH='$(abs_top_srcdir)/conformance/lib'; \
	NODE_PATH='$(abs_top_srcdir)/conformance/node_modules'; \
	export WARREND WARREN_SRCDIR PYTHONPATH NODE_PATH;

conformance_tests =
include $(srcdir)/conformance/py.mk
include $(srcdir)/conformance/raw.mk
include $(srcdir)/conformance/c.mk
include $(srcdir)/conformance/node.mk
include $(srcdir)/conformance/ext.mk
# The extension tests (ext.mk) of what Warren implements so far.
conformance_tests += conformance/py/13-ext-ttl.py \
	conformance/py/13-ext-expires.py conformance/py/13-ext-dlx.py \
	conformance/py/13-ext-maxlen.py conformance/py/13-ext-priority.py \
	conformance/py/13-ext-delivery-limit.py conformance/py/13-ext-args.py \
	conformance/py/13-ext-reply-to.py conformance/py/13-ext-cc-bcc.py \
	conformance/py/13-ext-delayed.py conformance/py/13-ext-dedup.py \
	conformance/py/13-ext-consumers.py
TESTS += $(conformance_tests)
EXTRA_DIST += conformance/lib/harness.py

# Run only the conformance suite (AMQP_URL=... make conformance targets a
# broker already running).
conformance: all
	$(MAKE) $(AM_MAKEFLAGS) check TESTS='$(conformance_tests)'
.PHONY: conformance
