# c conformance tests (see conformance/local.mk).
