/*
 * 05-publish-mandatory: a mandatory message that no queue takes comes back
 * in basic.return 312 NO_ROUTE with its exchange, routing key, properties
 * and body; a routable or non-mandatory one does not.  In confirm mode the
 * return precedes the ack for the same message.  Absence is shown by order,
 * not by waiting: a later unroutable message is always the first returned.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

static void	 publish(amqp_connection_state_t, const char *, const char *,
		    int, const char *);
static void	 expect_return(amqp_connection_state_t, const char *,
		    const char *, const char *);
static void	 expect_ack(amqp_connection_state_t, uint64_t);
static void	 returns_plain(amqp_connection_state_t);
static void	 returns_confirmed(amqp_connection_state_t);

/* Two cases on separate channels of one connection. */
int
main(int argc, char **argv)
{
	amqp_connection_state_t	 conn;

	(void)argc;
	harness_start(argv[0]);
	conn = harness_connect();
	returns_plain(conn);
	harness_channel_open(conn, 2);
	returns_confirmed(conn);
	harness_close(conn);
	return (harness_done());
}

/* Without confirms: unroutable mandatory messages, to a named exchange and
 * to the default exchange, come back; routable and non-mandatory ones do
 * not. */
static void
returns_plain(amqp_connection_state_t conn)
{
	char			*q = harness_unique("c-mandatory");
	char			*nowhere = harness_unique("c-nowhere");
	amqp_envelope_t		 env;

	amqp_queue_declare(conn, 1, amqp_cstring_bytes(q), 0, 0, 1, 0,
	    amqp_empty_table);
	harness_rpc_ok(conn, "queue.declare");
	amqp_queue_bind(conn, 1, amqp_cstring_bytes(q),
	    amqp_cstring_bytes("amq.direct"), amqp_cstring_bytes(q),
	    amqp_empty_table);
	harness_rpc_ok(conn, "queue.bind");

	publish(conn, "amq.direct", q, 1, "routed");
	publish(conn, "amq.direct", nowhere, 0, "dropped");
	publish(conn, "amq.direct", nowhere, 1, "returned-1");
	expect_return(conn, "amq.direct", nowhere, "returned-1");

	publish(conn, "", q, 1, "routed-default");
	publish(conn, "", nowhere, 0, "dropped-default");
	publish(conn, "", nowhere, 1, "returned-2");
	expect_return(conn, "", nowhere, "returned-2");

	/* Both routed messages, and only they, reached the queue. */
	amqp_basic_consume(conn, 1, amqp_cstring_bytes(q), amqp_empty_bytes, 0,
	    1, 0, amqp_empty_table);
	harness_rpc_ok(conn, "basic.consume");
	if (!harness_consume(conn, &env, HARNESS_OP_TIMEOUT))
		harness_fail("routed message not delivered");
	HARNESS_ASSERT(harness_bytes_eq_str(env.message.body, "routed"),
	    "first delivery '%.*s'", (int)env.message.body.len,
	    (char *)env.message.body.bytes);
	amqp_destroy_envelope(&env);
	if (!harness_consume(conn, &env, HARNESS_OP_TIMEOUT))
		harness_fail("routed message not delivered");
	HARNESS_ASSERT(harness_bytes_eq_str(env.message.body,
	    "routed-default"), "second delivery '%.*s'",
	    (int)env.message.body.len, (char *)env.message.body.bytes);
	amqp_destroy_envelope(&env);
	harness_wait_message_count(conn, 1, q, 0);
	free(q);
	free(nowhere);
}

/* With confirms (channel 2): the return comes before the ack of the same
 * message, and unroutable non-mandatory messages are simply acked. */
static void
returns_confirmed(amqp_connection_state_t conn)
{
	char	*nowhere = harness_unique("c-nowhere");

	amqp_confirm_select(conn, 2);
	harness_rpc_ok(conn, "confirm.select");

	/* publish() uses channel 1; this case needs channel 2. */
	harness_status_ok(amqp_basic_publish(conn, 2,
	    amqp_cstring_bytes("amq.direct"), amqp_cstring_bytes(nowhere), 0,
	    0, NULL, amqp_cstring_bytes("dropped")), "basic.publish");
	expect_ack(conn, 1);
	harness_status_ok(amqp_basic_publish(conn, 2,
	    amqp_cstring_bytes("amq.direct"), amqp_cstring_bytes(nowhere), 1,
	    0, NULL, amqp_cstring_bytes("returned")), "basic.publish");
	expect_return(conn, "amq.direct", nowhere, NULL);
	expect_ack(conn, 2);
	free(nowhere);
}

