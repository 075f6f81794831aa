/*
 * check_method.c: Check suite for src/method.c, src/frame.c and
 * src/props.c.  Every method and the basic properties are round-tripped
 * against rabbitmq-c's own codec: rabbitmq-c encodes, method_decode()
 * reads, each field is compared; then method_encode() writes, the bytes
 * must equal rabbitmq-c's, and amqp_decode_method() reads them back.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <amqp.h>
#include <amqp_framing.h>
#include <check.h>
#include <event2/buffer.h>

#include "amqp_defs.h"
#include "method.h"

#define BUFSZ		(1 << 20)
#define BIT(v, n)	(((v) >> (n)) & 1)

static amqp_pool_t	 pool;
static uint8_t		 theirs_buf[BUFSZ];	/* rabbitmq-c, ids onward */
static size_t		 theirs_len;
static uint8_t		 ours_buf[BUFSZ];	/* method_encode payload */
static size_t		 ours_len;
static unsigned		 chan_seq;
static char		 long255[255];
static uint8_t		 big[100000];

/* rabbitmq-c values for a table with every type, nested. */
static amqp_table_entry_t	 rich_e[20], nest_e[3], deeper_e[1];
static amqp_table_entry_t	 arrtab_e[1];
static amqp_field_value_t	 arr_v[5], arr_inner_v[2], nest_arr_v[1];
static amqp_table_t		 rich;

static void	 setup(void);
static void	 teardown(void);
static void	 values_init(void);
static int	 bytes_eq(const void *, size_t, amqp_bytes_t);
static amqp_bytes_t sv(unsigned, unsigned);
static amqp_bytes_t lv(unsigned);
static amqp_table_t tv(unsigned);
static uint16_t	 u16v(unsigned);
static uint32_t	 u32v(unsigned);
static uint64_t	 u64v(unsigned);
static amqp_field_value_t fv(uint8_t);
static amqp_table_entry_t ent(const char *, amqp_field_value_t);
static int	 value_matches(const struct field_value *,
		     const amqp_field_value_t *);
static int	 table_matches(const struct field_table *,
		     const amqp_table_t *);
static int	 array_matches(const struct field_table *,
		     const amqp_array_t *);
static void	 rmq_encode(uint32_t, void *);
static void	 ours_decode(uint32_t, union method_args *);
static void	*ours_encode(uint32_t, const void *);
static void	 sample_args(const struct method_desc *, union method_args *,
		     struct evbuffer *);
static size_t	 payload_of(const struct method_desc *, union method_args *,
		     uint8_t *);
static uint32_t	 be32(const uint8_t *);

#define SS_EQ(ss, b)	bytes_eq((ss).s, (ss).len, (b))
#define LS_EQ(ls, b)	bytes_eq((ls).p, (ls).len, (b))

/*
 * Round trip ID: t (rabbitmq-c struct) -> bytes -> a (ours), compared by
 * CMP; a -> bytes (equal to rabbitmq-c's) -> rabbitmq-c struct, compared
 * by CMP against a again.
 */
#define ROUNDTRIP(ID, t, a, MEMBER, CMP) do {				\
	rmq_encode((ID), &(t));						\
	ours_decode((ID), &(a));					\
	CMP(&(a).MEMBER, &(t));						\
	CMP(&(a).MEMBER, ours_encode((ID), &(a)));			\
} while (0)

/* Per-test: a fresh rabbitmq-c pool. */
static void
setup(void)
{
	init_amqp_pool(&pool, 4096);
}

/* Per-test: release the pool. */
static void
teardown(void)
{
	empty_amqp_pool(&pool);
}

/* Build a rabbitmq-c field value of a kind, zeroed. */
static amqp_field_value_t
fv(uint8_t kind)
{
	amqp_field_value_t	v;

	memset(&v, 0, sizeof v);
	v.kind = kind;
	return (v);
}

/* Build a rabbitmq-c table entry. */
static amqp_table_entry_t
ent(const char *k, amqp_field_value_t v)
{
	amqp_table_entry_t	e;

	e.key = amqp_cstring_bytes(k);
	e.value = v;
	return (e);
}

/*
 * The test values: strings of every length class and a table with every
 * RabbitMQ field type, nested tables and arrays (including 'L', which
 * RabbitMQ reads as a signed 64-bit).
 */
static void
values_init(void)
{
	amqp_field_value_t	v;
	size_t			i;
	int			n = 0;

	for (i = 0; i < sizeof long255; i++)
		long255[i] = 'A' + (char)(i % 26);
	for (i = 0; i < sizeof big; i++)
		big[i] = (uint8_t)(i * 7 + 3);

	v = fv('I'); v.value.i32 = 7;
	deeper_e[0] = ent("n", v);
	nest_arr_v[0] = fv('b'); nest_arr_v[0].value.i8 = 1;
	v = fv('S'); v.value.bytes = amqp_cstring_bytes("x");
	nest_e[0] = ent("inner", v);
	v = fv('F'); v.value.table.num_entries = 1;
	v.value.table.entries = deeper_e;
	nest_e[1] = ent("deeper", v);
	v = fv('A'); v.value.array.num_entries = 1;
	v.value.array.entries = nest_arr_v;
	nest_e[2] = ent("arr", v);

	arr_inner_v[0] = fv('t'); arr_inner_v[0].value.boolean = 1;
	arr_inner_v[1] = fv('V');
	arrtab_e[0] = ent("k", fv('V'));
	arr_v[0] = fv('I'); arr_v[0].value.i32 = 1;
	arr_v[1] = fv('S'); arr_v[1].value.bytes = amqp_cstring_bytes("two");
	arr_v[2] = fv('A'); arr_v[2].value.array.num_entries = 2;
	arr_v[2].value.array.entries = arr_inner_v;
	arr_v[3] = fv('F'); arr_v[3].value.table.num_entries = 1;
	arr_v[3].value.table.entries = arrtab_e;
	arr_v[4] = fv('d'); arr_v[4].value.f64 = 0.5;

	v = fv('t'); v.value.boolean = 1; rich_e[n++] = ent("bool", v);
	v = fv('b'); v.value.i8 = -128; rich_e[n++] = ent("i8", v);
	v = fv('B'); v.value.u8 = 255; rich_e[n++] = ent("u8", v);
	v = fv('s'); v.value.i16 = -32768; rich_e[n++] = ent("i16", v);
	v = fv('u'); v.value.u16 = 65535; rich_e[n++] = ent("u16", v);
	v = fv('I'); v.value.i32 = INT32_MIN; rich_e[n++] = ent("i32", v);
	v = fv('i'); v.value.u32 = UINT32_MAX; rich_e[n++] = ent("u32", v);
	v = fv('l'); v.value.i64 = INT64_MIN; rich_e[n++] = ent("i64", v);
	v = fv('L'); v.value.u64 = 0x8000000000000001ULL;
	rich_e[n++] = ent("u64", v);
	v = fv('f'); v.value.f32 = 3.25f; rich_e[n++] = ent("f32", v);
	v = fv('d'); v.value.f64 = -1e300; rich_e[n++] = ent("f64", v);
	v = fv('D'); v.value.decimal.decimals = 4;
	v.value.decimal.value = 0xdeadbeef; rich_e[n++] = ent("dec", v);
	v = fv('S'); v.value.bytes = amqp_cstring_bytes("h\xc3\xa9llo");
	rich_e[n++] = ent("utf8", v);
	v = fv('x'); v.value.bytes.bytes = "\0\xff\0";
	v.value.bytes.len = 3; rich_e[n++] = ent("bytes", v);
	v = fv('T'); v.value.u64 = 1700000000; rich_e[n++] = ent("ts", v);
	rich_e[n++] = ent("void", fv('V'));
	v = fv('F'); v.value.table.num_entries = 3;
	v.value.table.entries = nest_e; rich_e[n++] = ent("table", v);
	v = fv('A'); v.value.array.num_entries = 5;
	v.value.array.entries = arr_v; rich_e[n++] = ent("array", v);
	rich_e[n++] = ent("empty-table", fv('F'));
	rich_e[n++] = ent("empty-array", fv('A'));
	rich.num_entries = n;
	rich.entries = rich_e;
}

/* Are n bytes at p equal to b?  Empty strings may have NULL pointers. */
static int
bytes_eq(const void *p, size_t n, amqp_bytes_t b)
{
	return (n == b.len && (n == 0 || memcmp(p, b.bytes, n) == 0));
}

/* A short string chosen by variant v and field position which. */
static amqp_bytes_t
sv(unsigned v, unsigned which)
{
	static const char *const	 s[] = { "", "a",
	    "amq.gen-JzTY20BRgKO-HjmUJj0wLg", "\xc3\xa9t\xc3\xa9\x00x" };
	amqp_bytes_t			 b;
	unsigned			 k = (v + which) % 5;

	if (k == 4) {
		b.bytes = long255;
		b.len = sizeof long255;
	} else if (k == 3) {
		b.bytes = (void *)s[3];
		b.len = 8;		/* with the NUL inside */
	} else
		b = amqp_cstring_bytes(s[k]);
	return (b);
}

/* A long string chosen by variant v: empty, binary, or 100000 bytes. */
static amqp_bytes_t
lv(unsigned v)
{
	amqp_bytes_t	b;

	switch (v % 3) {
	case 0:
		b = amqp_empty_bytes;
		break;
	case 1:
		b.bytes = "\0guest\0guest";
		b.len = 12;
		break;
	default:
		b.bytes = big;
		b.len = sizeof big;
		break;
	}
	return (b);
}

/* A table chosen by variant v: empty or the rich one. */
static amqp_table_t
tv(unsigned v)
{
	return ((v & 1) ? rich : amqp_empty_table);
}

/* Integers that differ per variant and in every byte. */
static uint16_t
u16v(unsigned v)
{
	return ((uint16_t)(0x1234 ^ (v * 0x0101u)) | (v & 1 ? 0x8000 : 0));
}

/* See u16v. */
static uint32_t
u32v(unsigned v)
{
	return (0x89abcdefu ^ (v * 0x01010101u));
}

/* See u16v. */
static uint64_t
u64v(unsigned v)
{
	return (0xfedcba9876543210ULL ^ ((uint64_t)v * 0x0101010101010101ULL));
}

/* Load a big-endian 32-bit value. */
static uint32_t
be32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3]);
}

