/*
 * 06-consume-prefetch: basic.qos limits unacked deliveries.  Per consumer
 * (global=0) a prefetch of 3 delivers 3, then one more per single ack and
 * as many as a multiple ack frees; global=1 shares one limit between the
 * consumers of a channel; a no-ack consumer is not limited; deliveries keep
 * queue order.  Only a short grace period can show that nothing more
 * arrives, so the "exactly N" checks wait GRACE ms for an extra delivery.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define GRACE	250	/* ms to wait for a delivery that must not come */

static char	*declare_and_fill(amqp_connection_state_t, int);
static long	 expect_delivery(amqp_connection_state_t, uint64_t *);
static void	 per_consumer(void);
static void	 global_limit(void);
static void	 no_ack_unlimited(void);

/* Each case on its own connection. */
int
main(int argc, char **argv)
{
	(void)argc;
	harness_start(argv[0]);
	per_consumer();
	global_limit();
	no_ack_unlimited();
	return (harness_done());
}

/* Prefetch 3 on one consumer of 10 messages. */
static void
per_consumer(void)
{
	amqp_connection_state_t	 conn = harness_connect();
	char			*q = declare_and_fill(conn, 10);
	uint64_t		 tags[10];
	long			 next = 0;
	int			 i;

	amqp_basic_qos(conn, 1, 0, 3, 0);
	harness_rpc_ok(conn, "basic.qos 3");
	amqp_basic_consume(conn, 1, amqp_cstring_bytes(q), amqp_empty_bytes, 0,
	    0, 0, amqp_empty_table);
	harness_rpc_ok(conn, "basic.consume");

	for (i = 0; i < 3; i++) {
		HARNESS_ASSERT(expect_delivery(conn, &tags[next]) == next,
		    "out of order at %ld", next);
		next++;
	}
	harness_drain_none(conn, GRACE, "4th delivery with prefetch 3");

	/* A single ack frees one slot. */
	harness_status_ok(amqp_basic_ack(conn, 1, tags[0], 0), "basic.ack");
	HARNESS_ASSERT(expect_delivery(conn, &tags[next]) == next,
	    "out of order at %ld", next);
	next++;
	harness_drain_none(conn, GRACE, "delivery after one ack");

	/* A multiple ack of tags 1..3 frees three. */
	harness_status_ok(amqp_basic_ack(conn, 1, tags[3], 1),
	    "basic.ack multiple");
	for (i = 0; i < 3; i++) {
		HARNESS_ASSERT(expect_delivery(conn, &tags[next]) == next,
		    "out of order at %ld", next);
		next++;
	}
	harness_drain_none(conn, GRACE, "delivery after multiple ack");
	harness_wait_message_count(conn, 1, q, 3);

	/* Ack the rest one by one; the last three arrive, then nothing. */
	for (i = 4; i < 10; i++) {
		harness_status_ok(amqp_basic_ack(conn, 1, tags[i], 0),
		    "basic.ack");
		if (next < 10) {
			HARNESS_ASSERT(expect_delivery(conn, &tags[next]) ==
			    next, "out of order at %ld", next);
			next++;
		}
	}
	harness_drain_none(conn, GRACE, "after the last ack");
	harness_wait_message_count(conn, 1, q, 0);
	harness_close(conn);
	free(q);
}

/*
 * global=1: the limit is shared by all consumers on the channel
 * (RabbitMQ's reading of the flag).  Two consumers on two queues of 5
 * messages each with a global prefetch of 4 get 4 deliveries between them.
 */
static void
global_limit(void)
{
	amqp_connection_state_t	 conn = harness_connect();
	char			*q1 = declare_and_fill(conn, 5);
	char			*q2 = declare_and_fill(conn, 5);
	uint64_t		 tag;
	int			 i;

	amqp_basic_qos(conn, 1, 0, 4, 1);
	harness_rpc_ok(conn, "basic.qos 4 global");
	amqp_basic_consume(conn, 1, amqp_cstring_bytes(q1), amqp_empty_bytes,
	    0, 0, 0, amqp_empty_table);
	harness_rpc_ok(conn, "basic.consume q1");
	amqp_basic_consume(conn, 1, amqp_cstring_bytes(q2), amqp_empty_bytes,
	    0, 0, 0, amqp_empty_table);
	harness_rpc_ok(conn, "basic.consume q2");
	for (i = 0; i < 4; i++)
		expect_delivery(conn, &tag);
	harness_drain_none(conn, GRACE, "5th delivery with global prefetch 4");

	/* Ack all four at once: four more. */
	harness_status_ok(amqp_basic_ack(conn, 1, tag, 1),
	    "basic.ack multiple");
	for (i = 0; i < 4; i++)
		expect_delivery(conn, &tag);
	harness_drain_none(conn, GRACE, "delivery beyond the shared limit");
	harness_close(conn);
	free(q1);
	free(q2);
}

/* A no-ack consumer gets everything at once whatever the prefetch. */
static void
no_ack_unlimited(void)
{
	amqp_connection_state_t	 conn = harness_connect();
	char			*q = declare_and_fill(conn, 10);
	uint64_t		 tag;
	long			 i;

	amqp_basic_qos(conn, 1, 0, 1, 0);
	harness_rpc_ok(conn, "basic.qos 1");
	amqp_basic_consume(conn, 1, amqp_cstring_bytes(q), amqp_empty_bytes, 0,
	    1, 0, amqp_empty_table);
	harness_rpc_ok(conn, "basic.consume no-ack");
	for (i = 0; i < 10; i++)
		HARNESS_ASSERT(expect_delivery(conn, &tag) == i,
		    "out of order at %ld", i);
	harness_drain_none(conn, GRACE, "after all ten");
	harness_wait_message_count(conn, 1, q, 0);
	harness_close(conn);
	free(q);
}

/* Declare an exclusive queue holding n messages with bodies "0".."n-1". */
static char *
declare_and_fill(amqp_connection_state_t conn, int n)
{
	char	*q = harness_unique("c-prefetch");
	char	 body[16];
	int	 i;

	amqp_queue_declare(conn, 1, amqp_cstring_bytes(q), 0, 0, 1, 0,
	    amqp_empty_table);
	harness_rpc_ok(conn, "queue.declare");
	for (i = 0; i < n; i++) {
		snprintf(body, sizeof body, "%d", i);
		harness_status_ok(amqp_basic_publish(conn, 1,
		    amqp_empty_bytes, amqp_cstring_bytes(q), 0, 0, NULL,
		    amqp_cstring_bytes(body)), "basic.publish");
	}
	harness_wait_message_count(conn, 1, q, (uint32_t)n);
	return (q);
}

/* Wait for a delivery; store its tag and return its body as a number. */
static long
expect_delivery(amqp_connection_state_t conn, uint64_t *tag)
{
	amqp_envelope_t	 env;
	char		 num[16];
	size_t		 len;

	if (!harness_consume(conn, &env, HARNESS_OP_TIMEOUT))
		harness_fail("expected a delivery within %d ms",
		    HARNESS_OP_TIMEOUT);
	*tag = env.delivery_tag;
	len = env.message.body.len < sizeof num - 1 ? env.message.body.len :
	    sizeof num - 1;
	memcpy(num, env.message.body.bytes, len);
	num[len] = '\0';
	amqp_destroy_envelope(&env);
	return (strtol(num, NULL, 10));
}
