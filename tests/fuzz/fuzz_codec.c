/*
 * fuzz_codec.c: libFuzzer target for the wire codec (frame.c, method.c,
 * props.c, wire.c).  The input is read as connection.c reads a socket, a
 * stream of frames.  A method frame that decodes is encoded again and the
 * result decoded again: both decodings must be equal field by field.  A
 * content header's properties must encode back to the bytes they came
 * from.  Every field table met on the way is walked the ways the broker
 * walks one (iteration, lookup, copying), and the whole input is also
 * given to the table and array decoders as it is.  A broken invariant
 * calls abort(), so libFuzzer keeps the input like a crash.
 *
 * tests/fuzz/replay.c runs the same function over the corpus in make check.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "method.h"

/* Entries of one table looked up by key: lookups cost a walk each. */
#define FUZZ_FIND_MAX	32

/* Abort, naming the broken invariant. */
#define FUZZ_CHECK(e) do {						\
	if (!(e))							\
		fuzz_fail(__LINE__, #e);				\
} while (0)

int		LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void	fuzz_fail(int, const char *);
static void	fuzz_frames(const uint8_t *, size_t);
static void	fuzz_method(const struct frame *);
static void	fuzz_method_tables(const struct method_desc *, const void *);
static int	fuzz_bytes_equal(const uint8_t *, uint32_t, const uint8_t *,
		    uint32_t);
static int	fuzz_args_equal(const struct method_desc *, const void *,
		    const void *);
static void	fuzz_header(const struct frame *);
static void	fuzz_table(const struct field_table *);
static void	fuzz_table_find(const struct field_table *);
static void	fuzz_table_copy(const struct field_table *);
static void	fuzz_array(const struct field_table *);
static void	fuzz_value(const struct field_value *);
static void	fuzz_unvalidated(const struct field_table *, int);
static void	fuzz_raw(const uint8_t *, size_t);
static void	fuzz_readers(const uint8_t *, size_t);
static void	fuzz_buffer_table(struct evbuffer *, struct field_table *);

/* Report an invariant that does not hold and abort. */
static void
fuzz_fail(int line, const char *what)
{
	fprintf(stderr, "fuzz_codec.c:%d: %s\n", line, what);
	abort();
}

/* Point t at the whole content of b (a table body built there). */
static void
fuzz_buffer_table(struct evbuffer *b, struct field_table *t)
{
	t->len = (uint32_t)evbuffer_get_length(b);
	t->p = t->len == 0 ? NULL : evbuffer_pullup(b, -1);
}

/* Frames one after the other, until one is partial or bad. */
static void
fuzz_frames(const uint8_t *data, size_t size)
{
	struct frame	f;
	size_t		off = 0, used;
	int		rc;

	while (off < size) {
		rc = frame_decode(data + off, size - off, &f, &used);
		if (rc != 0) {
			FUZZ_CHECK(rc == FRAME_PARTIAL ||
			    rc == AMQP_FRAME_ERROR);
			break;
		}
		FUZZ_CHECK(used == AMQP_FRAME_OVERHEAD + (size_t)f.size);
		FUZZ_CHECK(used <= size - off);
		FUZZ_CHECK(f.payload == data + off + AMQP_FRAME_HEADER_SIZE);
		FUZZ_CHECK(data[off + used - 1] == AMQP_FRAME_END);
		switch (f.type) {
		case AMQP_FRAME_METHOD:
			fuzz_method(&f);
			break;
		case AMQP_FRAME_HEADER:
			fuzz_header(&f);
			break;
		default:
			break;	/* body and heartbeat: nothing to decode */
		}
		off += used;
	}
}

/*
 * Decode a method, encode it with both encoders (which must agree) and
 * decode that: the arguments must come back the same.  Not the bytes:
 * the unused bits of a bit octet are not kept.
 */
