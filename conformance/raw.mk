# raw conformance tests (see conformance/local.mk).
# Raw-frame tests: a pure-Python AMQP client (conformance/lib/rawamqp.py)
# sends malformed and out-of-order input and checks the broker's exact reply.
EXTRA_DIST += conformance/lib/rawamqp.py
conformance_tests += conformance/raw/01-handshake-raw.py
EXTRA_DIST += conformance/raw/01-handshake-raw.py
conformance_tests += conformance/raw/01-handshake-timeout.py
EXTRA_DIST += conformance/raw/01-handshake-timeout.py
conformance_tests += conformance/raw/12-malformed-frames.py
EXTRA_DIST += conformance/raw/12-malformed-frames.py
conformance_tests += conformance/raw/12-malformed-methods.py
EXTRA_DIST += conformance/raw/12-malformed-methods.py
conformance_tests += conformance/raw/12-malformed-content.py
EXTRA_DIST += conformance/raw/12-malformed-content.py
conformance_tests += conformance/raw/12-malformed-sequence.py
EXTRA_DIST += conformance/raw/12-malformed-sequence.py
conformance_tests += conformance/raw/12-large-body.py
EXTRA_DIST += conformance/raw/12-large-body.py
