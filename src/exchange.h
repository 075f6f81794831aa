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

#include <uthash.h>

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
	char			*hkey;		/* owned: destination, key, args */
	UT_hash_handle		 hh;		/* source->bhash */
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
/* Trie nodes below the root of a topic index (tests check pruning). */
size_t	exchange_topic_nodes(void *);



/* What an exchange is beyond its routing type. */
enum exchange_kind {
	XKIND_PLAIN,
	XKIND_DELAYED,		/* x-delayed-message (routes by x-delayed-type) */
	XKIND_DEDUP		/* x-message-deduplication (routes as fanout) */
};

struct dedup_cache;

/* An exchange in a vhost. */
struct exchange {
	char			*name;		/* owned */
	struct vhost		*vhost;		/* borrowed: owns this */
	const struct exchange_type *type;
	void			*state;		/* owned by the type */
	uint8_t			 durable, auto_delete, internal, builtin;
	uint8_t			*args_buf;	/* owned */
	struct field_table	 args;
	char			*alternate;	/* owned; or NULL */
	struct binding_list	 bindings;	/* outgoing, owned */
	struct binding		*bhash;		/* the same, by hkey */
	unsigned		 nbindings;
	struct binding_list	 bindings_in;	/* as a destination */
	uint32_t		 route_gen;
	enum exchange_kind	 kind;
	uint64_t		 uid;		/* unique for the broker's life */
	struct dedup_cache	*dedup;		/* owned: XKIND_DEDUP */
	UT_hash_handle		 hh;		/* vhost->exchanges */
};

/* The queues a message goes to: each once. */
struct route_result {
	struct queue		**q;		/* owned array; queues borrowed */
	size_t			 n, cap;
};

const struct exchange_type *exchange_type_find(const char *);
/*
 * Resolve a declared type name with its arguments (x-delayed-message,
 * x-message-deduplication): 0 with *type and *kind set, or a reply code
 * with RabbitMQ-style text (after "CODE - ") in cause.
 */
int		 exchange_resolve(const char *, const struct field_table *,
		    const struct exchange_type **, enum exchange_kind *,
		    char *, size_t);
/* The type name as declared. */
const char	*exchange_type_name(const struct exchange *);
/* Make the exchange a delayed or deduplicating one. */
void		 exchange_set_kind(struct exchange *, enum exchange_kind);
struct exchange	*exchange_new(struct vhost *, const char *,
		    const struct exchange_type *, int, int, int,
		    const struct field_table *);
/* Remove all bindings from and to x, unlink it and free it. */
void		 exchange_free(struct exchange *);
/* Bind src to a queue or an exchange; 0, or 1 if it already existed. */
int		 exchange_bind(struct exchange *, struct queue *,
		    struct exchange *, const char *, size_t,
		    const struct field_table *);
/* Remove a binding; 0, or -1 if there was none. */
int		 exchange_unbind(struct exchange *, struct queue *,
		    struct exchange *, const char *, size_t,
		    const struct field_table *);
/* Remove every binding to this queue (when it is deleted). */
void		 exchange_unbind_queue(struct queue *);
/* Route a message: fills rr (cleared first) with its queues. */
void		 exchange_route(struct exchange *, const char *, size_t,
		    const struct field_table *, struct route_result *);
/* Route again with another key (CC, BCC), adding to rr. */
void		 exchange_route_more(struct exchange *, const char *, size_t,
		    const struct field_table *, struct route_result *);
void		 route_result_free(struct route_result *);

#endif /* EXCHANGE_H */
