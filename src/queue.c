/*
 * queue.c: queues hold message references in a ring buffer (a deque:
 * requeued messages go back to the head) and deliver them round-robin to
 * consumers that have credit.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "broker.h"
#include "channel.h"
#include "connection.h"
#include "exchange.h"
#include "message.h"
#include "queue.h"
#include "store.h"
#include "vhost.h"

static void	queue_grow(struct queue *);
static void	queue_free(struct queue *);
static void	queue_limits(struct queue *);
static void	queue_drop_over(struct queue *);
static void	queue_page_in(struct queue *);

/* Paged-out messages read back from the store at a time. */
#define QUEUE_PAGE_IN	256

/* Read x-max-length, x-max-length-bytes and x-overflow (validated). */
static void
queue_limits(struct queue *q)
{
	struct field_value	v;
	int64_t			n;

	if (table_find(&q->args, "x-max-length", &v) &&
	    field_value_int(&v, &n) == 0)
		q->max_length = n;
	if (table_find(&q->args, "x-max-length-bytes", &v) &&
	    field_value_int(&v, &n) == 0)
		q->max_bytes = n;
	if (table_find(&q->args, "x-overflow", &v) && v.type == 'S' &&
	    v.v.s.len >= 14 && memcmp(v.v.s.p, "reject-publish", 14) == 0)
		q->reject_publish = 1;
}

/* Make a queue and add it to its vhost. */
struct queue *
queue_new(struct vhost *v, const char *name, int durable, int exclusive,
    int auto_delete, struct connection *owner, const struct field_table *args)
{
	struct queue	*q;

	q = xcalloc(1, sizeof *q);
	q->refcnt = 1;			/* the vhost's */
	q->name = xstrdup(name);
	q->vhost = v;
	q->durable = durable != 0;
	q->exclusive = exclusive != 0;
	q->auto_delete = auto_delete != 0;
	q->owner = exclusive ? owner : NULL;
	q->max_length = q->max_bytes = -1;
	if (args != NULL && args->len > 0) {
		q->args_buf = xmalloc(args->len);
		memcpy(q->args_buf, args->p, args->len);
		q->args.p = q->args_buf;
		q->args.len = args->len;
		queue_limits(q);
	}
	TAILQ_INIT(&q->consumers);
	TAILQ_INIT(&q->bindings_in);
	HASH_ADD_KEYPTR(hh, v->queues, q->name, strlen(q->name), q);
	return (q);
}

/* Take a reference. */
struct queue *
queue_ref(struct queue *q)
{
	q->refcnt++;
	return (q);
}

/* Drop a reference; the last one frees. */
void
queue_unref(struct queue **qp)
{
	struct queue	*q = *qp;

	*qp = NULL;
	if (q != NULL && --q->refcnt == 0)
		queue_free(q);
}

/* Free a deleted, unreferenced queue. */
static void
queue_free(struct queue *q)
{
	free(q->ring);
	free(q->args_buf);
	free(q->name);
	free(q);
}

/* Double the ring, keeping order. */
static void
queue_grow(struct queue *q)
{
	struct qentry	*ring;
	size_t		 cap, i;

	cap = q->cap == 0 ? 16 : q->cap * 2;
	ring = xreallocarray(NULL, cap, sizeof *ring);
	for (i = 0; i < q->count; i++)
		ring[i] = q->ring[(q->head + i) % q->cap];
	free(q->ring);
	q->ring = ring;
	q->cap = cap;
	q->head = 0;
}

/*
 * Append m at the tail and deliver what can be delivered.  Length limits
 * count waiting messages, as RabbitMQ's do: a full queue drops its head
 * (drop-head, the default) or refuses the message (reject-publish).
 */
int
queue_push(struct queue *q, struct message *m)
{
	struct qentry	*e;

	if (q->reject_publish &&
	    ((q->max_length >= 0 && (int64_t)q->count >= q->max_length) ||
	    (q->max_bytes >= 0 &&
	    q->bytes + m->body_size > (uint64_t)q->max_bytes)))
		return (-1);
	if (q->count == q->cap)
		queue_grow(q);
	e = &q->ring[(q->head + q->count) % q->cap];
	e->msg = message_ref(m);
	e->seq = ++q->next_seq;
	e->redelivered = 0;
	q->count++;
	q->bytes += m->body_size;
	if (QUEUE_PERSISTED(q, m))
		store_enqueue(q, m, e->seq);
	queue_dispatch(q);
	queue_drop_over(q);
	return (0);
}

