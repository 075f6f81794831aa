/*
 * 05-publish-roundtrip: what goes in comes out.  A message with every basic
 * property and a headers table using every field type rabbitmq-c can write
 * is consumed and fetched with basic.get; its properties, re-encoded, must
 * match the ones published byte for byte, and so must the body, the
 * envelope (exchange, routing key, tags) and, for bodies around the frame
 * size, the way they are split and rejoined.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define NHEADERS	18

static void	 full_properties(amqp_connection_state_t, const char *);
static void	 no_properties(amqp_connection_state_t);
static void	 frame_boundaries(amqp_connection_state_t);
static void	 expect_message(amqp_connection_state_t, const char *,
		    amqp_basic_properties_t *, amqp_bytes_t, const char *,
		    const char *);
static void	 expect_get(amqp_connection_state_t, const char *,
		    amqp_basic_properties_t *, amqp_bytes_t, const char *,
		    const char *, uint32_t);
static void	 compare(const char *, amqp_basic_properties_t *,
		    amqp_bytes_t, amqp_message_t *);
static amqp_bytes_t encode(amqp_basic_properties_t *, void *, size_t);
static amqp_bytes_t pattern(size_t, unsigned);
static char	*declare_queue(amqp_connection_state_t);

static uint64_t	 next_tag = 1;

/* Run the cases on one connection. */
int
main(int argc, char **argv)
{
	const struct harness_broker	*b;
	amqp_connection_state_t		 conn;

	(void)argc;
	b = harness_start(argv[0]);
	conn = harness_connect();
	full_properties(conn, b->user);
	no_properties(conn);
	frame_boundaries(conn);
	harness_close(conn);
	return (harness_done());
}

/*
 * Every property, a headers table with every field type (nested table and
 * array too) and a body holding every byte value, through amq.direct to a
 * consumer and then through the default exchange to basic.get.
 */
static void
full_properties(amqp_connection_state_t conn, const char *user)
{
	amqp_basic_properties_t	 p;
	amqp_table_entry_t	 h[NHEADERS], inner[2];
	amqp_field_value_t	 arr[3];
	amqp_bytes_t		 body = pattern(3000, 0);
	char			*q = declare_queue(conn);
	int			 i = 0;

	inner[0].key = amqp_cstring_bytes("deep");
	inner[0].value.kind = AMQP_FIELD_KIND_UTF8;
	inner[0].value.value.bytes = amqp_cstring_bytes("value");
	inner[1].key = amqp_cstring_bytes("n");
	inner[1].value.kind = AMQP_FIELD_KIND_I32;
	inner[1].value.value.i32 = -7;
	arr[0].kind = AMQP_FIELD_KIND_UTF8;
	arr[0].value.bytes = amqp_cstring_bytes("one");
	arr[1].kind = AMQP_FIELD_KIND_I64;
	arr[1].value.i64 = 2;
	arr[2].kind = AMQP_FIELD_KIND_BOOLEAN;
	arr[2].value.boolean = 1;

#define H(k, kind_, field, v) do {					\
	h[i].key = amqp_cstring_bytes(k);				\
	h[i].value.kind = (kind_);					\
	h[i].value.value.field = (v);					\
	i++;								\
} while (0)
	H("string", AMQP_FIELD_KIND_UTF8, bytes,
	    amqp_cstring_bytes("h\xc3\xa9llo w\xc3\xb6rld"));
	H("empty", AMQP_FIELD_KIND_UTF8, bytes, amqp_cstring_bytes(""));
	H("bool-true", AMQP_FIELD_KIND_BOOLEAN, boolean, 1);
	H("bool-false", AMQP_FIELD_KIND_BOOLEAN, boolean, 0);
	H("i8", AMQP_FIELD_KIND_I8, i8, -128);
	H("u8", AMQP_FIELD_KIND_U8, u8, 255);
	H("i16", AMQP_FIELD_KIND_I16, i16, -32768);
	H("u16", AMQP_FIELD_KIND_U16, u16, 65535);
	H("i32", AMQP_FIELD_KIND_I32, i32, -2147483647 - 1);
	H("u32", AMQP_FIELD_KIND_U32, u32, 4294967295u);
	H("i64", AMQP_FIELD_KIND_I64, i64, -9223372036854775807LL - 1);
	H("f32", AMQP_FIELD_KIND_F32, f32, 1.5f);
	H("f64", AMQP_FIELD_KIND_F64, f64, -2.25e300);
	H("timestamp", AMQP_FIELD_KIND_TIMESTAMP, u64, 1700000000u);
	H("bytes", AMQP_FIELD_KIND_BYTES, bytes, pattern(64, 7));
	h[i].key = amqp_cstring_bytes("decimal");
	h[i].value.kind = AMQP_FIELD_KIND_DECIMAL;
	h[i].value.value.decimal.decimals = 2;
	h[i].value.value.decimal.value = 31415;
	i++;
	H("table", AMQP_FIELD_KIND_TABLE, table.num_entries, 2);
	h[i - 1].value.value.table.entries = inner;
	H("array", AMQP_FIELD_KIND_ARRAY, array.num_entries, 3);
	h[i - 1].value.value.array.entries = arr;
