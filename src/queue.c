/*
 * queue.c: queues.  Each priority level is a ring buffer used as a deque;
 * expiry is checked at the heads only (per-message TTLs behave as in
 * RabbitMQ: a message expires when it reaches the head), with one timer per
 * queue for the earliest head.  Dead-lettering is in deadletter.c.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "broker.h"
#include "channel.h"
#include "connection.h"
#include "deadletter.h"
#include "dedup.h"
#include "exchange.h"
#include "message.h"
#include "queue.h"
#include "store.h"
#include "vhost.h"

/* Paged-out messages read back from the store at a time. */
#define QUEUE_PAGE_IN	256

static void	queue_free(struct queue *);
static void	queue_args(struct queue *);
static void	queue_drop_over(struct queue *);
static void	queue_page_in(struct queue *);
static void	queue_expire(struct queue *, int);
static void	queue_ttl_schedule(struct queue *);
static void	queue_ttl_cb(evutil_socket_t, short, void *);
static void	queue_expires_cb(evutil_socket_t, short, void *);
static void	queue_entry_drop(struct queue *, struct qentry *,
		    const char *);

/* Make room for one more entry in a ring, keeping order. */
static void
qring_grow(struct qring *r)
{
	struct qentry	*ring;
	size_t		 cap, i;

	if (r->count < r->cap)
		return;
	cap = r->cap == 0 ? 16 : r->cap * 2;
	ring = xreallocarray(NULL, cap, sizeof *ring);
	for (i = 0; i < r->count; i++)
		ring[i] = r->ring[(r->head + i) % r->cap];
	free(r->ring);
	r->ring = ring;
	r->cap = cap;
	r->head = 0;
}

/* Give back most of a ring that has emptied (below a quarter full). */
static void
qring_shrink(struct qring *r)
{
	struct qentry	*ring;
	size_t		 cap, i;

	if (r->cap <= 1024 || r->count >= r->cap / 4)
		return;
	cap = r->cap / 2;
	ring = xreallocarray(NULL, cap, sizeof *ring);
	for (i = 0; i < r->count; i++)
		ring[i] = r->ring[(r->head + i) % r->cap];
	free(r->ring);
	r->ring = ring;
	r->cap = cap;
	r->head = 0;
}

/* The entry i places from the head. */
static struct qentry *
qring_at(struct qring *r, size_t i)
{
	return (&r->ring[(r->head + i) % r->cap]);
}

/* Append at the tail; returns the new slot. */
static struct qentry *
qring_push_tail(struct qring *r)
{
	qring_grow(r);
	return (&r->ring[(r->head + r->count++) % r->cap]);
}

/* Insert at the head; returns the new slot. */
static struct qentry *
qring_push_head(struct qring *r)
{
	qring_grow(r);
	r->head = (r->head + r->cap - 1) % r->cap;
	r->count++;
	return (&r->ring[r->head]);
}

/* The level holding the next message to deliver, or NULL if empty. */
static struct qring *
queue_top(struct queue *q)
{
	unsigned	i;

	for (i = q->nlevels; i-- > 0;)
		if (q->levels[i].count > 0)
			return (&q->levels[i]);
	return (NULL);
}

/* The level a message goes to (its priority, capped). */
static struct qring *
queue_level(struct queue *q, const struct message *m)
{
	unsigned	l = m->priority;

	if (l >= q->nlevels)
		l = q->nlevels - 1;
	return (&q->levels[l]);
}

