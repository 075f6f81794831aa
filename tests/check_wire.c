/*
 * check_wire.c: Check suite for src/wire.c, the field codec.  Inputs are
 * built byte by byte here (not with the writers under test), following
 * the 0-9-1 grammar and RabbitMQ's type octets.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <float.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <event2/buffer.h>

#include "wire.h"

/* A byte string under construction. */
struct tbuf {
	uint8_t	*b;
	size_t	 n;
	size_t	 cap;
};

static void	tb_init(struct tbuf *);
static void	tb_free(struct tbuf *);
static void	tb_bytes(struct tbuf *, const void *, size_t);
static void	tb_u8(struct tbuf *, uint8_t);
static void	tb_u16(struct tbuf *, uint16_t);
static void	tb_u32(struct tbuf *, uint32_t);
static void	tb_u64(struct tbuf *, uint64_t);
static void	tb_key(struct tbuf *, const char *);
static void	tb_sample(struct tbuf *, uint8_t);
static void	tb_every_type(struct tbuf *);
static void	tb_nest(struct tbuf *, int, uint8_t);
static int	validate(const struct tbuf *);

/* Start an empty byte string. */
static void
tb_init(struct tbuf *t)
{
	t->cap = 256;
	t->n = 0;
	t->b = malloc(t->cap);
	ck_assert_ptr_nonnull(t->b);
}

/* Free a byte string. */
static void
tb_free(struct tbuf *t)
{
	free(t->b);
	t->b = NULL;
}

/* Append raw bytes. */
static void
tb_bytes(struct tbuf *t, const void *p, size_t n)
{
	while (t->n + n > t->cap) {
		t->cap *= 2;
		t->b = realloc(t->b, t->cap);
		ck_assert_ptr_nonnull(t->b);
	}
	if (n != 0)
		memcpy(t->b + t->n, p, n);
	t->n += n;
}

/* Append one octet. */
static void
tb_u8(struct tbuf *t, uint8_t v)
{
	tb_bytes(t, &v, 1);
}

/* Append a big-endian 16-bit value. */
static void
tb_u16(struct tbuf *t, uint16_t v)
{
	tb_u8(t, v >> 8);
	tb_u8(t, v & 0xff);
}

/* Append a big-endian 32-bit value. */
static void
tb_u32(struct tbuf *t, uint32_t v)
{
	tb_u16(t, v >> 16);
	tb_u16(t, v & 0xffff);
}

/* Append a big-endian 64-bit value. */
static void
tb_u64(struct tbuf *t, uint64_t v)
{
	tb_u32(t, v >> 32);
	tb_u32(t, v & 0xffffffff);
}

/* Append a table key (short string). */
static void
tb_key(struct tbuf *t, const char *k)
{
	tb_u8(t, strlen(k));
	tb_bytes(t, k, strlen(k));
}

/* Append a type octet and a small valid value of that type. */
static void
tb_sample(struct tbuf *t, uint8_t type)
{
	tb_u8(t, type);
	switch (type) {
	case 't': case 'b': case 'B':
		tb_u8(t, 1);
		break;
	case 's': case 'u':
		tb_u16(t, 2);
		break;
	case 'I': case 'i': case 'f':
		tb_u32(t, 3);
		break;
	case 'l': case 'L': case 'd': case 'T':
		tb_u64(t, 4);
		break;
	case 'D':
		tb_u8(t, 1);
		tb_u32(t, 5);
		break;
	case 'S': case 'x':
		tb_u32(t, 2);
		tb_bytes(t, "ok", 2);
		break;
	case 'F':
		tb_u32(t, 3);
		tb_key(t, "k");
		tb_u8(t, 'V');
		break;
	case 'A':
		tb_u32(t, 2);
		tb_u8(t, 'b');
		tb_u8(t, 9);
		break;
	case 'V':
		break;
	}
}

/*
 * A table with one entry of every type, with values at the edges of
 * their ranges.  Keys are the type letter prefixed by "k".
 */
static void
tb_every_type(struct tbuf *t)
{
	float	f = 1.5f;
	double	d = -2.25;
	uint32_t f32;
	uint64_t f64;

	memcpy(&f32, &f, 4);
	memcpy(&f64, &d, 8);
	tb_key(t, "kt"); tb_u8(t, 't'); tb_u8(t, 7);	/* any non-zero */
	tb_key(t, "kb"); tb_u8(t, 'b'); tb_u8(t, 0xff);
	tb_key(t, "kB"); tb_u8(t, 'B'); tb_u8(t, 0xff);
	tb_key(t, "ks"); tb_u8(t, 's'); tb_u16(t, 0x8000);
	tb_key(t, "ku"); tb_u8(t, 'u'); tb_u16(t, 0xffff);
	tb_key(t, "kI"); tb_u8(t, 'I'); tb_u32(t, 0x80000000);
	tb_key(t, "ki"); tb_u8(t, 'i'); tb_u32(t, 0xffffffff);
	tb_key(t, "kl"); tb_u8(t, 'l'); tb_u64(t, 0xfffffffffffffffeULL);
	tb_key(t, "kL"); tb_u8(t, 'L'); tb_u64(t, 0x8000000000000000ULL);
	tb_key(t, "kf"); tb_u8(t, 'f'); tb_u32(t, f32);
	tb_key(t, "kd"); tb_u8(t, 'd'); tb_u64(t, f64);
	tb_key(t, "kD"); tb_u8(t, 'D'); tb_u8(t, 3); tb_u32(t, 123456);
	tb_key(t, "kS"); tb_u8(t, 'S'); tb_u32(t, 5); tb_bytes(t, "hello", 5);
	tb_key(t, "kx"); tb_u8(t, 'x'); tb_u32(t, 3); tb_bytes(t, "\0\1\2", 3);
	tb_key(t, "kT"); tb_u8(t, 'T'); tb_u64(t, 1700000000);
	tb_key(t, "kV"); tb_u8(t, 'V');
	/* F { "n": I 42, "e": F {} } */
	tb_key(t, "kF"); tb_u8(t, 'F'); tb_u32(t, 3 + 4 + 3 + 4);
	tb_key(t, "n"); tb_u8(t, 'I'); tb_u32(t, 42);
	tb_key(t, "e"); tb_u8(t, 'F'); tb_u32(t, 0);
	/* A [ S "a", A [ t 0 ], V ] */
	tb_key(t, "kA"); tb_u8(t, 'A'); tb_u32(t, 6 + 7 + 1);
	tb_u8(t, 'S'); tb_u32(t, 1); tb_u8(t, 'a');
	tb_u8(t, 'A'); tb_u32(t, 2); tb_u8(t, 't'); tb_u8(t, 0);
	tb_u8(t, 'V');
	tb_key(t, ""); tb_u8(t, 'V');		/* empty keys are legal */
}