#undef H
	HARNESS_ASSERT(i == NHEADERS, "%d headers", i);

	memset(&p, 0, sizeof p);
	p._flags = AMQP_BASIC_CONTENT_TYPE_FLAG |
	    AMQP_BASIC_CONTENT_ENCODING_FLAG | AMQP_BASIC_HEADERS_FLAG |
	    AMQP_BASIC_DELIVERY_MODE_FLAG | AMQP_BASIC_PRIORITY_FLAG |
	    AMQP_BASIC_CORRELATION_ID_FLAG | AMQP_BASIC_REPLY_TO_FLAG |
	    AMQP_BASIC_EXPIRATION_FLAG | AMQP_BASIC_MESSAGE_ID_FLAG |
	    AMQP_BASIC_TIMESTAMP_FLAG | AMQP_BASIC_TYPE_FLAG |
	    AMQP_BASIC_USER_ID_FLAG | AMQP_BASIC_APP_ID_FLAG |
	    AMQP_BASIC_CLUSTER_ID_FLAG;
	p.content_type = amqp_cstring_bytes("application/octet-stream");
	p.content_encoding = amqp_cstring_bytes("identity");
	p.headers.num_entries = NHEADERS;
	p.headers.entries = h;
	p.delivery_mode = 2;
	p.priority = 5;
	p.correlation_id = amqp_cstring_bytes("corr-\x01\x7f-42");
	p.reply_to = amqp_cstring_bytes("reply.queue");
	p.expiration = amqp_cstring_bytes("600000");
	p.message_id = amqp_cstring_bytes("message-id-1");
	p.timestamp = 1234567890;
	p.type = amqp_cstring_bytes("some.type");
	/* RabbitMQ refuses a user-id other than the connection's user. */
	p.user_id = amqp_cstring_bytes(user);
	p.app_id = amqp_cstring_bytes("05-publish-roundtrip");
	p.cluster_id = amqp_cstring_bytes("cluster-x");

	amqp_queue_bind(conn, 1, amqp_cstring_bytes(q),
	    amqp_cstring_bytes("amq.direct"), amqp_cstring_bytes(q),
	    amqp_empty_table);
	harness_rpc_ok(conn, "queue.bind");
	harness_status_ok(amqp_basic_publish(conn, 1,
	    amqp_cstring_bytes("amq.direct"), amqp_cstring_bytes(q), 0, 0, &p,
	    body), "basic.publish");
	expect_message(conn, q, &p, body, "amq.direct", q);

	harness_status_ok(amqp_basic_publish(conn, 1, amqp_empty_bytes,
	    amqp_cstring_bytes(q), 0, 0, &p, body), "basic.publish");
	expect_get(conn, q, &p, body, "", q, 0);

	amqp_bytes_free(h[14].value.value.bytes);
	amqp_bytes_free(body);
	free(q);
}

/* No properties at all and an empty body: a header frame with zero flags
 * and no body frame. */
static void
no_properties(amqp_connection_state_t conn)
{
	amqp_basic_properties_t	 p;
	char			*q = declare_queue(conn);

	memset(&p, 0, sizeof p);
	harness_status_ok(amqp_basic_publish(conn, 1, amqp_empty_bytes,
	    amqp_cstring_bytes(q), 0, 0, &p, amqp_empty_bytes),
	    "basic.publish");
	expect_message(conn, q, &p, amqp_empty_bytes, "", q);
	harness_status_ok(amqp_basic_publish(conn, 1, amqp_empty_bytes,
	    amqp_cstring_bytes(q), 0, 0, &p, amqp_empty_bytes),
	    "basic.publish");
	expect_get(conn, q, &p, amqp_empty_bytes, "", q, 0);
	free(q);
}