/* Read the queue's arguments (validated at declare by args.c). */
static void
queue_args(struct queue *q)
{
	struct field_value	v;
	int64_t			n;

	if (table_find(&q->args, "x-max-length", &v) &&
	    field_value_int(&v, &n) == 0)
		q->max_length = n;
	if (table_find(&q->args, "x-max-length-bytes", &v) &&
	    field_value_int(&v, &n) == 0)
		q->max_bytes = n;
	if (table_find(&q->args, "x-overflow", &v) && v.type == 'S') {
		if (v.v.s.len == 14 && memcmp(v.v.s.p, "reject-publish", 14)
		    == 0)
			q->overflow = OVERFLOW_REJECT_PUBLISH;
		else if (v.v.s.len == 18 &&
		    memcmp(v.v.s.p, "reject-publish-dlx", 18) == 0)
			q->overflow = OVERFLOW_REJECT_PUBLISH_DLX;
	}
	if (table_find(&q->args, "x-message-ttl", &v) &&
	    field_value_int(&v, &n) == 0)
		q->ttl = n;
	if (table_find(&q->args, "x-expires", &v) &&
	    field_value_int(&v, &n) == 0)
		q->expires = n;
	if (table_find(&q->args, "x-delivery-limit", &v) &&
	    field_value_int(&v, &n) == 0)
		q->delivery_limit = n;
	if (table_find(&q->args, "x-max-priority", &v) &&
	    field_value_int(&v, &n) == 0 && n > 0 && n <= 255)
		q->nlevels = (unsigned)n + 1;
	if (table_find(&q->args, "x-dead-letter-exchange", &v) &&
	    v.type == 'S')
		q->dlx = xstrndup((const char *)v.v.s.p, v.v.s.len);
	if (table_find(&q->args, "x-dead-letter-routing-key", &v) &&
	    v.type == 'S')
		q->dlrk = xstrndup((const char *)v.v.s.p, v.v.s.len);
	if (table_find(&q->args, "x-single-active-consumer", &v) &&
	    v.type == 't')
		q->sac = v.v.b != 0;
	if (table_find(&q->args, "x-message-deduplication", &v) &&
	    v.type == 't' && v.v.b)
		q->dedup = dedup_new(0, -1);
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
	q->max_length = q->max_bytes = q->ttl = q->expires = -1;
	q->delivery_limit = -1;
	q->nlevels = 1;
	if (args != NULL && args->len > 0) {
		q->args_buf = xmalloc(args->len);
		memcpy(q->args_buf, args->p, args->len);
		q->args.p = q->args_buf;
		q->args.len = args->len;
		queue_args(q);
	}
	q->levels = xcalloc(q->nlevels, sizeof *q->levels);
	TAILQ_INIT(&q->consumers);
	TAILQ_INIT(&q->bindings_in);
	HASH_ADD_KEYPTR(hh, v->queues, q->name, strlen(q->name), q);
	queue_touch(q);
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
	unsigned	i;

	for (i = 0; i < q->nlevels; i++)
		free(q->levels[i].ring);
	free(q->levels);
	if (q->ttl_ev != NULL)
		event_free(q->ttl_ev);
	if (q->expires_ev != NULL)
		event_free(q->expires_ev);
	free(q->dlx);
	free(q->dlrk);
	dedup_free(&q->dedup);
	free(q->args_buf);
	free(q->name);
	free(q);
}

/* Is the queue over its length limits? */
static int
queue_over(struct queue *q, size_t extra_count, uint64_t extra_bytes)
{
	return ((q->max_length >= 0 &&
	    (int64_t)(q->count + extra_count) > q->max_length) ||
	    (q->max_bytes >= 0 &&
	    q->bytes + extra_bytes > (uint64_t)q->max_bytes));
}

/*
 * Append m at the tail of its level and deliver what can be delivered.
 * Length limits count waiting messages, as RabbitMQ's do: a full queue
 * drops (or dead-letters) its head, or refuses the message.
 */
int
queue_push(struct queue *q, struct message *m)
{
	struct qentry	*e;
	uint64_t	 now;
	int64_t		 ttl, mttl;
	char		 key[512];
	size_t		 keylen;

	/* A repeat of a message the queue holds: accepted, not enqueued. */
	if (q->dedup != NULL && dedup_key(m, key, sizeof key, &keylen) &&
	    dedup_seen(q->dedup, key, keylen, -1))
		return (0);
	if (q->overflow != OVERFLOW_DROP_HEAD && queue_over(q, 1,
	    m->body_size)) {
		if (q->dedup != NULL && dedup_key(m, key, sizeof key, &keylen))
			dedup_forget(q->dedup, key, keylen);
		if (q->overflow == OVERFLOW_REJECT_PUBLISH_DLX)
			deadletter(q, m, DEADLETTER_MAXLEN);
		return (-1);
	}
	e = qring_push_tail(queue_level(q, m));
	e->msg = message_ref(m);
	e->seq = ++q->next_seq;
	e->redelivered = 0;
	e->dcount = 0;
	e->expires = 0;
	ttl = q->ttl;
	if (m->has_expiration && (mttl = message_expiration(m)) >= 0 &&
	    (ttl < 0 || mttl < ttl))
		ttl = mttl;
	if (ttl >= 0) {
		now = connection_now();
		e->expires = now + (uint64_t)ttl;
		if (e->expires == 0)
			e->expires = 1;
	}
	q->count++;
	q->bytes += m->body_size;
	if (QUEUE_PERSISTED(q, m))
		store_enqueue(q, m, e->seq, e->expires);
	queue_dispatch(q);
	queue_drop_over(q);
	if (ttl >= 0) {
		/* Not deliverable at once: an expiration of 0 ends it now. */
		q->ttl_seen = 1;
		queue_expire(q, 0);
		queue_ttl_schedule(q);
	}
	return (0);
}

