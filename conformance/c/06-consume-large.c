/*
 * 06-consume-large: a 4 MiB body on connections whose client proposed
 * frame_max 4096, so the body travels as about a thousand body frames each
 * way.  The negotiated frame_max must be 4096; the message must come back
 * byte for byte to a small-frame consumer, to a consumer with the default
 * frame size (the broker re-frames it) and through basic.get.  The body is
 * pseudo-random so that a lost, repeated or reordered frame shows.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define BODY_SIZE	(4 * 1024 * 1024)
#define SMALL_FRAME	4096

static amqp_bytes_t body;

static void	 fill_body(void);
static void	 check_body(const char *, amqp_bytes_t);
static void	 consume_one(amqp_connection_state_t, const char *,
		    const char *);

/* Publish twice from a small-frame connection, consume on two. */
int
main(int argc, char **argv)
{
	amqp_connection_state_t	 small, big;
	amqp_rpc_reply_t	 r;
	amqp_message_t		 m;
	char			*q;
	int64_t			 deadline;

	(void)argc;
	harness_start(argv[0]);
	fill_body();
	q = harness_unique("c-large");

	small = harness_connect_tuned(0, SMALL_FRAME, 0);
	HARNESS_ASSERT(amqp_get_frame_max(small) == SMALL_FRAME,
	    "negotiated frame_max %d", amqp_get_frame_max(small));
	harness_channel_open(small, 1);
	big = harness_connect();
	HARNESS_ASSERT(amqp_get_frame_max(big) > SMALL_FRAME,
	    "default frame_max only %d", amqp_get_frame_max(big));

	amqp_queue_declare(small, 1, amqp_cstring_bytes(q), 0, 0, 0, 0,
	    amqp_empty_table);
	harness_rpc_ok(small, "queue.declare");
	harness_status_ok(amqp_basic_publish(small, 1, amqp_empty_bytes,
	    amqp_cstring_bytes(q), 0, 0, NULL, body), "publish 4 MiB");
	harness_status_ok(amqp_basic_publish(small, 1, amqp_empty_bytes,
	    amqp_cstring_bytes(q), 0, 0, NULL, body), "publish 4 MiB");
	harness_status_ok(amqp_basic_publish(big, 1, amqp_empty_bytes,
	    amqp_cstring_bytes(q), 0, 0, NULL, body), "publish 4 MiB");

	consume_one(small, q, "small-frame consumer");
	consume_one(big, q, "default-frame consumer");

	/* basic.get on the small-frame connection. */
	deadline = harness_now_ms() + HARNESS_OP_TIMEOUT;
	for (;;) {
		r = amqp_basic_get(small, 1, amqp_cstring_bytes(q), 1);
		harness_ok(r, "basic.get");
		if (r.reply.id == AMQP_BASIC_GET_OK_METHOD)
			break;
		if (harness_now_ms() >= deadline)
			harness_fail("basic.get: empty after %d ms",
			    HARNESS_OP_TIMEOUT);
	}
	harness_ok(amqp_read_message(small, 1, &m, 0), "read get-ok content");
	check_body("basic.get", m.body);
	amqp_destroy_message(&m);

	amqp_queue_delete(small, 1, amqp_cstring_bytes(q), 0, 0);
	harness_rpc_ok(small, "queue.delete");
	harness_close(small);
	harness_close(big);
	amqp_bytes_free(body);
	free(q);
	return (harness_done());
}

/* Fill the body from a 32-bit LCG (no period near a frame's size). */
static void
fill_body(void)
{
	uint32_t	 x = 12345;
	size_t		 i;

	body = amqp_bytes_malloc(BODY_SIZE);
	if (body.bytes == NULL)
		harness_fail("out of memory");
	for (i = 0; i < BODY_SIZE; i++) {
		x = x * 1103515245u + 12345u;
		((uint8_t *)body.bytes)[i] = (uint8_t)(x >> 24);
	}
}

/* Fail unless got is the body, naming the first differing byte. */
static void
check_body(const char *what, amqp_bytes_t got)
{
	size_t	 i;

	if (got.len != body.len)
		harness_fail("%s: %zu bytes, expected %zu", what, got.len,
		    body.len);
	for (i = 0; i < body.len; i++)
		if (((uint8_t *)got.bytes)[i] != ((uint8_t *)body.bytes)[i])
			harness_fail("%s: differs at byte %zu (body frame %zu "
			    "at 4096)", what, i,
			    i / (SMALL_FRAME - AMQP_FRAME_OVERHEAD));
	harness_log("%s: %zu bytes intact", what, got.len);
}

/*
 * Consume exactly one message from q: prefetch 1 and manual ack, cancelled
 * before the ack so that no second delivery can follow.
 */
static void
consume_one(amqp_connection_state_t conn, const char *q, const char *what)
{
	amqp_basic_consume_ok_t	*ok;
	amqp_envelope_t		 env;
	amqp_bytes_t		 tag;
	uint64_t		 dtag;

	amqp_basic_qos(conn, 1, 0, 1, 0);
	harness_rpc_ok(conn, "basic.qos");
	ok = amqp_basic_consume(conn, 1, amqp_cstring_bytes(q),
	    amqp_empty_bytes, 0, 0, 0, amqp_empty_table);
	harness_rpc_ok(conn, "basic.consume");
	tag = amqp_bytes_malloc_dup(ok->consumer_tag);
	if (!harness_consume(conn, &env, HARNESS_OP_TIMEOUT))
		harness_fail("%s: no delivery within %d ms", what,
		    HARNESS_OP_TIMEOUT);
	check_body(what, env.message.body);
	dtag = env.delivery_tag;
	amqp_destroy_envelope(&env);
	amqp_basic_cancel(conn, 1, tag);
	harness_rpc_ok(conn, "basic.cancel");
	harness_status_ok(amqp_basic_ack(conn, 1, dtag, 0), "basic.ack");
	amqp_bytes_free(tag);
}