static void
fuzz_method(const struct frame *f)
{
	const struct method_desc	*md, *md2;
	union method_args		 a, a2;
	struct frame			 f2;
	struct evbuffer			*b;
	uint8_t				*p, *mem;
	uint32_t			 id, id2;
	size_t				 n, used;
	int				 rc, utf8;

	rc = method_decode(f->payload, f->size, &id, &md, &a);
	if (rc == AMQP_COMMAND_INVALID) {
		FUZZ_CHECK(md == NULL && method_find(id) == NULL);
		return;
	}
	if (rc != 0) {
		FUZZ_CHECK(rc == AMQP_FRAME_ERROR);
		FUZZ_CHECK(md == NULL || md == method_find(id));
		return;
	}
	FUZZ_CHECK(md != NULL && md == method_find(id) && md->id == id);
	FUZZ_CHECK(strcmp(method_name(id), md->name) == 0);
	utf8 = method_check_utf8(md, &a);
	FUZZ_CHECK(utf8 == 0 || utf8 == AMQP_FRAME_ERROR);
	fuzz_method_tables(md, &a);

	b = evbuffer_new();
	FUZZ_CHECK(b != NULL);
	method_encode(b, f->channel, id, &a);
	n = evbuffer_get_length(b);
	FUZZ_CHECK(n == method_frame_size(id, &a));
	FUZZ_CHECK(n == AMQP_FRAME_OVERHEAD + (size_t)f->size);
	p = evbuffer_pullup(b, -1);
	mem = malloc(n);
	FUZZ_CHECK(mem != NULL);
	FUZZ_CHECK(method_encode_mem(mem, f->channel, id, &a) == mem + n);
	FUZZ_CHECK(memcmp(p, mem, n) == 0);

	FUZZ_CHECK(frame_decode(p, n, &f2, &used) == 0 && used == n);
	FUZZ_CHECK(f2.type == AMQP_FRAME_METHOD && f2.channel == f->channel);
	FUZZ_CHECK(method_decode(f2.payload, f2.size, &id2, &md2, &a2) == 0);
	FUZZ_CHECK(id2 == id && md2 == md);
	FUZZ_CHECK(fuzz_args_equal(md, &a, &a2));
	FUZZ_CHECK(method_check_utf8(md2, &a2) == utf8);
	free(mem);
	evbuffer_free(b);
}

/*
 * Walk the tables of decoded arguments; also a long string that is a
 * table, as auth.c reads an AMQPLAIN response.
 */
static void
fuzz_method_tables(const struct method_desc *md, const void *args)
{
	const struct wire_field	*wf;
	const struct longstr	*ls;
	const uint8_t		*a = args;
	struct field_table	 t;
	unsigned		 i;

	for (i = 0; i < md->nfields; i++) {
		wf = &md->fields[i];
		switch (wf->type) {
		case WT_TABLE:
			fuzz_table((const struct field_table *)(a + wf->off));
			break;
		case WT_LONGSTR:
			ls = (const struct longstr *)(a + wf->off);
			if (table_validate(ls->p, ls->len) != 0)
				break;
			t.p = ls->p;
			t.len = ls->len;
			fuzz_table(&t);
			break;
		case WT_BIT:
			FUZZ_CHECK(a[wf->off] == 0 || a[wf->off] == 1);
			break;
		default:
			break;
		}
	}
}

/* Are two borrowed byte strings (a long string, a table) the same? */
static int
fuzz_bytes_equal(const uint8_t *p, uint32_t n, const uint8_t *q, uint32_t m)
{
	return (n == m && (n == 0 || memcmp(p, q, n) == 0));
}