/* Does our value equal the rabbitmq-c one, type and content? */
static int
value_matches(const struct field_value *v, const amqp_field_value_t *w)
{
	if (v->type != w->kind)
		return (0);
	switch (w->kind) {
	case 't':
		return ((v->v.b != 0) == (w->value.boolean != 0));
	case 'b':
		return (v->v.i == w->value.i8);
	case 'B':
		return (v->v.u == w->value.u8);
	case 's':
		return (v->v.i == w->value.i16);
	case 'u':
		return (v->v.u == w->value.u16);
	case 'I':
		return (v->v.i == w->value.i32);
	case 'i':
		return (v->v.u == w->value.u32);
	case 'l':
		return (v->v.i == w->value.i64);
	case 'L':
		return ((uint64_t)v->v.i == w->value.u64);
	case 'f':
		return (memcmp(&v->v.f, &w->value.f32, sizeof(float)) == 0);
	case 'd':
		return (memcmp(&v->v.d, &w->value.f64, sizeof(double)) == 0);
	case 'D':
		return (v->v.dec.scale == w->value.decimal.decimals &&
		    v->v.dec.value == w->value.decimal.value);
	case 'S':
	case 'x':
		return (bytes_eq(v->v.s.p, v->v.s.len, w->value.bytes));
	case 'T':
		return (v->v.u == w->value.u64);
	case 'V':
		return (1);
	case 'F':
		return (table_matches(&v->v.t, &w->value.table));
	case 'A':
		return (array_matches(&v->v.t, &w->value.array));
	}
	return (0);
}

/* Does our table hold the same entries, in order, as the rabbitmq-c one? */
static int
table_matches(const struct field_table *t, const amqp_table_t *w)
{
	struct table_iter	it;
	struct field_value	v;
	struct shortstr		k;
	int			i = 0;

	table_iter_init(&it, t);
	while (table_next(&it, &k, &v)) {
		if (i >= w->num_entries ||
		    !bytes_eq(k.s, k.len, w->entries[i].key) ||
		    !value_matches(&v, &w->entries[i].value))
			return (0);
		i++;
	}
	return (i == w->num_entries);
}

/* Does our array hold the same values as the rabbitmq-c one? */
static int
array_matches(const struct field_table *a, const amqp_array_t *w)
{
	struct table_iter	it;
	struct field_value	v;
	int			i = 0;

	table_iter_init(&it, a);
	while (array_next(&it, &v)) {
		if (i >= w->num_entries ||
		    !value_matches(&v, &w->entries[i]))
			return (0);
		i++;
	}
	return (i == w->num_entries);
}

/* Encode a rabbitmq-c method struct into theirs_buf, ids first. */
static void
rmq_encode(uint32_t id, void *m)
{
	amqp_bytes_t	out;
	int		n;

	out.bytes = theirs_buf + 4;
	out.len = sizeof theirs_buf - 4;
	n = amqp_encode_method(id, m, out);
	ck_assert_int_ge(n, 0);
	theirs_buf[0] = id >> 24;
	theirs_buf[1] = id >> 16;
	theirs_buf[2] = id >> 8;
	theirs_buf[3] = id;
	theirs_len = 4 + (size_t)n;
}

/* Decode theirs_buf with method_decode(); it must succeed. */
static void
ours_decode(uint32_t id, union method_args *a)
{
	const struct method_desc	*md = NULL;
	uint32_t			 got = 0;

	memset(a, 0xa5, sizeof *a);	/* a field left unset shows */
	ck_assert_int_eq(method_decode(theirs_buf, theirs_len, &got, &md, a),
	    0);
	ck_assert_uint_eq(got, id);
	ck_assert_ptr_nonnull(md);
	ck_assert_uint_eq(md->id, id);
	/* Every test string is UTF-8 (one with a NUL inside). */
	ck_assert_int_eq(method_check_utf8(md, a), 0);
}

/*
 * Encode a with method_encode() after some bytes already queued, check
 * the frame around it, require rabbitmq-c's exact bytes, and return
 * rabbitmq-c's decoding of ours.
 */
static void *
ours_encode(uint32_t id, const void *a)
{
	struct evbuffer	*b;
	struct frame	 f;
	amqp_bytes_t	 in;
	const uint8_t	*p;
	size_t		 len, used = 0;
	uint16_t	 ch;
	void		*dec = NULL;

	ch = (uint16_t)(chan_seq++ * 2731u);
	b = evbuffer_new();
	evbuffer_add(b, "pre", 3);
	method_encode(b, ch, id, a);
	len = evbuffer_get_length(b) - 3;
	p = evbuffer_pullup(b, -1);
	ck_assert_int_eq(memcmp(p, "pre", 3), 0);
	p += 3;
	ck_assert_uint_ge(len, AMQP_FRAME_OVERHEAD + 4);
	ck_assert_uint_eq(p[0], AMQP_FRAME_METHOD);
	ck_assert_uint_eq((unsigned)p[1] << 8 | p[2], ch);
	ck_assert_uint_eq(be32(p + 3), len - AMQP_FRAME_OVERHEAD);
	ck_assert_uint_eq(p[len - 1], AMQP_FRAME_END);
	ck_assert_int_eq(frame_decode(p, len, &f, &used), 0);
	ck_assert_uint_eq(used, len);
	ck_assert_uint_eq(f.channel, ch);
	ours_len = f.size;
	memcpy(ours_buf, f.payload, f.size);
	evbuffer_free(b);

	ck_assert_uint_eq(ours_len, theirs_len);
	ck_assert_int_eq(memcmp(ours_buf, theirs_buf, ours_len), 0);
	in.bytes = ours_buf + 4;
	in.len = ours_len - 4;
	ck_assert_int_eq(amqp_decode_method(id, &pool, in, &dec), 0);
	ck_assert_ptr_nonnull(dec);
	return (dec);
}

/* Field-by-field comparisons, ours against rabbitmq-c's. */

static void
cmp_connection_start(const struct connection_start *o,
    const amqp_connection_start_t *t)
{
	ck_assert_uint_eq(o->version_major, t->version_major);
	ck_assert_uint_eq(o->version_minor, t->version_minor);
	ck_assert(table_matches(&o->server_properties, &t->server_properties));
	ck_assert(LS_EQ(o->mechanisms, t->mechanisms));
	ck_assert(LS_EQ(o->locales, t->locales));
}

static void
cmp_connection_start_ok(const struct connection_start_ok *o,
    const amqp_connection_start_ok_t *t)
{
	ck_assert(table_matches(&o->client_properties, &t->client_properties));
	ck_assert(SS_EQ(o->mechanism, t->mechanism));
	ck_assert(LS_EQ(o->response, t->response));
	ck_assert(SS_EQ(o->locale, t->locale));
}

static void
cmp_connection_secure(const struct connection_secure *o,
    const amqp_connection_secure_t *t)
{
	ck_assert(LS_EQ(o->challenge, t->challenge));
}

static void
cmp_connection_secure_ok(const struct connection_secure_ok *o,
    const amqp_connection_secure_ok_t *t)
{
	ck_assert(LS_EQ(o->response, t->response));
}

static void
cmp_connection_tune(const struct connection_tune *o,
    const amqp_connection_tune_t *t)
{
	ck_assert_uint_eq(o->channel_max, t->channel_max);
	ck_assert_uint_eq(o->frame_max, t->frame_max);
	ck_assert_uint_eq(o->heartbeat, t->heartbeat);
}

static void
cmp_connection_tune_ok(const struct connection_tune *o,
    const amqp_connection_tune_ok_t *t)
{
	ck_assert_uint_eq(o->channel_max, t->channel_max);
	ck_assert_uint_eq(o->frame_max, t->frame_max);
	ck_assert_uint_eq(o->heartbeat, t->heartbeat);
}

static void
cmp_connection_open(const struct connection_open *o,
    const amqp_connection_open_t *t)
{
	ck_assert(SS_EQ(o->virtual_host, t->virtual_host));
	ck_assert(SS_EQ(o->capabilities, t->capabilities));
	ck_assert_uint_eq(o->insist, t->insist);
}

static void
cmp_connection_open_ok(const struct connection_open_ok *o,
    const amqp_connection_open_ok_t *t)
{
	ck_assert(SS_EQ(o->known_hosts, t->known_hosts));
}

static void
cmp_connection_close(const struct connection_close *o,
    const amqp_connection_close_t *t)
{
	ck_assert_uint_eq(o->reply_code, t->reply_code);
	ck_assert(SS_EQ(o->reply_text, t->reply_text));
	ck_assert_uint_eq(o->class_id, t->class_id);
	ck_assert_uint_eq(o->method_id, t->method_id);
}

static void
cmp_connection_blocked(const struct connection_blocked *o,
    const amqp_connection_blocked_t *t)
{
	ck_assert(SS_EQ(o->reason, t->reason));
}

static void
cmp_channel_open(const struct channel_open *o, const amqp_channel_open_t *t)
{
	ck_assert(SS_EQ(o->out_of_band, t->out_of_band));
}

static void
cmp_channel_open_ok(const struct channel_open_ok *o,
    const amqp_channel_open_ok_t *t)
{
	ck_assert(LS_EQ(o->channel_id, t->channel_id));
}

static void
cmp_channel_flow(const struct channel_flow *o, const amqp_channel_flow_t *t)
{
	ck_assert_uint_eq(o->active, t->active);
}

static void
cmp_channel_flow_ok(const struct channel_flow *o,
    const amqp_channel_flow_ok_t *t)
{
	ck_assert_uint_eq(o->active, t->active);
}

static void
cmp_channel_close(const struct connection_close *o,
    const amqp_channel_close_t *t)
{
	ck_assert_uint_eq(o->reply_code, t->reply_code);
	ck_assert(SS_EQ(o->reply_text, t->reply_text));
	ck_assert_uint_eq(o->class_id, t->class_id);
	ck_assert_uint_eq(o->method_id, t->method_id);
}

static void
cmp_exchange_declare(const struct exchange_declare *o,
    const amqp_exchange_declare_t *t)
{
	ck_assert_uint_eq(o->ticket, t->ticket);
	ck_assert(SS_EQ(o->exchange, t->exchange));
	ck_assert(SS_EQ(o->type, t->type));
	ck_assert_uint_eq(o->passive, t->passive);
	ck_assert_uint_eq(o->durable, t->durable);
	ck_assert_uint_eq(o->auto_delete, t->auto_delete);
	ck_assert_uint_eq(o->internal, t->internal);
	ck_assert_uint_eq(o->nowait, t->nowait);
	ck_assert(table_matches(&o->arguments, &t->arguments));
}

static void
cmp_exchange_delete(const struct exchange_delete *o,
    const amqp_exchange_delete_t *t)
{
	ck_assert_uint_eq(o->ticket, t->ticket);
	ck_assert(SS_EQ(o->exchange, t->exchange));
	ck_assert_uint_eq(o->if_unused, t->if_unused);
	ck_assert_uint_eq(o->nowait, t->nowait);
}

static void
cmp_exchange_bind(const struct exchange_bind *o,
    const amqp_exchange_bind_t *t)
{
	ck_assert_uint_eq(o->ticket, t->ticket);
	ck_assert(SS_EQ(o->destination, t->destination));
	ck_assert(SS_EQ(o->source, t->source));
	ck_assert(SS_EQ(o->routing_key, t->routing_key));
	ck_assert_uint_eq(o->nowait, t->nowait);
	ck_assert(table_matches(&o->arguments, &t->arguments));
}

