/*
 * wire.c: the AMQP 0-9-1 field codec.  Integers are big-endian; strings
 * and tables decoded from a frame borrow its bytes.  A field table stays
 * in wire form: table_validate() walks it once with every length checked
 * before use, after which the iterators below cannot fail.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "wire.h"

/* Tables up to this many octets in all are compared pair by pair. */
#define WIRE_TABLE_WALK_MAX	512

/* A table entry, for comparing large tables by sorted keys. */
struct wire_entry {
	const uint8_t		*key;
	uint8_t			 klen;
	struct field_value	 v;
};

static uint16_t	wire_be16(const uint8_t *);
static uint32_t	wire_be32(const uint8_t *);
static uint64_t	wire_be64(const uint8_t *);
static int	wire_value_read(struct wire_reader *, uint8_t,
		    struct field_value *);
static int	wire_check(const uint8_t *, size_t, int, int);
static int	wire_iter_step(struct table_iter *, const uint8_t **,
		    uint8_t *, struct field_value *);
static int	wire_array_equal(const struct field_table *,
		    const struct field_table *);
static int	wire_table_subset(const struct field_table *,
		    const struct field_table *);
static int	wire_entry_cmp(const void *, const void *);
static int	wire_entries(const struct field_table *,
		    struct wire_entry **, size_t *);
static int	wire_sorted_subset(const struct wire_entry *, size_t,
		    const struct wire_entry *, size_t);
static int	wire_type_known(uint8_t);
static void	wire_put_key(struct evbuffer *, const char *);
static void	wire_put_value(struct evbuffer *, const struct field_value *);

/* Load a big-endian 16-bit integer. */
static uint16_t
wire_be16(const uint8_t *p)
{
	return ((uint16_t)((uint16_t)p[0] << 8 | p[1]));
}

/* Load a big-endian 32-bit integer. */
static uint32_t
wire_be32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | (uint32_t)p[3]);
}

/* Load a big-endian 64-bit integer. */
static uint64_t
wire_be64(const uint8_t *p)
{
	return ((uint64_t)wire_be32(p) << 32 | wire_be32(p + 4));
}

/* Store one octet. */
uint8_t *
wire_enc_u8(uint8_t *p, uint8_t v)
{
	*p = v;
	return (p + 1);
}

/* Store a big-endian 16-bit integer. */
uint8_t *
wire_enc_u16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v;
	return (p + 2);
}

/* Store a big-endian 32-bit integer. */
uint8_t *
wire_enc_u32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
	return (p + 4);
}

/* Store a big-endian 64-bit integer. */
uint8_t *
wire_enc_u64(uint8_t *p, uint64_t v)
{
	wire_enc_u32(p, (uint32_t)(v >> 32));
	return (wire_enc_u32(p + 4, (uint32_t)v));
}

/* Store len raw bytes; src may be NULL when len is 0. */
uint8_t *
wire_enc_bytes(uint8_t *p, const void *src, size_t len)
{
	if (len != 0)
		memcpy(p, src, len);
	return (p + len);
}

/* Set a short string from a C string, truncated to 255 bytes. */
void
wire_shortstr_set(struct shortstr *s, const char *cp)
{
	size_t	n;

	n = strlen(cp);
	if (n > 255)
		n = 255;
	memcpy(s->s, cp, n);
	s->s[n] = '\0';
	s->len = (uint8_t)n;
}

/*
 * Is p[0..len) well-formed UTF-8?  RFC 3629 section 4: the second octet's
 * range depends on the first, which excludes overlong forms, UTF-16
 * surrogates and code points above U+10FFFF.  NUL is a valid character.
 */