/* Are the arguments of two decodings of md the same, field by field? */
static int
fuzz_args_equal(const struct method_desc *md, const void *va,
    const void *vb)
{
	const struct wire_field	*wf;
	const struct shortstr	*sa, *sb;
	const struct longstr	*la, *lb;
	const struct field_table *ta, *tb;
	const uint8_t		*a = va, *b = vb;
	unsigned		 i;

	for (i = 0; i < md->nfields; i++) {
		wf = &md->fields[i];
		switch (wf->type) {
		case WT_OCTET:
		case WT_BIT:
			if (a[wf->off] != b[wf->off])
				return (0);
			break;
		case WT_SHORT:
			if (memcmp(a + wf->off, b + wf->off, 2) != 0)
				return (0);
			break;
		case WT_LONG:
			if (memcmp(a + wf->off, b + wf->off, 4) != 0)
				return (0);
			break;
		case WT_LONGLONG:
		case WT_TIMESTAMP:
			if (memcmp(a + wf->off, b + wf->off, 8) != 0)
				return (0);
			break;
		case WT_SHORTSTR:
			sa = (const struct shortstr *)(a + wf->off);
			sb = (const struct shortstr *)(b + wf->off);
			/* The terminating NUL included. */
			if (sa->len != sb->len ||
			    memcmp(sa->s, sb->s, (size_t)sa->len + 1) != 0)
				return (0);
			break;
		case WT_LONGSTR:
			la = (const struct longstr *)(a + wf->off);
			lb = (const struct longstr *)(b + wf->off);
			if (!fuzz_bytes_equal(la->p, la->len, lb->p, lb->len))
				return (0);
			break;
		case WT_TABLE:
			ta = (const struct field_table *)(a + wf->off);
			tb = (const struct field_table *)(b + wf->off);
			if (!fuzz_bytes_equal(ta->p, ta->len, tb->p, tb->len))
				return (0);
			break;
		}
	}
	return (1);
}

/*
 * A content header: split it, decode the properties, walk the headers
 * table, and encode the properties again, which must give the same bytes
 * (props_decode() rejects unused flag bits and trailing bytes).
 */
static void
fuzz_header(const struct frame *f)
{
	struct content_header	 h;
	struct basic_props	 bp;
	struct evbuffer		*b;

	if (content_header_decode(f->payload, f->size, &h) != 0) {
		FUZZ_CHECK(f->size < 12);
		return;
	}
	FUZZ_CHECK(h.props == f->payload + 12 && h.props_len == f->size - 12);
	if (props_decode(h.props, h.props_len, &bp) != 0)
		return;
	if (bp.flags & AMQP_BASIC_HEADERS_FLAG)
		fuzz_table(&bp.headers);
	else
		FUZZ_CHECK(bp.headers.len == 0);

	b = evbuffer_new();
	FUZZ_CHECK(b != NULL);
	props_encode(b, &bp);
	FUZZ_CHECK(evbuffer_get_length(b) == h.props_len);
	FUZZ_CHECK(memcmp(evbuffer_pullup(b, -1), h.props, h.props_len) == 0);
	evbuffer_free(b);
}

/*
 * A validated table: every entry and nested value, lookups by key, and
 * copies as the broker makes them when it rewrites headers.  Nesting is
 * bounded by WIRE_TABLE_DEPTH_MAX, so the recursion is too.
 */
static void
fuzz_table(const struct field_table *t)
{
	struct table_iter	it;
	struct shortstr		key;
	struct field_value	v;
	size_t			n = 0;

	FUZZ_CHECK(table_validate(t->p, t->len) == 0);
	table_iter_init(&it, t);
	while (table_next(&it, &key, &v)) {
		FUZZ_CHECK(key.s[key.len] == '\0');
		fuzz_value(&v);
		n++;
	}
	FUZZ_CHECK(it.off == t->len);
	/* Each entry takes two octets at least: key length and type. */
	FUZZ_CHECK(n <= t->len / 2);
	FUZZ_CHECK(table_equal(t, t));
	fuzz_table_find(t);
	fuzz_table_copy(t);
}

/*
 * Look up the first keys of t: each must be found, and the value found
 * must be its first entry's (as RabbitMQ's table lookup).
 */
