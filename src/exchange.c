/*
 * exchange.c: exchanges and bindings, and the routing walk: the type says
 * which bindings match; this file collects each queue once, follows
 * exchange-to-exchange bindings and falls back to alternate exchanges.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker.h"
#include "exchange.h"
#include "amqp_defs.h"
#include "dedup.h"
#include "queue.h"
#include "store.h"
#include "vhost.h"

/* Most exchange-to-exchange hops and alternate-exchange fallbacks. */
#define EXCHANGE_MAX_DEPTH	32

struct route_walk {
	struct route_result	*rr;
	uint32_t		 gen;		/* queues: once per message */
	uint32_t		 xgen;		/* exchanges: once per key */
	uint32_t		 xhits;		/* exchange destinations matched */
	int			 depth;
	const char		*key;
	size_t			 keylen;
	const struct field_table *headers;
};

static void	exchange_route_emit_cb(struct binding *, void *);
static void	exchange_route_into(struct exchange *, struct route_walk *);
static void	exchange_binding_free(struct binding *);
static size_t	exchange_binding_hkey(char **, struct queue *,
		    struct exchange *, const char *, size_t,
		    const struct field_table *);
static void	route_result_add(struct route_result *, struct queue *);

static uint64_t	exchange_uids;

/* The exchange type called name, or NULL. */
const struct exchange_type *
exchange_type_find(const char *name)
{
	static const struct exchange_type *types[] = {
		&exchange_type_direct, &exchange_type_fanout,
		&exchange_type_topic, &exchange_type_headers
	};
	size_t	i;

	for (i = 0; i < sizeof types / sizeof types[0]; i++)
		if (strcmp(types[i]->name, name) == 0)
			return (types[i]);
	return (NULL);
}

/* An integer argument, or a string of digits (the dedup plugin's way). */
static int
exchange_arg_uint(const struct field_table *args, const char *key,
    int64_t *out)
{
	struct field_value	v;
	int64_t			n = 0;
	uint32_t		i;

	if (!table_find(args, key, &v))
		return (-1);
	if (v.type == 'S') {
		if (v.v.s.len == 0 || v.v.s.len > 18)
			return (-2);
		for (i = 0; i < v.v.s.len; i++) {
			if (v.v.s.p[i] < '0' || v.v.s.p[i] > '9')
				return (-2);
			n = n * 10 + (v.v.s.p[i] - '0');
		}
		*out = n;
		return (0);
	}
	if (v.type == 't' || field_value_int(&v, out) != 0)
		return (-2);
	return (0);
}

/* Resolve a declared type name and check the kind's arguments. */
int
exchange_resolve(const char *name, const struct field_table *args,
    const struct exchange_type **type, enum exchange_kind *kind,
    char *cause, size_t len)
{
	struct field_value	v;
	int64_t			n;
	char			tname[256];

	*kind = XKIND_PLAIN;
	if (strcmp(name, "x-delayed-message") == 0) {
		*kind = XKIND_DELAYED;
		if (!table_find(args, "x-delayed-type", &v) || v.type != 'S' ||
		    v.v.s.len >= sizeof tname) {
			snprintf(cause, len, "Invalid argument, 'x-delayed-type' "
			    "must be an existing exchange type");
			return (AMQP_PRECONDITION_FAILED);
		}
		memcpy(tname, v.v.s.p, v.v.s.len);
		tname[v.v.s.len] = '\0';
		name = tname;
	} else if (strcmp(name, "x-message-deduplication") == 0) {
		*kind = XKIND_DEDUP;
		if (exchange_arg_uint(args, "x-cache-size", &n) != 0 ||
		    n <= 0) {
			snprintf(cause, len, "Missing or invalid argument, "
			    "'x-cache-size' must be an integer greater than 0");
			return (AMQP_PRECONDITION_FAILED);
		}
		if (exchange_arg_uint(args, "x-cache-ttl", &n) == -2 ||
		    (table_find(args, "x-cache-ttl", &v) && n <= 0)) {
			snprintf(cause, len, "Invalid argument, 'x-cache-ttl' "
			    "must be an integer greater than 0");
			return (AMQP_PRECONDITION_FAILED);
		}
		if (table_find(args, "x-cache-persistence", &v) &&
		    (v.type != 'S' || ((v.v.s.len != 4 ||
		    memcmp(v.v.s.p, "disk", 4) != 0) && (v.v.s.len != 6 ||
		    memcmp(v.v.s.p, "memory", 6) != 0)))) {
			snprintf(cause, len, "Invalid argument, "
			    "'x-cache-persistence' must be either 'disk' or "
			    "'memory'");
			return (AMQP_PRECONDITION_FAILED);
		}
		name = "fanout";
	}
	if ((*type = exchange_type_find(name)) == NULL) {
		snprintf(cause, len, "unknown exchange type '%s'", name);
		return (AMQP_COMMAND_INVALID);
	}
	return (0);
}