/* Bodies one short of, exactly, and one past a full body frame, and two
 * frames' worth: nothing lost or duplicated at the seams. */
static void
frame_boundaries(amqp_connection_state_t conn)
{
	amqp_basic_properties_t	 p;
	amqp_bytes_t		 body;
	size_t			 payload, sizes[5];
	char			*q = declare_queue(conn), id[64];
	unsigned		 i;

	payload = (size_t)amqp_get_frame_max(conn) - AMQP_FRAME_OVERHEAD;
	sizes[0] = payload - 1;
	sizes[1] = payload;
	sizes[2] = payload + 1;
	sizes[3] = 2 * payload;
	sizes[4] = 2 * payload + 1;
	memset(&p, 0, sizeof p);
	p._flags = AMQP_BASIC_MESSAGE_ID_FLAG;
	for (i = 0; i < 5; i++) {
		body = pattern(sizes[i], i);
		snprintf(id, sizeof id, "size-%zu", sizes[i]);
		p.message_id = amqp_cstring_bytes(id);
		harness_status_ok(amqp_basic_publish(conn, 1, amqp_empty_bytes,
		    amqp_cstring_bytes(q), 0, 0, &p, body), "basic.publish");
		expect_message(conn, q, &p, body, "", q);
		amqp_bytes_free(body);
	}
	free(q);
}

/* Consume one message from q (no-ack) and compare it with what was sent. */
static void
expect_message(amqp_connection_state_t conn, const char *q,
    amqp_basic_properties_t *p, amqp_bytes_t body, const char *exchange,
    const char *key)
{
	amqp_envelope_t			 env;
	amqp_basic_consume_ok_t		*ok;
	amqp_bytes_t			 tag;

	ok = amqp_basic_consume(conn, 1, amqp_cstring_bytes(q),
	    amqp_empty_bytes, 0, 1, 0, amqp_empty_table);
	harness_rpc_ok(conn, "basic.consume");
	tag = amqp_bytes_malloc_dup(ok->consumer_tag);
	HARNESS_ASSERT(tag.len > 0, "server generated an empty consumer tag");
	if (!harness_consume(conn, &env, HARNESS_OP_TIMEOUT))
		harness_fail("no delivery within %d ms", HARNESS_OP_TIMEOUT);
	HARNESS_ASSERT(env.channel == 1, "channel %u", env.channel);
	HARNESS_ASSERT(harness_bytes_eq(env.consumer_tag, tag),
	    "consumer tag '%.*s'", (int)env.consumer_tag.len,
	    (char *)env.consumer_tag.bytes);
	HARNESS_ASSERT(env.delivery_tag == next_tag, "delivery tag %llu, "
	    "expected %llu", (unsigned long long)env.delivery_tag,
	    (unsigned long long)next_tag);
	next_tag++;
	HARNESS_ASSERT(!env.redelivered, "redelivered on first delivery");
	HARNESS_ASSERT(harness_bytes_eq_str(env.exchange, exchange),
	    "exchange '%.*s', expected '%s'", (int)env.exchange.len,
	    (char *)env.exchange.bytes, exchange);
	HARNESS_ASSERT(harness_bytes_eq_str(env.routing_key, key),
	    "routing key '%.*s'", (int)env.routing_key.len,
	    (char *)env.routing_key.bytes);
	compare("basic.deliver", p, body, &env.message);
	amqp_destroy_envelope(&env);
	amqp_basic_cancel(conn, 1, tag);
	harness_rpc_ok(conn, "basic.cancel");
	amqp_bytes_free(tag);
}