static void
fuzz_table_find(const struct field_table *t)
{
	struct table_iter	it, prev;
	struct shortstr		key, pkey;
	struct field_value	v, pv, found;
	size_t			i, j;
	int			first;

	table_iter_init(&it, t);
	for (i = 0; i < FUZZ_FIND_MAX && table_next(&it, &key, &v); i++) {
		/* A key with a NUL in it cannot be named by a C string. */
		if (strlen(key.s) != key.len)
			continue;
		FUZZ_CHECK(table_find(t, key.s, &found) == 1);
		first = 1;
		table_iter_init(&prev, t);
		for (j = 0; j < i && table_next(&prev, &pkey, &pv); j++) {
			if (pkey.len == key.len &&
			    memcmp(pkey.s, key.s, key.len) == 0)
				first = 0;
		}
		if (first)
			FUZZ_CHECK(field_value_equal(&found, &v));
	}
}

/*
 * Copy t whole, then without the key of its first entry, as channel.c
 * drops x-delivery-count and BCC: a copy must hold the same entries in
 * the same order, less every entry under the skipped key.
 */
static void
fuzz_table_copy(const struct field_table *t)
{
	struct evbuffer		*b;
	struct field_table	 c;
	struct table_iter	 it, ic;
	struct shortstr		 key, ckey, skip;
	struct field_value	 v, cv;
	int			 more;

	b = evbuffer_new();
	FUZZ_CHECK(b != NULL);
	table_copy_except(b, t, NULL);
	fuzz_buffer_table(b, &c);
	FUZZ_CHECK(table_validate(c.p, c.len) == 0);
	table_iter_init(&it, t);
	table_iter_init(&ic, &c);
	do {
		more = table_next(&it, &key, &v);
		FUZZ_CHECK(table_next(&ic, &ckey, &cv) == more);
		if (more) {
			FUZZ_CHECK(key.len == ckey.len &&
			    memcmp(key.s, ckey.s, key.len) == 0);
			FUZZ_CHECK(field_value_equal(&v, &cv));
		}
	} while (more);
	FUZZ_CHECK(table_equal(t, &c) && table_equal(&c, t));
	evbuffer_free(b);

	table_iter_init(&it, t);
	if (!table_next(&it, &skip, &v) || strlen(skip.s) != skip.len)
		return;
	b = evbuffer_new();
	FUZZ_CHECK(b != NULL);
	table_copy_except(b, t, skip.s);
	fuzz_buffer_table(b, &c);
	FUZZ_CHECK(table_validate(c.p, c.len) == 0);
	table_iter_init(&it, t);
	table_iter_init(&ic, &c);
	while (table_next(&it, &key, &v)) {
		if (key.len == skip.len && memcmp(key.s, skip.s, key.len) == 0)
			continue;
		FUZZ_CHECK(table_next(&ic, &ckey, &cv));
		FUZZ_CHECK(key.len == ckey.len &&
		    memcmp(key.s, ckey.s, key.len) == 0);
		FUZZ_CHECK(field_value_equal(&v, &cv));
	}
	FUZZ_CHECK(!table_next(&ic, &ckey, &cv));
	FUZZ_CHECK(!table_find(&c, skip.s, NULL));
	evbuffer_free(b);
}

/*
 * The elements of a validated array, and a copy of it made element by
 * element with array_add_value(), as deadletter.c builds x-death.
 */
static void
fuzz_array(const struct field_table *arr)
{
	struct evbuffer		*b;
	struct field_table	 c;
	struct table_iter	 it, ic;
	struct field_value	 v, cv, va, vc;

	b = evbuffer_new();
	FUZZ_CHECK(b != NULL);
	table_iter_init(&it, arr);
	while (array_next(&it, &v)) {
		fuzz_value(&v);
		array_add_value(b, &v);
	}
	FUZZ_CHECK(it.off == arr->len);
	fuzz_buffer_table(b, &c);
	table_iter_init(&it, arr);
	table_iter_init(&ic, &c);
	while (array_next(&it, &v)) {
		FUZZ_CHECK(array_next(&ic, &cv));
		FUZZ_CHECK(field_value_equal(&v, &cv));
	}
	FUZZ_CHECK(!array_next(&ic, &cv));
	va.type = vc.type = 'A';
	va.v.t = *arr;
	vc.v.t = c;
	FUZZ_CHECK(field_value_equal(&va, &vc));
	evbuffer_free(b);
}

