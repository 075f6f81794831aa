/*
 * exchange_headers.c: the headers exchange type, with RabbitMQ's rules
 * (rabbit_exchange_type_headers.erl).  A binding's arguments say what to
 * match: "x-match" is "all" (the default), "any", "all-with-x" or
 * "any-with-x"; every other argument is a header that must be present
 * with an equal value, or merely present when the argument is void ('V').
 * Arguments whose names start with "x-" take no part unless x-match is
 * one of the -with-x kinds ("x-match" itself never does).  A binding with
 * nothing to match matches every message under "all" and none under
 * "any".
 *
 * Values compare as RabbitMQ 3.13 and later compare them, with =:= on the
 * decoded Erlang terms (rabbit_binary_parser): the AMQP type is dropped at
 * the top level, so every integer type compares by value ('I' 1 equals
 * 'l' 1), 'f' and 'd' compare as floats, 'S' and 'x' as bytes; but an
 * integer never equals a float or a string.  Inside tables and arrays the
 * types stay part of the value and must be the same.  When a message
 * carries a header twice the last one counts, as when RabbitMQ folds the
 * headers into a map.  (Unlike RabbitMQ 4 we do not scale timestamp
 * headers by 1000 before comparing them.)
 *
 * Each binding's arguments are decoded and filtered once, at bind time.
 * route() sorts the message headers once and looks each argument up by
 * binary search: O(h log h + sum over bindings of args * log h).
 */
#include "config.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "amqp_defs.h"
#include "broker.h"
#include "exchange.h"
#include "wire.h"

/* The four values of x-match. */
enum exchange_headers_kind {
	HEADERS_ALL,
	HEADERS_ANY,
	HEADERS_ALL_WITH_X,
	HEADERS_ANY_WITH_X
};

/* One argument to match, or one message header. */
struct exchange_headers_entry {
	const char		*key;	/* borrowed: the owner's arena */
	uint8_t			 klen;
	size_t			 idx;	/* position in the table */
	struct field_value	 v;	/* borrows the table bytes */
};

/* A binding's compiled arguments; binding->type_data points here. */
struct exchange_headers_rule {
	struct binding			*b;	/* borrowed */
	enum exchange_headers_kind	 kind;
	struct exchange_headers_entry	*args;	/* owned; values borrow
						   b->args */
	size_t				 nargs;
	char				*keys;	/* owned: the keys' arena */
	TAILQ_ENTRY(exchange_headers_rule) entry;
};

/* The per-exchange index: a list, since every binding must be tried. */
struct exchange_headers {
	TAILQ_HEAD(, exchange_headers_rule) rules;	/* owned */
};

/* The message headers of one route(), sorted by key, one per key. */
struct exchange_headers_msg {
	struct exchange_headers_entry	*h;	/* owned */
	size_t				 n;
	char				*keys;	/* owned */
};

/* A bounded string builder for error texts. */
struct exchange_headers_out {
	char		*p;
	size_t		 size;
	size_t		 len;
};

/* What an Erlang term a field value decodes to. */
enum exchange_headers_class {
	HCLASS_INT,
	HCLASS_FLOAT,
	HCLASS_BINARY,
	HCLASS_BOOL,
	HCLASS_DECIMAL,
	HCLASS_LIST,
	HCLASS_VOID,
	HCLASS_OTHER
};

static void	*exchange_headers_create(void);
static void	 exchange_headers_destroy(void *);
static int	 exchange_headers_validate(const struct field_table *, char *,
		     size_t);
static void	 exchange_headers_bind(void *, struct binding *);
static void	 exchange_headers_unbind(void *, struct binding *);
static void	 exchange_headers_route(void *, const char *, size_t,
		     const struct field_table *, exchange_emit_cb, void *);
static int	 exchange_headers_kind(const struct field_value *,
		     enum exchange_headers_kind *);
static void	 exchange_headers_rule_free(struct exchange_headers_rule *);
static int	 exchange_headers_keycmp(const char *, uint8_t, const char *,
		     uint8_t);
static int	 exchange_headers_cmp(const void *, const void *);
static void	 exchange_headers_msg_init(struct exchange_headers_msg *,
		     const struct field_table *);
static const struct exchange_headers_entry *exchange_headers_msg_find(
		     const struct exchange_headers_msg *, const char *,
		     uint8_t);
static int	 exchange_headers_match(const struct exchange_headers_rule *,
		     const struct exchange_headers_msg *);