static void
cmp_exchange_unbind(const struct exchange_bind *o,
    const amqp_exchange_unbind_t *t)
{
	ck_assert_uint_eq(o->ticket, t->ticket);
	ck_assert(SS_EQ(o->destination, t->destination));
	ck_assert(SS_EQ(o->source, t->source));
	ck_assert(SS_EQ(o->routing_key, t->routing_key));
	ck_assert_uint_eq(o->nowait, t->nowait);
	ck_assert(table_matches(&o->arguments, &t->arguments));
}

static void
cmp_queue_declare(const struct queue_declare *o,
    const amqp_queue_declare_t *t)
{
	ck_assert_uint_eq(o->ticket, t->ticket);
	ck_assert(SS_EQ(o->queue, t->queue));
	ck_assert_uint_eq(o->passive, t->passive);
	ck_assert_uint_eq(o->durable, t->durable);
	ck_assert_uint_eq(o->exclusive, t->exclusive);
	ck_assert_uint_eq(o->auto_delete, t->auto_delete);
	ck_assert_uint_eq(o->nowait, t->nowait);
	ck_assert(table_matches(&o->arguments, &t->arguments));
}

static void
cmp_queue_declare_ok(const struct queue_declare_ok *o,
    const amqp_queue_declare_ok_t *t)
{
	ck_assert(SS_EQ(o->queue, t->queue));
	ck_assert_uint_eq(o->message_count, t->message_count);
	ck_assert_uint_eq(o->consumer_count, t->consumer_count);
}

static void
cmp_queue_bind(const struct queue_bind *o, const amqp_queue_bind_t *t)
{
	ck_assert_uint_eq(o->ticket, t->ticket);
	ck_assert(SS_EQ(o->queue, t->queue));
	ck_assert(SS_EQ(o->exchange, t->exchange));
	ck_assert(SS_EQ(o->routing_key, t->routing_key));
	ck_assert_uint_eq(o->nowait, t->nowait);
	ck_assert(table_matches(&o->arguments, &t->arguments));
}

static void
cmp_queue_purge(const struct queue_purge *o, const amqp_queue_purge_t *t)
{
	ck_assert_uint_eq(o->ticket, t->ticket);
	ck_assert(SS_EQ(o->queue, t->queue));
	ck_assert_uint_eq(o->nowait, t->nowait);
}

static void
cmp_queue_purge_ok(const struct queue_purge_ok *o,
    const amqp_queue_purge_ok_t *t)
{
	ck_assert_uint_eq(o->message_count, t->message_count);
}

static void
cmp_queue_delete(const struct queue_delete *o, const amqp_queue_delete_t *t)
{
	ck_assert_uint_eq(o->ticket, t->ticket);
	ck_assert(SS_EQ(o->queue, t->queue));
	ck_assert_uint_eq(o->if_unused, t->if_unused);
	ck_assert_uint_eq(o->if_empty, t->if_empty);
	ck_assert_uint_eq(o->nowait, t->nowait);
}

static void
cmp_queue_delete_ok(const struct queue_purge_ok *o,
    const amqp_queue_delete_ok_t *t)
{
	ck_assert_uint_eq(o->message_count, t->message_count);
}

static void
cmp_queue_unbind(const struct queue_unbind *o, const amqp_queue_unbind_t *t)
{
	ck_assert_uint_eq(o->ticket, t->ticket);
	ck_assert(SS_EQ(o->queue, t->queue));
	ck_assert(SS_EQ(o->exchange, t->exchange));
	ck_assert(SS_EQ(o->routing_key, t->routing_key));
	ck_assert(table_matches(&o->arguments, &t->arguments));
}

static void
cmp_basic_qos(const struct basic_qos *o, const amqp_basic_qos_t *t)
{
	ck_assert_uint_eq(o->prefetch_size, t->prefetch_size);
	ck_assert_uint_eq(o->prefetch_count, t->prefetch_count);
	ck_assert_uint_eq(o->global, t->global);
}

static void
cmp_basic_consume(const struct basic_consume *o,
    const amqp_basic_consume_t *t)
{
	ck_assert_uint_eq(o->ticket, t->ticket);
	ck_assert(SS_EQ(o->queue, t->queue));
	ck_assert(SS_EQ(o->consumer_tag, t->consumer_tag));
	ck_assert_uint_eq(o->no_local, t->no_local);
	ck_assert_uint_eq(o->no_ack, t->no_ack);
	ck_assert_uint_eq(o->exclusive, t->exclusive);
	ck_assert_uint_eq(o->nowait, t->nowait);
	ck_assert(table_matches(&o->arguments, &t->arguments));
}

static void
cmp_basic_consume_ok(const struct basic_consume_ok *o,
    const amqp_basic_consume_ok_t *t)
{
	ck_assert(SS_EQ(o->consumer_tag, t->consumer_tag));
}

static void
cmp_basic_cancel(const struct basic_cancel *o, const amqp_basic_cancel_t *t)
{
	ck_assert(SS_EQ(o->consumer_tag, t->consumer_tag));
	ck_assert_uint_eq(o->nowait, t->nowait);
}

static void
cmp_basic_cancel_ok(const struct basic_consume_ok *o,
    const amqp_basic_cancel_ok_t *t)
{
	ck_assert(SS_EQ(o->consumer_tag, t->consumer_tag));
}

static void
cmp_basic_publish(const struct basic_publish *o,
    const amqp_basic_publish_t *t)
{
	ck_assert_uint_eq(o->ticket, t->ticket);
	ck_assert(SS_EQ(o->exchange, t->exchange));
	ck_assert(SS_EQ(o->routing_key, t->routing_key));
	ck_assert_uint_eq(o->mandatory, t->mandatory);
	ck_assert_uint_eq(o->immediate, t->immediate);
}

static void
cmp_basic_return(const struct basic_return *o, const amqp_basic_return_t *t)
{
	ck_assert_uint_eq(o->reply_code, t->reply_code);
	ck_assert(SS_EQ(o->reply_text, t->reply_text));
	ck_assert(SS_EQ(o->exchange, t->exchange));
	ck_assert(SS_EQ(o->routing_key, t->routing_key));
}

static void
cmp_basic_deliver(const struct basic_deliver *o,
    const amqp_basic_deliver_t *t)
{
	ck_assert(SS_EQ(o->consumer_tag, t->consumer_tag));
	ck_assert_uint_eq(o->delivery_tag, t->delivery_tag);
	ck_assert_uint_eq(o->redelivered, t->redelivered);
	ck_assert(SS_EQ(o->exchange, t->exchange));
	ck_assert(SS_EQ(o->routing_key, t->routing_key));
}

static void
cmp_basic_get(const struct basic_get *o, const amqp_basic_get_t *t)
{
	ck_assert_uint_eq(o->ticket, t->ticket);
	ck_assert(SS_EQ(o->queue, t->queue));
	ck_assert_uint_eq(o->no_ack, t->no_ack);
}

static void
cmp_basic_get_ok(const struct basic_get_ok *o, const amqp_basic_get_ok_t *t)
{
	ck_assert_uint_eq(o->delivery_tag, t->delivery_tag);
	ck_assert_uint_eq(o->redelivered, t->redelivered);
	ck_assert(SS_EQ(o->exchange, t->exchange));
	ck_assert(SS_EQ(o->routing_key, t->routing_key));
	ck_assert_uint_eq(o->message_count, t->message_count);
}

static void
cmp_basic_get_empty(const struct basic_get_empty *o,
    const amqp_basic_get_empty_t *t)
{
	ck_assert(SS_EQ(o->cluster_id, t->cluster_id));
}

static void
cmp_basic_ack(const struct basic_ack *o, const amqp_basic_ack_t *t)
{
	ck_assert_uint_eq(o->delivery_tag, t->delivery_tag);
	ck_assert_uint_eq(o->multiple, t->multiple);
}

static void
cmp_basic_reject(const struct basic_reject *o, const amqp_basic_reject_t *t)
{
	ck_assert_uint_eq(o->delivery_tag, t->delivery_tag);
	ck_assert_uint_eq(o->requeue, t->requeue);
}

static void
cmp_basic_recover_async(const struct basic_recover *o,
    const amqp_basic_recover_async_t *t)
{
	ck_assert_uint_eq(o->requeue, t->requeue);
}

static void
cmp_basic_recover(const struct basic_recover *o,
    const amqp_basic_recover_t *t)
{
	ck_assert_uint_eq(o->requeue, t->requeue);
}

static void
cmp_basic_nack(const struct basic_nack *o, const amqp_basic_nack_t *t)
{
	ck_assert_uint_eq(o->delivery_tag, t->delivery_tag);
	ck_assert_uint_eq(o->multiple, t->multiple);
	ck_assert_uint_eq(o->requeue, t->requeue);
}

static void
cmp_confirm_select(const struct confirm_select *o,
    const amqp_confirm_select_t *t)
{
	ck_assert_uint_eq(o->nowait, t->nowait);
}

START_TEST(test_rt_connection_start)
{
	amqp_connection_start_t	t;
	union method_args	a;
	unsigned		v;

	for (v = 0; v < 6; v++) {
		memset(&t, 0, sizeof t);
		t.version_major = 0;
		t.version_minor = 9 + v;
		t.server_properties = tv(v);
		t.mechanisms = lv(v);
		t.locales = lv(v + 1);
		ROUNDTRIP(AMQP_CONNECTION_START, t, a, connection_start,
		    cmp_connection_start);
	}
}
END_TEST

START_TEST(test_rt_connection_start_ok)
{
	amqp_connection_start_ok_t	t;
	union method_args		a;
	unsigned			v;

	for (v = 0; v < 10; v++) {
		t.client_properties = tv(v);
		t.mechanism = sv(v, 0);
		t.response = lv(v);
		t.locale = sv(v, 1);
		ROUNDTRIP(AMQP_CONNECTION_START_OK, t, a, connection_start_ok,
		    cmp_connection_start_ok);
	}
}
END_TEST

START_TEST(test_rt_connection_secure)
{
	amqp_connection_secure_t	t;
	amqp_connection_secure_ok_t	t2;
	union method_args		a;
	unsigned			v;

	for (v = 0; v < 3; v++) {
		t.challenge = lv(v);
		ROUNDTRIP(AMQP_CONNECTION_SECURE, t, a, connection_secure,
		    cmp_connection_secure);
		t2.response = lv(v + 1);
		ROUNDTRIP(AMQP_CONNECTION_SECURE_OK, t2, a,
		    connection_secure_ok, cmp_connection_secure_ok);
	}
}
END_TEST

START_TEST(test_rt_connection_tune)
{
	amqp_connection_tune_t		t;
	amqp_connection_tune_ok_t	t2;
	union method_args		a;
	unsigned			v;

	for (v = 0; v < 4; v++) {
		t.channel_max = u16v(v);
		t.frame_max = u32v(v);
		t.heartbeat = u16v(v + 7);
		ROUNDTRIP(AMQP_CONNECTION_TUNE, t, a, connection_tune,
		    cmp_connection_tune);
		t2.channel_max = u16v(v + 1);
		t2.frame_max = u32v(v + 2);
		t2.heartbeat = u16v(v + 3);
		ROUNDTRIP(AMQP_CONNECTION_TUNE_OK, t2, a, connection_tune,
		    cmp_connection_tune_ok);
	}
}
END_TEST