/*
 * Nest depth containers: a table holding a table ... (kind 'F') or an
 * array holding an array (kind 'A'), innermost empty.  The result is a
 * table body whose deepest container is at nesting level depth + 1.
 */
static void
tb_nest(struct tbuf *t, int depth, uint8_t kind)
{
	size_t	per = (kind == 'F') ? 1 + 1 + 4 : 1 + 4;
	size_t	inner;
	int	i;

	/* Outer table entry, then depth - 1 nested containers inside. */
	tb_key(t, "");
	tb_u8(t, kind);
	inner = (size_t)(depth - 1) * per;
	tb_u32(t, (uint32_t)inner);
	for (i = 1; i < depth; i++) {
		if (kind == 'F')
			tb_key(t, "");
		tb_u8(t, kind);
		inner -= per;
		tb_u32(t, (uint32_t)inner);
	}
}

/* Run table_validate over a byte string. */
static int
validate(const struct tbuf *t)
{
	return (table_validate(t->b, t->n));
}

START_TEST(test_wire_get_integers)
{
	const uint8_t		buf[] = { 0x01, 0x02, 0x03, 0x04, 0x05, 0x06,
				    0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d,
				    0x0e, 0x0f };
	struct wire_reader	r = { buf, sizeof buf, 0 };
	uint8_t			u8;
	uint16_t		u16;
	uint32_t		u32;
	uint64_t		u64;

	ck_assert_int_eq(wire_get_u8(&r, &u8), 0);
	ck_assert_uint_eq(u8, 0x01);
	ck_assert_int_eq(wire_get_u16(&r, &u16), 0);
	ck_assert_uint_eq(u16, 0x0203);
	ck_assert_int_eq(wire_get_u32(&r, &u32), 0);
	ck_assert_uint_eq(u32, 0x04050607);
	ck_assert_int_eq(wire_get_u64(&r, &u64), 0);
	ck_assert_uint_eq(u64, 0x08090a0b0c0d0e0fULL);
	ck_assert_uint_eq(r.off, sizeof buf);
	ck_assert_int_eq(wire_get_u8(&r, &u8), -1);

	/* Short reads fail and consume nothing. */
	r.off = sizeof buf - 1;
	ck_assert_int_eq(wire_get_u16(&r, &u16), -1);
	r.off = sizeof buf - 3;
	ck_assert_int_eq(wire_get_u32(&r, &u32), -1);
	r.off = sizeof buf - 7;
	ck_assert_int_eq(wire_get_u64(&r, &u64), -1);
	ck_assert_uint_eq(r.off, sizeof buf - 7);
}
END_TEST

START_TEST(test_wire_get_shortstr)
{
	uint8_t			buf[1 + 255 + 1];
	struct wire_reader	r = { buf, 0, 0 };
	struct shortstr		s;

	buf[0] = 3;
	memcpy(buf + 1, "a\0b", 3);
	r.len = 4;
	ck_assert_int_eq(wire_get_shortstr(&r, &s), 0);
	ck_assert_uint_eq(s.len, 3);
	ck_assert_int_eq(memcmp(s.s, "a\0b\0", 4), 0);

	/* Length octet promises more than there is. */
	r.off = 0;
	r.len = 3;
	ck_assert_int_eq(wire_get_shortstr(&r, &s), -1);
	ck_assert_uint_eq(r.off, 0);
	r.len = 0;
	ck_assert_int_eq(wire_get_shortstr(&r, &s), -1);

	/* The longest, 255 bytes, is NUL-terminated inside the struct. */
	buf[0] = 255;
	memset(buf + 1, 'z', 255);
	buf[256] = 0x77;
	r.off = 0;
	r.len = sizeof buf;
	ck_assert_int_eq(wire_get_shortstr(&r, &s), 0);
	ck_assert_uint_eq(s.len, 255);
	ck_assert_uint_eq(strlen(s.s), 255);
	ck_assert_uint_eq(r.off, 256);

	/* Empty. */
	buf[0] = 0;
	r.off = 0;
	r.len = 1;
	ck_assert_int_eq(wire_get_shortstr(&r, &s), 0);
	ck_assert_uint_eq(s.len, 0);
	ck_assert_str_eq(s.s, "");
}
END_TEST

START_TEST(test_wire_get_longstr)
{
	const uint8_t		ok[] = { 0, 0, 0, 2, 'h', 'i', 'X' };
	const uint8_t		huge[] = { 0xff, 0xff, 0xff, 0xff, 'a' };
	const uint8_t		empty[] = { 0, 0, 0, 0 };
	struct wire_reader	r = { ok, sizeof ok, 0 };
	struct longstr		s;

	ck_assert_int_eq(wire_get_longstr(&r, &s), 0);
	ck_assert_uint_eq(s.len, 2);
	ck_assert_ptr_eq(s.p, ok + 4);
	ck_assert_uint_eq(r.off, 6);

	r.off = 0;
	r.len = 5;
	ck_assert_int_eq(wire_get_longstr(&r, &s), -1);
	ck_assert_uint_eq(r.off, 0);
	r.len = 3;
	ck_assert_int_eq(wire_get_longstr(&r, &s), -1);

	r.p = huge;
	r.len = sizeof huge;
	ck_assert_int_eq(wire_get_longstr(&r, &s), -1);

	r.p = empty;
	r.len = sizeof empty;
	ck_assert_int_eq(wire_get_longstr(&r, &s), 0);
	ck_assert_uint_eq(s.len, 0);
}
END_TEST

START_TEST(test_wire_get_table)
{
	struct tbuf		t, body;
	struct wire_reader	r;
	struct field_table	ft;

	tb_init(&t);
	tb_init(&body);
	tb_every_type(&body);
	tb_u32(&t, body.n);
	tb_bytes(&t, body.b, body.n);
	tb_u8(&t, 0xAA);	/* the next field */

	r.p = t.b;
	r.len = t.n;
	r.off = 0;
	ck_assert_int_eq(wire_get_table(&r, &ft), 0);
	ck_assert_uint_eq(ft.len, body.n);
	ck_assert_ptr_eq(ft.p, t.b + 4);
	ck_assert_uint_eq(r.off, t.n - 1);

	/* Length beyond the input. */
	r.off = 0;
	r.len = t.n - 2;
	ck_assert_int_eq(wire_get_table(&r, &ft), -1);
	ck_assert_uint_eq(r.off, 0);

	/* A well-delimited but invalid body is refused too. */
	t.b[4 + 3] = 'Z';	/* the type of "kt" */
	r.len = t.n;
	ck_assert_int_eq(wire_get_table(&r, &ft), -1);
	tb_free(&t);
	tb_free(&body);
}
END_TEST

