/*
 * exchange.h: exchanges, bindings and the exchange types.  exchange.c owns
 * bindings and does declare, delete, bind and the routing walk (dedup of
 * destinations, exchange-to-exchange hops, alternate exchanges); each type
 * (exchange_direct.c, _fanout.c, _topic.c, _headers.c) only indexes the
 * bindings it is given and says which ones match a message.
 */
#ifndef EXCHANGE_H
#define EXCHANGE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>

#include "wire.h"

struct exchange;
struct queue;
struct vhost;

/* One binding from an exchange to a queue or to another exchange. */
struct binding {
	struct exchange		*source;	/* borrowed: owns this */
	struct queue		*queue;		/* borrowed; or NULL */
	struct exchange		*dest_x;	/* borrowed; or NULL */
	char			*key;		/* owned, NUL-terminated */
	size_t			 keylen;
	uint8_t			*args_buf;	/* owned */
	struct field_table	 args;		/* points into args_buf */
	void			*type_data;	/* the exchange type's own */
	TAILQ_ENTRY(binding)	 src_entry;	/* source->bindings */
	TAILQ_ENTRY(binding)	 dst_entry;	/* destination's in-list */
};
TAILQ_HEAD(binding_list, binding);

/* Called by a type's route() once per matching binding (maybe repeated). */
typedef void (*exchange_emit_cb)(struct binding *, void *);

struct exchange_type {
	const char	*name;
	/* Per-exchange index of bindings. */
	void		*(*create)(void);
	void		 (*destroy)(void *);
	/*
	 * Check a binding's arguments before bind (headers: x-match).  Returns
	 * 0, or an AMQP reply code with a RabbitMQ-style text in cause.
	 */
	int		 (*validate)(const struct field_table *, char *, size_t);
	void		 (*bind)(void *, struct binding *);
	void		 (*unbind)(void *, struct binding *);
	/* Call emit for every binding that matches the key and headers. */
	void		 (*route)(void *, const char *, size_t,
			     const struct field_table *, exchange_emit_cb,
			     void *);
};

extern const struct exchange_type exchange_type_direct;
extern const struct exchange_type exchange_type_fanout;
extern const struct exchange_type exchange_type_topic;
extern const struct exchange_type exchange_type_headers;

/* Topic matching of one pattern against one key (also used in tests). */
int	exchange_topic_match(const char *, size_t, const char *, size_t);

#endif /* EXCHANGE_H */