START_TEST(test_rt_connection_open)
{
	amqp_connection_open_t		t;
	amqp_connection_open_ok_t	t2;
	union method_args		a;
	unsigned			v;

	for (v = 0; v < 10; v++) {
		t.virtual_host = sv(v, 0);
		t.capabilities = sv(v, 2);
		t.insist = BIT(v, 0);
		ROUNDTRIP(AMQP_CONNECTION_OPEN, t, a, connection_open,
		    cmp_connection_open);
		t2.known_hosts = sv(v, 1);
		ROUNDTRIP(AMQP_CONNECTION_OPEN_OK, t2, a, connection_open_ok,
		    cmp_connection_open_ok);
	}
}
END_TEST

START_TEST(test_rt_connection_close)
{
	amqp_connection_close_t		t;
	amqp_connection_blocked_t	t2;
	union method_args		a;
	unsigned			v;

	for (v = 0; v < 5; v++) {
		t.reply_code = u16v(v);
		t.reply_text = sv(v, 0);
		t.class_id = u16v(v + 1);
		t.method_id = u16v(v + 2);
		ROUNDTRIP(AMQP_CONNECTION_CLOSE, t, a, connection_close,
		    cmp_connection_close);
		t2.reason = sv(v, 3);
		ROUNDTRIP(AMQP_CONNECTION_BLOCKED, t2, a, connection_blocked,
		    cmp_connection_blocked);
	}
}
END_TEST

START_TEST(test_rt_channel)
{
	amqp_channel_open_t	t1;
	amqp_channel_open_ok_t	t2;
	amqp_channel_flow_t	t3;
	amqp_channel_flow_ok_t	t4;
	amqp_channel_close_t	t5;
	union method_args	a;
	unsigned		v;

	for (v = 0; v < 6; v++) {
		t1.out_of_band = sv(v, 0);
		ROUNDTRIP(AMQP_CHANNEL_OPEN, t1, a, channel_open,
		    cmp_channel_open);
		t2.channel_id = lv(v);
		ROUNDTRIP(AMQP_CHANNEL_OPEN_OK, t2, a, channel_open_ok,
		    cmp_channel_open_ok);
		t3.active = BIT(v, 0);
		ROUNDTRIP(AMQP_CHANNEL_FLOW, t3, a, channel_flow,
		    cmp_channel_flow);
		t4.active = BIT(v, 1);
		ROUNDTRIP(AMQP_CHANNEL_FLOW_OK, t4, a, channel_flow,
		    cmp_channel_flow_ok);
		t5.reply_code = u16v(v);
		t5.reply_text = sv(v, 1);
		t5.class_id = u16v(v + 3);
		t5.method_id = u16v(v + 5);
		ROUNDTRIP(AMQP_CHANNEL_CLOSE, t5, a, connection_close,
		    cmp_channel_close);
	}
}
END_TEST

START_TEST(test_rt_exchange_declare)
{
	amqp_exchange_declare_t	t;
	union method_args	a;
	unsigned		v;

	for (v = 0; v < 64; v++) {
		t.ticket = u16v(v);
		t.exchange = sv(v, 0);
		t.type = sv(v, 1);
		t.passive = BIT(v, 0);
		t.durable = BIT(v, 1);
		t.auto_delete = BIT(v, 2);
		t.internal = BIT(v, 3);
		t.nowait = BIT(v, 4);
		t.arguments = tv(v >> 5);
		ROUNDTRIP(AMQP_EXCHANGE_DECLARE, t, a, exchange_declare,
		    cmp_exchange_declare);
	}
}
END_TEST

START_TEST(test_rt_exchange_delete)
{
	amqp_exchange_delete_t	t;
	union method_args	a;
	unsigned		v;

	for (v = 0; v < 8; v++) {
		t.ticket = u16v(v);
		t.exchange = sv(v, 0);
		t.if_unused = BIT(v, 0);
		t.nowait = BIT(v, 1);
		ROUNDTRIP(AMQP_EXCHANGE_DELETE, t, a, exchange_delete,
		    cmp_exchange_delete);
	}
}
END_TEST

START_TEST(test_rt_exchange_bind)
{
	amqp_exchange_bind_t	t;
	amqp_exchange_unbind_t	t2;
	union method_args	a;
	unsigned		v;

	for (v = 0; v < 10; v++) {
		t.ticket = u16v(v);
		t.destination = sv(v, 0);
		t.source = sv(v, 1);
		t.routing_key = sv(v, 2);
		t.nowait = BIT(v, 0);
		t.arguments = tv(v >> 1);
		ROUNDTRIP(AMQP_EXCHANGE_BIND, t, a, exchange_bind,
		    cmp_exchange_bind);
		t2.ticket = u16v(v + 1);
		t2.destination = sv(v, 3);
		t2.source = sv(v, 4);
		t2.routing_key = sv(v, 5);
		t2.nowait = BIT(v, 1);
		t2.arguments = tv(v);
		ROUNDTRIP(AMQP_EXCHANGE_UNBIND, t2, a, exchange_bind,
		    cmp_exchange_unbind);
	}
}
END_TEST

START_TEST(test_rt_queue_declare)
{
	amqp_queue_declare_t	t;
	amqp_queue_declare_ok_t	t2;
	union method_args	a;
	unsigned		v;

	for (v = 0; v < 64; v++) {
		t.ticket = u16v(v);
		t.queue = sv(v, 0);
		t.passive = BIT(v, 0);
		t.durable = BIT(v, 1);
		t.exclusive = BIT(v, 2);
		t.auto_delete = BIT(v, 3);
		t.nowait = BIT(v, 4);
		t.arguments = tv(v >> 5);
		ROUNDTRIP(AMQP_QUEUE_DECLARE, t, a, queue_declare,
		    cmp_queue_declare);
		t2.queue = sv(v, 1);
		t2.message_count = u32v(v);
		t2.consumer_count = u32v(v + 9);
		ROUNDTRIP(AMQP_QUEUE_DECLARE_OK, t2, a, queue_declare_ok,
		    cmp_queue_declare_ok);
	}
}
END_TEST

START_TEST(test_rt_queue_bind)
{
	amqp_queue_bind_t	t;
	amqp_queue_unbind_t	t2;
	union method_args	a;
	unsigned		v;

	for (v = 0; v < 10; v++) {
		t.ticket = u16v(v);
		t.queue = sv(v, 0);
		t.exchange = sv(v, 1);
		t.routing_key = sv(v, 2);
		t.nowait = BIT(v, 0);
		t.arguments = tv(v >> 1);
		ROUNDTRIP(AMQP_QUEUE_BIND, t, a, queue_bind, cmp_queue_bind);
		t2.ticket = u16v(v + 2);
		t2.queue = sv(v, 3);
		t2.exchange = sv(v, 4);
		t2.routing_key = sv(v, 5);
		t2.arguments = tv(v);
		ROUNDTRIP(AMQP_QUEUE_UNBIND, t2, a, queue_unbind,
		    cmp_queue_unbind);
	}
}
END_TEST

START_TEST(test_rt_queue_purge_delete)
{
	amqp_queue_purge_t	t1;
	amqp_queue_purge_ok_t	t2;
	amqp_queue_delete_t	t3;
	amqp_queue_delete_ok_t	t4;
	union method_args	a;
	unsigned		v;

	for (v = 0; v < 8; v++) {
		t1.ticket = u16v(v);
		t1.queue = sv(v, 0);
		t1.nowait = BIT(v, 0);
		ROUNDTRIP(AMQP_QUEUE_PURGE, t1, a, queue_purge,
		    cmp_queue_purge);
		t2.message_count = u32v(v);
		ROUNDTRIP(AMQP_QUEUE_PURGE_OK, t2, a, queue_purge_ok,
		    cmp_queue_purge_ok);
		t3.ticket = u16v(v + 1);
		t3.queue = sv(v, 1);
		t3.if_unused = BIT(v, 0);
		t3.if_empty = BIT(v, 1);
		t3.nowait = BIT(v, 2);
		ROUNDTRIP(AMQP_QUEUE_DELETE, t3, a, queue_delete,
		    cmp_queue_delete);
		t4.message_count = u32v(v + 4);
		ROUNDTRIP(AMQP_QUEUE_DELETE_OK, t4, a, queue_purge_ok,
		    cmp_queue_delete_ok);
	}
}
END_TEST

START_TEST(test_rt_basic_qos)
{
	amqp_basic_qos_t	t;
	union method_args	a;
	unsigned		v;

	for (v = 0; v < 4; v++) {
		t.prefetch_size = u32v(v);
		t.prefetch_count = u16v(v);
		t.global = BIT(v, 0);
		ROUNDTRIP(AMQP_BASIC_QOS, t, a, basic_qos, cmp_basic_qos);
	}
}
END_TEST

START_TEST(test_rt_basic_consume)
{
	amqp_basic_consume_t	t;
	amqp_basic_consume_ok_t	t2;
	amqp_basic_cancel_t	t3;
	amqp_basic_cancel_ok_t	t4;
	union method_args	a;
	unsigned		v;

	for (v = 0; v < 32; v++) {
		t.ticket = u16v(v);
		t.queue = sv(v, 0);
		t.consumer_tag = sv(v, 1);
		t.no_local = BIT(v, 0);
		t.no_ack = BIT(v, 1);
		t.exclusive = BIT(v, 2);
		t.nowait = BIT(v, 3);
		t.arguments = tv(v >> 4);
		ROUNDTRIP(AMQP_BASIC_CONSUME, t, a, basic_consume,
		    cmp_basic_consume);
		t2.consumer_tag = sv(v, 2);
		ROUNDTRIP(AMQP_BASIC_CONSUME_OK, t2, a, basic_consume_ok,
		    cmp_basic_consume_ok);
		t3.consumer_tag = sv(v, 3);
		t3.nowait = BIT(v, 0);
		ROUNDTRIP(AMQP_BASIC_CANCEL, t3, a, basic_cancel,
		    cmp_basic_cancel);
		t4.consumer_tag = sv(v, 4);
		ROUNDTRIP(AMQP_BASIC_CANCEL_OK, t4, a, basic_consume_ok,
		    cmp_basic_cancel_ok);
	}
}
END_TEST

START_TEST(test_rt_basic_publish)
{
	amqp_basic_publish_t	t;
	amqp_basic_return_t	t2;
	amqp_basic_deliver_t	t3;
	union method_args	a;
	unsigned		v;

	for (v = 0; v < 10; v++) {
		t.ticket = u16v(v);
		t.exchange = sv(v, 0);
		t.routing_key = sv(v, 1);
		t.mandatory = BIT(v, 0);
		t.immediate = BIT(v, 1);
		ROUNDTRIP(AMQP_BASIC_PUBLISH, t, a, basic_publish,
		    cmp_basic_publish);
		t2.reply_code = u16v(v);
		t2.reply_text = sv(v, 2);
		t2.exchange = sv(v, 3);
		t2.routing_key = sv(v, 4);
		ROUNDTRIP(AMQP_BASIC_RETURN, t2, a, basic_return,
		    cmp_basic_return);
		t3.consumer_tag = sv(v, 0);
		t3.delivery_tag = u64v(v);
		t3.redelivered = BIT(v, 0);
		t3.exchange = sv(v, 2);
		t3.routing_key = sv(v, 4);
		ROUNDTRIP(AMQP_BASIC_DELIVER, t3, a, basic_deliver,
		    cmp_basic_deliver);
	}
}
END_TEST