/* Fetch one message from q with basic.get (no-ack) and compare it. */
static void
expect_get(amqp_connection_state_t conn, const char *q,
    amqp_basic_properties_t *p, amqp_bytes_t body, const char *exchange,
    const char *key, uint32_t left)
{
	amqp_rpc_reply_t	 r;
	amqp_basic_get_ok_t	*g;
	amqp_message_t		 m;
	int64_t			 deadline;

	/* The publish reaches the queue asynchronously: poll. */
	deadline = harness_now_ms() + HARNESS_OP_TIMEOUT;
	for (;;) {
		r = amqp_basic_get(conn, 1, amqp_cstring_bytes(q), 1);
		harness_ok(r, "basic.get");
		if (r.reply.id == AMQP_BASIC_GET_OK_METHOD)
			break;
		HARNESS_ASSERT(r.reply.id == AMQP_BASIC_GET_EMPTY_METHOD,
		    "basic.get answered %s", amqp_method_name(r.reply.id));
		if (harness_now_ms() >= deadline)
			harness_fail("basic.get: still empty after %d ms",
			    HARNESS_OP_TIMEOUT);
	}
	g = r.reply.decoded;
	HARNESS_ASSERT(g->delivery_tag == next_tag, "get delivery tag %llu",
	    (unsigned long long)g->delivery_tag);
	next_tag++;
	HARNESS_ASSERT(!g->redelivered, "redelivered");
	HARNESS_ASSERT(harness_bytes_eq_str(g->exchange, exchange),
	    "exchange '%.*s'", (int)g->exchange.len, (char *)g->exchange.bytes);
	HARNESS_ASSERT(harness_bytes_eq_str(g->routing_key, key),
	    "routing key '%.*s'", (int)g->routing_key.len,
	    (char *)g->routing_key.bytes);
	HARNESS_ASSERT(g->message_count == left, "message_count %u",
	    g->message_count);
	harness_ok(amqp_read_message(conn, 1, &m, 0), "read basic.get content");
	compare("basic.get-ok", p, body, &m);
	amqp_destroy_message(&m);

	r = amqp_basic_get(conn, 1, amqp_cstring_bytes(q), 1);
	harness_ok(r, "basic.get");
	HARNESS_ASSERT(r.reply.id == AMQP_BASIC_GET_EMPTY_METHOD,
	    "queue not empty after get: %s", amqp_method_name(r.reply.id));
}

/* Fail unless m carries exactly p (compared as encoded) and body. */
static void
compare(const char *what, amqp_basic_properties_t *p, amqp_bytes_t body,
    amqp_message_t *m)
{
	static char	 sent_buf[65536], got_buf[65536];
	amqp_bytes_t	 sent, got;
	size_t		 i;

	sent = encode(p, sent_buf, sizeof sent_buf);
	got = encode(&m->properties, got_buf, sizeof got_buf);
	if (!harness_bytes_eq(sent, got)) {
		for (i = 0; i < sent.len && i < got.len; i++)
			if (sent_buf[i] != got_buf[i])
				break;
		harness_fail("%s: properties differ: sent %zu bytes (flags "
		    "0x%04x), got %zu (flags 0x%04x), first difference at "
		    "byte %zu", what, sent.len, p->_flags, got.len,
		    m->properties._flags, i);
	}
	if (m->body.len != body.len)
		harness_fail("%s: body is %zu bytes, sent %zu", what,
		    m->body.len, body.len);
	for (i = 0; i < body.len; i++)
		if (((uint8_t *)m->body.bytes)[i] !=
		    ((uint8_t *)body.bytes)[i])
			harness_fail("%s: body differs at byte %zu of %zu",
			    what, i, body.len);
}

/* Encode basic properties as they travel in a content header. */
static amqp_bytes_t
encode(amqp_basic_properties_t *p, void *buf, size_t len)
{
	amqp_bytes_t	 b;
	int		 n;

	b.bytes = buf;
	b.len = len;
	if ((n = amqp_encode_properties(AMQP_BASIC_CLASS, p, b)) < 0)
		harness_fail("amqp_encode_properties: %s",
		    amqp_error_string2(n));
	b.len = (size_t)n;
	return (b);
}

/* A body of n bytes cycling through every byte value from seed. */
static amqp_bytes_t
pattern(size_t n, unsigned seed)
{
	amqp_bytes_t	 b = amqp_bytes_malloc(n);
	size_t		 i;

	if (n > 0 && b.bytes == NULL)
		harness_fail("out of memory");
	for (i = 0; i < n; i++)
		((uint8_t *)b.bytes)[i] = (uint8_t)((i * 7 + seed) & 0xff);
	return (b);
}

/* Declare an exclusive queue with a unique name (not auto-delete: cases
 * cancel their consumer and carry on). */
static char *
declare_queue(amqp_connection_state_t conn)
{
	char	*q = harness_unique("c-roundtrip");

	amqp_queue_declare(conn, 1, amqp_cstring_bytes(q), 0, 0, 1, 0,
	    amqp_empty_table);
	harness_rpc_ok(conn, harness_format("queue.declare %s", q));
	return (q);
}