int
wire_utf8_valid(const void *vp, size_t len)
{
	const uint8_t	*p = vp;
	size_t		 i = 0, n, k;
	uint8_t		 c, lo, hi;

	while (i < len) {
		c = p[i];
		lo = 0x80;
		hi = 0xbf;
		if (c < 0x80) {
			i++;
			continue;
		} else if (c >= 0xc2 && c <= 0xdf)
			n = 1;
		else if (c >= 0xe0 && c <= 0xef) {
			n = 2;
			if (c == 0xe0)
				lo = 0xa0;
			else if (c == 0xed)
				hi = 0x9f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3;
			if (c == 0xf0)
				lo = 0x90;
			else if (c == 0xf4)
				hi = 0x8f;
		} else
			return (0);
		if (len - i - 1 < n)
			return (0);
		if (p[i + 1] < lo || p[i + 1] > hi)
			return (0);
		for (k = 2; k <= n; k++)
			if ((p[i + k] & 0xc0) != 0x80)
				return (0);
		i += 1 + n;
	}
	return (1);
}

/* Read one octet. */
int
wire_get_u8(struct wire_reader *r, uint8_t *v)
{
	if (r->len - r->off < 1)
		return (-1);
	*v = r->p[r->off];
	r->off += 1;
	return (0);
}

/* Read a 16-bit integer. */
int
wire_get_u16(struct wire_reader *r, uint16_t *v)
{
	if (r->len - r->off < 2)
		return (-1);
	*v = wire_be16(r->p + r->off);
	r->off += 2;
	return (0);
}

/* Read a 32-bit integer. */
int
wire_get_u32(struct wire_reader *r, uint32_t *v)
{
	if (r->len - r->off < 4)
		return (-1);
	*v = wire_be32(r->p + r->off);
	r->off += 4;
	return (0);
}

/* Read a 64-bit integer. */
int
wire_get_u64(struct wire_reader *r, uint64_t *v)
{
	if (r->len - r->off < 8)
		return (-1);
	*v = wire_be64(r->p + r->off);
	r->off += 8;
	return (0);
}

/* Read a short string (length octet, bytes) into s, NUL-terminated. */
int
wire_get_shortstr(struct wire_reader *r, struct shortstr *s)
{
	size_t	n;

	if (r->len - r->off < 1)
		return (-1);
	n = r->p[r->off];
	if (r->len - r->off - 1 < n)
		return (-1);
	memcpy(s->s, r->p + r->off + 1, n);
	s->s[n] = '\0';
	s->len = (uint8_t)n;
	r->off += 1 + n;
	return (0);
}

/* Read a long string (32-bit length, bytes); s borrows the input. */
int
wire_get_longstr(struct wire_reader *r, struct longstr *s)
{
	uint32_t	n;

	if (r->len - r->off < 4)
		return (-1);
	n = wire_be32(r->p + r->off);
	if (r->len - r->off - 4 < n)
		return (-1);
	s->p = r->p + r->off + 4;
	s->len = n;
	r->off += 4 + (size_t)n;
	return (0);
}

/* Read and validate a field table; t borrows the input. */
int
wire_get_table(struct wire_reader *r, struct field_table *t)
{
	uint32_t	n;

	if (r->len - r->off < 4)
		return (-1);
	n = wire_be32(r->p + r->off);
	if (r->len - r->off - 4 < n)
		return (-1);
	if (table_validate(r->p + r->off + 4, n) != 0)
		return (-1);
	t->p = r->p + r->off + 4;
	t->len = n;
	r->off += 4 + (size_t)n;
	return (0);
}

/* Append one octet. */
void
wire_put_u8(struct evbuffer *b, uint8_t v)
{
	evbuffer_add(b, &v, 1);
}

/* Append a 16-bit integer. */
void
wire_put_u16(struct evbuffer *b, uint16_t v)
{
	uint8_t	tmp[2];

	wire_enc_u16(tmp, v);
	evbuffer_add(b, tmp, sizeof tmp);
}

/* Append a 32-bit integer. */
void
wire_put_u32(struct evbuffer *b, uint32_t v)
{
	uint8_t	tmp[4];

	wire_enc_u32(tmp, v);
	evbuffer_add(b, tmp, sizeof tmp);
}

