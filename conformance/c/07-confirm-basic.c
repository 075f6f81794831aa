/*
 * 07-confirm-basic: publisher confirms.  After confirm.select every publish
 * gets a sequence number from 1; the broker acks each exactly once,
 * possibly several at a time with multiple=1, whether the message
 * went to a transient queue, to a durable queue as a persistent message, or
 * nowhere.  A second confirm.select is harmless, each channel counts on its
 * own, and tx.select on a confirm channel is 406.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define BATCH	200

static int	 confirmed[BATCH + 1];

static void	 publish_batch(amqp_connection_state_t, amqp_channel_t,
		    const char *, const char *, int, int);
static void	 wait_confirms(amqp_connection_state_t, amqp_channel_t, int,
		    int);

/* Confirm batches to three destinations, then the mode errors. */
int
main(int argc, char **argv)
{
	amqp_connection_state_t	 conn;
	char			*q, *dq;

	(void)argc;
	harness_start(argv[0]);
	conn = harness_connect();
	q = harness_unique("c-confirm");
	dq = harness_unique("c-confirm-durable");
	amqp_queue_declare(conn, 1, amqp_cstring_bytes(q), 0, 0, 1, 0,
	    amqp_empty_table);
	harness_rpc_ok(conn, "queue.declare");
	amqp_queue_declare(conn, 1, amqp_cstring_bytes(dq), 0, 1, 0, 0,
	    amqp_empty_table);
	harness_rpc_ok(conn, "queue.declare durable");

	amqp_confirm_select(conn, 1);
	harness_rpc_ok(conn, "confirm.select");
	amqp_confirm_select(conn, 1);
	harness_rpc_ok(conn, "second confirm.select");

	/* Tags 1..BATCH to a transient queue. */
	publish_batch(conn, 1, "", q, 0, BATCH);
	wait_confirms(conn, 1, 0, BATCH);
	harness_wait_message_count(conn, 1, q, BATCH);

	/* Tags BATCH+1.. continue the sequence: persistent, durable queue. */
	publish_batch(conn, 1, "", dq, 1, 50);
	wait_confirms(conn, 1, BATCH, 50);
	harness_wait_message_count(conn, 1, dq, 50);

	/* Unroutable: still acked (and not returned: not mandatory). */
	publish_batch(conn, 1, "amq.direct", "c-confirm-nowhere", 0, 10);
	wait_confirms(conn, 1, BATCH + 50, 10);

	/* Another channel counts from 1. */
	harness_channel_open(conn, 2);
	amqp_confirm_select(conn, 2);
	harness_rpc_ok(conn, "confirm.select on channel 2");
	publish_batch(conn, 2, "", q, 0, 5);
	wait_confirms(conn, 2, 0, 5);

	/* A confirm channel cannot become transactional. */
	amqp_tx_select(conn, 2);
	harness_expect_channel_close(conn, 2, amqp_get_rpc_reply(conn),
	    AMQP_PRECONDITION_FAILED, AMQP_TX_SELECT,
	    "PRECONDITION_FAILED - cannot switch from confirm to tx mode");

	amqp_queue_delete(conn, 1, amqp_cstring_bytes(dq), 0, 0);
	harness_rpc_ok(conn, "queue.delete durable");
	harness_close(conn);
	free(q);
	free(dq);
	return (harness_done());
}

/* Publish n messages on ch (persistent if asked). */
static void
publish_batch(amqp_connection_state_t conn, amqp_channel_t ch,
    const char *exchange, const char *key, int persistent, int n)
{
	amqp_basic_properties_t	 p;
	char			 body[32];
	int			 i;

	memset(&p, 0, sizeof p);
	if (persistent) {
		p._flags = AMQP_BASIC_DELIVERY_MODE_FLAG;
		p.delivery_mode = AMQP_DELIVERY_PERSISTENT;
	}
	for (i = 0; i < n; i++) {
		snprintf(body, sizeof body, "confirm-%d", i);
		harness_status_ok(amqp_basic_publish(conn, ch,
		    amqp_cstring_bytes(exchange), amqp_cstring_bytes(key), 0, 0,
		    &p, amqp_cstring_bytes(body)), "basic.publish");
	}
}

/*
 * Read basic.ack frames on ch until tags base+1..base+n are all confirmed.
 * A multiple ack covers every tag up to its own not yet confirmed; each ack
 * must confirm its own tag for the first time; no nack, and no tag outside
 * the batch.  Order is not checked: the spec allows any.
 */
static void
wait_confirms(amqp_connection_state_t conn, amqp_channel_t ch, int base,
    int n)
{
	amqp_frame_t		 f;
	amqp_basic_ack_t	*a;
	int64_t			 deadline;
	uint64_t		 t, tag;
	int			 left = n, acks = 0, multiples = 0;

	deadline = harness_now_ms() + HARNESS_OP_TIMEOUT;
	memset(confirmed, 0, sizeof confirmed);
	while (left > 0) {
		if (!harness_wait_frame(conn, &f,
		    (int)(deadline - harness_now_ms())))
			harness_fail("%d of %d confirms missing after %d ms",
			    left, n, HARNESS_OP_TIMEOUT);
		HARNESS_ASSERT(f.frame_type == AMQP_FRAME_METHOD && f.channel ==
		    ch, "frame type %u on channel %u while waiting for "
		    "confirms", f.frame_type, f.channel);
		HARNESS_ASSERT(f.payload.method.id == AMQP_BASIC_ACK_METHOD,
		    "expected basic.ack, got %s",
		    amqp_method_name(f.payload.method.id));
		a = f.payload.method.decoded;
		tag = a->delivery_tag;
		HARNESS_ASSERT(tag > (uint64_t)base && tag <= (uint64_t)(base +
		    n), "ack for tag %llu, batch is %d..%d",
		    (unsigned long long)tag, base + 1, base + n);
		HARNESS_ASSERT(!confirmed[tag - (uint64_t)base], "tag %llu "
		    "confirmed twice (multiple=%d)", (unsigned long long)tag,
		    a->multiple);
		acks++;
		multiples += a->multiple != 0;
		for (t = a->multiple ? 1 : tag - (uint64_t)base;
		    t <= tag - (uint64_t)base; t++)
			if (!confirmed[t]) {
				confirmed[t] = 1;
				left--;
			}
	}
	harness_log("channel %u: %d tags confirmed by %d acks (%d multiple)",
	    ch, n, acks, multiples);
}