START_TEST(test_wire_put_and_enc)
{
	struct evbuffer		*b;
	struct shortstr		 ss;
	struct longstr		 ls = { (const uint8_t *)"xyz", 3 };
	struct field_table	 ft = { (const uint8_t *)"\1kV", 3 };
	const uint8_t		 expect[] = {
		0x81,
		0x82, 0x83,
		0x84, 0x85, 0x86, 0x87,
		0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
		2, 'h', 'i',
		0, 0, 0, 3, 'x', 'y', 'z',
		0, 0, 0, 3, 1, 'k', 'V',
	};
	uint8_t			 flat[15], *p;

	b = evbuffer_new();
	wire_shortstr_set(&ss, "hi");
	wire_put_u8(b, 0x81);
	wire_put_u16(b, 0x8283);
	wire_put_u32(b, 0x84858687);
	wire_put_u64(b, 0x0102030405060708ULL);
	wire_put_shortstr(b, &ss);
	wire_put_longstr(b, &ls);
	wire_put_table(b, &ft);
	ck_assert_uint_eq(evbuffer_get_length(b), sizeof expect);
	ck_assert_int_eq(memcmp(evbuffer_pullup(b, -1), expect,
	    sizeof expect), 0);
	evbuffer_free(b);

	p = wire_enc_u8(flat, 0x81);
	p = wire_enc_u16(p, 0x8283);
	p = wire_enc_u32(p, 0x84858687);
	p = wire_enc_u64(p, 0x0102030405060708ULL);
	ck_assert_ptr_eq(p, flat + 15);
	ck_assert_int_eq(memcmp(flat, expect, 15), 0);
	ck_assert_ptr_eq(wire_enc_bytes(p, NULL, 0), p);
}
END_TEST

START_TEST(test_wire_shortstr_set)
{
	struct shortstr	s;
	char		long_s[400];

	wire_shortstr_set(&s, "abc");
	ck_assert_uint_eq(s.len, 3);
	ck_assert_str_eq(s.s, "abc");
	memset(long_s, 'q', sizeof long_s - 1);
	long_s[sizeof long_s - 1] = '\0';
	wire_shortstr_set(&s, long_s);
	ck_assert_uint_eq(s.len, 255);
	ck_assert_uint_eq(strlen(s.s), 255);
}
END_TEST

START_TEST(test_wire_utf8_valid)
{
	static const struct {
		const char	*s;
		size_t		 len;
		int		 ok;
	} cases[] = {
		{ "", 0, 1 },
		{ "plain ascii", 11, 1 },
		{ "nul\0inside", 11, 1 },
		{ "\xc3\xa9", 2, 1 },			/* U+00E9 */
		{ "\xe2\x82\xac", 3, 1 },		/* U+20AC */
		{ "\xed\x9f\xbf", 3, 1 },		/* U+D7FF */
		{ "\xee\x80\x80", 3, 1 },		/* U+E000 */
		{ "\xef\xbf\xbf", 3, 1 },		/* U+FFFF */
		{ "\xf0\x90\x80\x80", 4, 1 },	/* U+10000 */
		{ "\xf4\x8f\xbf\xbf", 4, 1 },	/* U+10FFFF */
		{ "\xff\xfe", 2, 0 },
		{ "\x80", 1, 0 },			/* lone continuation */
		{ "\xc3", 1, 0 },			/* cut short */
		{ "\xe2\x82", 2, 0 },
		{ "\xc3\x28", 2, 0 },			/* bad continuation */
		{ "\xc0\xaf", 2, 0 },			/* overlong '/' */
		{ "\xc1\xbf", 2, 0 },
		{ "\xe0\x80\xaf", 3, 0 },
		{ "\xe0\x9f\xbf", 3, 0 },
		{ "\xf0\x8f\xbf\xbf", 4, 0 },
		{ "\xed\xa0\x80", 3, 0 },		/* surrogate U+D800 */
		{ "\xed\xbf\xbf", 3, 0 },
		{ "\xf4\x90\x80\x80", 4, 0 },	/* U+110000 */
		{ "\xf5\x80\x80\x80", 4, 0 },
		{ "\xe2\x82\xac\xe2\x82", 5, 0 },
		{ "\xf0\x90\x28\x80", 4, 0 },
		{ "\xf0\x90\x80\x28", 4, 0 },
	};
	unsigned	i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
		ck_assert_msg(wire_utf8_valid(cases[i].s, cases[i].len) ==
		    cases[i].ok, "case %u", i);
	ck_assert_int_eq(wire_utf8_valid(NULL, 0), 1);
}
END_TEST