/* Append a 64-bit integer. */
void
wire_put_u64(struct evbuffer *b, uint64_t v)
{
	uint8_t	tmp[8];

	wire_enc_u64(tmp, v);
	evbuffer_add(b, tmp, sizeof tmp);
}

/* Append a short string. */
void
wire_put_shortstr(struct evbuffer *b, const struct shortstr *s)
{
	uint8_t	tmp[1 + 255];

	tmp[0] = s->len;
	memcpy(tmp + 1, s->s, s->len);
	evbuffer_add(b, tmp, 1 + (size_t)s->len);
}

/* Append a long string. */
void
wire_put_longstr(struct evbuffer *b, const struct longstr *s)
{
	wire_put_u32(b, s->len);
	if (s->len != 0)
		evbuffer_add(b, s->p, s->len);
}

/* Append a field table with its 32-bit length. */
void
wire_put_table(struct evbuffer *b, const struct field_table *t)
{
	wire_put_u32(b, t->len);
	if (t->len != 0)
		evbuffer_add(b, t->p, t->len);
}

/*
 * Read the value of a field whose type octet has been read.  Tables and
 * arrays are only delimited here; wire_check() descends into them.
 * Signed types are sign-extended into v.i as RabbitMQ's parser does
 * (rabbit_binary_parser), which also reads 'L' as a signed 64-bit.
 */
static int
wire_value_read(struct wire_reader *r, uint8_t type, struct field_value *v)
{
	uint8_t		u8;
	uint16_t	u16;
	uint32_t	u32;
	uint64_t	u64;

	v->type = type;
	switch (type) {
	case 't':
		if (wire_get_u8(r, &u8) != 0)
			return (-1);
		v->v.b = (u8 != 0);
		break;
	case 'b':
	case 'B':
		if (wire_get_u8(r, &u8) != 0)
			return (-1);
		if (type == 'b')
			v->v.i = (int8_t)u8;
		else
			v->v.u = u8;
		break;
	case 's':
	case 'u':
		if (wire_get_u16(r, &u16) != 0)
			return (-1);
		if (type == 's')
			v->v.i = (int16_t)u16;
		else
			v->v.u = u16;
		break;
	case 'I':
	case 'i':
	case 'f':
		if (wire_get_u32(r, &u32) != 0)
			return (-1);
		if (type == 'I')
			v->v.i = (int32_t)u32;
		else if (type == 'i')
			v->v.u = u32;
		else
			memcpy(&v->v.f, &u32, sizeof v->v.f);
		break;
	case 'l':
	case 'L':
	case 'T':
	case 'd':
		if (wire_get_u64(r, &u64) != 0)
			return (-1);
		if (type == 'T')
			v->v.u = u64;
		else if (type == 'd')
			memcpy(&v->v.d, &u64, sizeof v->v.d);
		else
			v->v.i = (int64_t)u64;
		break;
	case 'D':
		if (wire_get_u8(r, &u8) != 0 || wire_get_u32(r, &u32) != 0)
			return (-1);
		v->v.dec.scale = u8;
		v->v.dec.value = u32;
		break;
	case 'S':
	case 'x':
		return (wire_get_longstr(r, &v->v.s));
	case 'F':
	case 'A':
		if (r->len - r->off < 4)
			return (-1);
		u32 = wire_be32(r->p + r->off);
		if (r->len - r->off - 4 < u32)
			return (-1);
		v->v.t.p = r->p + r->off + 4;
		v->v.t.len = u32;
		r->off += 4 + (size_t)u32;
		break;
	case 'V':
		break;
	default:
		return (-1);
	}
	return (0);
}

/*
 * Check len bytes as a table body (keyed) or an array body.  Recursion is
 * bounded by WIRE_TABLE_DEPTH_MAX, so hostile nesting cannot exhaust the
 * stack.
 */