/* The type name as declared. */
const char *
exchange_type_name(const struct exchange *x)
{
	switch (x->kind) {
	case XKIND_DELAYED:
		return ("x-delayed-message");
	case XKIND_DEDUP:
		return ("x-message-deduplication");
	default:
		return (x->type->name);
	}
}

/* Make x delayed or deduplicating (its arguments were checked). */
void
exchange_set_kind(struct exchange *x, enum exchange_kind kind)
{
	struct field_value	v;
	int64_t			size = 0, ttl = -1;

	x->kind = kind;
	if (kind != XKIND_DEDUP)
		return;
	(void)exchange_arg_uint(&x->args, "x-cache-size", &size);
	if (exchange_arg_uint(&x->args, "x-cache-ttl", &ttl) != 0)
		ttl = -1;
	x->dedup = dedup_new((uint64_t)size, ttl);
	if (x->durable && table_find(&x->args, "x-cache-persistence", &v) &&
	    v.type == 'S' && v.v.s.len == 4 && memcmp(v.v.s.p, "disk", 4) == 0)
		dedup_persist(x->dedup, x);
}

/* Make an exchange and add it to its vhost. */
struct exchange *
exchange_new(struct vhost *v, const char *name,
    const struct exchange_type *type, int durable, int auto_delete,
    int internal, const struct field_table *args)
{
	struct exchange		*x;
	struct field_value	 fv;

	x = xcalloc(1, sizeof *x);
	x->name = xstrdup(name);
	x->vhost = v;
	x->type = type;
	x->state = type->create();
	x->durable = durable != 0;
	x->auto_delete = auto_delete != 0;
	x->internal = internal != 0;
	x->uid = ++exchange_uids;
	if (args != NULL && args->len > 0) {
		x->args_buf = xmalloc(args->len);
		memcpy(x->args_buf, args->p, args->len);
		x->args.p = x->args_buf;
		x->args.len = args->len;
		if (table_find(&x->args, "alternate-exchange", &fv) &&
		    fv.type == 'S')
			x->alternate = xstrndup((const char *)fv.v.s.p,
			    fv.v.s.len);
	}
	TAILQ_INIT(&x->bindings);
	TAILQ_INIT(&x->bindings_in);
	HASH_ADD_KEYPTR(hh, v->exchanges, x->name, strlen(x->name), x);
	return (x);
}

/* Unlink and free one binding. */
static void
exchange_binding_free(struct binding *b)
{
	struct exchange	*src = b->source;

	src->type->unbind(src->state, b);
	HASH_DEL(src->bhash, b);
	free(b->hkey);
	TAILQ_REMOVE(&src->bindings, b, src_entry);
	src->nbindings--;
	if (b->queue != NULL)
		TAILQ_REMOVE(&b->queue->bindings_in, b, dst_entry);
	else
		TAILQ_REMOVE(&b->dest_x->bindings_in, b, dst_entry);
	free(b->key);
	free(b->args_buf);
	free(b);
}

