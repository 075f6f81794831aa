/*
 * exchange_fanout.c: the fanout exchange type.  Every binding matches, so
 * the index is a plain list; routing key and headers are ignored.
 */
#include "config.h"

#include <stdlib.h>
#include <sys/queue.h>

#include "broker.h"
#include "exchange.h"

/* One binding's place in the list; binding->type_data points here. */
struct exchange_fanout_link {
	struct binding				*b;	/* borrowed */
	TAILQ_ENTRY(exchange_fanout_link)	 entry;
};

/* The per-exchange index. */
struct exchange_fanout {
	TAILQ_HEAD(, exchange_fanout_link)	 links;	/* owned */
};

static void	*exchange_fanout_create(void);
static void	 exchange_fanout_destroy(void *);
static void	 exchange_fanout_bind(void *, struct binding *);
static void	 exchange_fanout_unbind(void *, struct binding *);
static void	 exchange_fanout_route(void *, const char *, size_t,
		     const struct field_table *, exchange_emit_cb, void *);

const struct exchange_type exchange_type_fanout = {
	.name = "fanout",
	.create = exchange_fanout_create,
	.destroy = exchange_fanout_destroy,
	.validate = NULL,
	.bind = exchange_fanout_bind,
	.unbind = exchange_fanout_unbind,
	.route = exchange_fanout_route
};

/* Make an empty index. */
static void *
exchange_fanout_create(void)
{
	struct exchange_fanout	*f;

	f = xcalloc(1, sizeof *f);
	TAILQ_INIT(&f->links);
	return (f);
}

/* Free the index; the bindings themselves belong to exchange.c. */
static void
exchange_fanout_destroy(void *state)
{
	struct exchange_fanout		*f = state;
	struct exchange_fanout_link	*l;

	if (f == NULL)
		return;
	while ((l = TAILQ_FIRST(&f->links)) != NULL) {
		TAILQ_REMOVE(&f->links, l, entry);
		free(l);
	}
	free(f);
}

/* Append b to the list. */
static void
exchange_fanout_bind(void *state, struct binding *b)
{
	struct exchange_fanout		*f = state;
	struct exchange_fanout_link	*l;

	l = xcalloc(1, sizeof *l);
	l->b = b;
	TAILQ_INSERT_TAIL(&f->links, l, entry);
	b->type_data = l;
}

/* Take b out of the list in O(1) through its link. */
static void
exchange_fanout_unbind(void *state, struct binding *b)
{
	struct exchange_fanout		*f = state;
	struct exchange_fanout_link	*l = b->type_data;

	if (l == NULL)
		return;
	TAILQ_REMOVE(&f->links, l, entry);
	free(l);
	b->type_data = NULL;
}

/* Emit every binding. */
static void
exchange_fanout_route(void *state, const char *key, size_t keylen,
    const struct field_table *headers, exchange_emit_cb emit, void *arg)
{
	struct exchange_fanout		*f = state;
	struct exchange_fanout_link	*l;

	TAILQ_FOREACH(l, &f->links, entry)
		emit(l->b, arg);
}