static int
wire_check(const uint8_t *p, size_t len, int keyed, int depth)
{
	struct wire_reader	r;
	struct field_value	v;
	uint8_t			n, type;

	if (depth > WIRE_TABLE_DEPTH_MAX)
		return (-1);
	r.p = p;
	r.len = len;
	r.off = 0;
	while (r.off < r.len) {
		if (keyed) {
			if (wire_get_u8(&r, &n) != 0 || r.len - r.off < n)
				return (-1);
			r.off += n;
		}
		if (wire_get_u8(&r, &type) != 0 ||
		    wire_value_read(&r, type, &v) != 0)
			return (-1);
		if (type == 'F' &&
		    wire_check(v.v.t.p, v.v.t.len, 1, depth + 1) != 0)
			return (-1);
		if (type == 'A' &&
		    wire_check(v.v.t.p, v.v.t.len, 0, depth + 1) != 0)
			return (-1);
	}
	return (0);
}

/* Check that len bytes are a well-formed table body; 0 or -1. */
int
table_validate(const uint8_t *p, size_t len)
{
	return (wire_check(p, len, 1, 1));
}

/* Start walking a table, or the bytes of an array value. */
void
table_iter_init(struct table_iter *it, const struct field_table *t)
{
	it->t = t;
	it->off = 0;
}

/*
 * Step over one entry: with key non-NULL a keyed table entry, otherwise
 * an array element.  The input is meant to be validated already; should
 * it not be, the walk stops rather than read out of bounds.
 */
static int
wire_iter_step(struct table_iter *it, const uint8_t **key, uint8_t *klen,
    struct field_value *v)
{
	struct wire_reader	r;
	uint8_t			type;

	if (it->t == NULL || it->off >= it->t->len)
		return (0);
	r.p = it->t->p;
	r.len = it->t->len;
	r.off = it->off;
	if (key != NULL) {
		if (wire_get_u8(&r, klen) != 0 || r.len - r.off < *klen)
			goto bad;
		*key = r.p + r.off;
		r.off += *klen;
	}
	if (wire_get_u8(&r, &type) != 0 || wire_value_read(&r, type, v) != 0)
		goto bad;
	it->off = r.off;
	return (1);

bad:
	it->off = it->t->len;
	return (0);
}

/* Next table entry: 1 with key (if non-NULL) and *v filled, 0 at end. */
int
table_next(struct table_iter *it, struct shortstr *key,
    struct field_value *v)
{
	const uint8_t	*kp;
	uint8_t		 klen;

	if (!wire_iter_step(it, &kp, &klen, v))
		return (0);
	if (key != NULL) {
		memcpy(key->s, kp, klen);
		key->s[klen] = '\0';
		key->len = klen;
	}
	return (1);
}

/* Next array element: 1 with *v filled, 0 at the end. */
int
array_next(struct table_iter *it, struct field_value *v)
{
	return (wire_iter_step(it, NULL, NULL, v));
}

/* Find key (the first entry, as RabbitMQ's table lookup); 1 if present. */
int
table_find(const struct field_table *t, const char *key,
    struct field_value *out)
{
	struct table_iter	 it;
	struct field_value	 v;
	const uint8_t		*kp;
	uint8_t			 klen;
	size_t			 n;

	n = strlen(key);
	if (n > 255)
		return (0);
	table_iter_init(&it, t);
	while (wire_iter_step(&it, &kp, &klen, &v)) {
		if (klen == n && memcmp(kp, key, n) == 0) {
			if (out != NULL)
				*out = v;
			return (1);
		}
	}
	return (0);
}

/* Integer value of an integer field type ('T' is not one); 0 or -1. */
int
field_value_int(const struct field_value *v, int64_t *out)
{
	switch (v->type) {
	case 'b':
	case 's':
	case 'I':
	case 'l':
	case 'L':
		*out = v->v.i;
		return (0);
	case 'B':
	case 'u':
	case 'i':
		*out = (int64_t)v->v.u;
		return (0);
	default:
		return (-1);
	}
}