START_TEST(test_table_every_type)
{
	struct tbuf		t;
	struct field_table	ft;
	struct table_iter	it, ai, ai2;
	struct field_value	v, e;
	struct shortstr		k;
	int64_t			n;
	int			count = 0;

	tb_init(&t);
	tb_every_type(&t);
	ck_assert_int_eq(validate(&t), 0);
	ft.p = t.b;
	ft.len = t.n;
	table_iter_init(&it, &ft);
	while (table_next(&it, &k, &v)) {
		count++;
		if (k.len == 0) {
			ck_assert_uint_eq(v.type, 'V');
			continue;
		}
		ck_assert_uint_eq(k.len, 2);
		ck_assert_uint_eq(k.s[1], v.type);
		switch (v.type) {
		case 't':
			ck_assert_int_eq(v.v.b, 1);
			break;
		case 'b':
			ck_assert_int_eq(v.v.i, -1);
			break;
		case 'B':
			ck_assert_uint_eq(v.v.u, 255);
			break;
		case 's':
			ck_assert_int_eq(v.v.i, -32768);
			break;
		case 'u':
			ck_assert_uint_eq(v.v.u, 65535);
			break;
		case 'I':
			ck_assert_int_eq(v.v.i, INT32_MIN);
			break;
		case 'i':
			ck_assert_uint_eq(v.v.u, UINT32_MAX);
			break;
		case 'l':
			ck_assert_int_eq(v.v.i, -2);
			break;
		case 'L':
			ck_assert_int_eq(v.v.i, INT64_MIN);
			break;
		case 'f':
			ck_assert(v.v.f == 1.5f);
			break;
		case 'd':
			ck_assert(v.v.d == -2.25);
			break;
		case 'D':
			ck_assert_uint_eq(v.v.dec.scale, 3);
			ck_assert_uint_eq(v.v.dec.value, 123456);
			break;
		case 'S':
			ck_assert_uint_eq(v.v.s.len, 5);
			ck_assert_int_eq(memcmp(v.v.s.p, "hello", 5), 0);
			break;
		case 'x':
			ck_assert_uint_eq(v.v.s.len, 3);
			ck_assert_int_eq(memcmp(v.v.s.p, "\0\1\2", 3), 0);
			break;
		case 'T':
			ck_assert_uint_eq(v.v.u, 1700000000);
			break;
		case 'V':
			break;
		case 'F':
			ck_assert_int_eq(table_find(&v.v.t, "n", &e), 1);
			ck_assert_uint_eq(e.type, 'I');
			ck_assert_int_eq(field_value_int(&e, &n), 0);
			ck_assert_int_eq(n, 42);
			ck_assert_int_eq(table_find(&v.v.t, "e", &e), 1);
			ck_assert_uint_eq(e.type, 'F');
			ck_assert_uint_eq(e.v.t.len, 0);
			break;
		case 'A':
			table_iter_init(&ai, &v.v.t);
			ck_assert_int_eq(array_next(&ai, &e), 1);
			ck_assert_uint_eq(e.type, 'S');
			ck_assert_uint_eq(e.v.s.len, 1);
			ck_assert_int_eq(array_next(&ai, &e), 1);
			ck_assert_uint_eq(e.type, 'A');
			table_iter_init(&ai2, &e.v.t);
			ck_assert_int_eq(array_next(&ai2, &e), 1);
			ck_assert_uint_eq(e.type, 't');
			ck_assert_int_eq(e.v.b, 0);
			ck_assert_int_eq(array_next(&ai2, &e), 0);
			ck_assert_int_eq(array_next(&ai, &e), 1);
			ck_assert_uint_eq(e.type, 'V');
			ck_assert_int_eq(array_next(&ai, &e), 0);
			break;
		default:
			ck_abort_msg("unexpected type %c", v.type);
		}
	}
	ck_assert_int_eq(count, 19);
	/* The iterator stays at the end. */
	ck_assert_int_eq(table_next(&it, &k, &v), 0);
	tb_free(&t);
}
END_TEST

START_TEST(test_table_type_octets)
{
	static const char	*known = "tbBsuIilLfdDSxATFV";
	struct tbuf		 t;
	int			 c;

	/* Every one of the 256 type octets: exactly the known ones pass. */
	for (c = 0; c < 256; c++) {
		tb_init(&t);
		tb_key(&t, "key");
		tb_sample(&t, (uint8_t)c);
		if (c != 0 && strchr(known, c) != NULL)
			ck_assert_msg(validate(&t) == 0, "type %c refused", c);
		else
			ck_assert_msg(validate(&t) == -1, "type %d accepted",
			    c);
		tb_free(&t);

		/* The same inside an array. */
		tb_init(&t);
		tb_key(&t, "a");
		tb_u8(&t, 'A');
		tb_u32(&t, 0);
		tb_sample(&t, (uint8_t)c);
		t.b[3] = 0; t.b[4] = 0; t.b[5] = 0;
		t.b[6] = (uint8_t)(t.n - 7);
		if (c != 0 && strchr(known, c) != NULL)
			ck_assert_int_eq(validate(&t), 0);
		else
			ck_assert_int_eq(validate(&t), -1);
		tb_free(&t);
	}
}
END_TEST

START_TEST(test_table_truncated)
{
	struct tbuf		t;
	struct field_table	ft;
	struct table_iter	it;
	struct field_value	v;
	size_t			len, bound[64];
	int			nb = 0, i, at_bound;

	tb_init(&t);
	tb_every_type(&t);
	ft.p = t.b;
	ft.len = t.n;
	table_iter_init(&it, &ft);
	bound[nb++] = 0;
	while (table_next(&it, NULL, &v))
		bound[nb++] = it.off;
	ck_assert_uint_eq(bound[nb - 1], t.n);

	/* A prefix is a valid table exactly when it ends between entries. */
	for (len = 0; len <= t.n; len++) {
		at_bound = 0;
		for (i = 0; i < nb; i++)
			if (bound[i] == len)
				at_bound = 1;
		ck_assert_msg(table_validate(t.b, len) == (at_bound ? 0 : -1),
		    "prefix %zu", len);
	}
	tb_free(&t);
}
END_TEST

START_TEST(test_table_lengths_overrun)
{
	struct tbuf	t;

	/* Key length past the end. */
	tb_init(&t);
	tb_u8(&t, 10);
	tb_bytes(&t, "abc", 3);
	ck_assert_int_eq(validate(&t), -1);
	tb_free(&t);

	/* Nested table length past the end of the outer table. */
	tb_init(&t);
	tb_key(&t, "f");
	tb_u8(&t, 'F');
	tb_u32(&t, 4);
	tb_key(&t, "v");
	tb_u8(&t, 'V');
	ck_assert_int_eq(validate(&t), -1);
	tb_free(&t);

	/* Array, long string and byte array lengths near 4 GiB. */
	tb_init(&t);
	tb_key(&t, "a");
	tb_u8(&t, 'A');
	tb_u32(&t, 0xffffffff);
	tb_u8(&t, 'V');
	ck_assert_int_eq(validate(&t), -1);
	tb_free(&t);
	tb_init(&t);
	tb_key(&t, "s");
	tb_u8(&t, 'S');
	tb_u32(&t, 0xfffffffe);
	ck_assert_int_eq(validate(&t), -1);
	tb_free(&t);
	tb_init(&t);
	tb_key(&t, "x");
	tb_u8(&t, 'x');
	tb_u32(&t, 2);
	tb_u8(&t, 0);
	ck_assert_int_eq(validate(&t), -1);
	tb_free(&t);

	/* An inner table whose own entry is bad fails the outer one. */
	tb_init(&t);
	tb_key(&t, "f");
	tb_u8(&t, 'F');
	tb_u32(&t, 3);
	tb_key(&t, "v");
	tb_u8(&t, '?');
	ck_assert_int_eq(validate(&t), -1);
	tb_free(&t);

	/* A key with no type octet after it. */
	tb_init(&t);
	tb_key(&t, "k");
	ck_assert_int_eq(validate(&t), -1);
	tb_free(&t);

	/* The empty table is valid, even with a NULL pointer. */
	ck_assert_int_eq(table_validate(NULL, 0), 0);
}
END_TEST

