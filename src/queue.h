/*
 * queue.h: queues and consumers.  A queue keeps message references in one
 * ring buffer (a deque: requeued messages go back to the head), or one ring
 * per priority level when x-max-priority is set, and delivers them to
 * consumers that have credit: the highest consumer priority first,
 * round-robin within a priority, or only the active consumer of a
 * single-active-consumer queue.
 */
#ifndef QUEUE_H
#define QUEUE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>

#include <uthash.h>

#include "exchange.h"
#include "wire.h"

struct channel;
struct connection;
struct dedup_cache;
struct event;
struct message;
struct vhost;

/*
 * A message waiting in a queue (or delivered and unacked: a delivery keeps
 * its entry so that a requeue restores it).  A persistent message that the
 * store has committed may be paged out: msg then holds (store id << 1 | 1)
 * and the message is read back from the store before it is delivered.
 */
struct qentry {
	struct message		*msg;		/* holds a reference, or paged */
	uint64_t		 expires;	/* ms since the epoch; 0: never */
	uint64_t		 seq:47;	/* position in this queue */
	uint64_t		 redelivered:1;
	uint64_t		 dcount:16;	/* times delivered and requeued */
};

#define QENTRY_PAGED(e)		(((uintptr_t)(e)->msg & 1) != 0)
#define QENTRY_STORE_ID(e)	((uint64_t)((uintptr_t)(e)->msg >> 1))
#define QENTRY_SET_PAGED(e, id)	((e)->msg = (struct message *)	\
				    (uintptr_t)(((id) << 1) | 1))

/* One FIFO level: a ring of entries. */
struct qring {
	struct qentry		*ring;		/* owned */
	size_t			 cap, head, count;
};

/* A basic.consume subscription. */
struct consumer {
	struct channel		*ch;		/* borrowed: owns this */
	struct queue		*q;		/* holds a reference */
	char			 tag[256];
	uint8_t			 taglen;
	uint8_t			 no_ack, exclusive;
	int32_t			 priority;	/* x-priority */
	uint32_t		 prefetch;	/* 0: no per-consumer limit */
	uint32_t		 unacked;
	TAILQ_ENTRY(consumer)	 q_entry;	/* q->consumers */
	UT_hash_handle		 hh;		/* ch->consumers by tag */
};
TAILQ_HEAD(consumer_list, consumer);

enum queue_overflow {
	OVERFLOW_DROP_HEAD,
	OVERFLOW_REJECT_PUBLISH,
	OVERFLOW_REJECT_PUBLISH_DLX
};

struct queue {
	char			*name;		/* owned */
	struct vhost		*vhost;		/* borrowed */
	uint8_t			 durable, exclusive, auto_delete;
	uint8_t			 had_consumer, deleted, dispatching;
	struct connection	*owner;		/* borrowed: exclusive owner */
	uint8_t			*args_buf;	/* owned */
	struct field_table	 args;
	struct qring		*levels;	/* owned: one per priority */
	unsigned		 nlevels;
	size_t			 count;		/* entries waiting, all levels */
	uint64_t		 bytes;		/* resident body bytes waiting */
	uint64_t		 unacked;	/* delivered, not settled */
	/* Arguments (validated by args.c at declare). */
	int64_t			 max_length;	/* x-max-length; -1: none */
	int64_t			 max_bytes;	/* x-max-length-bytes; -1 */
	enum queue_overflow	 overflow;	/* x-overflow */
	int64_t			 ttl;		/* x-message-ttl ms; -1 */
	int64_t			 expires;	/* x-expires ms; -1 */
	int64_t			 delivery_limit; /* x-delivery-limit; -1 */
	char			*dlx;		/* owned: x-dead-letter-exchange */
	char			*dlrk;		/* owned: ...-routing-key */
	uint8_t			 sac;		/* x-single-active-consumer */
	uint32_t		 sac_hold;	/* unsettled from the last active */
	uint8_t			 ttl_seen;	/* some entry may expire */
	struct dedup_cache	*dedup;		/* x-message-deduplication */
	struct event		*ttl_ev;	/* owned: next head expiry */
	uint64_t		 ttl_due;
	struct event		*expires_ev;	/* owned: x-expires */
	struct consumer_list	 consumers;
	unsigned		 nconsumers;
	struct binding_list	 bindings_in;	/* bindings to this queue */
	uint32_t		 route_gen;
	uint32_t		 refcnt;
	uint64_t		 next_seq;	/* last position given out */
	uint64_t		 store_id;	/* durable: row id in the store */
	uint64_t		 delivered_seq;	/* store: highest delivered */
	uint8_t			 store_seen;	/* store: update pending */
	uint64_t		 npaged;	/* entries paged out */
	TAILQ_ENTRY(queue)	 owner_entry;	/* owner's exclusive list */
	UT_hash_handle		 hh;		/* vhost->queues */
};

struct queue	*queue_new(struct vhost *, const char *, int, int, int,
		    struct connection *, const struct field_table *);
struct queue	*queue_ref(struct queue *);
void		 queue_unref(struct queue **);
/*
 * Append a message (takes a new reference) and dispatch.  Returns 0, or -1
 * when a full reject-publish queue refuses it.
 */
int		 queue_push(struct queue *, struct message *);
/* Append a recovered entry: m, or NULL to leave it paged out. */
void		 queue_recover_push(struct queue *, struct message *,
		    uint64_t, uint64_t, int, uint64_t);
/*
 * A delivered entry comes back (nack/reject with requeue, channel close):
 * to the head of its level, flagged redelivered; takes the reference.  A
 * message past x-delivery-limit is dead-lettered instead.  Callers
 * requeueing several do so newest first, to keep the original order.
 */
void		 queue_requeue(struct queue *, struct qentry *);
/* A delivered entry was rejected without requeue: dead-letter or drop. */
void		 queue_reject(struct queue *, struct qentry *);
/* A message left the queue for good: forget it in the store too. */
void		 queue_forget(struct queue *, struct message *, uint64_t);
/* Take the head entry (expired ones dropped, paged ones read back). */
int		 queue_take(struct queue *, struct qentry *);
/* Deliver to consumers with credit. */
void		 queue_dispatch(struct queue *);
/* Drop every waiting message; returns how many. */
uint32_t	 queue_purge(struct queue *);
/* Delete: unbind, cancel consumers, purge, unlink; returns messages. */
uint32_t	 queue_delete(struct queue *);
void		 queue_consumer_add(struct queue *, struct consumer *);
void		 queue_consumer_remove(struct queue *, struct consumer *);
/* A delivered message was settled (acked, rejected or requeued). */
void		 queue_settled(struct queue *);
/* The queue was used (consume, get, declare): restart x-expires. */
void		 queue_touch(struct queue *);
/* Page out committed persistent messages from the tail; bytes freed. */
uint64_t	 queue_page_out(struct queue *, uint64_t);
/* Recovery is over: what the queue needs in memory is read back. */
void		 queue_recovered(struct queue *);
/* Is this message kept in the store for this queue? */
#define QUEUE_PERSISTED(q, m)	((q)->durable && (m)->delivery_mode == 2)

#endif /* QUEUE_H */
