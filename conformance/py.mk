# py conformance tests (see conformance/local.mk).
# Real Python clients (pika, kombu/py-amqp, amqp-tools) against the broker.
EXTRA_DIST += conformance/lib/py_util.py

conformance_tests += conformance/py/01-handshake-connect.py
EXTRA_DIST += conformance/py/01-handshake-connect.py
conformance_tests += conformance/py/02-channel-lifecycle.py
EXTRA_DIST += conformance/py/02-channel-lifecycle.py
conformance_tests += conformance/py/03-exchange-declare.py
EXTRA_DIST += conformance/py/03-exchange-declare.py
conformance_tests += conformance/py/03-exchange-routing.py
EXTRA_DIST += conformance/py/03-exchange-routing.py
conformance_tests += conformance/py/04-queue-declare.py
EXTRA_DIST += conformance/py/04-queue-declare.py
conformance_tests += conformance/py/04-queue-manage.py
EXTRA_DIST += conformance/py/04-queue-manage.py
conformance_tests += conformance/py/05-publish-basic.py
EXTRA_DIST += conformance/py/05-publish-basic.py
conformance_tests += conformance/py/06-consume-basic.py
EXTRA_DIST += conformance/py/06-consume-basic.py
conformance_tests += conformance/py/06-consume-ack.py
EXTRA_DIST += conformance/py/06-consume-ack.py
conformance_tests += conformance/py/06-consume-qos.py
EXTRA_DIST += conformance/py/06-consume-qos.py
conformance_tests += conformance/py/07-confirm-basic.py
EXTRA_DIST += conformance/py/07-confirm-basic.py
conformance_tests += conformance/py/08-tx-basic.py
EXTRA_DIST += conformance/py/08-tx-basic.py
conformance_tests += conformance/py/03-exchange-pubsub.py
EXTRA_DIST += conformance/py/03-exchange-pubsub.py
conformance_tests += conformance/py/05-publish-rpc.py
EXTRA_DIST += conformance/py/05-publish-rpc.py
conformance_tests += conformance/py/06-consume-scenarios.py
EXTRA_DIST += conformance/py/06-consume-scenarios.py
conformance_tests += conformance/py/05-publish-kombu.py
EXTRA_DIST += conformance/py/05-publish-kombu.py
conformance_tests += conformance/py/05-publish-amqptools.py
EXTRA_DIST += conformance/py/05-publish-amqptools.py
conformance_tests += conformance/py/04-queue-length.py
EXTRA_DIST += conformance/py/04-queue-length.py
# Durability: these start, kill and restart their own warrend
# (conformance/lib/warren_proc.py); with AMQP_URL every case is skipped.
EXTRA_DIST += conformance/lib/warren_proc.py
conformance_tests += conformance/py/09-durability-crash.py
EXTRA_DIST += conformance/py/09-durability-crash.py
conformance_tests += conformance/py/09-durability-restart.py
EXTRA_DIST += conformance/py/09-durability-restart.py
conformance_tests += conformance/py/09-durability-store-errors.py
EXTRA_DIST += conformance/py/09-durability-store-errors.py