START_TEST(test_table_depth)
{
	struct tbuf	t;

	/* Top-level table is level 1; WIRE_TABLE_DEPTH_MAX levels pass. */
	tb_init(&t);
	tb_nest(&t, WIRE_TABLE_DEPTH_MAX - 1, 'F');
	ck_assert_int_eq(validate(&t), 0);
	tb_free(&t);
	tb_init(&t);
	tb_nest(&t, WIRE_TABLE_DEPTH_MAX, 'F');
	ck_assert_int_eq(validate(&t), -1);
	tb_free(&t);

	tb_init(&t);
	tb_nest(&t, WIRE_TABLE_DEPTH_MAX - 1, 'A');
	ck_assert_int_eq(validate(&t), 0);
	tb_free(&t);
	tb_init(&t);
	tb_nest(&t, WIRE_TABLE_DEPTH_MAX, 'A');
	ck_assert_int_eq(validate(&t), -1);
	tb_free(&t);

	/* Hostile nesting far past the limit: refused, no stack overflow. */
	tb_init(&t);
	tb_nest(&t, 200000, 'F');
	ck_assert_int_eq(validate(&t), -1);
	tb_free(&t);
	tb_init(&t);
	tb_nest(&t, 200000, 'A');
	ck_assert_int_eq(validate(&t), -1);
	tb_free(&t);
}
END_TEST

START_TEST(test_table_find)
{
	struct tbuf		t;
	struct field_table	ft;
	struct field_value	v;
	char			k300[300];

	tb_init(&t);
	tb_key(&t, "dup"); tb_u8(&t, 'b'); tb_u8(&t, 1);
	tb_key(&t, "x-max-length"); tb_u8(&t, 'I'); tb_u32(&t, 10);
	tb_key(&t, "dup"); tb_u8(&t, 'b'); tb_u8(&t, 2);
	tb_key(&t, "x-max"); tb_u8(&t, 'V');
	ck_assert_int_eq(validate(&t), 0);
	ft.p = t.b;
	ft.len = t.n;

	ck_assert_int_eq(table_find(&ft, "x-max-length", &v), 1);
	ck_assert_uint_eq(v.type, 'I');
	ck_assert_int_eq(v.v.i, 10);
	/* The first of duplicate keys wins, as in RabbitMQ. */
	ck_assert_int_eq(table_find(&ft, "dup", &v), 1);
	ck_assert_int_eq(v.v.i, 1);
	/* Prefixes and extensions of a key do not match. */
	ck_assert_int_eq(table_find(&ft, "x-max-len", &v), 0);
	ck_assert_int_eq(table_find(&ft, "x-max-lengthy", &v), 0);
	ck_assert_int_eq(table_find(&ft, "x-max", NULL), 1);
	ck_assert_int_eq(table_find(&ft, "", &v), 0);
	memset(k300, 'k', sizeof k300 - 1);
	k300[sizeof k300 - 1] = '\0';
	ck_assert_int_eq(table_find(&ft, k300, &v), 0);
	tb_free(&t);

	ft.p = NULL;
	ft.len = 0;
	ck_assert_int_eq(table_find(&ft, "dup", &v), 0);
}
END_TEST

START_TEST(test_iter_unvalidated)
{
	const uint8_t		junk[] = { 9, 'a', 'b' };
	const uint8_t		junk2[] = { 1, 'a', 'S', 0, 0, 0, 200 };
	struct field_table	ft = { junk, sizeof junk };
	struct table_iter	it;
	struct field_value	v;
	struct shortstr		k;

	/* Unvalidated input ends the walk instead of reading past it. */
	table_iter_init(&it, &ft);
	ck_assert_int_eq(table_next(&it, &k, &v), 0);
	ft.p = junk2;
	ft.len = sizeof junk2;
	table_iter_init(&it, &ft);
	ck_assert_int_eq(table_next(&it, &k, &v), 0);
	table_iter_init(&it, &ft);
	ck_assert_int_eq(array_next(&it, &v), 0);
	ck_assert_int_eq(table_find(&ft, "a", &v), 0);
}
END_TEST

START_TEST(test_field_value_int)
{
	struct field_value	v;
	int64_t			n;

	v.type = 'b'; v.v.i = -7;
	ck_assert_int_eq(field_value_int(&v, &n), 0);
	ck_assert_int_eq(n, -7);
	v.type = 'B'; v.v.u = 200;
	ck_assert_int_eq(field_value_int(&v, &n), 0);
	ck_assert_int_eq(n, 200);
	v.type = 's'; v.v.i = -300;
	ck_assert_int_eq(field_value_int(&v, &n), 0);
	ck_assert_int_eq(n, -300);
	v.type = 'u'; v.v.u = 65000;
	ck_assert_int_eq(field_value_int(&v, &n), 0);
	ck_assert_int_eq(n, 65000);
	v.type = 'I'; v.v.i = INT32_MIN;
	ck_assert_int_eq(field_value_int(&v, &n), 0);
	ck_assert_int_eq(n, INT32_MIN);
	v.type = 'i'; v.v.u = UINT32_MAX;
	ck_assert_int_eq(field_value_int(&v, &n), 0);
	ck_assert_int_eq(n, (int64_t)UINT32_MAX);
	v.type = 'l'; v.v.i = INT64_MIN;
	ck_assert_int_eq(field_value_int(&v, &n), 0);
	ck_assert_int_eq(n, INT64_MIN);
	v.type = 'L'; v.v.i = 5;
	ck_assert_int_eq(field_value_int(&v, &n), 0);
	ck_assert_int_eq(n, 5);

	n = 99;
	v.type = 'T'; v.v.u = 5;
	ck_assert_int_eq(field_value_int(&v, &n), -1);
	v.type = 't'; v.v.b = 1;
	ck_assert_int_eq(field_value_int(&v, &n), -1);
	v.type = 'd'; v.v.d = 1.0;
	ck_assert_int_eq(field_value_int(&v, &n), -1);
	v.type = 'S'; v.v.s.p = (const uint8_t *)"1"; v.v.s.len = 1;
	ck_assert_int_eq(field_value_int(&v, &n), -1);
	v.type = 'V';
	ck_assert_int_eq(field_value_int(&v, &n), -1);
	ck_assert_int_eq(n, 99);
}
END_TEST