static enum exchange_headers_class exchange_headers_class(uint8_t);
static uint8_t	 exchange_headers_type(uint8_t);
static int	 exchange_headers_equal(const struct field_value *,
		     const struct field_value *);
static int	 exchange_headers_list_equal(const struct field_value *,
		     const struct field_value *);
static void	 exchange_headers_put(struct exchange_headers_out *,
		     const char *, ...) __attribute__((format(printf, 2, 3)));
static void	 exchange_headers_put_binary(struct exchange_headers_out *,
		     const uint8_t *, size_t);
static void	 exchange_headers_put_float(struct exchange_headers_out *,
		     double);
static void	 exchange_headers_put_term(struct exchange_headers_out *,
		     const struct field_value *);
static const char *exchange_headers_atom(uint8_t);

const struct exchange_type exchange_type_headers = {
	.name = "headers",
	.create = exchange_headers_create,
	.destroy = exchange_headers_destroy,
	.validate = exchange_headers_validate,
	.bind = exchange_headers_bind,
	.unbind = exchange_headers_unbind,
	.route = exchange_headers_route
};

/* Make an empty index. */
static void *
exchange_headers_create(void)
{
	struct exchange_headers	*hx;

	hx = xcalloc(1, sizeof *hx);
	TAILQ_INIT(&hx->rules);
	return (hx);
}

/* Free one compiled binding. */
static void
exchange_headers_rule_free(struct exchange_headers_rule *r)
{
	free(r->args);
	free(r->keys);
	free(r);
}

/* Free the index; the bindings themselves belong to exchange.c. */
static void
exchange_headers_destroy(void *state)
{
	struct exchange_headers		*hx = state;
	struct exchange_headers_rule	*r;

	if (hx == NULL)
		return;
	while ((r = TAILQ_FIRST(&hx->rules)) != NULL) {
		TAILQ_REMOVE(&hx->rules, r, entry);
		exchange_headers_rule_free(r);
	}
	free(hx);
}

/* Parse an x-match value; 0, or -1 when it is not one of the four. */
static int
exchange_headers_kind(const struct field_value *v,
    enum exchange_headers_kind *kind)
{
	static const struct {
		const char			*s;
		enum exchange_headers_kind	 kind;
	} kinds[] = {
		{ "all", HEADERS_ALL },
		{ "any", HEADERS_ANY },
		{ "all-with-x", HEADERS_ALL_WITH_X },
		{ "any-with-x", HEADERS_ANY_WITH_X }
	};
	size_t	i;

	if (v->type != 'S')
		return (-1);
	for (i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
		if (v->v.s.len == strlen(kinds[i].s) &&
		    memcmp(v->v.s.p, kinds[i].s, v->v.s.len) == 0) {
			*kind = kinds[i].kind;
			return (0);
		}
	}
	return (-1);
}

/*
 * Check x-match as RabbitMQ's validate_binding/2 does, with its texts
 * (the core puts "PRECONDITION_FAILED - " in front).  A missing x-match
 * is fine and means "all".
 */
static int
exchange_headers_validate(const struct field_table *args, char *cause,
    size_t len)
{
	struct exchange_headers_out	o;
	struct field_value		v;
	enum exchange_headers_kind	kind;

	if (args == NULL || !table_find(args, "x-match", &v))
		return (0);
	if (exchange_headers_kind(&v, &kind) == 0)
		return (0);
	if (cause == NULL || len == 0)
		return (AMQP_PRECONDITION_FAILED);
	o.p = cause;
	o.size = len;
	o.len = 0;
	cause[0] = '\0';
	if (v.type == 'S') {
		exchange_headers_put(&o, "Invalid x-match field value ");
		exchange_headers_put_term(&o, &v);
		exchange_headers_put(&o, "; expected all, any, all-with-x, "
		    "or any-with-x");
	} else {
		exchange_headers_put(&o, "Invalid x-match field type %s "
		    "(value ", exchange_headers_atom(v.type));
		exchange_headers_put_term(&o, &v);
		exchange_headers_put(&o, "); expected longstr");
	}
	return (AMQP_PRECONDITION_FAILED);
}

/*
 * Compile b's arguments: the kind, then the entries that take part, with
 * their keys copied (values keep pointing into b->args, which b owns).
 */
