# c conformance tests (see conformance/local.mk): rabbitmq-c programs,
# one scenario each, built by make check; exit 0 pass, 77 skip.

check_PROGRAMS += conformance/c/04-queue-errors
conformance_tests += conformance/c/04-queue-errors
conformance_c_04_queue_errors_SOURCES = conformance/c/04-queue-errors.c \
	conformance/harness.c conformance/harness.h
conformance_c_04_queue_errors_CPPFLAGS = $(AM_CPPFLAGS) \
	-I$(top_srcdir)/conformance
conformance_c_04_queue_errors_CFLAGS = $(AM_CFLAGS) $(RABBITMQ_CFLAGS)
conformance_c_04_queue_errors_LDADD = $(RABBITMQ_LIBS)
