/*
 * deadletter.c: dead-lettering with RabbitMQ's x-death header.
 *
 * The message is republished to the queue's dead-letter exchange with the
 * queue's dead-letter routing key, or its own routing keys (the publish key
 * and the CC keys).  x-death is an array of tables, the latest first, one
 * per (queue, reason), each with a count; the first death also sets
 * x-first-death-reason, -queue and -exchange.  The expiration property is
 * removed (kept as original-expiration).  As in RabbitMQ, a message that
 * would come back to a queue it already died in, with no rejection on the
 * way, is dropped for that queue (a cycle of expiries).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <event2/buffer.h>

#include "broker.h"
#include "deadletter.h"
#include "exchange.h"
#include "message.h"
#include "queue.h"
#include "vhost.h"

struct deadletter_ctx {
	struct queue		*q;
	const struct message	*m;
	const char		*reason;
	int			 drop_cc;	/* a dead-letter routing key */
};

/* Is a longstr value equal to the C string s? */
static void	deadletter_headers_build(const struct field_table *,
		    struct evbuffer *, void *);

static int
deadletter_str_is(const struct field_value *v, const char *s)
{
	return (v->type == 'S' && v->v.s.len == strlen(s) &&
	    memcmp(v->v.s.p, s, v->v.s.len) == 0);
}

/* Append a longstr field. */
static void
deadletter_add_str(struct evbuffer *b, const char *key, const void *p,
    size_t len)
{
	struct field_value	v;

	v.type = 'S';
	v.v.s.p = p;
	v.v.s.len = (uint32_t)len;
	table_add_value(b, key, &v);
}

/* The routing keys of m: its publish key, then its CC keys. */
static void
deadletter_routing_keys(const struct message *m, struct evbuffer *arr)
{
	struct field_value	v, cc;
	struct table_iter	it;

	v.type = 'S';
	v.v.s.p = (const uint8_t *)MSG_RK(m);
	v.v.s.len = m->routing_key_len;
	array_add_value(arr, &v);
	if (!table_find(MSG_HDRS(m), "CC", &cc))
		return;
	if (cc.type == 'S')
		array_add_value(arr, &cc);
	else if (cc.type == 'A') {
		table_iter_init(&it, &cc.v.t);
		while (array_next(&it, &v))
			if (v.type == 'S')
				array_add_value(arr, &v);
	}
}

/* Append a table value as one array element. */
static void
deadletter_add_table_elem(struct evbuffer *arr, struct evbuffer *tb)
{
	struct field_value	v;

	v.type = 'F';
	v.v.t.len = (uint32_t)evbuffer_get_length(tb);
	v.v.t.p = evbuffer_pullup(tb, -1);
	array_add_value(arr, &v);
}

/*
 * A matching earlier death with its count raised, keys in sorted order as
 * RabbitMQ rewrites it (rabbit_misc:sort_field_table).
 */
static void
deadletter_bump(const struct field_table *old, struct evbuffer *tb)
{
	static const char	*order[] = { "count", "exchange",
	    "original-expiration", "queue", "reason", "routing-keys", "time" };
	struct field_value	 v;
	int64_t			 n;
	size_t			 i;

	for (i = 0; i < sizeof order / sizeof order[0]; i++) {
		if (!table_find(old, order[i], &v))
			continue;
		if (i == 0 && field_value_int(&v, &n) == 0) {
			table_add_int(tb, "count", n + 1);
			continue;
		}
		table_add_value(tb, order[i], &v);
	}
}

struct deadletter_hdr {
	struct shortstr		key;
	struct field_value	v;
};

/* Order header keys as Erlang orders binaries. */
static int
deadletter_hdr_cmp(const void *a, const void *b)
{
	const struct deadletter_hdr	*x = a, *y = b;
	int				 c;

	c = memcmp(x->key.s, y->key.s, x->key.len < y->key.len ? x->key.len :
	    y->key.len);
	return (c != 0 ? c : (int)x->key.len - (int)y->key.len);
}

/*
 * Build the dead-lettered message's headers, sorted by key as RabbitMQ
 * leaves them (rabbit_misc:set_table_value sorts the table).
 */
