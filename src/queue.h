/*
 * queue.h: queues (a ring buffer of message references) and consumers.
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
struct message;
struct vhost;

/*
 * A message waiting in a queue.  A persistent message that the store has
 * committed may be paged out: msg then holds (store id << 1 | 1) and the
 * message is read back from the store before it is delivered.
 */
struct qentry {
	struct message		*msg;		/* holds a reference, or paged */
	uint64_t		 seq;		/* position in this queue */
	uint8_t			 redelivered;
};

/* A basic.consume subscription. */
struct consumer {
	struct channel		*ch;		/* borrowed: owns this */
	struct queue		*q;		/* holds a reference */
	char			 tag[256];
	uint8_t			 taglen;
	uint8_t			 no_ack, exclusive;
	uint32_t		 prefetch;	/* 0: no per-consumer limit */
	uint32_t		 unacked;
	TAILQ_ENTRY(consumer)	 q_entry;	/* q->consumers */
	UT_hash_handle		 hh;		/* ch->consumers by tag */
};
TAILQ_HEAD(consumer_list, consumer);

struct queue {
	char			*name;		/* owned */
	struct vhost		*vhost;		/* borrowed */
	uint8_t			 durable, exclusive, auto_delete;
	uint8_t			 had_consumer, deleted, dispatching;
	struct connection	*owner;		/* borrowed: exclusive owner */
	uint8_t			*args_buf;	/* owned */
	struct field_table	 args;
	struct qentry		*ring;		/* owned */
	size_t			 cap, head, count;
	uint64_t		 bytes;		/* body bytes waiting */
	int64_t			 max_length;	/* x-max-length; -1: none */
	int64_t			 max_bytes;	/* x-max-length-bytes; -1 */
	uint8_t			 reject_publish; /* x-overflow reject-publish */
	uint64_t		 unacked;	/* delivered, not settled */
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
/* Put a message back at the head with redelivered set (takes the ref). */
void		 queue_requeue(struct queue *, struct message *, uint64_t);
/* Append a recovered message without dispatching (takes a new ref). */
void		 queue_recover_push(struct queue *, struct message *,
		    uint64_t, uint64_t, int);
#define QENTRY_PAGED(e)		(((uintptr_t)(e)->msg & 1) != 0)
#define QENTRY_STORE_ID(e)	((uint64_t)((uintptr_t)(e)->msg >> 1))
#define QENTRY_SET_PAGED(e, id)	((e)->msg = (struct message *)	\
				    (uintptr_t)(((id) << 1) | 1))
/* Take the head message, read back from the store if paged out. */
int		 queue_take(struct queue *, struct qentry *);
/* Drop an entry that left the queue for good (purge, overflow). */
void		 queue_entry_drop(struct queue *, struct qentry *);
/* Page out committed persistent messages from the tail; bytes freed. */
uint64_t	 queue_page_out(struct queue *, uint64_t);
/* Is this message kept in the store for this queue? */
#define QUEUE_PERSISTED(q, m)	((q)->durable && (m)->delivery_mode == 2)
/* A message left the queue for good: forget it in the store too. */
void		 queue_forget(struct queue *, struct message *, uint64_t);
/* Take the head message; 1 when there was one (the ref moves to *e). */
int		 queue_pop(struct queue *, struct qentry *);
/* Deliver to consumers with credit, round-robin. */
void		 queue_dispatch(struct queue *);
/* Drop every waiting message; returns how many. */
uint32_t	 queue_purge(struct queue *);
/* Delete: unbind, cancel consumers, purge, unlink; returns messages. */
uint32_t	 queue_delete(struct queue *);
void		 queue_consumer_add(struct queue *, struct consumer *);
void		 queue_consumer_remove(struct queue *, struct consumer *);
/* A delivered message was settled (acked, rejected or requeued). */
void		 queue_settled(struct queue *);

#endif /* QUEUE_H */