/* Append a message read back from the store (no consumers exist yet). */
void
queue_recover_push(struct queue *q, struct message *m, uint64_t store_id,
    uint64_t seq, int redelivered, uint64_t expires)
{
	struct qentry	*e;

	e = qring_push_tail(m != NULL ? queue_level(q, m) : &q->levels[0]);
	memset(e, 0, sizeof *e);
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
	e->expires = expires;
	if (expires != 0)
		q->ttl_seen = 1;
	q->count++;
	if (seq > q->next_seq)
		q->next_seq = seq;
}

/* Remove the head entry of the top level into *e. */
static int
queue_pop(struct queue *q, struct qentry *e)
{
	struct qring	*r;

	if ((r = queue_top(q)) == NULL)
		return (0);
	*e = r->ring[r->head];
	r->ring[r->head].msg = NULL;
	r->head = (r->head + 1) % r->cap;
	r->count--;
	q->count--;
	if (!QENTRY_PAGED(e))
		q->bytes -= e->msg->body_size;
	qring_shrink(r);
	return (1);
}

/* Drop or dead-letter the head while the queue is over its limits. */
static void
queue_drop_over(struct queue *q)
{
	struct qentry	old;

	while (q->count > 0 && queue_over(q, 0, 0)) {
		queue_pop(q, &old);
		queue_entry_drop(q, &old, DEADLETTER_MAXLEN);
	}
}

/* A message left q for good: the store forgets it for this queue. */
void
queue_forget(struct queue *q, struct message *m, uint64_t seq)
{
	char	key[512];
	size_t	keylen;

	if (q->dedup != NULL && dedup_key(m, key, sizeof key, &keylen))
		dedup_forget(q->dedup, key, keylen);
	if (QUEUE_PERSISTED(q, m))
		store_dequeue(q, m, seq);
}

/*
 * An entry left the queue for good (overflow, expiry, purge): dead-letter
 * it when the queue has a dead-letter exchange and a reason is given,
 * forget it in the store, free it.
 */
static void
queue_entry_drop(struct queue *q, struct qentry *e, const char *reason)
{
	if (QENTRY_PAGED(e)) {
		/* Dead-lettering needs the message itself. */
		if (reason != NULL && q->dlx != NULL &&
		    store_page_in(q, &e, 1) == 1) {
			q->npaged--;
			q->bytes -= e->msg->body_size;
		} else {
			store_dequeue_paged(q, QENTRY_STORE_ID(e), e->seq);
			q->npaged--;
			e->msg = NULL;
			return;
		}
	}
	if (reason != NULL)
		deadletter(q, e->msg, reason);
	queue_forget(q, e->msg, e->seq);
	message_unref(&e->msg);
}

/*
 * Drop (or dead-letter) expired messages from the head of each level.  A
 * message due this very millisecond (a TTL of 0) still goes to a consumer
 * that can take it at once: delivery checks with strict set.
 */
static void
queue_expire(struct queue *q, int strict)
{
	struct qring	*r;
	struct qentry	 e;
	uint64_t	 now = connection_now();
	unsigned	 i;

	for (i = 0; i < q->nlevels; i++) {
		r = &q->levels[i];
		while (r->count > 0 && r->ring[r->head].expires != 0 &&
		    r->ring[r->head].expires + (strict ? 1 : 0) <= now) {
			e = r->ring[r->head];
			r->ring[r->head].msg = NULL;
			r->head = (r->head + 1) % r->cap;
			r->count--;
			q->count--;
			if (!QENTRY_PAGED(&e))
				q->bytes -= e.msg->body_size;
			queue_entry_drop(q, &e, DEADLETTER_EXPIRED);
		}
	}
}

/* Arm the expiry timer for the earliest head, if any. */
static void
queue_ttl_schedule(struct queue *q)
{
	struct timeval	tv;
	uint64_t	due = 0, now;
	unsigned	i;

	if (q->deleted)
		return;
	for (i = 0; i < q->nlevels; i++) {
		if (q->levels[i].count == 0)
			continue;
		if (q->levels[i].ring[q->levels[i].head].expires != 0 &&
		    (due == 0 ||
		    q->levels[i].ring[q->levels[i].head].expires < due))
			due = q->levels[i].ring[q->levels[i].head].expires;
	}
	if (due == 0 || (q->ttl_due != 0 && due >= q->ttl_due))
		return;
	if (q->ttl_ev == NULL)
		q->ttl_ev = evtimer_new(broker->base, queue_ttl_cb, q);
	now = connection_now();
	due = due > now ? due - now : 0;
	tv.tv_sec = (time_t)(due / 1000);
	tv.tv_usec = (suseconds_t)(due % 1000) * 1000;
	q->ttl_due = now + due;
	evtimer_add(q->ttl_ev, &tv);
}