/* Delete an exchange: every binding from it and to it goes too. */
void
exchange_free(struct exchange *x)
{
	struct binding	*b;

	store_exchange_del(x);
	while ((b = TAILQ_FIRST(&x->bindings)) != NULL)
		exchange_binding_free(b);
	while ((b = TAILQ_FIRST(&x->bindings_in)) != NULL)
		exchange_binding_free(b);
	HASH_DEL(x->vhost->exchanges, x);
	x->vhost->gen++;	/* forget cached lookups */
	x->type->destroy(x->state);
	dedup_free(&x->dedup);
	free(x->alternate);
	free(x->args_buf);
	free(x->name);
	free(x);
}

/*
 * The key a binding is found by in its source: destination, routing key
 * and argument bytes.  Binding and unbinding cost a hash lookup, not a walk
 * over the destination's bindings (100,000 bindings to one queue).
 */
static size_t
exchange_binding_hkey(char **out, struct queue *q, struct exchange *dx,
    const char *key, size_t keylen, const struct field_table *args)
{
	void		*dest = q != NULL ? (void *)q : (void *)dx;
	uint32_t	 kl = (uint32_t)keylen, al;
	size_t		 n;
	char		*p;

	al = args != NULL ? args->len : 0;
	n = sizeof dest + sizeof kl + keylen + al;
	p = xmalloc(n);
	memcpy(p, &dest, sizeof dest);
	memcpy(p + sizeof dest, &kl, sizeof kl);
	memcpy(p + sizeof dest + sizeof kl, key, keylen);
	if (al > 0)
		memcpy(p + sizeof dest + sizeof kl + keylen, args->p, al);
	*out = p;
	return (n);
}

/*
 * Bind src to queue q or exchange dx.  An identical binding is not an
 * error (0-9-1 queue.bind: "it is not an error to bind twice").
 */
int
exchange_bind(struct exchange *src, struct queue *q, struct exchange *dx,
    const char *key, size_t keylen, const struct field_table *args)
{
	struct binding		*b;
	struct binding_list	*in;
	char			*hkey;
	size_t			 hlen;

	in = q != NULL ? &q->bindings_in : &dx->bindings_in;
	hlen = exchange_binding_hkey(&hkey, q, dx, key, keylen, args);
	HASH_FIND(hh, src->bhash, hkey, hlen, b);
	if (b != NULL) {
		free(hkey);
		return (1);
	}
	b = xcalloc(1, sizeof *b);
	b->hkey = hkey;
	HASH_ADD_KEYPTR(hh, src->bhash, b->hkey, hlen, b);
	b->source = src;
	b->queue = q;
	b->dest_x = dx;
	b->key = xstrndup(key, keylen);
	b->keylen = keylen;
	if (args != NULL && args->len > 0) {
		b->args_buf = xmalloc(args->len);
		memcpy(b->args_buf, args->p, args->len);
		b->args.p = b->args_buf;
		b->args.len = args->len;
	}
	TAILQ_INSERT_TAIL(&src->bindings, b, src_entry);
	src->nbindings++;
	TAILQ_INSERT_TAIL(in, b, dst_entry);
	src->type->bind(src->state, b);
	store_binding_put(b);
	return (0);
}

/*
 * Remove a binding.  An auto-delete source that loses its last binding is
 * deleted, as RabbitMQ does.
 */
int
exchange_unbind(struct exchange *src, struct queue *q, struct exchange *dx,
    const char *key, size_t keylen, const struct field_table *args)
{
	struct binding		*b;
	char			*hkey;
	size_t			 hlen;

	hlen = exchange_binding_hkey(&hkey, q, dx, key, keylen, args);
	HASH_FIND(hh, src->bhash, hkey, hlen, b);
	free(hkey);
	if (b == NULL)
		return (-1);
	store_binding_del(b);
	exchange_binding_free(b);
	if (src->auto_delete && src->nbindings == 0 && !src->builtin)
		exchange_free(src);
	return (0);
}

/* Remove every binding to q; auto-delete sources may go with them. */
void
exchange_unbind_queue(struct queue *q)
{
	struct binding	*b;
	struct exchange	*src;

	while ((b = TAILQ_FIRST(&q->bindings_in)) != NULL) {
		src = b->source;
		exchange_binding_free(b);
		if (src->auto_delete && src->nbindings == 0 && !src->builtin)
			exchange_free(src);
	}
}