/*
 * Compare two values by type and content.  'L' and 'l' are one type,
 * as RabbitMQ decodes both to long.  Floats compare by bit pattern, so a
 * value equals its own encoding (NaN included).
 */
int
field_value_equal(const struct field_value *a, const struct field_value *b)
{
	uint8_t	ta, tb;

	ta = (a->type == 'L') ? 'l' : a->type;
	tb = (b->type == 'L') ? 'l' : b->type;
	if (ta != tb)
		return (0);
	switch (ta) {
	case 't':
		return ((a->v.b != 0) == (b->v.b != 0));
	case 'b':
	case 's':
	case 'I':
	case 'l':
		return (a->v.i == b->v.i);
	case 'B':
	case 'u':
	case 'i':
	case 'T':
		return (a->v.u == b->v.u);
	case 'f':
		return (memcmp(&a->v.f, &b->v.f, sizeof a->v.f) == 0);
	case 'd':
		return (memcmp(&a->v.d, &b->v.d, sizeof a->v.d) == 0);
	case 'D':
		return (a->v.dec.scale == b->v.dec.scale &&
		    a->v.dec.value == b->v.dec.value);
	case 'S':
	case 'x':
		return (a->v.s.len == b->v.s.len && (a->v.s.len == 0 ||
		    memcmp(a->v.s.p, b->v.s.p, a->v.s.len) == 0));
	case 'F':
		return (table_equal(&a->v.t, &b->v.t));
	case 'A':
		return (wire_array_equal(&a->v.t, &b->v.t));
	case 'V':
		return (1);
	default:
		return (0);
	}
}

/* Compare two arrays element by element, in order. */
static int
wire_array_equal(const struct field_table *a, const struct field_table *b)
{
	struct table_iter	ia, ib;
	struct field_value	va, vb;
	int			na, nb;

	table_iter_init(&ia, a);
	table_iter_init(&ib, b);
	for (;;) {
		na = array_next(&ia, &va);
		nb = array_next(&ib, &vb);
		if (na != nb)
			return (0);
		if (na == 0)
			return (1);
		if (!field_value_equal(&va, &vb))
			return (0);
	}
}

/* Order entries by key octets, then length (qsort). */
static int
wire_entry_cmp(const void *x, const void *y)
{
	const struct wire_entry	*a = x, *b = y;
	int			 c;

	c = memcmp(a->key, b->key, a->klen < b->klen ? a->klen : b->klen);
	if (c != 0)
		return (c);
	return ((int)a->klen - (int)b->klen);
}

/*
 * The entries of t sorted by key, in *ep (free it); -1 when out of memory
 * (the caller then walks the tables pair by pair).
 */
static int
wire_entries(const struct field_table *t, struct wire_entry **ep, size_t *n)
{
	struct table_iter	 it;
	struct wire_entry	*e = NULL, *ne, one;
	size_t			 cap = 0;

	*n = 0;
	table_iter_init(&it, t);
	while (wire_iter_step(&it, &one.key, &one.klen, &one.v)) {
		if (*n == cap) {
			cap = cap == 0 ? 64 : cap * 2;
			if (cap > SIZE_MAX / sizeof *e ||
			    (ne = realloc(e, cap * sizeof *e)) == NULL) {
				free(e);
				return (-1);
			}
			e = ne;
		}
		e[(*n)++] = one;
	}
	if (*n > 1)
		qsort(e, *n, sizeof *e, wire_entry_cmp);
	*ep = e;
	return (0);
}