START_TEST(test_rt_basic_get)
{
	amqp_basic_get_t	t;
	amqp_basic_get_ok_t	t2;
	amqp_basic_get_empty_t	t3;
	union method_args	a;
	unsigned		v;

	for (v = 0; v < 10; v++) {
		t.ticket = u16v(v);
		t.queue = sv(v, 0);
		t.no_ack = BIT(v, 0);
		ROUNDTRIP(AMQP_BASIC_GET, t, a, basic_get, cmp_basic_get);
		t2.delivery_tag = u64v(v);
		t2.redelivered = BIT(v, 1);
		t2.exchange = sv(v, 1);
		t2.routing_key = sv(v, 2);
		t2.message_count = u32v(v);
		ROUNDTRIP(AMQP_BASIC_GET_OK, t2, a, basic_get_ok,
		    cmp_basic_get_ok);
		t3.cluster_id = sv(v, 3);
		ROUNDTRIP(AMQP_BASIC_GET_EMPTY, t3, a, basic_get_empty,
		    cmp_basic_get_empty);
	}
}
END_TEST

START_TEST(test_rt_basic_ack)
{
	amqp_basic_ack_t		t1;
	amqp_basic_reject_t		t2;
	amqp_basic_recover_async_t	t3;
	amqp_basic_recover_t		t4;
	amqp_basic_nack_t		t5;
	amqp_confirm_select_t		t6;
	union method_args		a;
	unsigned			v;

	for (v = 0; v < 4; v++) {
		t1.delivery_tag = u64v(v);
		t1.multiple = BIT(v, 0);
		ROUNDTRIP(AMQP_BASIC_ACK, t1, a, basic_ack, cmp_basic_ack);
		t2.delivery_tag = u64v(v + 1);
		t2.requeue = BIT(v, 1);
		ROUNDTRIP(AMQP_BASIC_REJECT, t2, a, basic_reject,
		    cmp_basic_reject);
		t3.requeue = BIT(v, 0);
		ROUNDTRIP(AMQP_BASIC_RECOVER_ASYNC, t3, a, basic_recover,
		    cmp_basic_recover_async);
		t4.requeue = BIT(v, 1);
		ROUNDTRIP(AMQP_BASIC_RECOVER, t4, a, basic_recover,
		    cmp_basic_recover);
		t5.delivery_tag = u64v(v + 2);
		t5.multiple = BIT(v, 0);
		t5.requeue = BIT(v, 1);
		ROUNDTRIP(AMQP_BASIC_NACK, t5, a, basic_nack, cmp_basic_nack);
		t6.nowait = BIT(v, 0);
		ROUNDTRIP(AMQP_CONFIRM_SELECT, t6, a, confirm_select,
		    cmp_confirm_select);
	}
}
END_TEST

/* Methods without arguments, and rabbitmq-c's id for each. */
static const uint32_t	noarg_ids[][2] = {
	{ AMQP_CONNECTION_CLOSE_OK, AMQP_CONNECTION_CLOSE_OK_METHOD },
	{ AMQP_CONNECTION_UNBLOCKED, AMQP_CONNECTION_UNBLOCKED_METHOD },
	{ AMQP_CHANNEL_CLOSE_OK, AMQP_CHANNEL_CLOSE_OK_METHOD },
	{ AMQP_EXCHANGE_DECLARE_OK, AMQP_EXCHANGE_DECLARE_OK_METHOD },
	{ AMQP_EXCHANGE_DELETE_OK, AMQP_EXCHANGE_DELETE_OK_METHOD },
	{ AMQP_EXCHANGE_BIND_OK, AMQP_EXCHANGE_BIND_OK_METHOD },
	{ AMQP_EXCHANGE_UNBIND_OK, AMQP_EXCHANGE_UNBIND_OK_METHOD },
	{ AMQP_QUEUE_BIND_OK, AMQP_QUEUE_BIND_OK_METHOD },
	{ AMQP_QUEUE_UNBIND_OK, AMQP_QUEUE_UNBIND_OK_METHOD },
	{ AMQP_BASIC_QOS_OK, AMQP_BASIC_QOS_OK_METHOD },
	{ AMQP_BASIC_RECOVER_OK, AMQP_BASIC_RECOVER_OK_METHOD },
	{ AMQP_CONFIRM_SELECT_OK, AMQP_CONFIRM_SELECT_OK_METHOD },
	{ AMQP_TX_SELECT, AMQP_TX_SELECT_METHOD },
	{ AMQP_TX_SELECT_OK, AMQP_TX_SELECT_OK_METHOD },
	{ AMQP_TX_COMMIT, AMQP_TX_COMMIT_METHOD },
	{ AMQP_TX_COMMIT_OK, AMQP_TX_COMMIT_OK_METHOD },
	{ AMQP_TX_ROLLBACK, AMQP_TX_ROLLBACK_METHOD },
	{ AMQP_TX_ROLLBACK_OK, AMQP_TX_ROLLBACK_OK_METHOD },
};

START_TEST(test_rt_no_arguments)
{
	union method_args		 a;
	const struct method_desc	*md;
	uint32_t			 id;
	char				 dummy[64];

	id = noarg_ids[_i][0];
	ck_assert_uint_eq(id, noarg_ids[_i][1]);
	md = method_find(id);
	ck_assert_ptr_nonnull(md);
	ck_assert_uint_eq(md->nfields, 0);
	ck_assert_uint_eq(md->size, 0);
	memset(dummy, 0, sizeof dummy);
	rmq_encode(id, dummy);
	ck_assert_uint_eq(theirs_len, 4);
	ours_decode(id, &a);
	/* NULL arguments are fine for these. */
	ours_encode(id, NULL);
}
END_TEST

START_TEST(test_connection_update_secret)
{
	/* rabbitmq-c 0.11 lacks update-secret: the bytes by hand. */
	const uint8_t		 bytes[] = {
		0, 10, 0, 70,
		0, 0, 0, 6, 't', 'o', 'k', 0, 'e', 'n',
		7, 'r', 'e', 'f', 'r', 'e', 's', 'h',
	};
	const uint8_t		 ok[] = { 0, 10, 0, 71 };
	union method_args	 a;
	const struct method_desc *md;
	struct evbuffer		*b;
	uint32_t		 id;
	const uint8_t		*p;

	ck_assert_int_eq(method_decode(bytes, sizeof bytes, &id, &md, &a), 0);
	ck_assert_uint_eq(id, AMQP_CONNECTION_UPDATE_SECRET);
	ck_assert_ptr_eq(md, method_find(AMQP_CONNECTION_UPDATE_SECRET));
	ck_assert_str_eq(md->name, "connection.update-secret");
	ck_assert(md->flags & METHOD_SYNC);
	ck_assert_uint_eq(a.connection_update_secret.new_secret.len, 6);
	ck_assert_int_eq(memcmp(a.connection_update_secret.new_secret.p,
	    "tok\0en", 6), 0);
	ck_assert_str_eq(a.connection_update_secret.reason.s, "refresh");

	b = evbuffer_new();
	method_encode(b, 0, AMQP_CONNECTION_UPDATE_SECRET, &a);
	ck_assert_uint_eq(evbuffer_get_length(b), sizeof bytes + 8);
	p = evbuffer_pullup(b, -1);
	ck_assert_int_eq(memcmp(p + 7, bytes, sizeof bytes), 0);
	evbuffer_drain(b, evbuffer_get_length(b));

	ck_assert_int_eq(method_decode(ok, sizeof ok, &id, &md, &a), 0);
	ck_assert_uint_eq(id, AMQP_CONNECTION_UPDATE_SECRET_OK);
	ck_assert_uint_eq(md->nfields, 0);
	method_encode(b, 0, AMQP_CONNECTION_UPDATE_SECRET_OK, NULL);
	ck_assert_uint_eq(evbuffer_get_length(b), 12);
	p = evbuffer_pullup(b, -1);
	ck_assert_int_eq(memcmp(p + 7, ok, sizeof ok), 0);
	evbuffer_free(b);
}
END_TEST

START_TEST(test_method_table)
{
	static const uint16_t		 classes[] = { 10, 20, 40, 50, 60,
					    85, 90 };
	static const uint32_t		 content[] = { AMQP_BASIC_PUBLISH,
	    AMQP_BASIC_RETURN, AMQP_BASIC_DELIVER, AMQP_BASIC_GET_OK };
	static const uint32_t		 sync[] = {
	    AMQP_CONNECTION_START, AMQP_CONNECTION_SECURE,
	    AMQP_CONNECTION_TUNE, AMQP_CONNECTION_OPEN,
	    AMQP_CONNECTION_CLOSE, AMQP_CONNECTION_UPDATE_SECRET,
	    AMQP_CHANNEL_OPEN, AMQP_CHANNEL_FLOW, AMQP_CHANNEL_CLOSE,
	    AMQP_EXCHANGE_DECLARE, AMQP_EXCHANGE_DELETE, AMQP_EXCHANGE_BIND,
	    AMQP_EXCHANGE_UNBIND, AMQP_QUEUE_DECLARE, AMQP_QUEUE_BIND,
	    AMQP_QUEUE_PURGE, AMQP_QUEUE_DELETE, AMQP_QUEUE_UNBIND,
	    AMQP_BASIC_QOS, AMQP_BASIC_CONSUME, AMQP_BASIC_CANCEL,
	    AMQP_BASIC_GET, AMQP_BASIC_RECOVER, AMQP_CONFIRM_SELECT,
	    AMQP_TX_SELECT, AMQP_TX_COMMIT, AMQP_TX_ROLLBACK };
	const struct method_desc	*md;
	uint32_t			 id;
	unsigned			 c, m, i, n = 0, want;

	for (c = 0; c < sizeof classes / sizeof classes[0]; c++) {
		for (m = 0; m < 0x10000; m++) {
			id = AMQP_METHOD_ID(classes[c], m);
			if ((md = method_find(id)) == NULL) {
				ck_assert_str_eq(method_name(id), "unknown");
				continue;
			}
			n++;
			ck_assert_uint_eq(md->id, id);
			ck_assert_ptr_nonnull(md->name);
			ck_assert_str_eq(method_name(id), md->name);
			ck_assert_uint_le(md->size, sizeof(union method_args));
			ck_assert_int_eq(md->nfields == 0, md->size == 0);
			ck_assert_int_eq(md->nfields == 0, md->fields == NULL);
			for (i = 0; i < md->nfields; i++)
				ck_assert_uint_lt(md->fields[i].off, md->size);

			want = 0;
			for (i = 0; i < sizeof content / sizeof content[0]; i++)
				if (content[i] == id)
					want |= METHOD_CONTENT;
			for (i = 0; i < sizeof sync / sizeof sync[0]; i++)
				if (sync[i] == id)
					want |= METHOD_SYNC;
			ck_assert_msg(md->flags == (int)want, "%s flags %d",
			    md->name, md->flags);
		}
	}
	/* 14 + 6 + 8 + 10 + 18 + 2 + 6 */
	ck_assert_uint_eq(n, 64);

	ck_assert_str_eq(method_name(AMQP_QUEUE_DECLARE), "queue.declare");
	ck_assert_str_eq(method_name(AMQP_EXCHANGE_UNBIND_OK),
	    "exchange.unbind-ok");
	ck_assert_str_eq(method_name(AMQP_BASIC_RECOVER_ASYNC),
	    "basic.recover-async");
	ck_assert_ptr_null(method_find(AMQP_METHOD_ID(40, 41)));
	ck_assert_ptr_null(method_find(AMQP_METHOD_ID(30, 10)));
	ck_assert_ptr_null(method_find(AMQP_METHOD_ID(0, 0)));
	ck_assert_ptr_null(method_find(0xffffffff));

	/* Our ids are rabbitmq-c's. */
	ck_assert_uint_eq(AMQP_EXCHANGE_UNBIND_OK,
	    AMQP_EXCHANGE_UNBIND_OK_METHOD);
	ck_assert_uint_eq(AMQP_BASIC_NACK, AMQP_BASIC_NACK_METHOD);
	ck_assert_uint_eq(AMQP_CONNECTION_BLOCKED,
	    AMQP_CONNECTION_BLOCKED_METHOD);
	ck_assert_uint_eq(AMQP_BASIC_RECOVER_ASYNC,
	    AMQP_BASIC_RECOVER_ASYNC_METHOD);
}
END_TEST

