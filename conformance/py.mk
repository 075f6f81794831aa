# py conformance tests (see conformance/local.mk).
# Real Python clients (pika, kombu/py-amqp, amqp-tools) against the broker.
EXTRA_DIST += conformance/lib/py_util.py

conformance_tests += conformance/py/01-handshake-connect.py
EXTRA_DIST += conformance/py/01-handshake-connect.py
conformance_tests += conformance/py/02-channel-lifecycle.py
EXTRA_DIST += conformance/py/02-channel-lifecycle.py
