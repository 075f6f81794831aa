# node conformance tests (see conformance/local.mk): amqplib scripts that
# print TAP.  Their one dependency is in conformance/package.json;
# install it with: npm ci --prefix conformance
EXTRA_DIST += conformance/lib/harness.js conformance/package.json \
	conformance/package-lock.json
conformance_tests += conformance/node/01-connection-basics.js
EXTRA_DIST += conformance/node/01-connection-basics.js
conformance_tests += conformance/node/03-exchange-pubsub.js
EXTRA_DIST += conformance/node/03-exchange-pubsub.js
conformance_tests += conformance/node/04-queue-errors.js
EXTRA_DIST += conformance/node/04-queue-errors.js
conformance_tests += conformance/node/05-publish-roundtrip.js
EXTRA_DIST += conformance/node/05-publish-roundtrip.js
conformance_tests += conformance/node/05-publish-rpc.js
EXTRA_DIST += conformance/node/05-publish-rpc.js
conformance_tests += conformance/node/06-consume-cancel.js
EXTRA_DIST += conformance/node/06-consume-cancel.js
conformance_tests += conformance/node/06-consume-nack.js
EXTRA_DIST += conformance/node/06-consume-nack.js
conformance_tests += conformance/node/06-consume-prefetch.js
EXTRA_DIST += conformance/node/06-consume-prefetch.js
conformance_tests += conformance/node/07-confirm-channel.js
EXTRA_DIST += conformance/node/07-confirm-channel.js