START_TEST(test_field_value_equal)
{
	struct field_value	a, b;
	struct tbuf		t1, t2;

	memset(&a, 0, sizeof a);
	memset(&b, 0, sizeof b);
	a.type = 'b'; a.v.i = 1;
	b.type = 'B'; b.v.u = 1;
	ck_assert_int_eq(field_value_equal(&a, &b), 0);	/* type matters */
	b.type = 'b'; b.v.i = 1;
	ck_assert_int_eq(field_value_equal(&a, &b), 1);
	b.v.i = 2;
	ck_assert_int_eq(field_value_equal(&a, &b), 0);

	a.type = 'l'; a.v.i = -9;
	b.type = 'L'; b.v.i = -9;
	ck_assert_int_eq(field_value_equal(&a, &b), 1);	/* both "long" */
	ck_assert_int_eq(field_value_equal(&b, &a), 1);

	a.type = 't'; a.v.b = 1;
	b.type = 't'; b.v.b = 1;
	ck_assert_int_eq(field_value_equal(&a, &b), 1);
	b.v.b = 0;
	ck_assert_int_eq(field_value_equal(&a, &b), 0);

	a.type = b.type = 'S';
	a.v.s.p = (const uint8_t *)"abc"; a.v.s.len = 3;
	b.v.s.p = (const uint8_t *)"abd"; b.v.s.len = 3;
	ck_assert_int_eq(field_value_equal(&a, &b), 0);
	b.v.s.p = (const uint8_t *)"abcd";
	ck_assert_int_eq(field_value_equal(&a, &b), 1);
	b.v.s.len = 4;
	ck_assert_int_eq(field_value_equal(&a, &b), 0);
	b.type = 'x'; b.v.s.len = 3;
	ck_assert_int_eq(field_value_equal(&a, &b), 0);
	a.v.s.p = NULL; a.v.s.len = 0;
	b.type = 'S'; b.v.s.p = NULL; b.v.s.len = 0;
	ck_assert_int_eq(field_value_equal(&a, &b), 1);

	a.type = b.type = 'D';
	a.v.dec.scale = 2; a.v.dec.value = 100;
	b.v.dec.scale = 1; b.v.dec.value = 100;
	ck_assert_int_eq(field_value_equal(&a, &b), 0);
	b.v.dec.scale = 2;
	ck_assert_int_eq(field_value_equal(&a, &b), 1);

	a.type = b.type = 'd';
	a.v.d = 0.5; b.v.d = 0.5;
	ck_assert_int_eq(field_value_equal(&a, &b), 1);
	b.v.d = 0.25;
	ck_assert_int_eq(field_value_equal(&a, &b), 0);
	a.type = b.type = 'f';
	a.v.f = 0.5f; b.v.f = 0.5f;
	ck_assert_int_eq(field_value_equal(&a, &b), 1);

	a.type = b.type = 'V';
	ck_assert_int_eq(field_value_equal(&a, &b), 1);
	a.type = 'T'; a.v.u = 10;
	b.type = 'T'; b.v.u = 10;
	ck_assert_int_eq(field_value_equal(&a, &b), 1);

	/* Arrays compare in order. */
	tb_init(&t1);
	tb_init(&t2);
	tb_u8(&t1, 'b'); tb_u8(&t1, 1); tb_u8(&t1, 'b'); tb_u8(&t1, 2);
	tb_u8(&t2, 'b'); tb_u8(&t2, 2); tb_u8(&t2, 'b'); tb_u8(&t2, 1);
	a.type = b.type = 'A';
	a.v.t.p = t1.b; a.v.t.len = t1.n;
	b.v.t.p = t2.b; b.v.t.len = t2.n;
	ck_assert_int_eq(field_value_equal(&a, &b), 0);
	b.v.t.p = t1.b;
	ck_assert_int_eq(field_value_equal(&a, &b), 1);
	b.v.t.len = 2;	/* a prefix of a */
	ck_assert_int_eq(field_value_equal(&a, &b), 0);
	ck_assert_int_eq(field_value_equal(&b, &a), 0);
	tb_free(&t1);
	tb_free(&t2);
}
END_TEST

START_TEST(test_table_equal)
{
	struct tbuf		t1, t2, n1, n2;
	struct field_table	a, b;
	struct field_value	v, w;

	/* Same pairs in another order, with nested tables reordered too. */
	tb_init(&n1);
	tb_key(&n1, "p"); tb_u8(&n1, 'b'); tb_u8(&n1, 1);
	tb_key(&n1, "q"); tb_u8(&n1, 'V');
	tb_init(&n2);
	tb_key(&n2, "q"); tb_u8(&n2, 'V');
	tb_key(&n2, "p"); tb_u8(&n2, 'b'); tb_u8(&n2, 1);

	tb_init(&t1);
	tb_key(&t1, "x-match"); tb_u8(&t1, 'S'); tb_u32(&t1, 3);
	tb_bytes(&t1, "all", 3);
	tb_key(&t1, "n"); tb_u8(&t1, 'F'); tb_u32(&t1, n1.n);
	tb_bytes(&t1, n1.b, n1.n);
	tb_key(&t1, "k"); tb_u8(&t1, 'l'); tb_u64(&t1, 5);
	tb_init(&t2);
	tb_key(&t2, "k"); tb_u8(&t2, 'L'); tb_u64(&t2, 5);
	tb_key(&t2, "n"); tb_u8(&t2, 'F'); tb_u32(&t2, n2.n);
	tb_bytes(&t2, n2.b, n2.n);
	tb_key(&t2, "x-match"); tb_u8(&t2, 'S'); tb_u32(&t2, 3);
	tb_bytes(&t2, "all", 3);
	ck_assert_int_eq(validate(&t1), 0);
	ck_assert_int_eq(validate(&t2), 0);
	a.p = t1.b; a.len = t1.n;
	b.p = t2.b; b.len = t2.n;
	ck_assert_int_eq(table_equal(&a, &b), 1);
	ck_assert_int_eq(table_equal(&b, &a), 1);
	ck_assert_int_eq(table_equal(&a, &a), 1);

	/* Field values holding the tables compare the same way. */
	v.type = w.type = 'F';
	v.v.t = a;
	w.v.t = b;
	ck_assert_int_eq(field_value_equal(&v, &w), 1);

	/* One value changed. */
	t2.b[t2.n - 1] = 'X';	/* "alX" */
	ck_assert_int_eq(table_equal(&a, &b), 0);
	ck_assert_int_eq(table_equal(&b, &a), 0);
	t2.b[t2.n - 1] = 'l';

	/* A strict subset is not equal, either way round. */
	b.len = t2.n - (1 + 7 + 1 + 4 + 3);	/* drop x-match */
	ck_assert_int_eq(validate(&t2), 0);
	ck_assert_int_eq(table_validate(b.p, b.len), 0);
	ck_assert_int_eq(table_equal(&a, &b), 0);
	ck_assert_int_eq(table_equal(&b, &a), 0);

	/* Empty tables, however represented. */
	a.p = NULL; a.len = 0;
	b.p = t1.b; b.len = 0;
	ck_assert_int_eq(table_equal(&a, &b), 1);
	b.len = t1.n;
	ck_assert_int_eq(table_equal(&a, &b), 0);
	ck_assert_int_eq(table_equal(&b, &a), 0);

	/* Same key, different type. */
	tb_free(&t1);
	tb_free(&t2);
	tb_init(&t1);
	tb_init(&t2);
	tb_key(&t1, "k"); tb_u8(&t1, 'I'); tb_u32(&t1, 5);
	tb_key(&t2, "k"); tb_u8(&t2, 'i'); tb_u32(&t2, 5);
	a.p = t1.b; a.len = t1.n;
	b.p = t2.b; b.len = t2.n;
	ck_assert_int_eq(table_equal(&a, &b), 0);
	tb_free(&t1);
	tb_free(&t2);
	tb_free(&n1);
	tb_free(&n2);
}
END_TEST

