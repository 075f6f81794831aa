# node conformance tests (see conformance/local.mk).
