# py conformance tests (see conformance/local.mk).