/* Add a queue to a result unless this walk has it already. */
static void
route_result_add(struct route_result *rr, struct queue *q)
{
	if (rr->n == rr->cap) {
		rr->cap = rr->cap == 0 ? 8 : rr->cap * 2;
		rr->q = xreallocarray(rr->q, rr->cap, sizeof *rr->q);
	}
	rr->q[rr->n++] = q;
}

/* One matching binding: a queue (once per walk) or another exchange. */
static void
exchange_route_emit_cb(struct binding *b, void *arg)
{
	struct route_walk	*w = arg;

	if (b->queue != NULL) {
		if (b->queue->route_gen != w->gen) {
			b->queue->route_gen = w->gen;
			route_result_add(w->rr, b->queue);
		}
	} else if ((w->xhits++, b->dest_x->route_gen != w->xgen) &&
	    w->depth < EXCHANGE_MAX_DEPTH) {
		w->depth++;
		exchange_route_into(b->dest_x, w);
		w->depth--;
	}
}

/* Route through x, then its alternate exchange when nothing matched. */
static void
exchange_route_into(struct exchange *x, struct route_walk *w)
{
	struct queue	*q;
	struct exchange	*ae;
	size_t		 before = w->rr->n;
	uint32_t	 xbefore = w->xhits;
	int		 depth = 0;
	char		 name[256];

	for (;;) {
		x->route_gen = w->xgen;
		if (x->name[0] == '\0') {
			/* The default exchange binds every queue by name. */
			if (w->keylen >= sizeof name)
				return;
			memcpy(name, w->key, w->keylen);
			name[w->keylen] = '\0';
			q = vhost_queue_find(x->vhost, name);
			if (q != NULL && q->route_gen != w->gen) {
				q->route_gen = w->gen;
				route_result_add(w->rr, q);
			}
		} else
			x->type->route(x->state, w->key, w->keylen,
			    w->headers, exchange_route_emit_cb, w);
		/*
		 * As RabbitMQ: the alternate exchange is for an exchange that
		 * matched no binding; a matched exchange-to-exchange binding
		 * counts even if nothing lies behind it.
		 */
		if (w->rr->n != before || w->xhits != xbefore ||
		    x->alternate == NULL || ++depth > EXCHANGE_MAX_DEPTH)
			return;
		ae = vhost_exchange_find(x->vhost, x->alternate);
		if (ae == NULL || ae->route_gen == w->xgen)
			return;
		x = ae;
	}
}

/* Route a message with this key and headers from x. */
void
exchange_route(struct exchange *x, const char *key, size_t keylen,
    const struct field_table *headers, struct route_result *rr)
{
	struct route_walk	w;

	rr->n = 0;
	if (++broker->route_gen == 0)
		broker->route_gen = 1;
	w.rr = rr;
	w.gen = w.xgen = broker->route_gen;
	broker->route_qgen = w.gen;
	w.depth = 0;
	w.xhits = 0;
	w.key = key;
	w.keylen = keylen;
	w.headers = headers;
	exchange_route_into(x, &w);
}

/*
 * Route the same message again with another key (CC, BCC): queues found
 * by either routing are in rr once.
 */
void
exchange_route_more(struct exchange *x, const char *key, size_t keylen,
    const struct field_table *headers, struct route_result *rr)
{
	struct route_walk	w;

	if (++broker->route_gen == 0)
		broker->route_gen = 1;
	w.rr = rr;
	w.gen = broker->route_qgen;
	w.xgen = broker->route_gen;
	w.depth = 0;
	w.xhits = 0;
	w.key = key;
	w.keylen = keylen;
	w.headers = headers;
	exchange_route_into(x, &w);
}

/* Free a result's array. */
void
route_result_free(struct route_result *rr)
{
	free(rr->q);
	rr->q = NULL;
	rr->n = rr->cap = 0;
}