static void
exchange_headers_bind(void *state, struct binding *b)
{
	struct exchange_headers		*hx = state;
	struct exchange_headers_rule	*r;
	struct exchange_headers_entry	*e;
	struct table_iter		 it;
	struct shortstr			 key;
	struct field_value		 v;
	size_t				 n, off;
	int				 with_x;

	r = xcalloc(1, sizeof *r);
	r->b = b;
	r->kind = HEADERS_ALL;
	/* Anything but the four strings: "all", as RabbitMQ's fallback. */
	if (table_find(&b->args, "x-match", &v))
		(void)exchange_headers_kind(&v, &r->kind);
	with_x = r->kind == HEADERS_ALL_WITH_X ||
	    r->kind == HEADERS_ANY_WITH_X;

	n = 0;
	table_iter_init(&it, &b->args);
	while (table_next(&it, NULL, &v))
		n++;
	r->args = xcalloc(n + 1, sizeof *r->args);
	r->keys = xmalloc(b->args.len + 1);
	off = 0;
	table_iter_init(&it, &b->args);
	while (table_next(&it, &key, &v)) {
		if (key.len == 7 && memcmp(key.s, "x-match", 7) == 0)
			continue;
		if (!with_x && key.len >= 2 && memcmp(key.s, "x-", 2) == 0)
			continue;
		e = &r->args[r->nargs++];
		memcpy(r->keys + off, key.s, key.len);
		e->key = r->keys + off;
		e->klen = key.len;
		e->v = v;
		off += key.len;
	}
	TAILQ_INSERT_TAIL(&hx->rules, r, entry);
	b->type_data = r;
}

/* Drop b's compiled arguments. */
static void
exchange_headers_unbind(void *state, struct binding *b)
{
	struct exchange_headers		*hx = state;
	struct exchange_headers_rule	*r = b->type_data;

	if (r == NULL)
		return;
	TAILQ_REMOVE(&hx->rules, r, entry);
	exchange_headers_rule_free(r);
	b->type_data = NULL;
}

/* Order two keys as Erlang orders binaries: bytes, then length. */
static int
exchange_headers_keycmp(const char *a, uint8_t alen, const char *b,
    uint8_t blen)
{
	size_t	n;
	int	c;

	n = alen < blen ? alen : blen;
	if (n > 0 && (c = memcmp(a, b, n)) != 0)
		return (c);
	if (alen != blen)
		return (alen < blen ? -1 : 1);
	return (0);
}

/* Order entries by key, then by position in the table (for qsort). */
static int
exchange_headers_cmp(const void *va, const void *vb)
{
	const struct exchange_headers_entry	*a = va, *b = vb;
	int					 c;

	if ((c = exchange_headers_keycmp(a->key, a->klen, b->key,
	    b->klen)) != 0)
		return (c);
	if (a->idx != b->idx)
		return (a->idx < b->idx ? -1 : 1);
	return (0);
}

/* Sort the message headers by key, keeping the last of repeated keys. */
static void
exchange_headers_msg_init(struct exchange_headers_msg *m,
    const struct field_table *t)
{
	struct table_iter		 it;
	struct shortstr			 key;
	struct field_value		 v;
	struct exchange_headers_entry	*e;
	size_t				 n, off, i, j;

	memset(m, 0, sizeof *m);
	if (t == NULL || t->len == 0)
		return;
	n = 0;
	table_iter_init(&it, t);
	while (table_next(&it, NULL, &v))
		n++;
	if (n == 0)
		return;
	m->h = xcalloc(n, sizeof *m->h);
	m->keys = xmalloc(t->len + 1);
	off = 0;
	table_iter_init(&it, t);
	for (i = 0; i < n && table_next(&it, &key, &v); i++) {
		e = &m->h[i];
		memcpy(m->keys + off, key.s, key.len);
		e->key = m->keys + off;
		e->klen = key.len;
		e->idx = i;
		e->v = v;
		off += key.len;
	}
	n = i;
	qsort(m->h, n, sizeof *m->h, exchange_headers_cmp);
	/* Within a run of one key, the last (highest idx) wins. */
	for (i = 0, j = 0; i < n; i++) {
		if (i + 1 < n && exchange_headers_keycmp(m->h[i].key,
		    m->h[i].klen, m->h[i + 1].key, m->h[i + 1].klen) == 0)
			continue;
		m->h[j++] = m->h[i];
	}
	m->n = j;
}

/* Binary search for a header by key. */
static const struct exchange_headers_entry *
exchange_headers_msg_find(const struct exchange_headers_msg *m,
    const char *key, uint8_t klen)
{
	size_t	lo, hi, mid;
	int	c;

	lo = 0;
	hi = m->n;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		c = exchange_headers_keycmp(key, klen, m->h[mid].key,
		    m->h[mid].klen);
		if (c == 0)
			return (&m->h[mid]);
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return (NULL);
}