static void
deadletter_headers_cb(const struct field_table *old, struct evbuffer *out,
    void *arg)
{
	struct evbuffer		*tmp = evbuffer_new();
	struct field_table	 t;
	struct deadletter_hdr	*h = NULL;
	size_t			 n = 0, cap = 0, i;
	struct table_iter	 it;

	deadletter_headers_build(old, tmp, arg);
	t.len = (uint32_t)evbuffer_get_length(tmp);
	t.p = evbuffer_pullup(tmp, -1);
	table_iter_init(&it, &t);
	for (;;) {
		if (n == cap) {
			cap = cap == 0 ? 16 : cap * 2;
			h = xreallocarray(h, cap, sizeof *h);
		}
		if (!table_next(&it, &h[n].key, &h[n].v))
			break;
		n++;
	}
	qsort(h, n, sizeof *h, deadletter_hdr_cmp);
	for (i = 0; i < n; i++)
		table_add_entry(out, &h[i].key, &h[i].v);
	free(h);
	evbuffer_free(tmp);
}

/* The new headers, unsorted. */
static void
deadletter_headers_build(const struct field_table *old, struct evbuffer *out,
    void *arg)
{
	struct deadletter_ctx	*ctx = arg;
	const struct message	*m = ctx->m;
	struct evbuffer		*arr, *tb, *rks;
	struct table_iter	 it;
	struct shortstr		 key;
	struct field_value	 v, deaths, q, r, time, keys;
	struct timeval		 tv;
	char			 exp[32];
	int			 have = 0, matched = 0;

	have = table_find(old, "x-death", &deaths) && deaths.type == 'A';
	table_iter_init(&it, old);
	while (table_next(&it, &key, &v)) {
		if (shortstr_is(&key, "x-death") ||
		    (ctx->drop_cc && shortstr_is(&key, "CC")))
			continue;
		table_add_entry(out, &key, &v);
	}
	if (!have) {
		table_add_longstr(out, "x-first-death-reason", ctx->reason);
		table_add_longstr(out, "x-first-death-queue", ctx->q->name);
		deadletter_add_str(out, "x-first-death-exchange", MSG_EXCHANGE(m),
		    m->exchange_len);
	}
	arr = evbuffer_new();
	tb = evbuffer_new();
	rks = evbuffer_new();
	/* The earlier death for this queue and reason, counted again. */
	if (have) {
		table_iter_init(&it, &deaths.v.t);
		while (array_next(&it, &v)) {
			if (v.type == 'F' && !matched &&
			    table_find(&v.v.t, "queue", &q) &&
			    deadletter_str_is(&q, ctx->q->name) &&
			    table_find(&v.v.t, "reason", &r) &&
			    deadletter_str_is(&r, ctx->reason)) {
				deadletter_bump(&v.v.t, tb);
				matched = 1;
			}
		}
	}
	if (!matched) {
		/*
		 * RabbitMQ writes the first death's table in this order, and
		 * a later new one sorted by key.
		 */
		gettimeofday(&tv, NULL);
		time.type = 'T';
		time.v.u = (uint64_t)tv.tv_sec;
		deadletter_routing_keys(m, rks);
		keys.type = 'A';
		keys.v.t.len = (uint32_t)evbuffer_get_length(rks);
		keys.v.t.p = evbuffer_pullup(rks, -1);
		exp[0] = '\0';
		if (message_expiration(m) >= 0)
			snprintf(exp, sizeof exp, "%lld",
			    (long long)message_expiration(m));
		table_add_int(tb, "count", 1);
		if (!have) {
			table_add_longstr(tb, "reason", ctx->reason);
			table_add_longstr(tb, "queue", ctx->q->name);
			table_add_value(tb, "time", &time);
			deadletter_add_str(tb, "exchange", MSG_EXCHANGE(m),
			    m->exchange_len);
			table_add_value(tb, "routing-keys", &keys);
			if (exp[0] != '\0')
				table_add_longstr(tb, "original-expiration",
				    exp);
		} else {
			deadletter_add_str(tb, "exchange", MSG_EXCHANGE(m),
			    m->exchange_len);
			if (exp[0] != '\0')
				table_add_longstr(tb, "original-expiration",
				    exp);
			table_add_longstr(tb, "queue", ctx->q->name);
			table_add_longstr(tb, "reason", ctx->reason);
			table_add_value(tb, "routing-keys", &keys);
			table_add_value(tb, "time", &time);
		}
	}
	deadletter_add_table_elem(arr, tb);
	if (have) {
		matched = 0;
		table_iter_init(&it, &deaths.v.t);
		while (array_next(&it, &v)) {
			if (v.type == 'F' && !matched &&
			    table_find(&v.v.t, "queue", &q) &&
			    deadletter_str_is(&q, ctx->q->name) &&
			    table_find(&v.v.t, "reason", &r) &&
			    deadletter_str_is(&r, ctx->reason)) {
				matched = 1;
				continue;
			}
			array_add_value(arr, &v);
		}
	}
	v.type = 'A';
	v.v.t.len = (uint32_t)evbuffer_get_length(arr);
	v.v.t.p = evbuffer_pullup(arr, -1);
	table_add_value(out, "x-death", &v);
	evbuffer_free(arr);
	evbuffer_free(tb);
	evbuffer_free(rks);
}