/* A small deterministic generator for the table tests below. */
static uint32_t
rnd(uint32_t *state)
{
	*state = *state * 1103515245u + 12345u;
	return (*state >> 16);
}

/* One entry: a key of 1-2 letters from "abcdef", a 'b' or a nested 'F'. */
struct gen_entry {
	char	key[3];
	int	nested;		/* 'F' holding { "x": 'b' val } */
	int	val;
};

static void
gen_put(struct tbuf *t, const struct gen_entry *e)
{
	tb_key(t, e->key);
	if (e->nested) {
		tb_u8(t, 'F');
		tb_u32(t, 4);
		tb_key(t, "x");
		tb_u8(t, 'b');
		tb_u8(t, (uint8_t)e->val);
	} else {
		tb_u8(t, 'b');
		tb_u8(t, (uint8_t)e->val);
	}
}

/* Is every pair of a in b?  The plain walk, as a reference. */
static int
ref_subset(const struct field_table *a, const struct field_table *b)
{
	struct table_iter	ia, ib;
	struct shortstr		ka, kb;
	struct field_value	va, vb;
	int			found;

	table_iter_init(&ia, a);
	while (table_next(&ia, &ka, &va)) {
		found = 0;
		table_iter_init(&ib, b);
		while (!found && table_next(&ib, &kb, &vb))
			found = ka.len == kb.len &&
			    memcmp(ka.s, kb.s, ka.len) == 0 &&
			    field_value_equal(&va, &vb);
		if (!found)
			return (0);
	}
	return (1);
}

/*
 * Large tables are compared by sorted keys: the same answers as the pair
 * by pair walk, for permutations, changed values, dropped, added and
 * duplicated entries, and nested tables.
 */
START_TEST(test_table_equal_large)
{
	struct gen_entry	 e[400], f[401], tmp;
	struct tbuf		 t1, t2;
	struct field_table	 a, b;
	uint32_t		 seed = 7;
	int			 round, n, m, i, j, want, got, mut;
	int			 nequal = 0, ndiffer = 0;

	for (round = 0; round < 300; round++) {
		n = 150 + (int)(rnd(&seed) % 250);
		for (i = 0; i < n; i++) {
			e[i].key[0] = (char)('a' + rnd(&seed) % 6);
			e[i].key[1] = (rnd(&seed) % 2) ?
			    (char)('a' + rnd(&seed) % 6) : '\0';
			e[i].key[2] = '\0';
			e[i].nested = rnd(&seed) % 5 == 0;
			e[i].val = (int)(rnd(&seed) % 3);
		}
		/* f: a shuffled copy, then one mutation. */
		memcpy(f, e, sizeof e[0] * (size_t)n);
		for (i = n - 1; i > 0; i--) {
			j = (int)(rnd(&seed) % (uint32_t)(i + 1));
			tmp = f[i];
			f[i] = f[j];
			f[j] = tmp;
		}
		m = n;
		mut = (int)(rnd(&seed) % 5);
		j = (int)(rnd(&seed) % (uint32_t)n);
		if (mut == 1)
			f[j].val = (f[j].val + 1) % 3;
		else if (mut == 2)
			f[j] = f[--m];
		else if (mut == 3)
			f[m++] = f[j];		/* a duplicate */
		else if (mut == 4) {
			f[m] = f[j];
			f[m++].nested = !f[j].nested;
		}
		tb_init(&t1);
		tb_init(&t2);
		for (i = 0; i < n; i++)
			gen_put(&t1, &e[i]);
		for (i = 0; i < m; i++)
			gen_put(&t2, &f[i]);
		ck_assert_int_eq(validate(&t1), 0);
		ck_assert_int_eq(validate(&t2), 0);
		a.p = t1.b; a.len = t1.n;
		b.p = t2.b; b.len = t2.n;
		ck_assert(a.len + b.len > 512);	/* the sorted path */
		want = ref_subset(&a, &b) && ref_subset(&b, &a);
		got = table_equal(&a, &b);
		ck_assert_int_eq(got, want);
		ck_assert_int_eq(table_equal(&b, &a), want);
		if (want)
			nequal++;
		else
			ndiffer++;
		tb_free(&t1);
		tb_free(&t2);
	}
	/* Both answers were exercised. */
	ck_assert_int_gt(nequal, 30);
	ck_assert_int_gt(ndiffer, 30);
}
END_TEST

