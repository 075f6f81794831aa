/*
 * exchange_direct.c: the direct exchange type.  Bindings are kept in a
 * hash table keyed by the exact routing key, each key holding a list of
 * its bindings, so a message costs one lookup however many bindings the
 * exchange has.  Keys are compared as bytes with their length: they may
 * be empty.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <uthash.h>

#include "broker.h"
#include "exchange.h"

struct exchange_direct_key;

/* One binding's place in its key's list; binding->type_data points here. */
struct exchange_direct_link {
	struct binding				*b;	/* borrowed */
	struct exchange_direct_key		*k;	/* borrowed */
	TAILQ_ENTRY(exchange_direct_link)	 entry;
};

/* All bindings under one routing key. */
struct exchange_direct_key {
	char					*key;	/* owned */
	size_t					 keylen;
	TAILQ_HEAD(, exchange_direct_link)	 links;	/* owned */
	UT_hash_handle				 hh;
};

/* The per-exchange index. */
struct exchange_direct {
	struct exchange_direct_key	*keys;		/* owned: uthash */
};

static void	*exchange_direct_create(void);
static void	 exchange_direct_destroy(void *);
static void	 exchange_direct_bind(void *, struct binding *);
static void	 exchange_direct_unbind(void *, struct binding *);
static void	 exchange_direct_route(void *, const char *, size_t,
		     const struct field_table *, exchange_emit_cb, void *);

const struct exchange_type exchange_type_direct = {
	.name = "direct",
	.create = exchange_direct_create,
	.destroy = exchange_direct_destroy,
	.validate = NULL,
	.bind = exchange_direct_bind,
	.unbind = exchange_direct_unbind,
	.route = exchange_direct_route
};

/* Make an empty index. */
static void *
exchange_direct_create(void)
{
	return (xcalloc(1, sizeof (struct exchange_direct)));
}

/* Free the index; the bindings themselves belong to exchange.c. */
static void
exchange_direct_destroy(void *state)
{
	struct exchange_direct		*d = state;
	struct exchange_direct_key	*k, *tmp;
	struct exchange_direct_link	*l;

	if (d == NULL)
		return;
	HASH_ITER(hh, d->keys, k, tmp) {
		HASH_DEL(d->keys, k);
		while ((l = TAILQ_FIRST(&k->links)) != NULL) {
			TAILQ_REMOVE(&k->links, l, entry);
			free(l);
		}
		free(k->key);
		free(k);
	}
	free(d);
}

/* Add b to the list of its key, making the key's entry if it is new. */
static void
exchange_direct_bind(void *state, struct binding *b)
{
	struct exchange_direct		*d = state;
	struct exchange_direct_key	*k;
	struct exchange_direct_link	*l;

	HASH_FIND(hh, d->keys, b->key, b->keylen, k);
	if (k == NULL) {
		k = xcalloc(1, sizeof *k);
		/* The key is copied: the first binding may go before others. */
		k->key = xmalloc(b->keylen + 1);
		memcpy(k->key, b->key, b->keylen);
		k->key[b->keylen] = '\0';
		k->keylen = b->keylen;
		TAILQ_INIT(&k->links);
		HASH_ADD_KEYPTR(hh, d->keys, k->key, k->keylen, k);
	}
	l = xcalloc(1, sizeof *l);
	l->b = b;
	l->k = k;
	TAILQ_INSERT_TAIL(&k->links, l, entry);
	b->type_data = l;
}

/* Take b out of its key's list; drop the key when it has no bindings. */
static void
exchange_direct_unbind(void *state, struct binding *b)
{
	struct exchange_direct		*d = state;
	struct exchange_direct_link	*l = b->type_data;
	struct exchange_direct_key	*k;

	if (l == NULL)
		return;
	k = l->k;
	TAILQ_REMOVE(&k->links, l, entry);
	free(l);
	b->type_data = NULL;
	if (TAILQ_EMPTY(&k->links)) {
		HASH_DEL(d->keys, k);
		free(k->key);
		free(k);
	}
}

/* Emit the bindings whose key equals the routing key: one hash lookup. */
static void
exchange_direct_route(void *state, const char *key, size_t keylen,
    const struct field_table *headers, exchange_emit_cb emit, void *arg)
{
	struct exchange_direct		*d = state;
	struct exchange_direct_key	*k;
	struct exchange_direct_link	*l;

	if (key == NULL)
		key = "";
	HASH_FIND(hh, d->keys, key, keylen, k);
	if (k == NULL)
		return;
	TAILQ_FOREACH(l, &k->links, entry)
		emit(l->b, arg);
}
