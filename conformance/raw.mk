# raw conformance tests (see conformance/local.mk).