/*
 * Fill a's fields for md with non-trivial values (tables from tb); used
 * by the negative tests, which need a valid encoding to damage.
 */
static void
sample_args(const struct method_desc *md, union method_args *a,
    struct evbuffer *tb)
{
	const struct wire_field	*f;
	uint8_t			*p = (uint8_t *)a;
	struct longstr		 ls;
	struct field_table	 ft;
	unsigned		 i;

	memset(a, 0, sizeof *a);
	ft.len = evbuffer_get_length(tb);
	ft.p = evbuffer_pullup(tb, -1);
	ls.p = (const uint8_t *)"longstr";
	ls.len = 7;
	for (i = 0; i < md->nfields; i++) {
		f = &md->fields[i];
		switch (f->type) {
		case WT_OCTET:
		case WT_BIT:
			p[f->off] = 1;
			break;
		case WT_SHORT:
			*(uint16_t *)(p + f->off) = 0x0102;
			break;
		case WT_LONG:
			*(uint32_t *)(p + f->off) = 0x01020304;
			break;
		case WT_LONGLONG:
		case WT_TIMESTAMP:
			*(uint64_t *)(p + f->off) = 0x0102030405060708ULL;
			break;
		case WT_SHORTSTR:
			wire_shortstr_set((struct shortstr *)(p + f->off),
			    "short");
			break;
		case WT_LONGSTR:
			memcpy(p + f->off, &ls, sizeof ls);
			break;
		case WT_TABLE:
			memcpy(p + f->off, &ft, sizeof ft);
			break;
		}
	}
}

/* Encode sample arguments for md; copy the payload to buf, return size. */
static size_t
payload_of(const struct method_desc *md, union method_args *a, uint8_t *buf)
{
	struct evbuffer	*b, *tb;
	struct frame	 f;
	size_t		 used, n;

	tb = evbuffer_new();
	table_add_longstr(tb, "x-queue-type", "classic");
	table_add_int(tb, "x-max-length", 10);
	table_add_table(tb, "nested", &(struct field_table){ NULL, 0 });
	sample_args(md, a, tb);
	b = evbuffer_new();
	method_encode(b, 1, md->id, md->nfields ? (void *)a : NULL);
	n = evbuffer_get_length(b);
	ck_assert_int_eq(frame_decode(evbuffer_pullup(b, -1), n, &f, &used),
	    0);
	memcpy(buf, f.payload, f.size);
	n = f.size;
	evbuffer_free(b);
	evbuffer_free(tb);
	return (n);
}

START_TEST(test_decode_truncated)
{
	static const uint16_t		 classes[] = { 10, 20, 40, 50, 60,
					    85, 90 };
	const struct method_desc	*m, *md;
	union method_args		 a, a2;
	uint8_t				 buf[4096];
	uint32_t			 id;
	size_t				 n, len;
	unsigned			 c, mi, checked = 0;

	for (c = 0; c < sizeof classes / sizeof classes[0]; c++) {
		for (mi = 0; mi < 256; mi++) {
			if ((m = method_find(AMQP_METHOD_ID(classes[c],
			    mi))) == NULL)
				continue;
			n = payload_of(m, &a, buf);
			ck_assert_int_eq(method_decode(buf, n, &id, &md, &a2),
			    0);
			ck_assert_ptr_eq(md, m);

			/* Every shorter length is a frame error. */
			for (len = 0; len < n; len++) {
				md = (void *)1;
				id = 1;
				ck_assert_msg(method_decode(buf, len, &id, &md,
				    &a2) == AMQP_FRAME_ERROR, "%s at %zu",
				    m->name, len);
				if (len < 4) {
					ck_assert_ptr_null(md);
					ck_assert_uint_eq(id, 0);
				} else {
					ck_assert_ptr_eq(md, m);
					ck_assert_uint_eq(id, m->id);
				}
			}

			/* So is one byte too many (RabbitMQ agrees). */
			buf[n] = 0;
			ck_assert_int_eq(method_decode(buf, n + 1, &id, &md,
			    &a2), AMQP_FRAME_ERROR);
			ck_assert_ptr_eq(md, m);
			checked++;
		}
	}
	ck_assert_uint_eq(checked, 64);
}
END_TEST

START_TEST(test_decode_unknown)
{
	static const uint32_t		 ids[] = {
		AMQP_METHOD_ID(30, 10),		/* access.request */
		AMQP_METHOD_ID(0, 0),
		AMQP_METHOD_ID(10, 12),
		AMQP_METHOD_ID(40, 41),		/* unbind-ok is 51 */
		AMQP_METHOD_ID(60, 200),	/* basic.credit */
		AMQP_METHOD_ID(85, 20),
		AMQP_METHOD_ID(90, 40),
		AMQP_METHOD_ID(100, 10),
		AMQP_METHOD_ID(0xffff, 0xffff),
	};
	const struct method_desc	*md;
	union method_args		 a;
	uint8_t				 buf[8];
	uint32_t			 id;
	unsigned			 i;

	for (i = 0; i < sizeof ids / sizeof ids[0]; i++) {
		buf[0] = ids[i] >> 24;
		buf[1] = ids[i] >> 16;
		buf[2] = ids[i] >> 8;
		buf[3] = ids[i];
		memset(buf + 4, 0, 4);
		md = (void *)1;
		ck_assert_int_eq(method_decode(buf, sizeof buf, &id, &md, &a),
		    AMQP_COMMAND_INVALID);
		ck_assert_uint_eq(id, ids[i]);
		ck_assert_ptr_null(md);
		/* Unknown whatever the argument bytes, even none. */
		ck_assert_int_eq(method_decode(buf, 4, &id, &md, &a),
		    AMQP_COMMAND_INVALID);
	}
}
END_TEST

START_TEST(test_decode_bad_tables)
{
	const struct method_desc	*md;
	union method_args		 a;
	uint8_t				 buf[4096];
	uint32_t			 id;
	size_t				 n, i, tpos;
	int				 depth;

	/* queue.declare: ids, ticket, "q", bits, then the table. */
	n = 0;
	buf[n++] = 0; buf[n++] = 50; buf[n++] = 0; buf[n++] = 10;
	buf[n++] = 0; buf[n++] = 0;
	buf[n++] = 1; buf[n++] = 'q';
	buf[n++] = 0x02;
	tpos = n;

	/* A bad type octet inside. */
	n = tpos;
	buf[n++] = 0; buf[n++] = 0; buf[n++] = 0; buf[n++] = 3;
	buf[n++] = 1; buf[n++] = 'k'; buf[n++] = 'Z';
	ck_assert_int_eq(method_decode(buf, n, &id, &md, &a),
	    AMQP_FRAME_ERROR);
	ck_assert_ptr_eq(md, method_find(AMQP_QUEUE_DECLARE));
	buf[n - 1] = 'V';
	ck_assert_int_eq(method_decode(buf, n, &id, &md, &a), 0);
	ck_assert_uint_eq(a.queue_declare.durable, 1);
	ck_assert_uint_eq(a.queue_declare.arguments.len, 3);
	/* 'L' is accepted, as RabbitMQ does; rabbitmq-c's "U64". */
	buf[n - 1] = 'L';
	for (i = 0; i < 8; i++)
		buf[n + i] = 0xff;
	buf[tpos + 3] = 3 + 8;
	ck_assert_int_eq(method_decode(buf, n + 8, &id, &md, &a), 0);

	/* A table length past the end of the payload. */
	n = tpos;
	buf[n++] = 0; buf[n++] = 0; buf[n++] = 0; buf[n++] = 4;
	buf[n++] = 1; buf[n++] = 'k'; buf[n++] = 'V';
	ck_assert_int_eq(method_decode(buf, n, &id, &md, &a),
	    AMQP_FRAME_ERROR);
	buf[tpos] = 0x80;
	buf[tpos + 3] = 3;
	ck_assert_int_eq(method_decode(buf, n, &id, &md, &a),
	    AMQP_FRAME_ERROR);

	/* Nesting: at the limit decodes, one deeper is refused. */
	for (depth = WIRE_TABLE_DEPTH_MAX; depth <= WIRE_TABLE_DEPTH_MAX + 1;
	    depth++) {
		size_t	inner;
		int	d;

		n = tpos + 4;
		inner = (size_t)(depth - 1) * 6;
		for (d = 1; d < depth; d++) {
			buf[n++] = 0;		/* empty key */
			buf[n++] = 'F';
			inner -= 6;
			buf[n++] = 0; buf[n++] = 0;
			buf[n++] = inner >> 8; buf[n++] = inner & 0xff;
		}
		buf[tpos] = 0; buf[tpos + 1] = 0;
		buf[tpos + 2] = (n - tpos - 4) >> 8;
		buf[tpos + 3] = (n - tpos - 4) & 0xff;
		ck_assert_int_eq(method_decode(buf, n, &id, &md, &a),
		    depth <= WIRE_TABLE_DEPTH_MAX ? 0 : AMQP_FRAME_ERROR);
	}

	/* connection.start-ok with a bad client-properties table. */
	n = 0;
	buf[n++] = 0; buf[n++] = 10; buf[n++] = 0; buf[n++] = 11;
	buf[n++] = 0; buf[n++] = 0; buf[n++] = 0; buf[n++] = 6;
	buf[n++] = 1; buf[n++] = 'p'; buf[n++] = 'S';
	buf[n++] = 0; buf[n++] = 0; buf[n++] = 9;	/* truncated length */
	buf[n++] = 5; memcpy(buf + n, "PLAIN", 5); n += 5;
	buf[n++] = 0; buf[n++] = 0; buf[n++] = 0; buf[n++] = 0;
	buf[n++] = 5; memcpy(buf + n, "en_US", 5); n += 5;
	ck_assert_int_eq(method_decode(buf, n, &id, &md, &a),
	    AMQP_FRAME_ERROR);
	ck_assert_uint_eq(id, AMQP_CONNECTION_START_OK);
}
END_TEST

