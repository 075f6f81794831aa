/*
 * harness.h: a broker to test against and rabbitmq-c helpers for the C
 * conformance programs in conformance/c/.
 *
 * Without AMQP_URL, harness_start() runs $WARREND on a free loopback port
 * with a fresh data directory and harness_done() stops it; with AMQP_URL it
 * uses that broker (RabbitMQ, to check that the expectations are right).
 * Every helper that can fail prints what went wrong and exits 1, so a test
 * reads as a straight line of expectations.  Exit codes follow automake:
 * 0 pass, 77 skip, 99 hard error (no broker), anything else fail.
 */
#ifndef HARNESS_H
#define HARNESS_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#include <amqp.h>
#include <amqp_framing.h>
#include <amqp_tcp_socket.h>

#include "amqp_defs.h"

#define HARNESS_SKIP		77
#define HARNESS_ERROR		99

/* Wait for any single reply this long (ms) before calling it a hang. */
#define HARNESS_OP_TIMEOUT	10000
/* Kill a whole test program after this many seconds (WARREN_TEST_TIMEOUT). */
#define HARNESS_TEST_TIMEOUT	60

/* The broker under test. */
struct harness_broker {
	char		 host[256];
	int		 port;
	char		 user[128];
	char		 password[128];
	char		 vhost[256];
	int		 is_warren;	/* ours, or AMQP_IS_WARREN=1 */
	pid_t		 pid;		/* -1 when AMQP_URL names the broker */
	char		 datadir[4096];	/* "" when AMQP_URL names the broker */
};

/* Setup and teardown. */
const struct harness_broker *harness_start(const char *);
int		 harness_done(void);
int		 harness_is_warren(void);

/* Reporting: fail and skip never return. */
void		 harness_fail(const char *, ...)
		    __attribute__((noreturn, format(printf, 1, 2)));
void		 harness_skip(const char *, ...)
		    __attribute__((noreturn, format(printf, 1, 2)));
void		 harness_log(const char *, ...)
		    __attribute__((format(printf, 1, 2)));
#define HARNESS_ASSERT(cond, ...) do {					\
	if (!(cond))							\
		harness_fail("%s:%d: assertion '%s' failed: %s",	\
		    __FILE__, __LINE__, #cond,				\
		    harness_format(__VA_ARGS__));			\
} while (0)
const char	*harness_format(const char *, ...)
		    __attribute__((format(printf, 1, 2)));

/* Time. */
int64_t		 harness_now_ms(void);

/* Connections. */
amqp_connection_state_t harness_connect(void);
amqp_connection_state_t harness_connect_tuned(int, int, int);
void		 harness_close(amqp_connection_state_t);
void		 harness_channel_open(amqp_connection_state_t, amqp_channel_t);
void		 harness_channel_close(amqp_connection_state_t, amqp_channel_t);

/* Replies. */
const char	*harness_reply_string(amqp_rpc_reply_t);
void		 harness_ok(amqp_rpc_reply_t, const char *);
void		 harness_rpc_ok(amqp_connection_state_t, const char *);
void		 harness_status_ok(int, const char *);
void		 harness_expect_channel_close(amqp_connection_state_t,
		    amqp_channel_t, amqp_rpc_reply_t, uint16_t, uint32_t,
		    const char *);
void		 harness_expect_connection_close(amqp_connection_state_t,
		    amqp_rpc_reply_t, uint16_t, uint32_t, const char *);
void		 harness_wait_channel_close(amqp_connection_state_t,
		    amqp_channel_t, uint16_t, uint32_t, const char *);

/* Frames and deliveries. */
int		 harness_wait_frame(amqp_connection_state_t, amqp_frame_t *,
		    int);
int		 harness_consume(amqp_connection_state_t, amqp_envelope_t *,
		    int);
void		 harness_drain_none(amqp_connection_state_t, int,
		    const char *);
uint32_t	 harness_wait_message_count(amqp_connection_state_t,
		    amqp_channel_t, const char *, uint32_t);

/* Names and bytes. */
char		*harness_unique(const char *);
int		 harness_bytes_eq(amqp_bytes_t, amqp_bytes_t);
int		 harness_bytes_eq_str(amqp_bytes_t, const char *);

#endif /* HARNESS_H */
