# Tools built beside the daemon (included from Makefile.am).
# warren-perf: the load generator, on rabbitmq-c; see man/warren-perf.1.
bin_PROGRAMS += src/tools/warren-perf
src_tools_warren_perf_SOURCES = src/tools/warren-perf.c
src_tools_warren_perf_CFLAGS = $(AM_CFLAGS) $(RABBITMQ_CFLAGS)
src_tools_warren_perf_LDADD = $(RABBITMQ_LIBS) -lpthread -lm
dist_man_MANS += man/warren-perf.1
EXTRA_DIST += bench/compare bench/README