/* Does the message match this binding's compiled arguments? */
static int
exchange_headers_match(const struct exchange_headers_rule *r,
    const struct exchange_headers_msg *m)
{
	const struct exchange_headers_entry	*a, *h;
	size_t					 i;
	int					 any, ok;

	any = r->kind == HEADERS_ANY || r->kind == HEADERS_ANY_WITH_X;
	for (i = 0; i < r->nargs; i++) {
		a = &r->args[i];
		h = exchange_headers_msg_find(m, a->key, a->klen);
		if (a->v.type == 'V')
			ok = h != NULL;
		else
			ok = h != NULL && exchange_headers_equal(&a->v, &h->v);
		if (any && ok)
			return (1);
		if (!any && !ok)
			return (0);
	}
	return (!any);
}

/* Emit every binding whose arguments match the message headers. */
static void
exchange_headers_route(void *state, const char *key, size_t keylen,
    const struct field_table *headers, exchange_emit_cb emit, void *arg)
{
	struct exchange_headers		*hx = state;
	struct exchange_headers_rule	*r;
	struct exchange_headers_msg	 m;

	if (TAILQ_EMPTY(&hx->rules))
		return;
	exchange_headers_msg_init(&m, headers);
	TAILQ_FOREACH(r, &hx->rules, entry) {
		if (exchange_headers_match(r, &m))
			emit(r->b, arg);
	}
	free(m.h);
	free(m.keys);
}

/* The Erlang term class an AMQP field type decodes to. */
static enum exchange_headers_class
exchange_headers_class(uint8_t type)
{
	switch (type) {
	case 'b':
	case 'B':
	case 's':
	case 'u':
	case 'I':
	case 'i':
	case 'l':
	case 'L':
	case 'T':
		return (HCLASS_INT);
	case 'f':
	case 'd':
		return (HCLASS_FLOAT);
	case 'S':
	case 'x':
		return (HCLASS_BINARY);
	case 't':
		return (HCLASS_BOOL);
	case 'D':
		return (HCLASS_DECIMAL);
	case 'F':
	case 'A':
		return (HCLASS_LIST);
	case 'V':
		return (HCLASS_VOID);
	default:
		return (HCLASS_OTHER);
	}
}

/* A type as RabbitMQ names it: 'L' and 'l' are both "long". */
static uint8_t
exchange_headers_type(uint8_t type)
{
	return (type == 'L' ? 'l' : type);
}

/* Are a and b the same Erlang term (=:=), types aside? */
static int
exchange_headers_equal(const struct field_value *a,
    const struct field_value *b)
{
	enum exchange_headers_class	c;
	uint64_t			ua, ub;
	int				na, nb;
	double				da, db;

	if ((c = exchange_headers_class(a->type)) !=
	    exchange_headers_class(b->type))
		return (0);
	switch (c) {
	case HCLASS_INT:
		/* Signed types are in v.i, unsigned ones in v.u. */
		na = nb = 0;
		if (strchr("bsIlL", a->type) != NULL) {
			na = a->v.i < 0;
			ua = (uint64_t)a->v.i;
		} else
			ua = a->v.u;
		if (strchr("bsIlL", b->type) != NULL) {
			nb = b->v.i < 0;
			ub = (uint64_t)b->v.i;
		} else
			ub = b->v.u;
		return (na == nb && ua == ub);
	case HCLASS_FLOAT:
		da = a->type == 'f' ? (double)a->v.f : a->v.d;
		db = b->type == 'f' ? (double)b->v.f : b->v.d;
		return (da == db);
	case HCLASS_BINARY:
		return (a->v.s.len == b->v.s.len && (a->v.s.len == 0 ||
		    memcmp(a->v.s.p, b->v.s.p, a->v.s.len) == 0));
	case HCLASS_BOOL:
		return ((a->v.b != 0) == (b->v.b != 0));
	case HCLASS_DECIMAL:
		return (a->v.dec.scale == b->v.dec.scale &&
		    a->v.dec.value == b->v.dec.value);
	case HCLASS_LIST:
		return (exchange_headers_list_equal(a, b));
	case HCLASS_VOID:
		return (1);
	case HCLASS_OTHER:
		break;
	}
	return (0);
}