/* Drop messages from the head while the queue is over its limits. */
static void
queue_drop_over(struct queue *q)
{
	struct qentry	old;

	while (q->count > 0 &&
	    ((q->max_length >= 0 && (int64_t)q->count > q->max_length) ||
	    (q->max_bytes >= 0 && q->bytes > (uint64_t)q->max_bytes))) {
		queue_pop(q, &old);
		queue_entry_drop(q, &old);
	}
}

/* An entry left the queue for good: forget it in the store and free it. */
void
queue_entry_drop(struct queue *q, struct qentry *e)
{
	if (QENTRY_PAGED(e)) {
		store_dequeue_paged(q, QENTRY_STORE_ID(e), e->seq);
		q->npaged--;
		e->msg = NULL;
		return;
	}
	queue_forget(q, e->msg, e->seq);
	message_unref(&e->msg);
}

/* Take the head entry; a paged-out message is read back first. */
int
queue_take(struct queue *q, struct qentry *e)
{
	struct qentry	*head;

	if (q->count == 0)
		return (0);
	head = &q->ring[q->head];
	if (QENTRY_PAGED(head))
		queue_page_in(q);
	if (QENTRY_PAGED(head)) {
		/* The store could not give it back: it is gone. */
		log_error("queue '%s': message %llu could not be read back "
		    "from the store", q->name,
		    (unsigned long long)QENTRY_STORE_ID(head));
		queue_pop(q, e);
		q->npaged--;
		return (queue_take(q, e));
	}
	return (queue_pop(q, e));
}

/* Read back the next paged-out messages from the head on. */
static void
queue_page_in(struct queue *q)
{
	struct qentry	*want[QUEUE_PAGE_IN];
	struct qentry	*e;
	size_t		 i, n = 0, loaded;

	for (i = 0; i < q->count && n < QUEUE_PAGE_IN; i++) {
		e = &q->ring[(q->head + i) % q->cap];
		if (QENTRY_PAGED(e))
			want[n++] = e;
		else if (n > 0)
			break;
	}
	loaded = store_page_in(q, want, n);
	q->npaged -= loaded;
}

/*
 * Page out up to want bytes of committed persistent messages that only
 * this queue holds, newest first: they will be delivered last.  Stops at
 * the first entry already paged out.
 */
uint64_t
queue_page_out(struct queue *q, uint64_t want)
{
	struct qentry	*e;
	struct message	*m;
	uint64_t	 freed = 0;
	size_t		 i;

	if (!q->durable || q->npaged == q->count)
		return (0);
	for (i = q->count; i-- > 0 && freed < want;) {
		e = &q->ring[(q->head + i) % q->cap];
		if (QENTRY_PAGED(e))
			break;
		m = e->msg;
		if (m->refcnt != 1 || m->store_refs != 1 ||
		    m->delivery_mode != 2 || !store_is_committed(m))
			continue;
		freed += message_size(m);
		q->bytes -= m->body_size;
		QENTRY_SET_PAGED(e, m->store_id);
		message_unref(&m);
		q->npaged++;
	}
	return (freed);
}

/* Append a message read back from the store (no consumers exist yet). */
void
queue_recover_push(struct queue *q, struct message *m, uint64_t store_id,
    uint64_t seq, int redelivered)
{
	struct qentry	*e;

	if (q->count == q->cap)
		queue_grow(q);
	e = &q->ring[(q->head + q->count) % q->cap];
	if (m != NULL) {
		e->msg = message_ref(m);
		q->bytes += m->body_size;
	} else {
		/* Left in the store until a consumer needs it. */
		QENTRY_SET_PAGED(e, store_id);
		q->npaged++;
	}
	e->seq = seq;
	e->redelivered = redelivered != 0;
	q->count++;
	if (seq > q->next_seq)
		q->next_seq = seq;
}

/* A message left q for good: the store forgets it for this queue. */
void
queue_forget(struct queue *q, struct message *m, uint64_t seq)
{
	if (QUEUE_PERSISTED(q, m))
		store_dequeue(q, m, seq);
}

/*
 * Put a delivered message back at the head, flagged redelivered.  Callers
 * requeueing several messages do so from the newest to the oldest so that
 * the original order is kept.
 */
