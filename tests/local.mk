# Check unit tests: one program per module.
CHECK_LDADD = $(BROKER_LIBS) $(CHECK_LIBS) $(RABBITMQ_LIBS)


unit_tests = tests/check_wire tests/check_method tests/check_topic \
	tests/check_queue
check_PROGRAMS += $(unit_tests)
TESTS += $(unit_tests) tests/man-keys.sh tests/perf-smoke.sh
EXTRA_DIST += tests/man-keys.sh tests/perf-smoke.sh

tests_check_wire_SOURCES = tests/check_wire.c
tests_check_wire_LDADD = $(CHECK_LDADD)
tests_check_method_SOURCES = tests/check_method.c
tests_check_method_LDADD = $(CHECK_LDADD)
tests_check_method_CFLAGS = $(AM_CFLAGS) $(RABBITMQ_CFLAGS) $(CHECK_CFLAGS)
tests_check_topic_SOURCES = tests/check_topic.c
tests_check_topic_LDADD = $(CHECK_LDADD)
tests_check_queue_SOURCES = tests/check_queue.c
tests_check_queue_LDADD = $(CHECK_LDADD)

# The store: SQLite underneath, which the test reads back itself.
check_PROGRAMS += tests/check_store
TESTS += tests/check_store
tests_check_store_SOURCES = tests/check_store.c
tests_check_store_CFLAGS = $(AM_CFLAGS) $(SQLITE_CFLAGS) $(CHECK_CFLAGS)
tests_check_store_LDADD = $(CHECK_LDADD) $(SQLITE_LIBS)

# Fuzzing: the codec target, its corpus replayed in make check.
include $(srcdir)/tests/fuzz/local.mk