/*
 * Tables and arrays decode to Erlang lists of {Key, Type, Value} and
 * {Type, Value}: equal when the same length and each element has the same
 * key, the same type and an equal value, in order.  The empty table and
 * the empty array are both [] and so equal each other.
 */
static int
exchange_headers_list_equal(const struct field_value *a,
    const struct field_value *b)
{
	struct table_iter	ia, ib;
	struct shortstr		ka, kb;
	struct field_value	va, vb;
	int			keyed, na, nb;

	if (a->type != b->type)
		return (a->v.t.len == 0 && b->v.t.len == 0);
	keyed = a->type == 'F';
	table_iter_init(&ia, &a->v.t);
	table_iter_init(&ib, &b->v.t);
	for (;;) {
		if (keyed) {
			na = table_next(&ia, &ka, &va);
			nb = table_next(&ib, &kb, &vb);
		} else {
			na = array_next(&ia, &va);
			nb = array_next(&ib, &vb);
		}
		if (na != nb)
			return (0);
		if (na == 0)
			return (1);
		if (keyed && (ka.len != kb.len ||
		    memcmp(ka.s, kb.s, ka.len) != 0))
			return (0);
		if (exchange_headers_type(va.type) !=
		    exchange_headers_type(vb.type) ||
		    !exchange_headers_equal(&va, &vb))
			return (0);
	}
}

/* Append to o, truncating at its size; it stays NUL-terminated. */
static void
exchange_headers_put(struct exchange_headers_out *o, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	if (o->len + 1 >= o->size)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->p + o->len, o->size - o->len, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	o->len += (size_t)n;
	if (o->len >= o->size)
		o->len = o->size - 1;
}

/*
 * An Erlang binary as ~tp prints it: <<"text">> when every byte is a
 * printable character (with \n and friends escaped), <<"text"/utf8>> when
 * it is printable UTF-8, else the bytes, <<1,2,3>>.
 */
static void
exchange_headers_put_binary(struct exchange_headers_out *o,
    const uint8_t *p, size_t len)
{
	static const char	 esc_from[] = "\n\r\t\v\b\f\033\"\\";
	static const char	 esc_to[] = "nrtvbfe\"\\";
	const char		*e;
	size_t			 i, k, n;
	uint32_t		 cp;
	int			 ascii = 1, utf8 = 1;

	if (len == 0) {
		exchange_headers_put(o, "<<>>");
		return;
	}
	for (i = 0; i < len; i++) {
		if ((p[i] < 0x20 || p[i] > 0x7e) &&
		    (p[i] == 0 || strchr(esc_from, p[i]) == NULL))
			ascii = 0;
	}
	/* Printable UTF-8: no controls, no surrogates, no overlong forms. */
	for (i = 0; !ascii && utf8 && i < len; i += n) {
		if (p[i] < 0x80) {
			n = 1;
			if ((p[i] < 0x20 || p[i] == 0x7f) &&
			    (p[i] == 0 || strchr(esc_from, p[i]) == NULL))
				utf8 = 0;
			continue;
		}
		if ((p[i] & 0xe0) == 0xc0) {
			n = 2;
			cp = p[i] & 0x1f;
		} else if ((p[i] & 0xf0) == 0xe0) {
			n = 3;
			cp = p[i] & 0x0f;
		} else if ((p[i] & 0xf8) == 0xf0) {
			n = 4;
			cp = p[i] & 0x07;
		} else {
			utf8 = 0;
			break;
		}
		if (i + n > len) {
			utf8 = 0;
			break;
		}
		for (k = 1; k < n; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				utf8 = 0;
			cp = (cp << 6) | (p[i + k] & 0x3f);
		}
		if ((n == 2 && cp < 0xa0) || (n == 3 && cp < 0x800) ||
		    (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp < 0xe000) || cp == 0xfffe ||
		    cp == 0xffff)
			utf8 = 0;
	}
	if (!ascii && !utf8) {
		exchange_headers_put(o, "<<");
		for (i = 0; i < len; i++)
			exchange_headers_put(o, "%s%u", i ? "," : "", p[i]);
		exchange_headers_put(o, ">>");
		return;
	}
	exchange_headers_put(o, "<<\"");
	for (i = 0; i < len; i++) {
		if (p[i] != 0 && (e = strchr(esc_from, p[i])) != NULL)
			exchange_headers_put(o, "\\%c", esc_to[e - esc_from]);
		else
			exchange_headers_put(o, "%c", p[i]);
	}
	exchange_headers_put(o, ascii ? "\">>" : "\"/utf8>>");
}

