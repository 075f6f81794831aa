/*
 * delayed.c: the delay heap.  A binary min-heap ordered by due time, then
 * by arrival; one libevent timer for the earliest.  When a message is due
 * it is routed by its exchange's x-delayed-type with the bindings of that
 * moment, carrying x-delay negated as the plugin did.  A pending message
 * names its exchange by vhost, name and uid, so that one deleted (or
 * deleted and declared again) meanwhile drops it.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "broker.h"
#include "connection.h"
#include "delayed.h"
#include "exchange.h"
#include "message.h"
#include "queue.h"
#include "store.h"
#include "vhost.h"

struct delayed_item {
	uint64_t	 due;		/* ms since the epoch */
	uint64_t	 seq;		/* arrival order among equal dues */
	struct vhost	*vhost;		/* borrowed */
	char		*exchange;	/* owned */
	uint64_t	 xuid;
	uint64_t	 id;		/* the store's delayed row */
	struct message	*msg;		/* holds a reference */
};

static struct delayed_item	*delayed_heap;
static size_t			 delayed_n, delayed_cap;
static uint64_t			 delayed_seq;
static uint64_t			 delayed_ids;
static struct event		*delayed_ev;

static void	delayed_cb(evutil_socket_t, short, void *);
static void	delayed_insert(struct exchange *, struct message *, uint64_t,
		    uint64_t);

/* Does a come before b? */
static int
delayed_less(const struct delayed_item *a, const struct delayed_item *b)
{
	return (a->due < b->due || (a->due == b->due && a->seq < b->seq));
}

/* Swap two heap slots. */
static void
delayed_swap(size_t i, size_t j)
{
	struct delayed_item	t = delayed_heap[i];

	delayed_heap[i] = delayed_heap[j];
	delayed_heap[j] = t;
}

/* Arm the timer for the earliest item. */
static void
delayed_schedule(void)
{
	struct timeval	tv;
	uint64_t	now, wait;

	if (delayed_n == 0) {
		if (delayed_ev != NULL)
			event_del(delayed_ev);
		return;
	}
	if (delayed_ev == NULL)
		delayed_ev = evtimer_new(broker->base, delayed_cb, NULL);
	now = connection_now();
	wait = delayed_heap[0].due > now ? delayed_heap[0].due - now : 0;
	tv.tv_sec = (time_t)(wait / 1000);
	tv.tv_usec = (suseconds_t)(wait % 1000) * 1000;
	evtimer_add(delayed_ev, &tv);
}

/* The x-delay header as a delay to honour, or 0. */
uint64_t
delayed_delay(const struct message *m)
{
	struct field_value	v;
	int64_t			d;

	if (m->hdr_len == 0 || !table_find(MSG_HDRS(m), "x-delay", &v) ||
	    v.type == 't' || field_value_int(&v, &d) != 0 || d <= 0 ||
	    (uint64_t)d > DELAYED_MAX)
		return (0);
	return ((uint64_t)d);
}

/* Hold m until it is due. */
void
delayed_add(struct exchange *x, struct message *m, uint64_t delay)
{
	uint64_t	due = connection_now() + delay, id = ++delayed_ids;

	store_delayed_put(x, m, id, due);
	delayed_insert(x, m, id, due);
}

/* A delayed message read back from the store. */
void
delayed_restore(struct exchange *x, struct message *m, uint64_t id,
    uint64_t due)
{
	if (id > delayed_ids)
		delayed_ids = id;
	delayed_insert(x, m, id, due);
}

/* Put an item on the heap. */
static void
delayed_insert(struct exchange *x, struct message *m, uint64_t id,
    uint64_t due)
{
	struct delayed_item	*it;
	size_t			 i;

	if (delayed_n == delayed_cap) {
		delayed_cap = delayed_cap == 0 ? 64 : delayed_cap * 2;
		delayed_heap = xreallocarray(delayed_heap, delayed_cap,
		    sizeof *delayed_heap);
	}
	i = delayed_n++;
	it = &delayed_heap[i];
	it->due = due;
	it->id = id;
	it->seq = ++delayed_seq;
	it->vhost = x->vhost;
	it->exchange = xstrdup(x->name);
	it->xuid = x->uid;
	it->msg = message_ref(m);
	while (i > 0 && delayed_less(&delayed_heap[i],
	    &delayed_heap[(i - 1) / 2])) {
		delayed_swap(i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
	if (i == 0)
		delayed_schedule();
}

/* Take the earliest item off the heap into *out. */
static void
delayed_pop(struct delayed_item *out)
{
	size_t	i = 0, l, r, m;

	*out = delayed_heap[0];
	delayed_heap[0] = delayed_heap[--delayed_n];
	for (;;) {
		l = 2 * i + 1;
		r = l + 1;
		m = i;
		if (l < delayed_n && delayed_less(&delayed_heap[l],
		    &delayed_heap[m]))
			m = l;
		if (r < delayed_n && delayed_less(&delayed_heap[r],
		    &delayed_heap[m]))
			m = r;
		if (m == i)
			break;
		delayed_swap(i, m);
		i = m;
	}
}

/* Keep the headers, with x-delay negated (the plugin's mark). */
static void
delayed_headers_cb(const struct field_table *old, struct evbuffer *out,
    void *arg)
{
	struct table_iter	it;
	struct shortstr		key;
	struct field_value	v;
	int64_t			d;

	table_iter_init(&it, old);
	while (table_next(&it, &key, &v)) {
		if (shortstr_is(&key, "x-delay") &&
		    field_value_int(&v, &d) == 0) {
			v.type = d <= 2147483648LL ? 'I' : 'l';
			v.v.i = -d;
		}
		table_add_entry(out, &key, &v);
	}
}

/* Route one due message. */
static void
delayed_route(struct delayed_item *it)
{
	struct route_result	 rr = { NULL, 0, 0 };
	struct exchange		*x;
	struct message		*m;
	size_t			 i;

	x = vhost_exchange_find(it->vhost, it->exchange);
	if (x == NULL || x->uid != it->xuid)
		return;		/* its exchange is gone */
	m = message_rewrite(it->msg, NULL, 0, NULL, 0, delayed_headers_cb,
	    NULL, 0, NULL);
	exchange_route(x, MSG_RK(m), m->routing_key_len, MSG_HDRS(m),
	    &rr);
	for (i = 0; i < rr.n; i++)
		queue_push(rr.q[i], m);
	route_result_free(&rr);
	message_unref(&m);
}

/* Route everything that is due, then wait for the next. */
static void
delayed_cb(evutil_socket_t fd, short what, void *arg)
{
	struct delayed_item	it;
	uint64_t		now = connection_now();

	while (delayed_n > 0 && delayed_heap[0].due <= now) {
		delayed_pop(&it);
		delayed_route(&it);
		store_delayed_del(it.msg, it.id);
		message_unref(&it.msg);
		free(it.exchange);
	}
	delayed_schedule();
}

/* Drop every pending message. */
void
delayed_free_all(void)
{
	size_t	i;

	for (i = 0; i < delayed_n; i++) {
		message_unref(&delayed_heap[i].msg);
		free(delayed_heap[i].exchange);
	}
	free(delayed_heap);
	delayed_heap = NULL;
	delayed_n = delayed_cap = 0;
	if (delayed_ev != NULL) {
		event_free(delayed_ev);
		delayed_ev = NULL;
	}
}