/* One value of a validated table or array, and what it nests. */
static void
fuzz_value(const struct field_value *v)
{
	int64_t	i;
	int	isint;

	FUZZ_CHECK(field_value_equal(v, v));
	isint = field_value_int(v, &i) == 0;
	FUZZ_CHECK(isint == (strchr("bsIlLBui", v->type) != NULL));
	if (v->type == 'F')
		fuzz_table(&v->v.t);
	else if (v->type == 'A')
		fuzz_array(&v->v.t);
}

/*
 * Walk bytes that did not validate, as a table (keyed) or an array: the
 * iterators must stop at the first bad entry and never read past the end.
 */
static void
fuzz_unvalidated(const struct field_table *t, int keyed)
{
	struct table_iter	it;
	struct shortstr		key;
	struct field_value	v;
	int			more;

	table_iter_init(&it, t);
	for (;;) {
		more = keyed ? table_next(&it, &key, &v) : array_next(&it, &v);
		if (!more)
			break;
		if (v.type == 'F')
			fuzz_unvalidated(&v.v.t, 1);
		else if (v.type == 'A')
			fuzz_unvalidated(&v.v.t, 0);
	}
	FUZZ_CHECK(it.off <= t->len);
	if (keyed)
		(void)table_find(t, "x-match", NULL);
}

/*
 * The whole input as a table body, as an array body (inside a table, the
 * only way the codec validates one) and through the length-prefixed
 * readers.
 */
static void
fuzz_raw(const uint8_t *data, size_t size)
{
	struct evbuffer		*b;
	struct field_table	 t, w;
	struct field_value	 v;

	if (size > UINT32_MAX)
		return;
	t.p = data;
	t.len = (uint32_t)size;
	if (table_validate(t.p, t.len) == 0)
		fuzz_table(&t);
	else
		fuzz_unvalidated(&t, 1);

	b = evbuffer_new();
	FUZZ_CHECK(b != NULL);
	v.type = 'A';
	v.v.t = t;
	table_add_value(b, "a", &v);
	fuzz_buffer_table(b, &w);
	if (table_validate(w.p, w.len) == 0) {
		FUZZ_CHECK(table_find(&w, "a", &v) == 1 && v.type == 'A');
		fuzz_array(&v.v.t);
	} else
		fuzz_unvalidated(&t, 0);
	evbuffer_free(b);

	fuzz_readers(data, size);
}

/* Read the input as consecutive tables, then long and short strings. */
static void
fuzz_readers(const uint8_t *data, size_t size)
{
	struct wire_reader	r;
	struct field_table	t;
	struct longstr		ls;
	struct shortstr		ss;
	size_t			off;

	r.p = data;
	r.len = size;
	r.off = 0;
	while (wire_get_table(&r, &t) == 0) {
		FUZZ_CHECK(r.off <= size && t.p + t.len == data + r.off);
		fuzz_table(&t);
	}
	FUZZ_CHECK(r.off <= size);

	/* A read that fails consumes nothing. */
	r.off = 0;
	for (;;) {
		off = r.off;
		if (wire_get_longstr(&r, &ls) != 0)
			break;
		FUZZ_CHECK(r.off == off + 4 + (size_t)ls.len && r.off <= size);
	}
	FUZZ_CHECK(r.off == off);

	r.off = 0;
	for (;;) {
		off = r.off;
		if (wire_get_shortstr(&r, &ss) != 0)
			break;
		FUZZ_CHECK(r.off == off + 1 + (size_t)ss.len && r.off <= size);
		FUZZ_CHECK(ss.s[ss.len] == '\0');
	}
	FUZZ_CHECK(r.off == off);
}

/* libFuzzer's entry point: 0 always; a finding aborts. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_frames(data, size);
	fuzz_raw(data, size);
	return (0);
}