START_TEST(test_bits_packing)
{
	union method_args	 a;
	struct evbuffer		*b;
	const uint8_t		*p;
	unsigned		 v;

	/* queue.declare's five bits share one octet, first bit lowest. */
	b = evbuffer_new();
	for (v = 0; v < 32; v++) {
		memset(&a, 0, sizeof a);
		a.queue_declare.passive = BIT(v, 0);
		a.queue_declare.durable = BIT(v, 1) ? 7 : 0;	/* non-zero */
		a.queue_declare.exclusive = BIT(v, 2);
		a.queue_declare.auto_delete = BIT(v, 3);
		a.queue_declare.nowait = BIT(v, 4);
		method_encode(b, 0, AMQP_QUEUE_DECLARE, &a);
		/* header 7, ids 4, ticket 2, queue 1, bits, table 4, end */
		ck_assert_uint_eq(evbuffer_get_length(b), 7 + 4 + 2 + 1 + 1 +
		    4 + 1);
		p = evbuffer_pullup(b, -1);
		ck_assert_uint_eq(p[14], v);
		evbuffer_drain(b, evbuffer_get_length(b));
	}
	/* basic.deliver: a bit between a long-long and a short string. */
	memset(&a, 0, sizeof a);
	a.basic_deliver.redelivered = 1;
	wire_shortstr_set(&a.basic_deliver.exchange, "x");
	method_encode(b, 0, AMQP_BASIC_DELIVER, &a);
	p = evbuffer_pullup(b, -1);
	ck_assert_uint_eq(p[7 + 4 + 1 + 8], 1);
	ck_assert_uint_eq(p[7 + 4 + 1 + 8 + 1], 1);
	ck_assert_uint_eq(p[7 + 4 + 1 + 8 + 2], 'x');
	evbuffer_free(b);
}
END_TEST

START_TEST(test_frame_decode)
{
	const uint8_t	hb[] = { 8, 0, 0, 0, 0, 0, 0, 0xce };
	uint8_t		buf[64];
	struct frame	f;
	size_t		used, len, i;

	ck_assert_int_eq(frame_decode(hb, sizeof hb, &f, &used), 0);
	ck_assert_uint_eq(f.type, AMQP_FRAME_HEARTBEAT);
	ck_assert_uint_eq(f.channel, 0);
	ck_assert_uint_eq(f.size, 0);
	ck_assert_uint_eq(used, 8);

	/* A body frame on channel 0x1234 followed by a second frame. */
	len = 0;
	buf[len++] = 3; buf[len++] = 0x12; buf[len++] = 0x34;
	buf[len++] = 0; buf[len++] = 0; buf[len++] = 0; buf[len++] = 5;
	memcpy(buf + len, "hello", 5);
	len += 5;
	buf[len++] = 0xce;
	memcpy(buf + len, hb, sizeof hb);
	ck_assert_int_eq(frame_decode(buf, len + sizeof hb, &f, &used), 0);
	ck_assert_uint_eq(f.type, 3);
	ck_assert_uint_eq(f.channel, 0x1234);
	ck_assert_uint_eq(f.size, 5);
	ck_assert_ptr_eq(f.payload, buf + 7);
	ck_assert_uint_eq(used, len);
	ck_assert_int_eq(frame_decode(buf + used, sizeof hb, &f, &used), 0);
	ck_assert_uint_eq(f.type, 8);

	/* Every prefix is partial. */
	for (i = 0; i < len; i++)
		ck_assert_int_eq(frame_decode(buf, i, &f, &used),
		    FRAME_PARTIAL);

	/* A wrong frame-end octet. */
	buf[len - 1] = 0xcd;
	ck_assert_int_eq(frame_decode(buf, len, &f, &used), AMQP_FRAME_ERROR);
	buf[len - 1] = 0;
	ck_assert_int_eq(frame_decode(buf, len, &f, &used), AMQP_FRAME_ERROR);

	/* A size near 4 GiB is only partial, never an overflow. */
	buf[3] = buf[4] = buf[5] = buf[6] = 0xff;
	ck_assert_int_eq(frame_decode(buf, sizeof buf, &f, &used),
	    FRAME_PARTIAL);
	buf[6] = 0xf8;
	ck_assert_int_eq(frame_decode(buf, sizeof buf, &f, &used),
	    FRAME_PARTIAL);
}
END_TEST

START_TEST(test_frame_put)
{
	const uint8_t	 hb[] = { 8, 0, 0, 0, 0, 0, 0, 0xce };
	const uint8_t	 hdr[] = { 2, 0xab, 0xcd, 0x01, 0x02, 0x03, 0x04 };
	struct evbuffer	*b;

	b = evbuffer_new();
	frame_put_heartbeat(b);
	frame_put_header(b, 2, 0xabcd, 0x01020304);
	ck_assert_uint_eq(evbuffer_get_length(b), sizeof hb + sizeof hdr);
	ck_assert_int_eq(memcmp(evbuffer_pullup(b, -1), hb, sizeof hb), 0);
	ck_assert_int_eq(memcmp(evbuffer_pullup(b, -1) + sizeof hb, hdr,
	    sizeof hdr), 0);
	evbuffer_free(b);
}
END_TEST

/* Fill every rabbitmq-c basic property, whatever the flags. */
static void
props_fill(amqp_basic_properties_t *t, unsigned v)
{
	memset(t, 0, sizeof *t);
	t->content_type = sv(v, 0);
	t->content_encoding = sv(v, 1);
	t->headers = rich;
	t->delivery_mode = 2;
	t->priority = (uint8_t)(v + 1);
	t->correlation_id = sv(v, 2);
	t->reply_to = sv(v, 3);
	t->expiration = amqp_cstring_bytes("60000");
	t->message_id = sv(v, 4);
	t->timestamp = u64v(v);
	t->type = sv(v, 5);
	t->user_id = amqp_cstring_bytes("guest");
	t->app_id = sv(v, 6);
	t->cluster_id = sv(v, 7);
}

/* Compare our properties with rabbitmq-c's, present ones only. */
static void
props_cmp(const struct basic_props *o, const amqp_basic_properties_t *t)
{
	uint16_t	fl = (uint16_t)t->_flags;

	ck_assert_uint_eq(o->flags, fl);
#define PSS(flag, f)							\
	if (fl & (flag))						\
		ck_assert(SS_EQ(o->f, t->f));				\
	else								\
		ck_assert_uint_eq(o->f.len, 0)
	PSS(AMQP_BASIC_CONTENT_TYPE_FLAG, content_type);
	PSS(AMQP_BASIC_CONTENT_ENCODING_FLAG, content_encoding);
	PSS(AMQP_BASIC_CORRELATION_ID_FLAG, correlation_id);
	PSS(AMQP_BASIC_REPLY_TO_FLAG, reply_to);
	PSS(AMQP_BASIC_EXPIRATION_FLAG, expiration);
	PSS(AMQP_BASIC_MESSAGE_ID_FLAG, message_id);
	PSS(AMQP_BASIC_TYPE_FLAG, type);
	PSS(AMQP_BASIC_USER_ID_FLAG, user_id);
	PSS(AMQP_BASIC_APP_ID_FLAG, app_id);
	PSS(AMQP_BASIC_CLUSTER_ID_FLAG, cluster_id);
#undef PSS
	if (fl & AMQP_BASIC_HEADERS_FLAG)
		ck_assert(table_matches(&o->headers, &t->headers));
	else
		ck_assert_uint_eq(o->headers.len, 0);
	if (fl & AMQP_BASIC_DELIVERY_MODE_FLAG)
		ck_assert_uint_eq(o->delivery_mode, t->delivery_mode);
	if (fl & AMQP_BASIC_PRIORITY_FLAG)
		ck_assert_uint_eq(o->priority, t->priority);
	if (fl & AMQP_BASIC_TIMESTAMP_FLAG)
		ck_assert_uint_eq(o->timestamp, t->timestamp);
}

START_TEST(test_rt_props)
{
	amqp_basic_properties_t	 t, *d;
	struct basic_props	 o;
	struct evbuffer		*b;
	amqp_bytes_t		 out, in;
	uint8_t			*p;
	uint32_t		 lcg = 12345;
	uint16_t		 masks[16 + 64];
	unsigned		 i, nm = 0;
	int			 n;

	masks[nm++] = 0xfffc;		/* all fourteen */
	masks[nm++] = 0;		/* none */
	for (i = 2; i < 16; i++)	/* each alone */
		masks[nm++] = (uint16_t)(1u << i);
	for (i = 0; i < 64; i++) {	/* sparse sets */
		lcg = lcg * 1103515245u + 12345u;
		masks[nm++] = (uint16_t)(lcg >> 8) & 0xfffc &
		    (uint16_t)(lcg >> 16);
	}
	b = evbuffer_new();
	for (i = 0; i < nm; i++) {
		props_fill(&t, i);
		t._flags = masks[i];
		out.bytes = theirs_buf;
		out.len = sizeof theirs_buf;
		n = amqp_encode_properties(AMQP_CLASS_BASIC, &t, out);
		ck_assert_int_ge(n, 2);
		theirs_len = (size_t)n;

		memset(&o, 0xa5, sizeof o);
		ck_assert_int_eq(props_decode(theirs_buf, theirs_len, &o), 0);
		props_cmp(&o, &t);

		props_encode(b, &o);
		ck_assert_uint_eq(evbuffer_get_length(b), theirs_len);
		p = evbuffer_pullup(b, -1);
		ck_assert_int_eq(memcmp(p, theirs_buf, theirs_len), 0);
		memcpy(ours_buf, p, theirs_len);
		evbuffer_drain(b, theirs_len);

		in.bytes = ours_buf;
		in.len = theirs_len;
		d = NULL;
		ck_assert_int_eq(amqp_decode_properties(AMQP_CLASS_BASIC,
		    &pool, in, (void **)&d), 0);
		props_cmp(&o, d);
	}
	evbuffer_free(b);
}
END_TEST

