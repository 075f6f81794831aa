/*
 * vhost.c: virtual hosts and their built-in exchanges.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "broker.h"
#include "exchange.h"
#include "queue.h"
#include "vhost.h"

/* Find a vhost by name. */
struct vhost *
vhost_find(const char *name)
{
	struct vhost	*v;

	HASH_FIND_STR(broker->vhosts, name, v);
	return (v);
}

/* Name of a vhost (for logging). */
const char *
vhost_name(const struct vhost *v)
{
	return (v->name);
}

/*
 * Create a vhost with the exchanges RabbitMQ declares in each: the
 * default exchange and the amq.* ones.
 */
struct vhost *
vhost_create(const char *name)
{
	static const struct {
		const char	*name;
		const char	*type;
	} builtins[] = {
		{ "", "direct" },
		{ "amq.direct", "direct" },
		{ "amq.fanout", "fanout" },
		{ "amq.topic", "topic" },
		{ "amq.headers", "headers" },
		{ "amq.match", "headers" },
	};
	struct vhost	*v;
	struct exchange	*x;
	size_t		 i;

	if ((v = vhost_find(name)) != NULL)
		return (v);
	v = xcalloc(1, sizeof *v);
	v->name = xstrdup(name);
	HASH_ADD_KEYPTR(hh, broker->vhosts, v->name, strlen(v->name), v);
	for (i = 0; i < sizeof builtins / sizeof builtins[0]; i++) {
		x = exchange_new(v, builtins[i].name,
		    exchange_type_find(builtins[i].type), 1, 0, 0, NULL);
		x->builtin = 1;
	}
	return (v);
}

/* Free a vhost with all its queues and exchanges. */
void
vhost_free(struct vhost *v)
{
	struct queue	*q, *qtmp;
	struct exchange	*x, *xtmp;

	HASH_ITER(hh, v->queues, q, qtmp)
		queue_delete(q);
	HASH_ITER(hh, v->exchanges, x, xtmp)
		exchange_free(x);
	HASH_DEL(broker->vhosts, v);
	free(v->name);
	free(v);
}

/*
 * Find an exchange by name.  Publishers name the same exchange again and
 * again: the last one found is remembered until any exchange or queue of
 * the vhost goes away.
 */
struct exchange *
vhost_exchange_find(struct vhost *v, const char *name)
{
	struct exchange	*x;

	if (v->last_x != NULL && v->last_xgen == v->gen &&
	    strcmp(v->last_x->name, name) == 0)
		return (v->last_x);
	HASH_FIND_STR(v->exchanges, name, x);
	if (x != NULL) {
		v->last_x = x;
		v->last_xgen = v->gen;
	}
	return (x);
}

/* Find a queue by name (the default exchange routes this way). */
struct queue *
vhost_queue_find(struct vhost *v, const char *name)
{
	struct queue	*q;

	if (v->last_q != NULL && v->last_qgen == v->gen &&
	    strcmp(v->last_q->name, name) == 0)
		return (v->last_q);
	HASH_FIND_STR(v->queues, name, q);
	if (q != NULL) {
		v->last_q = q;
		v->last_qgen = v->gen;
	}
	return (q);
}