/*
 * Would dead-lettering m into target close a cycle with no rejection in it
 * (rabbit_dead_letter:is_cycle)?  m's x-death is already updated.
 */
static int
deadletter_is_cycle(const struct message *m, const struct queue *target)
{
	struct field_value	deaths, v, f;
	struct table_iter	it;
	int			rejected = 0;

	if (!table_find(MSG_HDRS(m), "x-death", &deaths) ||
	    deaths.type != 'A')
		return (0);
	table_iter_init(&it, &deaths.v.t);
	while (array_next(&it, &v)) {
		if (v.type != 'F')
			return (0);
		if (table_find(&v.v.t, "reason", &f) &&
		    deadletter_str_is(&f, DEADLETTER_REJECTED))
			rejected = 1;
		if (table_find(&v.v.t, "queue", &f) &&
		    deadletter_str_is(&f, target->name))
			return (!rejected);
	}
	return (0);
}

/* Dead-letter m out of q. */
void
deadletter(struct queue *q, struct message *m, const char *reason)
{
	struct deadletter_ctx	 ctx;
	struct route_result	 rr = { NULL, 0, 0 };	/* may nest */
	struct exchange		*x;
	struct message		*n;
	struct field_value	 cc, v;
	struct table_iter	 it;
	const char		*rk;
	size_t			 rklen, i;

	if (q->dlx == NULL ||
	    (x = vhost_exchange_find(q->vhost, q->dlx)) == NULL)
		return;		/* RabbitMQ drops it silently */
	ctx.q = q;
	ctx.m = m;
	ctx.reason = reason;
	ctx.drop_cc = q->dlrk != NULL;
	if (q->dlrk != NULL) {
		rk = q->dlrk;
		rklen = strlen(rk);
	} else {
		rk = MSG_RK(m);
		rklen = m->routing_key_len;
	}
	n = message_rewrite(m, x->name, strlen(x->name), rk, rklen,
	    deadletter_headers_cb, &ctx, 1, NULL);
	exchange_route(x, rk, rklen, MSG_HDRS(n), &rr);
	if (q->dlrk == NULL && table_find(MSG_HDRS(n), "CC", &cc)) {
		if (cc.type == 'S')
			exchange_route_more(x, (const char *)cc.v.s.p,
			    cc.v.s.len, MSG_HDRS(n), &rr);
		else if (cc.type == 'A') {
			table_iter_init(&it, &cc.v.t);
			while (array_next(&it, &v))
				if (v.type == 'S')
					exchange_route_more(x,
					    (const char *)v.v.s.p, v.v.s.len,
					    MSG_HDRS(n), &rr);
		}
	}
	for (i = 0; i < rr.n; i++) {
		if (strcmp(reason, DEADLETTER_REJECTED) != 0 &&
		    deadletter_is_cycle(n, rr.q[i]))
			continue;
		queue_push(rr.q[i], n);
	}
	route_result_free(&rr);
	message_unref(&n);
}