/* Is every entry of a (sorted) also an entry of b (sorted)? */
static int
wire_sorted_subset(const struct wire_entry *a, size_t na,
    const struct wire_entry *b, size_t nb)
{
	size_t	i, j = 0, k;
	int	found;

	for (i = 0; i < na; i++) {
		/* Both are sorted: b's cursor only moves forward. */
		while (j < nb && wire_entry_cmp(&b[j], &a[i]) < 0)
			j++;
		found = 0;
		for (k = j; !found && k < nb &&
		    wire_entry_cmp(&b[k], &a[i]) == 0; k++)
			found = field_value_equal(&a[i].v, &b[k].v);
		if (!found)
			return (0);
	}
	return (1);
}

/*
 * Is every key/value pair of a also a pair of b?  Small tables are walked
 * pair by pair; large ones are compared by sorted keys, so that a client
 * cannot make the broker spend seconds on the quadratic walk (two 128 KiB
 * tables of 26,000 entries in opposite orders took 4 s of CPU).
 */
static int
wire_table_subset(const struct field_table *a, const struct field_table *b)
{
	struct table_iter	 ia, ib;
	struct field_value	 va, vb;
	const uint8_t		*ka, *kb;
	uint8_t			 la, lb;
	int			 found;

	table_iter_init(&ia, a);
	while (wire_iter_step(&ia, &ka, &la, &va)) {
		found = 0;
		table_iter_init(&ib, b);
		while (!found && wire_iter_step(&ib, &kb, &lb, &vb)) {
			if (la == lb && memcmp(ka, kb, la) == 0 &&
			    field_value_equal(&va, &vb))
				found = 1;
		}
		if (!found)
			return (0);
	}
	return (1);
}

/*
 * Compare two tables as sets of key/value pairs, ignoring order (binding
 * and queue arguments are equivalent whatever order a client sends them).
 * Identical bytes are the common case and are checked first.
 */
int
table_equal(const struct field_table *a, const struct field_table *b)
{
	struct wire_entry	*ea = NULL, *eb = NULL;
	size_t			 na, nb;
	int			 eq;

	if (a->len == b->len &&
	    (a->len == 0 || memcmp(a->p, b->p, a->len) == 0))
		return (1);
	if (a->len + b->len > WIRE_TABLE_WALK_MAX &&
	    wire_entries(a, &ea, &na) == 0 &&
	    wire_entries(b, &eb, &nb) == 0) {
		eq = wire_sorted_subset(ea, na, eb, nb) &&
		    wire_sorted_subset(eb, nb, ea, na);
		free(ea);
		free(eb);
		return (eq);
	}
	free(ea);
	return (wire_table_subset(a, b) && wire_table_subset(b, a));
}

/* Is type one of the field value types this codec knows? */
static int
wire_type_known(uint8_t type)
{
	return (type != '\0' && strchr("tbBsuIilLfdDSxATFV", type) != NULL);
}

/* Append a table key; keys come from the program, so clamp at 255. */
static void
wire_put_key(struct evbuffer *b, const char *key)
{
	struct shortstr	s;

	wire_shortstr_set(&s, key);
	wire_put_shortstr(b, &s);
}