/* Publish body on channel 1 with its body as message-id. */
static void
publish(amqp_connection_state_t conn, const char *exchange, const char *key,
    int mandatory, const char *body)
{
	amqp_basic_properties_t	 p;

	memset(&p, 0, sizeof p);
	p._flags = AMQP_BASIC_MESSAGE_ID_FLAG | AMQP_BASIC_CONTENT_TYPE_FLAG;
	p.message_id = amqp_cstring_bytes(body);
	p.content_type = amqp_cstring_bytes("text/plain");
	harness_status_ok(amqp_basic_publish(conn, 1,
	    amqp_cstring_bytes(exchange), amqp_cstring_bytes(key), mandatory, 0,
	    &p, amqp_cstring_bytes(body)), "basic.publish");
}

/*
 * The next frame must be basic.return 312 NO_ROUTE for exchange and key,
 * followed by the message: body (and message-id, when given) equal to body
 * and content-type intact.
 */
static void
expect_return(amqp_connection_state_t conn, const char *exchange,
    const char *key, const char *body)
{
	amqp_frame_t		 f;
	amqp_basic_return_t	*r;
	amqp_message_t		 m;
	amqp_channel_t		 ch;

	if (!harness_wait_frame(conn, &f, HARNESS_OP_TIMEOUT))
		harness_fail("no basic.return within %d ms",
		    HARNESS_OP_TIMEOUT);
	HARNESS_ASSERT(f.frame_type == AMQP_FRAME_METHOD &&
	    f.payload.method.id == AMQP_BASIC_RETURN_METHOD,
	    "expected basic.return, got frame type %u %s", f.frame_type,
	    f.frame_type == AMQP_FRAME_METHOD ?
	    amqp_method_name(f.payload.method.id) : "");
	ch = f.channel;
	r = f.payload.method.decoded;
	HARNESS_ASSERT(r->reply_code == AMQP_NO_ROUTE, "reply code %u",
	    r->reply_code);
	HARNESS_ASSERT(harness_bytes_eq_str(r->reply_text, "NO_ROUTE"),
	    "reply text '%.*s'", (int)r->reply_text.len,
	    (char *)r->reply_text.bytes);
	HARNESS_ASSERT(harness_bytes_eq_str(r->exchange, exchange),
	    "exchange '%.*s'", (int)r->exchange.len, (char *)r->exchange.bytes);
	HARNESS_ASSERT(harness_bytes_eq_str(r->routing_key, key),
	    "routing key '%.*s'", (int)r->routing_key.len,
	    (char *)r->routing_key.bytes);
	harness_ok(amqp_read_message(conn, ch, &m, 0), "read returned message");
	if (body != NULL) {
		HARNESS_ASSERT(harness_bytes_eq_str(m.body, body),
		    "returned body '%.*s', expected '%s'", (int)m.body.len,
		    (char *)m.body.bytes, body);
		HARNESS_ASSERT((m.properties._flags &
		    AMQP_BASIC_MESSAGE_ID_FLAG) &&
		    harness_bytes_eq_str(m.properties.message_id, body),
		    "returned message-id lost");
		HARNESS_ASSERT((m.properties._flags &
		    AMQP_BASIC_CONTENT_TYPE_FLAG) &&
		    harness_bytes_eq_str(m.properties.content_type,
		    "text/plain"), "returned content-type lost");
	} else
		HARNESS_ASSERT(harness_bytes_eq_str(m.body, "returned"),
		    "returned body '%.*s'", (int)m.body.len,
		    (char *)m.body.bytes);
	amqp_destroy_message(&m);
}

/* The next frame must be basic.ack for exactly this tag on channel 2. */
static void
expect_ack(amqp_connection_state_t conn, uint64_t tag)
{
	amqp_frame_t		 f;
	amqp_basic_ack_t	*a;

	if (!harness_wait_frame(conn, &f, HARNESS_OP_TIMEOUT))
		harness_fail("no basic.ack %llu within %d ms",
		    (unsigned long long)tag, HARNESS_OP_TIMEOUT);
	HARNESS_ASSERT(f.frame_type == AMQP_FRAME_METHOD &&
	    f.payload.method.id == AMQP_BASIC_ACK_METHOD && f.channel == 2,
	    "expected basic.ack on channel 2, got frame type %u %s on %u",
	    f.frame_type, f.frame_type == AMQP_FRAME_METHOD ?
	    amqp_method_name(f.payload.method.id) : "", f.channel);
	a = f.payload.method.decoded;
	HARNESS_ASSERT(a->delivery_tag == tag && !a->multiple,
	    "basic.ack tag %llu multiple %d, expected %llu",
	    (unsigned long long)a->delivery_tag, a->multiple,
	    (unsigned long long)tag);
}