START_TEST(test_table_add)
{
	struct evbuffer		*b, *inner;
	struct field_table	 it, ft;
	struct field_value	 v;
	int64_t			 n;
	const uint8_t		 expect[] = {
		1, 'a', 't', 1,
		1, 'n', 'l', 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe,
		1, 's', 'S', 0, 0, 0, 2, 'h', 'i',
		1, 'f', 'F', 0, 0, 0, 3, 1, 'v', 'V',
	};

	inner = evbuffer_new();
	v.type = 'V';
	table_add_value(inner, "v", &v);
	it.len = evbuffer_get_length(inner);
	it.p = evbuffer_pullup(inner, -1);

	b = evbuffer_new();
	table_add_bool(b, "a", 42);
	table_add_int(b, "n", -2);
	table_add_longstr(b, "s", "hi");
	table_add_table(b, "f", &it);
	ck_assert_uint_eq(evbuffer_get_length(b), sizeof expect);
	ft.len = evbuffer_get_length(b);
	ft.p = evbuffer_pullup(b, -1);
	ck_assert_int_eq(memcmp(ft.p, expect, sizeof expect), 0);
	ck_assert_int_eq(table_validate(ft.p, ft.len), 0);
	ck_assert_int_eq(table_find(&ft, "n", &v), 1);
	ck_assert_int_eq(field_value_int(&v, &n), 0);
	ck_assert_int_eq(n, -2);

	/* An unknown type adds nothing, not even the key. */
	v.type = 'Q';
	table_add_value(b, "bad", &v);
	ck_assert_uint_eq(evbuffer_get_length(b), sizeof expect);
	evbuffer_free(b);
	evbuffer_free(inner);
}
END_TEST

START_TEST(test_table_add_value_every_type)
{
	struct tbuf		 src;
	struct field_table	 in, out;
	struct table_iter	 it;
	struct field_value	 v;
	struct shortstr		 k;
	struct evbuffer		*b;

	/* Re-encode every decoded value: the bytes come out the same. */
	tb_init(&src);
	tb_every_type(&src);
	in.p = src.b;
	in.len = src.n;
	b = evbuffer_new();
	table_iter_init(&it, &in);
	while (table_next(&it, &k, &v))
		table_add_value(b, k.s, &v);
	out.len = evbuffer_get_length(b);
	out.p = evbuffer_pullup(b, -1);
	/* Only 't' is normalised (7 becomes 1). */
	ck_assert_uint_eq(out.len, in.len);
	ck_assert_uint_eq(in.p[4], 7);
	ck_assert_uint_eq(out.p[4], 1);
	ck_assert_int_eq(memcmp(out.p, in.p, 4), 0);
	ck_assert_int_eq(memcmp(out.p + 5, in.p + 5, in.len - 5), 0);
	ck_assert_int_eq(table_equal(&in, &out), 1);
	evbuffer_free(b);
	tb_free(&src);
}
END_TEST

/*
 * Found by tests/fuzz/fuzz_codec.c: table_copy_except() compared and
 * wrote keys as C strings, so "a\0b" and "a\0c" were both copied as "a",
 * and skipping "BCC" also dropped "BCC\0x".
 */
START_TEST(test_table_copy_key_nul)
{
	const uint8_t		 in[] = {
		3, 'a', 0, 'b', 'b', 1,
		3, 'a', 0, 'c', 'b', 2,
		3, 'B', 'C', 'C', 't', 1,
		5, 'B', 'C', 'C', 0, 'x', 't', 1,
		1, 0, 'V',
	};
	struct field_table	 t;
	struct evbuffer		*b;

	t.p = in;
	t.len = sizeof in;
	ck_assert_int_eq(table_validate(t.p, t.len), 0);
	b = evbuffer_new();
	table_copy_except(b, &t, NULL);
	ck_assert_uint_eq(evbuffer_get_length(b), sizeof in);
	ck_assert_int_eq(memcmp(evbuffer_pullup(b, -1), in, sizeof in), 0);
	evbuffer_drain(b, evbuffer_get_length(b));

	/* Only the entry named exactly "BCC" goes. */
	table_copy_except(b, &t, "BCC");
	ck_assert_uint_eq(evbuffer_get_length(b), sizeof in - 6);
	ck_assert_int_eq(memcmp(evbuffer_pullup(b, -1), in, 12), 0);
	ck_assert_int_eq(memcmp(evbuffer_pullup(b, -1) + 12, in + 18,
	    sizeof in - 18), 0);
	evbuffer_free(b);
}
END_TEST

/* Entries re-added one by one keep keys holding a NUL (dead-lettering). */
START_TEST(test_table_add_entry_key_nul)
{
	const uint8_t		 in[] = {
		3, 'a', 0, 'b', 'b', 1,
		5, 'B', 'C', 'C', 0, 'x', 't', 1,
		3, 'B', 'C', 'C', 't', 1,
	};
	struct field_table	 t;
	struct table_iter	 it;
	struct shortstr		 key;
	struct field_value	 v;
	struct evbuffer		*b;
	int			 named = 0;

	t.p = in;
	t.len = sizeof in;
	ck_assert_int_eq(table_validate(t.p, t.len), 0);
	b = evbuffer_new();
	table_iter_init(&it, &t);
	while (table_next(&it, &key, &v)) {
		named += shortstr_is(&key, "BCC");
		table_add_entry(b, &key, &v);
	}
	ck_assert_int_eq(named, 1);	/* not "BCC\0x" */
	ck_assert_uint_eq(evbuffer_get_length(b), sizeof in);
	ck_assert_int_eq(memcmp(evbuffer_pullup(b, -1), in, sizeof in), 0);
	evbuffer_free(b);
}
END_TEST

/* Assemble the suite. */
static Suite *
wire_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("wire");
	tc = tcase_create("readers");
	tcase_add_test(tc, test_wire_get_integers);
	tcase_add_test(tc, test_wire_get_shortstr);
	tcase_add_test(tc, test_wire_get_longstr);
	tcase_add_test(tc, test_wire_get_table);
	tcase_add_test(tc, test_wire_put_and_enc);
	tcase_add_test(tc, test_wire_shortstr_set);
	tcase_add_test(tc, test_wire_utf8_valid);
	suite_add_tcase(s, tc);

	tc = tcase_create("tables");
	tcase_add_test(tc, test_table_every_type);
	tcase_add_test(tc, test_table_type_octets);
	tcase_add_test(tc, test_table_truncated);
	tcase_add_test(tc, test_table_lengths_overrun);
	tcase_add_test(tc, test_table_depth);
	tcase_add_test(tc, test_table_find);
	tcase_add_test(tc, test_iter_unvalidated);
	tcase_add_test(tc, test_field_value_int);
	tcase_add_test(tc, test_field_value_equal);
	tcase_add_test(tc, test_table_equal);
	tcase_add_test(tc, test_table_equal_large);
	tcase_add_test(tc, test_table_add);
	tcase_add_test(tc, test_table_add_value_every_type);
	tcase_add_test(tc, test_table_copy_key_nul);
	tcase_add_test(tc, test_table_add_entry_key_nul);
	suite_add_tcase(s, tc);
	return (s);
}

/* Run the suite; the exit status is the number of failures. */
int
main(void)
{
	SRunner	*sr;
	int	 failed;

	sr = srunner_create(wire_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