/* The earliest head is due. */
static void
queue_ttl_cb(evutil_socket_t fd, short what, void *arg)
{
	struct queue	*q = arg;

	q->ttl_due = 0;
	queue_ref(q);
	queue_expire(q, 0);
	queue_ttl_schedule(q);
	queue_unref(&q);
}

/* x-expires: the queue was used; restart its clock. */
void
queue_touch(struct queue *q)
{
	struct timeval	tv;

	if (q->expires <= 0 || q->deleted)
		return;
	if (q->expires_ev == NULL)
		q->expires_ev = evtimer_new(broker->base, queue_expires_cb, q);
	tv.tv_sec = (time_t)(q->expires / 1000);
	tv.tv_usec = (suseconds_t)(q->expires % 1000) * 1000;
	evtimer_add(q->expires_ev, &tv);
}

/* x-expires elapsed: delete the queue unless a consumer uses it. */
static void
queue_expires_cb(evutil_socket_t fd, short what, void *arg)
{
	struct queue	*q = arg;

	if (q->nconsumers > 0) {
		queue_touch(q);
		return;
	}
	log_info("queue '%s' in vhost '%s' expired (x-expires)", q->name,
	    q->vhost->name);
	queue_delete(q);
}

/* Take the head entry; a paged-out message is read back first. */
int
queue_take(struct queue *q, struct qentry *e)
{
	struct qring	*r;

	for (;;) {
		if (q->ttl_seen)
			queue_expire(q, 1);
		if ((r = queue_top(q)) == NULL)
			return (0);
		if (QENTRY_PAGED(&r->ring[r->head]))
			queue_page_in(q);
		if (!QENTRY_PAGED(&r->ring[r->head])) {
			queue_pop(q, e);
			/* The new head may be due already. */
			if (q->ttl_seen)
				queue_ttl_schedule(q);
			return (1);
		}
		/* The store could not give it back: it is gone. */
		log_error("queue '%s': message %llu could not be read back "
		    "from the store", q->name, (unsigned long long)
		    QENTRY_STORE_ID(&r->ring[r->head]));
		queue_pop(q, e);
		q->npaged--;
	}
}