START_TEST(test_props_errors)
{
	amqp_basic_properties_t	 t;
	struct basic_props	 o;
	struct evbuffer		*b;
	amqp_bytes_t		 out;
	uint8_t			 buf[4096];
	size_t			 n, len, hpos;
	int			 r;

	props_fill(&t, 3);
	t._flags = 0xfffc;
	out.bytes = buf;
	out.len = sizeof buf;
	r = amqp_encode_properties(AMQP_CLASS_BASIC, &t, out);
	ck_assert_int_gt(r, 2);
	n = (size_t)r;
	ck_assert_int_eq(props_decode(buf, n, &o), 0);

	/* Truncated anywhere, and trailing bytes. */
	for (len = 0; len < n; len++)
		ck_assert_int_eq(props_decode(buf, len, &o),
		    AMQP_FRAME_ERROR);
	buf[n] = 0;
	ck_assert_int_eq(props_decode(buf, n + 1, &o), AMQP_FRAME_ERROR);

	/* Continuation and the unused bit. */
	buf[1] |= 0x01;
	ck_assert_int_eq(props_decode(buf, n, &o), AMQP_FRAME_ERROR);
	buf[1] &= ~0x01;
	buf[1] |= 0x02;
	ck_assert_int_eq(props_decode(buf, n, &o), AMQP_FRAME_ERROR);
	buf[1] &= ~0x02;
	ck_assert_int_eq(props_decode(buf, n, &o), 0);

	/* A damaged headers table: the first key's type octet. */
	hpos = 2 + 1 + o.content_type.len + 1 + o.content_encoding.len;
	ck_assert_uint_eq(buf[hpos + 4], 4);		/* "bool" */
	ck_assert_uint_eq(buf[hpos + 4 + 5], 't');
	buf[hpos + 4 + 5] = '!';
	ck_assert_int_eq(props_decode(buf, n, &o), AMQP_FRAME_ERROR);

	/* Flags only: nothing present. */
	buf[0] = buf[1] = 0;
	ck_assert_int_eq(props_decode(buf, 2, &o), 0);
	ck_assert_uint_eq(o.flags, 0);
	ck_assert_uint_eq(o.content_type.len, 0);
	ck_assert_uint_eq(o.headers.len, 0);

	/* The encoder drops bits that name no property. */
	memset(&o, 0, sizeof o);
	o.flags = AMQP_BASIC_DELIVERY_MODE_FLAG | 0x0003;
	o.delivery_mode = 2;
	b = evbuffer_new();
	props_encode(b, &o);
	ck_assert_uint_eq(evbuffer_get_length(b), 3);
	ck_assert_int_eq(memcmp(evbuffer_pullup(b, -1), "\x10\x00\x02", 3),
	    0);
	evbuffer_free(b);
}
END_TEST

START_TEST(test_content_header)
{
	uint8_t			buf[32];
	struct content_header	h;
	struct basic_props	o;
	size_t			len;

	len = 0;
	buf[len++] = 0; buf[len++] = 60;
	buf[len++] = 0; buf[len++] = 0;
	buf[len++] = 0x01; buf[len++] = 0x02; buf[len++] = 0x03;
	buf[len++] = 0x04; buf[len++] = 0x05; buf[len++] = 0x06;
	buf[len++] = 0x07; buf[len++] = 0x08;
	buf[len++] = 0x18; buf[len++] = 0x00;	/* delivery-mode, priority */
	buf[len++] = 2; buf[len++] = 9;
	ck_assert_int_eq(content_header_decode(buf, len, &h), 0);
	ck_assert_uint_eq(h.class_id, 60);
	ck_assert_uint_eq(h.weight, 0);
	ck_assert_uint_eq(h.body_size, 0x0102030405060708ULL);
	ck_assert_ptr_eq(h.props, buf + 12);
	ck_assert_uint_eq(h.props_len, 4);
	ck_assert_int_eq(props_decode(h.props, h.props_len, &o), 0);
	ck_assert_uint_eq(o.delivery_mode, 2);
	ck_assert_uint_eq(o.priority, 9);

	/* Anything shorter than class, weight and size. */
	for (len = 0; len < 12; len++)
		ck_assert_int_eq(content_header_decode(buf, len, &h),
		    AMQP_FRAME_ERROR);
	ck_assert_int_eq(content_header_decode(buf, 14, &h), 0);
	ck_assert_uint_eq(h.props_len, 2);
	/* No flags at all: the properties are what fails (as RabbitMQ). */
	ck_assert_int_eq(content_header_decode(buf, 12, &h), 0);
	ck_assert_uint_eq(h.props_len, 0);
	ck_assert_int_eq(props_decode(h.props, h.props_len, &o),
	    AMQP_FRAME_ERROR);
	ck_assert_int_eq(props_decode(h.props, 1, &o), AMQP_FRAME_ERROR);
}
END_TEST

START_TEST(test_check_utf8)
{
	/* queue.declare of "\xff\xfe": decodes, then fails the check. */
	const uint8_t		 qd[] = { 0, 50, 0, 10, 0, 0,
				    2, 0xff, 0xfe, 0x04, 0, 0, 0, 0 };
	/* basic.publish to exchange "\xff": content methods are exempt. */
	const uint8_t		 bp[] = { 0, 60, 0, 40, 0, 0,
				    1, 0xff, 1, 0xc0, 0 };
	/* channel.close with an overlong '/' in reply-text. */
	const uint8_t		 cc[] = { 0, 20, 0, 40, 0x01, 0x38,
				    2, 0xc0, 0xaf, 0, 50, 0, 10 };
	const struct method_desc *md;
	union method_args	 a;
	uint32_t		 id;

	ck_assert_int_eq(method_decode(qd, sizeof qd, &id, &md, &a), 0);
	ck_assert_uint_eq(a.queue_declare.exclusive, 1);
	ck_assert_int_eq(method_check_utf8(md, &a), AMQP_FRAME_ERROR);
	a.queue_declare.queue.s[0] = 'q';
	a.queue_declare.queue.s[1] = 0x7f;
	ck_assert_int_eq(method_check_utf8(md, &a), 0);

	ck_assert_int_eq(method_decode(bp, sizeof bp, &id, &md, &a), 0);
	ck_assert_int_eq(method_check_utf8(md, &a), 0);

	ck_assert_int_eq(method_decode(cc, sizeof cc, &id, &md, &a), 0);
	ck_assert_uint_eq(a.connection_close.reply_code, 312);
	ck_assert_int_eq(method_check_utf8(md, &a), AMQP_FRAME_ERROR);

	/* Methods without short strings always pass. */
	ck_assert_int_eq(method_check_utf8(method_find(AMQP_TX_SELECT), NULL),
	    0);
}
END_TEST

START_TEST(test_tables_vs_rabbitmq_c)
{
	struct field_table	 ft, ft2;
	struct table_iter	 it;
	struct field_value	 v;
	struct shortstr		 k;
	struct evbuffer		*b;
	amqp_table_t		 dec;
	amqp_bytes_t		 out, in;
	size_t			 off = 0;

	/* rabbitmq-c encodes; we validate and walk. */
	out.bytes = theirs_buf;
	out.len = sizeof theirs_buf;
	ck_assert_int_eq(amqp_encode_table(out, &rich, &off), 0);
	ck_assert_uint_gt(off, 4);
	ft.p = theirs_buf + 4;
	ft.len = be32(theirs_buf);
	ck_assert_uint_eq(ft.len, off - 4);
	ck_assert_int_eq(table_validate(ft.p, ft.len), 0);
	ck_assert(table_matches(&ft, &rich));
	ck_assert_int_eq(table_find(&ft, "u64", &v), 1);
	ck_assert_uint_eq(v.type, 'L');
	ck_assert_int_eq(v.v.i, (int64_t)0x8000000000000001ULL);

	/* We rebuild it entry by entry; rabbitmq-c reads the result. */
	b = evbuffer_new();
	table_iter_init(&it, &ft);
	while (table_next(&it, &k, &v))
		table_add_value(b, k.s, &v);
	ft2.len = evbuffer_get_length(b);
	ft2.p = evbuffer_pullup(b, -1);
	ck_assert_uint_eq(ft2.len, ft.len);
	ck_assert_int_eq(memcmp(ft2.p, ft.p, ft.len), 0);
	ck_assert_int_eq(table_equal(&ft, &ft2), 1);
	memcpy(ours_buf, theirs_buf, 4);
	memcpy(ours_buf + 4, ft2.p, ft2.len);
	in.bytes = ours_buf;
	in.len = 4 + ft2.len;
	off = 0;
	ck_assert_int_eq(amqp_decode_table(in, &pool, &dec, &off), 0);
	ck_assert_uint_eq(off, in.len);
	ck_assert(table_matches(&ft2, &dec));
	evbuffer_free(b);
}
END_TEST

/* Assemble the suite. */
static Suite *
method_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("method");
	tc = tcase_create("roundtrip");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_rt_connection_start);
	tcase_add_test(tc, test_rt_connection_start_ok);
	tcase_add_test(tc, test_rt_connection_secure);
	tcase_add_test(tc, test_rt_connection_tune);
	tcase_add_test(tc, test_rt_connection_open);
	tcase_add_test(tc, test_rt_connection_close);
	tcase_add_test(tc, test_rt_channel);
	tcase_add_test(tc, test_rt_exchange_declare);
	tcase_add_test(tc, test_rt_exchange_delete);
	tcase_add_test(tc, test_rt_exchange_bind);
	tcase_add_test(tc, test_rt_queue_declare);
	tcase_add_test(tc, test_rt_queue_bind);
	tcase_add_test(tc, test_rt_queue_purge_delete);
	tcase_add_test(tc, test_rt_basic_qos);
	tcase_add_test(tc, test_rt_basic_consume);
	tcase_add_test(tc, test_rt_basic_publish);
	tcase_add_test(tc, test_rt_basic_get);
	tcase_add_test(tc, test_rt_basic_ack);
	tcase_add_loop_test(tc, test_rt_no_arguments, 0,
	    sizeof noarg_ids / sizeof noarg_ids[0]);
	tcase_add_test(tc, test_connection_update_secret);
	tcase_add_test(tc, test_rt_props);
	tcase_add_test(tc, test_tables_vs_rabbitmq_c);
	suite_add_tcase(s, tc);

	tc = tcase_create("table");
	tcase_add_test(tc, test_method_table);
	tcase_add_test(tc, test_bits_packing);
	suite_add_tcase(s, tc);

	tc = tcase_create("malformed");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_decode_truncated);
	tcase_add_test(tc, test_decode_unknown);
	tcase_add_test(tc, test_decode_bad_tables);
	tcase_add_test(tc, test_props_errors);
	tcase_add_test(tc, test_content_header);
	tcase_add_test(tc, test_check_utf8);
	suite_add_tcase(s, tc);

	tc = tcase_create("frame");
	tcase_add_test(tc, test_frame_decode);
	tcase_add_test(tc, test_frame_put);
	suite_add_tcase(s, tc);
	return (s);
}

/* Run the suite; the exit status says whether anything failed. */
int
main(void)
{
	SRunner	*sr;
	int	 failed;

	values_init();
	sr = srunner_create(method_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
