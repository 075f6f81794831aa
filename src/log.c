/*
 * log.c: leveled logging to stderr, libevent's own log routed into ours.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <sys/time.h>

#include <event2/event.h>

#include "broker.h"

enum log_level log_level = LOG_INFO;

static const char *log_names[] = { "error", "warn", "notice", "info",
    "debug" };

static void	log_event_cb(int, const char *);

/* Route libevent's messages into our log. */
static void
log_event_cb(int severity, const char *msg)
{
	switch (severity) {
	case EVENT_LOG_ERR:
		log_error("libevent: %s", msg);
		break;
	case EVENT_LOG_WARN:
		log_warn("libevent: %s", msg);
		break;
	default:
		log_debug("libevent: %s", msg);
		break;
	}
}

/* Set up logging. */
void
log_init(void)
{
	event_set_log_callback(log_event_cb);
}

/* Parse a level name. */
int
log_level_parse(const char *s, enum log_level *out)
{
	size_t	i;

	for (i = 0; i < sizeof log_names / sizeof log_names[0]; i++) {
		if (strcasecmp(s, log_names[i]) == 0) {
			*out = (enum log_level)i;
			return (0);
		}
	}
	if (strcasecmp(s, "warning") == 0) {
		*out = LOG_WARN;
		return (0);
	}
	return (-1);
}

/* Name of a level. */
const char *
log_level_name(enum log_level l)
{
	return (log_names[l]);
}

/* Write one line: time, level, message. */
void
log_msg(enum log_level lvl, const char *fmt, ...)
{
	struct timeval	tv;
	struct tm	tm;
	char		ts[32];
	va_list		ap;

	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
	flockfile(stderr);
	fprintf(stderr, "%s.%03ldZ %s ", ts, (long)tv.tv_usec / 1000,
	    log_names[lvl]);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	funlockfile(stderr);
}

/* Log and exit: only for the impossible. */
void
fatal(const char *fmt, ...)
{
	va_list	ap;

	fprintf(stderr, "fatal: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}