/* Read back the next paged-out messages from the head on (level 0). */
static void
queue_page_in(struct queue *q)
{
	struct qentry	*want[QUEUE_PAGE_IN];
	struct qring	*r = &q->levels[0];
	struct qentry	*e;
	size_t		 i, n = 0, loaded;

	for (i = 0; i < r->count && n < QUEUE_PAGE_IN; i++) {
		e = qring_at(r, i);
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
 * the first entry already paged out.  Priority queues stay in memory.
 */
uint64_t
queue_page_out(struct queue *q, uint64_t want)
{
	struct qring	*r = &q->levels[0];
	struct qentry	*e;
	struct message	*m;
	uint64_t	 freed = 0;
	size_t		 i;

	if (!q->durable || q->nlevels != 1 || q->dedup != NULL ||
	    q->npaged == q->count)
		return (0);
	for (i = r->count; i-- > 0 && freed < want;) {
		e = qring_at(r, i);
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

/*
 * After recovery: a deduplicating queue needs the keys of everything it
 * holds, so its messages are read back now.
 */
void
queue_recovered(struct queue *q)
{
	struct qentry	*e;
	char		 key[512];
	size_t		 i, keylen;

	/* Messages whose TTL ran out while warrend was down go now. */
	if (q->ttl_seen)
		queue_ttl_schedule(q);
	if (q->dedup == NULL)
		return;
	while (q->npaged > 0) {
		i = (size_t)q->npaged;
		queue_page_in(q);
		if (q->npaged == i)
			break;		/* the store has no more to give */
	}
	for (i = 0; i < q->levels[0].count; i++) {
		e = qring_at(&q->levels[0], i);
		if (!QENTRY_PAGED(e) && dedup_key(e->msg, key, sizeof key,
		    &keylen))
			(void)dedup_seen(q->dedup, key, keylen, -1);
	}
}

/*
 * A delivered entry comes back to the head of its level, flagged
 * redelivered.  Past x-delivery-limit it is dead-lettered instead.
 */
void
queue_requeue(struct queue *q, struct qentry *d)
{
	struct qentry	*e;

	if (q->deleted) {
		queue_forget(q, d->msg, d->seq);
		message_unref(&d->msg);
		return;
	}
	if (q->delivery_limit >= 0 &&
	    (int64_t)d->dcount + 1 > q->delivery_limit) {
		deadletter(q, d->msg, DEADLETTER_DELIVERY_LIMIT);
		queue_forget(q, d->msg, d->seq);
		message_unref(&d->msg);
		return;
	}
	e = qring_push_head(queue_level(q, d->msg));
	*e = *d;
	if (e->dcount < 0xffff)
		e->dcount++;
	e->redelivered = 1;
	d->msg = NULL;
	q->count++;
	q->bytes += e->msg->body_size;
	/* RabbitMQ applies drop-head limits to requeued messages too. */
	if (q->overflow == OVERFLOW_DROP_HEAD)
		queue_drop_over(q);
	if (e->expires != 0)
		queue_ttl_schedule(q);
}

/* A delivered entry was rejected without requeue. */
void
queue_reject(struct queue *q, struct qentry *d)
{
	deadletter(q, d->msg, DEADLETTER_REJECTED);
	queue_forget(q, d->msg, d->seq);
	message_unref(&d->msg);
}

/* Can this consumer be served now (single active consumer rules too)? */
static struct consumer *
queue_pick(struct queue *q)
{
	struct consumer	*c;

	if (q->sac) {
		if (q->sac_hold > 0)
			return (NULL);
		c = TAILQ_FIRST(&q->consumers);
		return (c != NULL && consumer_has_credit(c) ? c : NULL);
	}
	TAILQ_FOREACH(c, &q->consumers, q_entry) {
		if (consumer_has_credit(c))
			return (c);
	}
	return (NULL);
}

/* Put c behind the other consumers of its priority (round-robin). */
static void
queue_rotate(struct queue *q, struct consumer *c)
{
	struct consumer	*o, *last = TAILQ_LAST(&q->consumers, consumer_list);

	if (q->sac || last == c)
		return;
	TAILQ_REMOVE(&q->consumers, c, q_entry);
	if (last->priority == c->priority) {
		TAILQ_INSERT_TAIL(&q->consumers, c, q_entry);
		return;
	}
	TAILQ_FOREACH(o, &q->consumers, q_entry) {
		if (o->priority < c->priority) {
			TAILQ_INSERT_BEFORE(o, c, q_entry);
			return;
		}
	}
	TAILQ_INSERT_TAIL(&q->consumers, c, q_entry);
}

/*
 * Deliver waiting messages to consumers with credit: the highest consumer
 * priority first, taking turns within a priority.
 */
void
queue_dispatch(struct queue *q)
{
	struct consumer	*c;
	struct qentry	 e;

	if (q->dispatching || q->deleted)
		return;
	q->dispatching = 1;
	while (q->count > 0 && q->nconsumers > 0) {
		if ((c = queue_pick(q)) == NULL)
			break;
		if (!queue_take(q, &e))
			break;
		queue_rotate(q, c);
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
		queue_entry_drop(q, &e, NULL);
		n++;
	}
	return (n);
}

/* Add a consumer behind those of its priority or higher. */
void
queue_consumer_add(struct queue *q, struct consumer *c)
{
	struct consumer	*o;

	c->q = queue_ref(q);
	TAILQ_FOREACH(o, &q->consumers, q_entry) {
		if (o->priority < c->priority)
			break;
	}
	if (o != NULL && !q->sac)
		TAILQ_INSERT_BEFORE(o, c, q_entry);
	else
		TAILQ_INSERT_TAIL(&q->consumers, c, q_entry);
	q->nconsumers++;
	q->had_consumer = 1;
	queue_touch(q);
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
	queue_touch(q);
	if (q->auto_delete && q->nconsumers == 0 && !q->deleted)
		queue_delete(q);
	else if (q->sac && !q->deleted)
		queue_dispatch(q);	/* the next consumer takes over */
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
	if (q->ttl_ev != NULL)
		event_del(q->ttl_ev);
	if (q->expires_ev != NULL)
		event_del(q->expires_ev);
	HASH_DEL(q->vhost->queues, q);
	q->vhost->gen++;	/* forget cached lookups */
	if (q->owner != NULL)
		TAILQ_REMOVE(&q->owner->exclusive, q, owner_entry);
	q->owner = NULL;
	self = q;
	queue_unref(&self);	/* the vhost's */
	queue_unref(&q);	/* ours */
	return (n);
}