void
queue_requeue(struct queue *q, struct message *m, uint64_t seq)
{
	struct qentry	*e;

	if (q->deleted) {
		queue_forget(q, m, seq);
		message_unref(&m);
		return;
	}
	if (q->count == q->cap)
		queue_grow(q);
	q->head = (q->head + q->cap - 1) % q->cap;
	e = &q->ring[q->head];
	e->msg = m;
	e->seq = seq;
	e->redelivered = 1;
	q->count++;
	q->bytes += m->body_size;
	/* RabbitMQ applies drop-head limits to requeued messages too. */
	if (!q->reject_publish)
		queue_drop_over(q);
}

/* Remove the head entry into *e. */
int
queue_pop(struct queue *q, struct qentry *e)
{
	if (q->count == 0)
		return (0);
	*e = q->ring[q->head];
	q->ring[q->head].msg = NULL;
	q->head = (q->head + 1) % q->cap;
	q->count--;
	if (!QENTRY_PAGED(e))
		q->bytes -= e->msg->body_size;
	return (1);
}

/*
 * Deliver waiting messages to consumers with credit.  Consumers take turns:
 * the one served goes to the back of the list.
 */
void
queue_dispatch(struct queue *q)
{
	struct consumer	*c, *first;
	struct qentry	 e = { NULL, 0 };

	if (q->dispatching || q->deleted)
		return;
	q->dispatching = 1;
	while (q->count > 0 && q->nconsumers > 0) {
		first = NULL;
		while ((c = TAILQ_FIRST(&q->consumers)) != NULL &&
		    !consumer_has_credit(c)) {
			if (c == first) {
				c = NULL;
				break;
			}
			if (first == NULL)
				first = c;
			TAILQ_REMOVE(&q->consumers, c, q_entry);
			TAILQ_INSERT_TAIL(&q->consumers, c, q_entry);
		}
		if (c == NULL)
			break;
		TAILQ_REMOVE(&q->consumers, c, q_entry);
		TAILQ_INSERT_TAIL(&q->consumers, c, q_entry);
		if (!queue_take(q, &e))
			break;
		if (!c->no_ack)
			q->unacked++;
		consumer_deliver(c, &e);
	}
	q->dispatching = 0;
}

/* A delivered message was acked, rejected or requeued. */
void
queue_settled(struct queue *q)
{
	if (q->unacked > 0)
		q->unacked--;
}

/* Drop every waiting message (unacked ones stay with their channels). */
uint32_t
queue_purge(struct queue *q)
{
	struct qentry	e;
	uint32_t	n = 0;

	while (queue_pop(q, &e)) {
		queue_entry_drop(q, &e);
		n++;
	}
	return (n);
}

/* Add a consumer at the back of the turn order. */
void
queue_consumer_add(struct queue *q, struct consumer *c)
{
	c->q = queue_ref(q);
	TAILQ_INSERT_TAIL(&q->consumers, c, q_entry);
	q->nconsumers++;
	q->had_consumer = 1;
}

/*
 * Remove a consumer.  An auto-delete queue goes when its last consumer
 * does (0-9-1 queue.declare auto-delete; RabbitMQ: "when last consumer
 * unsubscribes").
 */
void
queue_consumer_remove(struct queue *q, struct consumer *c)
{
	TAILQ_REMOVE(&q->consumers, c, q_entry);
	q->nconsumers--;
	if (q->auto_delete && q->nconsumers == 0 && !q->deleted)
		queue_delete(q);
	queue_unref(&c->q);
}

/*
 * Delete a queue: its bindings go, its consumers are cancelled (with a
 * basic.cancel to clients that asked for one), waiting messages are
 * dropped.  Delivered messages stay with their channels until settled.
 */
uint32_t
queue_delete(struct queue *q)
{
	struct consumer	*c;
	struct queue	*self;
	uint32_t	 n;

	if (q->deleted)
		return (0);
	q->deleted = 1;
	queue_ref(q);
	store_queue_del(q);
	exchange_unbind_queue(q);
	while ((c = TAILQ_FIRST(&q->consumers)) != NULL)
		consumer_queue_deleted(c);
	n = queue_purge(q);
	HASH_DEL(q->vhost->queues, q);
	if (q->owner != NULL)
		TAILQ_REMOVE(&q->owner->exclusive, q, owner_entry);
	q->owner = NULL;
	self = q;
	queue_unref(&self);	/* the vhost's */
	queue_unref(&q);	/* ours */
	return (n);
}