/*
 * A float as Erlang prints it: the shortest digits that read back the
 * same, always with a fraction ("1.0"), in "1.0e20" form when far from 1.
 */
static void
exchange_headers_put_float(struct exchange_headers_out *o, double d)
{
	char	 buf[64], *e;
	int	 prec, exp10;

	for (prec = 1; prec < 17; prec++) {
		snprintf(buf, sizeof buf, "%.*e", prec - 1, d);
		if (strtod(buf, NULL) == d)
			break;
	}
	snprintf(buf, sizeof buf, "%.*e", prec - 1, d);
	if ((e = strchr(buf, 'e')) == NULL) {
		exchange_headers_put(o, "%s", buf);	/* inf, nan */
		return;
	}
	exp10 = atoi(e + 1);
	if (exp10 >= -4 && exp10 < 21) {
		snprintf(buf, sizeof buf, "%.*f",
		    prec - 1 - exp10 > 0 ? prec - 1 - exp10 : 1, d);
		exchange_headers_put(o, "%s", buf);
		return;
	}
	*e = '\0';
	exchange_headers_put(o, "%s%se%d", buf,
	    strchr(buf, '.') == NULL ? ".0" : "", exp10);
}

/* A field value as the Erlang term RabbitMQ would print with ~tp. */
static void
exchange_headers_put_term(struct exchange_headers_out *o,
    const struct field_value *v)
{
	struct table_iter	it;
	struct shortstr		key;
	struct field_value	e;
	int			first = 1;

	switch (v->type) {
	case 'b':
	case 's':
	case 'I':
	case 'l':
	case 'L':
		exchange_headers_put(o, "%lld", (long long)v->v.i);
		break;
	case 'B':
	case 'u':
	case 'i':
	case 'T':
		exchange_headers_put(o, "%llu", (unsigned long long)v->v.u);
		break;
	case 'f':
		exchange_headers_put_float(o, (double)v->v.f);
		break;
	case 'd':
		exchange_headers_put_float(o, v->v.d);
		break;
	case 't':
		exchange_headers_put(o, "%s", v->v.b ? "true" : "false");
		break;
	case 'D':
		exchange_headers_put(o, "{%u,%lu}", v->v.dec.scale,
		    (unsigned long)v->v.dec.value);
		break;
	case 'S':
	case 'x':
		exchange_headers_put_binary(o, v->v.s.p, v->v.s.len);
		break;
	case 'V':
		exchange_headers_put(o, "undefined");
		break;
	case 'F':
		exchange_headers_put(o, "[");
		table_iter_init(&it, &v->v.t);
		while (table_next(&it, &key, &e)) {
			exchange_headers_put(o, "%s{", first ? "" : ",");
			exchange_headers_put_binary(o, (const uint8_t *)key.s,
			    key.len);
			exchange_headers_put(o, ",%s,",
			    exchange_headers_atom(e.type));
			exchange_headers_put_term(o, &e);
			exchange_headers_put(o, "}");
			first = 0;
		}
		exchange_headers_put(o, "]");
		break;
	case 'A':
		exchange_headers_put(o, "[");
		table_iter_init(&it, &v->v.t);
		while (array_next(&it, &e)) {
			exchange_headers_put(o, "%s{%s,", first ? "" : ",",
			    exchange_headers_atom(e.type));
			exchange_headers_put_term(o, &e);
			exchange_headers_put(o, "}");
			first = 0;
		}
		exchange_headers_put(o, "]");
		break;
	default:
		exchange_headers_put(o, "'?'");
		break;
	}
}

/* RabbitMQ's name for a field type (rabbit_binary_parser). */
static const char *
exchange_headers_atom(uint8_t type)
{
	switch (type) {
	case 'S':
		return ("longstr");
	case 'T':
		return ("timestamp");
	case 'b':
		return ("byte");
	case 'B':
		return ("unsignedbyte");
	case 's':
		return ("short");
	case 'u':
		return ("unsignedshort");
	case 'I':
		return ("signedint");
	case 'i':
		return ("unsignedint");
	case 'd':
		return ("double");
	case 'f':
		return ("float");
	case 'l':
	case 'L':
		return ("long");
	case 't':
		return ("bool");
	case 'D':
		return ("decimal");
	case 'F':
		return ("table");
	case 'A':
		return ("array");
	case 'x':
		return ("binary");
	case 'V':
		return ("void");
	default:
		return ("unknown");
	}
}
