/*
 * 06-consume-workqueue: one queue, three competing consumers on three
 * connections with manual acks and a prefetch of 5.  Every message is
 * delivered to exactly one of them, none is redelivered, and each consumer
 * gets a share.  Then a consumer leaves holding unacked messages: the
 * others receive those again with the redelivered flag, and every message
 * is still acked exactly once.
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define NWORKERS	3
#define NFIRST		300
#define NSECOND		60
#define NTOTAL		(NFIRST + NSECOND)
#define PREFETCH	5
#define HOLD		3	/* messages the leaving worker keeps unacked */

struct worker {
	amqp_connection_state_t	 conn;
	int			 alive;
	int			 got;
};

static struct worker	 workers[NWORKERS];
static int		 acked[NTOTAL];		/* times each was acked */
static int		 held[NTOTAL];		/* kept by the leaving worker */
static int		 redelivered[NTOTAL];

static void	 publish_range(amqp_connection_state_t, const char *, int, int);
static int	 take(struct worker *, int);
static void	 work_until(int, int);

/* Start the workers, run both phases, clean up. */
int
main(int argc, char **argv)
{
	amqp_connection_state_t	 producer;
	char			*q;
	int			 i, n;

	(void)argc;
	harness_start(argv[0]);
	q = harness_unique("c-workqueue");
	producer = harness_connect();
	amqp_queue_declare(producer, 1, amqp_cstring_bytes(q), 0, 0, 0, 0,
	    amqp_empty_table);
	harness_rpc_ok(producer, "queue.declare");

	for (i = 0; i < NWORKERS; i++) {
		workers[i].conn = harness_connect();
		workers[i].alive = 1;
		amqp_basic_qos(workers[i].conn, 1, 0, PREFETCH, 0);
		harness_rpc_ok(workers[i].conn, "basic.qos");
		amqp_basic_consume(workers[i].conn, 1, amqp_cstring_bytes(q),
		    amqp_cstring_bytes(harness_format("worker-%d", i)), 0, 0, 0,
		    amqp_empty_table);
		harness_rpc_ok(workers[i].conn, "basic.consume");
	}

	/* Phase 1: everyone acks everything. */
	publish_range(producer, q, 0, NFIRST);
	work_until(NFIRST, -1);
	for (i = 0; i < NFIRST; i++)
		HARNESS_ASSERT(!redelivered[i], "message %d redelivered", i);
	for (i = 0; i < NWORKERS; i++) {
		harness_log("worker %d took %d of %d", i, workers[i].got,
		    NFIRST);
		/* RabbitMQ dispatches round-robin: a fair share each. */
		HARNESS_ASSERT(workers[i].got >= NFIRST / 10, "worker %d got "
		    "only %d of %d", i, workers[i].got, NFIRST);
	}

	/* Phase 2: the last worker keeps HOLD messages unacked, then goes. */
	publish_range(producer, q, NFIRST, NTOTAL);
	for (n = 0; n < HOLD; n++)
		if (!take(&workers[NWORKERS - 1], HARNESS_OP_TIMEOUT))
			harness_fail("worker %d got no phase 2 message within "
			    "%d ms", NWORKERS - 1, HARNESS_OP_TIMEOUT);
	harness_close(workers[NWORKERS - 1].conn);
	workers[NWORKERS - 1].alive = 0;
	work_until(NTOTAL, NWORKERS - 1);
	for (i = NFIRST; i < NTOTAL; i++)
		if (held[i])
			HARNESS_ASSERT(redelivered[i], "message %d, held "
			    "by the worker that left, came back without "
			    "redelivered",
			    i);

	/* Exactly once: nothing more arrives and the queue is empty. */
	for (i = 0; i < NWORKERS - 1; i++)
		harness_drain_none(workers[i].conn, 200, "after the last ack");
	harness_wait_message_count(producer, 1, q, 0);
	amqp_queue_delete(producer, 1, amqp_cstring_bytes(q), 0, 0);
	harness_rpc_ok(producer, "queue.delete");
	for (i = 0; i < NWORKERS - 1; i++)
		harness_close(workers[i].conn);
	harness_close(producer);
	free(q);
	return (harness_done());
}

/* Publish messages "from" up to "to", each body its decimal number. */
static void
publish_range(amqp_connection_state_t conn, const char *q, int from, int to)
{
	char	 body[32];
	int	 i;

	for (i = from; i < to; i++) {
		snprintf(body, sizeof body, "%d", i);
		harness_status_ok(amqp_basic_publish(conn, 1,
		    amqp_empty_bytes, amqp_cstring_bytes(q), 0, 0, NULL,
		    amqp_cstring_bytes(body)), "basic.publish");
	}
}

/*
 * Let worker w take one delivery if one arrives within ms and ack it; the
 * last worker holds phase 2 messages instead.  Returns 1 if it took one.
 */
static int
take(struct worker *w, int ms)
{
	amqp_envelope_t	 env;
	char		 num[32];
	long		 i;

	if (!harness_consume(w->conn, &env, ms))
		return (0);
	HARNESS_ASSERT(env.message.body.len > 0 &&
	    env.message.body.len < sizeof num, "odd body length %zu",
	    env.message.body.len);
	memcpy(num, env.message.body.bytes, env.message.body.len);
	num[env.message.body.len] = '\0';
	i = strtol(num, NULL, 10);
	HARNESS_ASSERT(i >= 0 && i < NTOTAL, "unknown message '%s'", num);
	if (env.redelivered)
		redelivered[i] = 1;
	w->got++;
	if (w == &workers[NWORKERS - 1] && i >= NFIRST) {
		/* The leaving worker: hold, never ack. */
		held[i] = 1;
	} else {
		HARNESS_ASSERT(acked[i] == 0, "message %ld delivered again "
		    "after its ack (redelivered=%d)", i, env.redelivered);
		acked[i]++;
		harness_status_ok(amqp_basic_ack(w->conn, 1, env.delivery_tag,
		    0), "basic.ack");
	}
	amqp_destroy_envelope(&env);
	return (1);
}

/*
 * Round-robin over the live workers (skipping index skip), one delivery
 * each per round so that every worker acks as promptly as the others, until
 * messages 0..upto-1 have all been acked; fail at the deadline.  When no
 * worker has anything, poll(2) their sockets instead of spinning.
 */
static void
work_until(int upto, int skip)
{
	struct pollfd	 pfd[NWORKERS];
	int64_t		 deadline = harness_now_ms() + HARNESS_OP_TIMEOUT;
	int		 i, n, missing, progress;

	for (;;) {
		for (missing = 0, i = 0; i < upto; i++)
			missing += !acked[i];
		if (missing == 0)
			return;
		if (harness_now_ms() >= deadline)
			harness_fail("%d of %d messages never acked within %d "
			    "ms", missing, upto, HARNESS_OP_TIMEOUT);
		progress = 0;
		for (n = 0, i = 0; i < NWORKERS; i++) {
			if (i == skip || !workers[i].alive)
				continue;
			progress |= take(&workers[i], 0);
			pfd[n].fd = amqp_get_sockfd(workers[i].conn);
			pfd[n].events = POLLIN;
			n++;
		}
		if (!progress)
			poll(pfd, (nfds_t)n, 20);
	}
}