/* Append a type octet and value; fixed-size ones in a single add. */
static void
wire_put_value(struct evbuffer *b, const struct field_value *v)
{
	uint8_t		 tmp[16], *p;
	uint32_t	 f32;
	uint64_t	 f64;

	p = wire_enc_u8(tmp, v->type);
	switch (v->type) {
	case 't':
		p = wire_enc_u8(p, v->v.b != 0);
		break;
	case 'b':
		p = wire_enc_u8(p, (uint8_t)v->v.i);
		break;
	case 'B':
		p = wire_enc_u8(p, (uint8_t)v->v.u);
		break;
	case 's':
		p = wire_enc_u16(p, (uint16_t)v->v.i);
		break;
	case 'u':
		p = wire_enc_u16(p, (uint16_t)v->v.u);
		break;
	case 'I':
		p = wire_enc_u32(p, (uint32_t)v->v.i);
		break;
	case 'i':
		p = wire_enc_u32(p, (uint32_t)v->v.u);
		break;
	case 'f':
		memcpy(&f32, &v->v.f, sizeof f32);
		p = wire_enc_u32(p, f32);
		break;
	case 'l':
	case 'L':
		p = wire_enc_u64(p, (uint64_t)v->v.i);
		break;
	case 'T':
		p = wire_enc_u64(p, v->v.u);
		break;
	case 'd':
		memcpy(&f64, &v->v.d, sizeof f64);
		p = wire_enc_u64(p, f64);
		break;
	case 'D':
		p = wire_enc_u8(p, v->v.dec.scale);
		p = wire_enc_u32(p, v->v.dec.value);
		break;
	case 'S':
	case 'x':
		p = wire_enc_u32(p, v->v.s.len);
		evbuffer_add(b, tmp, (size_t)(p - tmp));
		if (v->v.s.len != 0)
			evbuffer_add(b, v->v.s.p, v->v.s.len);
		return;
	case 'F':
	case 'A':
		p = wire_enc_u32(p, v->v.t.len);
		evbuffer_add(b, tmp, (size_t)(p - tmp));
		if (v->v.t.len != 0)
			evbuffer_add(b, v->v.t.p, v->v.t.len);
		return;
	default:
		break;
	}
	evbuffer_add(b, tmp, (size_t)(p - tmp));
}

/* Append key = longstr value ('S'). */
void
table_add_longstr(struct evbuffer *b, const char *key, const char *val)
{
	struct field_value	v;

	v.type = 'S';
	v.v.s.p = (const uint8_t *)val;
	v.v.s.len = (uint32_t)strlen(val);
	table_add_value(b, key, &v);
}

/* Append key = bool ('t'). */
void
table_add_bool(struct evbuffer *b, const char *key, int val)
{
	struct field_value	v;

	v.type = 't';
	v.v.b = (val != 0);
	table_add_value(b, key, &v);
}

/* Append key = signed 64-bit integer ('l'). */
void
table_add_int(struct evbuffer *b, const char *key, int64_t val)
{
	struct field_value	v;

	v.type = 'l';
	v.v.i = val;
	table_add_value(b, key, &v);
}

/* Append key = nested table ('F'). */
void
table_add_table(struct evbuffer *b, const char *key,
    const struct field_table *t)
{
	struct field_value	v;

	v.type = 'F';
	v.v.t = *t;
	table_add_value(b, key, &v);
}

/*
 * Append every entry of t but those named skip (NULL: all).  Keys are
 * binary on the wire, as RabbitMQ keeps them: one holding a NUL is
 * compared and copied with its length, not cut short as a C string.
 */
void
table_copy_except(struct evbuffer *b, const struct field_table *t,
    const char *skip)
{
	struct table_iter	it;
	struct shortstr		key;
	struct field_value	v;

	table_iter_init(&it, t);
	while (table_next(&it, &key, &v))
		if (skip == NULL || !shortstr_is(&key, skip))
			table_add_entry(b, &key, &v);
}

/* Append one array element ('A' bodies hold values without keys). */
void
array_add_value(struct evbuffer *b, const struct field_value *v)
{
	if (wire_type_known(v->type))
		wire_put_value(b, v);
}

/* Append key = any value; an unknown type appends nothing. */
void
table_add_value(struct evbuffer *b, const char *key,
    const struct field_value *v)
{
	if (!wire_type_known(v->type))
		return;
	wire_put_key(b, key);
	wire_put_value(b, v);
}

/* Append an entry whose key came off the wire, with its length. */
void
table_add_entry(struct evbuffer *b, const struct shortstr *key,
    const struct field_value *v)
{
	if (!wire_type_known(v->type))
		return;
	wire_put_shortstr(b, key);
	wire_put_value(b, v);
}

/* Is the key exactly s, NULs and all? */
int
shortstr_is(const struct shortstr *key, const char *s)
{
	size_t	n = strlen(s);

	return (key->len == n && memcmp(key->s, s, n) == 0);
}
