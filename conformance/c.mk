# c conformance tests (see conformance/local.mk): rabbitmq-c programs,
# one scenario each, built by make check; exit 0 pass, 77 skip.

check_PROGRAMS += conformance/c/04-queue-errors
conformance_tests += conformance/c/04-queue-errors
conformance_c_04_queue_errors_SOURCES = \
	conformance/c/04-queue-errors.c \
	conformance/harness.c conformance/harness.h
conformance_c_04_queue_errors_CPPFLAGS = $(AM_CPPFLAGS) \
	-I$(top_srcdir)/conformance
conformance_c_04_queue_errors_CFLAGS = \
	$(AM_CFLAGS) $(RABBITMQ_CFLAGS)
conformance_c_04_queue_errors_LDADD = $(RABBITMQ_LIBS)

check_PROGRAMS += conformance/c/05-publish-mandatory
conformance_tests += conformance/c/05-publish-mandatory
conformance_c_05_publish_mandatory_SOURCES = \
	conformance/c/05-publish-mandatory.c \
	conformance/harness.c conformance/harness.h
conformance_c_05_publish_mandatory_CPPFLAGS = $(AM_CPPFLAGS) \
	-I$(top_srcdir)/conformance
conformance_c_05_publish_mandatory_CFLAGS = \
	$(AM_CFLAGS) $(RABBITMQ_CFLAGS)
conformance_c_05_publish_mandatory_LDADD = $(RABBITMQ_LIBS)

check_PROGRAMS += conformance/c/05-publish-roundtrip
conformance_tests += conformance/c/05-publish-roundtrip
conformance_c_05_publish_roundtrip_SOURCES = \
	conformance/c/05-publish-roundtrip.c \
	conformance/harness.c conformance/harness.h
conformance_c_05_publish_roundtrip_CPPFLAGS = $(AM_CPPFLAGS) \
	-I$(top_srcdir)/conformance
conformance_c_05_publish_roundtrip_CFLAGS = \
	$(AM_CFLAGS) $(RABBITMQ_CFLAGS)
conformance_c_05_publish_roundtrip_LDADD = $(RABBITMQ_LIBS)

check_PROGRAMS += conformance/c/06-consume-large
conformance_tests += conformance/c/06-consume-large
conformance_c_06_consume_large_SOURCES = \
	conformance/c/06-consume-large.c \
	conformance/harness.c conformance/harness.h
conformance_c_06_consume_large_CPPFLAGS = $(AM_CPPFLAGS) \
	-I$(top_srcdir)/conformance
conformance_c_06_consume_large_CFLAGS = \
	$(AM_CFLAGS) $(RABBITMQ_CFLAGS)
conformance_c_06_consume_large_LDADD = $(RABBITMQ_LIBS)

check_PROGRAMS += conformance/c/06-consume-prefetch
conformance_tests += conformance/c/06-consume-prefetch
conformance_c_06_consume_prefetch_SOURCES = \
	conformance/c/06-consume-prefetch.c \
	conformance/harness.c conformance/harness.h
conformance_c_06_consume_prefetch_CPPFLAGS = $(AM_CPPFLAGS) \
	-I$(top_srcdir)/conformance
conformance_c_06_consume_prefetch_CFLAGS = \
	$(AM_CFLAGS) $(RABBITMQ_CFLAGS)
conformance_c_06_consume_prefetch_LDADD = $(RABBITMQ_LIBS)

check_PROGRAMS += conformance/c/06-consume-workqueue
conformance_tests += conformance/c/06-consume-workqueue
conformance_c_06_consume_workqueue_SOURCES = \
	conformance/c/06-consume-workqueue.c \
	conformance/harness.c conformance/harness.h
conformance_c_06_consume_workqueue_CPPFLAGS = $(AM_CPPFLAGS) \
	-I$(top_srcdir)/conformance
conformance_c_06_consume_workqueue_CFLAGS = \
	$(AM_CFLAGS) $(RABBITMQ_CFLAGS)
conformance_c_06_consume_workqueue_LDADD = $(RABBITMQ_LIBS)

check_PROGRAMS += conformance/c/07-confirm-basic
conformance_tests += conformance/c/07-confirm-basic
conformance_c_07_confirm_basic_SOURCES = \
	conformance/c/07-confirm-basic.c \
	conformance/harness.c conformance/harness.h
conformance_c_07_confirm_basic_CPPFLAGS = $(AM_CPPFLAGS) \
	-I$(top_srcdir)/conformance
conformance_c_07_confirm_basic_CFLAGS = \
	$(AM_CFLAGS) $(RABBITMQ_CFLAGS)
conformance_c_07_confirm_basic_LDADD = $(RABBITMQ_LIBS)

check_PROGRAMS += conformance/c/08-tx-basic
conformance_tests += conformance/c/08-tx-basic
conformance_c_08_tx_basic_SOURCES = \
	conformance/c/08-tx-basic.c \
	conformance/harness.c conformance/harness.h
conformance_c_08_tx_basic_CPPFLAGS = $(AM_CPPFLAGS) \
	-I$(top_srcdir)/conformance
conformance_c_08_tx_basic_CFLAGS = \
	$(AM_CFLAGS) $(RABBITMQ_CFLAGS)
conformance_c_08_tx_basic_LDADD = $(RABBITMQ_LIBS)
