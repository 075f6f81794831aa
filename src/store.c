/*
 * store.c: durable exchanges, queues, bindings and persistent messages in
 * SQLite.  The loop appends operations to the batch being filled; at the
 * end of the loop turn the batch goes to the store thread, which commits
 * every batch it has been given since its last commit in one transaction
 * (one fsync for thousands of messages) and tells the loop through a pipe.
 * No other module includes sqlite3.h.
 */
#include "config.h"

#include <sys/file.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <sqlite3.h>
#include <uthash.h>

#include "broker.h"
#include "conf.h"
#include "dedup.h"
#include "delayed.h"
#include "exchange.h"
#include "message.h"
#include "method.h"
#include "queue.h"
#include "store.h"
#include "vhost.h"

/* Schema version in PRAGMA user_version. */
#define STORE_SCHEMA_VERSION	4

/* Seconds between retries of a failed commit. */
#define STORE_RETRY_SECONDS	1

enum store_op_type {
	OP_XPUT,	/* s0 vhost, s1 name, s2 type, i0 auto_delete,
			   i1 internal, blob args */
	OP_XDEL,	/* s0 vhost, s1 name */
	OP_QPUT,	/* a id, s0 vhost, s1 name, i0 auto_delete, blob */
	OP_QDEL,	/* a id, s0 vhost, s1 name */
	OP_BPUT,	/* s0 vhost, s1 source, s2 dest, s3 key, i0 kind,
			   blob args */
	OP_BDEL,	/* as OP_BPUT */
	OP_MPUT,	/* msg (holds a reference) */
	OP_QMPUT,	/* a queue id, b seq, msg id in i0 */
	OP_QMDEL,	/* a queue id, b seq */
	OP_MDEL,	/* a message id */
	OP_QSEEN,	/* a queue id, b delivered seq */
	OP_DPUT,	/* a delayed id, s0 vhost, s1 exchange, i0 due,
			   i1 message id */
	OP_DDEL,	/* a delayed id */
	OP_KPUT,	/* s0 vhost, s1 exchange, blob key, i0 expires */
	OP_KDEL,	/* s0 vhost, s1 exchange, blob key */
	OP_NONE		/* struck out (store_cancel) */
};

struct store_op {
	enum store_op_type	 type;
	uint64_t		 a, b;
	int64_t			 i0, i1;
	char			*s[4];		/* owned */
	uint8_t			*blob;		/* owned */
	size_t			 bloblen;
	struct message		*msg;		/* holds a reference */
};

struct store_batch {
	uint64_t		 id;
	int			 taken;		/* lock: the thread has it */
	struct store_op		*ops;		/* owned */
	size_t			 n, cap;
	TAILQ_ENTRY(store_batch) entry;
};
TAILQ_HEAD(store_batch_list, store_batch);

/* Prepared statements, one per operation. */
enum store_stmt {
	ST_XPUT, ST_XDEL, ST_XDEL_BINDINGS, ST_QPUT, ST_QDEL, ST_QDEL_MSGS,
	ST_QDEL_BINDINGS, ST_BPUT, ST_BDEL, ST_MPUT, ST_QMPUT, ST_QMDEL,
	ST_MDEL, ST_QSEEN, ST_DPUT, ST_DDEL, ST_KPUT, ST_KDEL, ST_XDEL_KEYS,
	ST_BEGIN, ST_COMMIT, ST_ROLLBACK, ST_COUNT
};

static const char *store_sql[ST_COUNT] = {
	"INSERT OR REPLACE INTO exchange (vhost, name, type, auto_delete, "
	    "internal, args) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	"DELETE FROM exchange WHERE vhost = ?1 AND name = ?2",
	"DELETE FROM binding WHERE vhost = ?1 AND (source = ?2 OR "
	    "(dest_kind = 1 AND dest = ?2))",
	"INSERT OR REPLACE INTO queue (id, vhost, name, auto_delete, args, "
	    "delivered_seq) VALUES (?1, ?2, ?3, ?4, ?5, 0)",
	"DELETE FROM queue WHERE id = ?1",
	"DELETE FROM queue_msg WHERE queue_id = ?1",
	"DELETE FROM binding WHERE vhost = ?2 AND dest_kind = 0 AND "
	    "dest = ?3",
	"INSERT OR IGNORE INTO binding (vhost, source, dest_kind, dest, "
	    "routing_key, args) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	"DELETE FROM binding WHERE vhost = ?1 AND source = ?2 AND "
	    "dest_kind = ?3 AND dest = ?4 AND routing_key = ?5 AND args = ?6",
	"INSERT OR REPLACE INTO message (id, exchange, routing_key, props, "
	    "body) VALUES (?1, ?2, ?3, ?4, ?5)",
	"INSERT OR REPLACE INTO queue_msg (queue_id, seq, msg_id, expires) "
	    "VALUES (?1, ?2, ?3, ?4)",
	"DELETE FROM queue_msg WHERE queue_id = ?1 AND seq = ?2",
	"DELETE FROM message WHERE id = ?1",
	"UPDATE queue SET delivered_seq = ?2 WHERE id = ?1 AND "
	    "delivered_seq < ?2",
	"INSERT OR REPLACE INTO delayed (id, vhost, exchange, due, msg_id) "
	    "VALUES (?1, ?2, ?3, ?4, ?5)",
	"DELETE FROM delayed WHERE id = ?1",
	"INSERT OR REPLACE INTO dedup (vhost, exchange, key, expires) "
	    "VALUES (?1, ?2, ?3, ?4)",
	"DELETE FROM dedup WHERE vhost = ?1 AND exchange = ?2 AND key = ?3",
	"DELETE FROM dedup WHERE vhost = ?1 AND exchange = ?2",
	"BEGIN",
	"COMMIT",
	"ROLLBACK"
};

static const char store_schema[] =
	"CREATE TABLE IF NOT EXISTS vhost (name TEXT PRIMARY KEY);"
	"CREATE TABLE IF NOT EXISTS exchange (vhost TEXT NOT NULL, "
	    "name TEXT NOT NULL, type TEXT NOT NULL, auto_delete INTEGER, "
	    "internal INTEGER, args BLOB NOT NULL, PRIMARY KEY (vhost, name));"
	"CREATE TABLE IF NOT EXISTS queue (id INTEGER PRIMARY KEY, "
	    "vhost TEXT NOT NULL, name TEXT NOT NULL, auto_delete INTEGER, "
	    "args BLOB NOT NULL, delivered_seq INTEGER NOT NULL, "
	    "UNIQUE (vhost, name));"
	"CREATE TABLE IF NOT EXISTS binding (vhost TEXT NOT NULL, "
	    "source TEXT NOT NULL, dest_kind INTEGER NOT NULL, "
	    "dest TEXT NOT NULL, routing_key BLOB NOT NULL, "
	    "args BLOB NOT NULL, UNIQUE (vhost, source, dest_kind, dest, "
	    "routing_key, args));"
	"CREATE TABLE IF NOT EXISTS message (id INTEGER PRIMARY KEY, "
	    "exchange TEXT NOT NULL, routing_key BLOB NOT NULL, "
	    "props BLOB NOT NULL, body BLOB NOT NULL);"
	"CREATE TABLE IF NOT EXISTS queue_msg (queue_id INTEGER NOT NULL, "
	    "seq INTEGER NOT NULL, msg_id INTEGER NOT NULL, "
	    "expires INTEGER NOT NULL DEFAULT 0, "
	    "PRIMARY KEY (queue_id, seq)) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS delayed (id INTEGER PRIMARY KEY, "
	    "vhost TEXT NOT NULL, exchange TEXT NOT NULL, due INTEGER NOT NULL, "
	    "msg_id INTEGER NOT NULL);"
	"CREATE INDEX IF NOT EXISTS binding_dest ON binding (vhost, dest_kind, "
	    "dest);"
	"CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value);"
	"CREATE TABLE IF NOT EXISTS dedup (vhost TEXT NOT NULL, "
	    "exchange TEXT NOT NULL, key BLOB NOT NULL, expires INTEGER NOT NULL, "
	    "PRIMARY KEY (vhost, exchange, key)) WITHOUT ROWID;";

struct store {
	sqlite3			*db;		/* the store thread's */
	sqlite3_stmt		*st[ST_COUNT];
	sqlite3			*rdb;		/* the loop's, read-only */
	sqlite3_stmt		*page_in;
	char			*path;		/* owned */
	int			 lockfd;
	int			 recovering;
	int			 running;	/* thread started */
	pthread_t		 thread;
	pthread_mutex_t		 lock;
	pthread_cond_t		 cond;
	struct store_batch_list	 pending;	/* lock: loop -> thread */
	struct store_batch_list	 done;		/* lock: thread -> loop */
	int			 stop;		/* lock */
	int			 failing;	/* lock: last commit failed */
	int			 failing_seen;	/* loop: last reported */
	int			 pipe[2];
	struct event		*done_ev;	/* owned */
	struct event		*flush_ev;	/* owned */
	struct store_batch	*cur;		/* loop: being filled */
	uint64_t		 committed;	/* loop */
	uint64_t		 last_batch;	/* loop: id of the newest batch */
	uint64_t		 next_msg_id;	/* loop */
	uint64_t		 next_queue_id;	/* loop */
	struct queue		**seen;		/* loop: queues whose delivered
						   mark moved this batch */
	size_t			 nseen, seencap;
};

static struct store	*store;

static struct store_op	*store_op_add(enum store_op_type);
static void	store_batch_free(struct store_batch *);
static void	*store_thread_main(void *);
static int	store_commit(struct store_batch_list *, char **);
static int	store_exec_op(struct store_op *);
static void	store_flush_cb(evutil_socket_t, short, void *);
static void	store_done_cb(evutil_socket_t, short, void *);
static int	store_recover(char **);
static void	store_new_batch(void);
static int	store_cancel(struct message *);
static void	store_message_put(struct message *);

/* Error text of the database. */
static const char *
store_errmsg(void)
{
	return (sqlite3_errmsg(store->db));
}

/* Start a new batch for the loop to fill. */
static void
store_new_batch(void)
{
	store->cur = xcalloc(1, sizeof *store->cur);
	store->cur->id = ++store->last_batch;
}

/* Free a batch and release what its operations hold. */
static void
store_batch_free(struct store_batch *b)
{
	size_t	i, j;

	for (i = 0; i < b->n; i++) {
		for (j = 0; j < 4; j++)
			free(b->ops[i].s[j]);
		free(b->ops[i].blob);
		/* Committed now (or never to be): nothing left to cancel. */
		if (b->ops[i].msg != NULL &&
		    b->ops[i].msg->store_pending == b)
			b->ops[i].msg->store_pending = NULL;
		message_unref(&b->ops[i].msg);
	}
	free(b->ops);
	free(b);
}

/* Append an operation to the batch being filled; NULL when not storing. */
static struct store_op *
store_op_add(enum store_op_type type)
{
	struct store_batch	*b;
	struct store_op		*op;

	if (store == NULL || store->recovering || !store->running)
		return (NULL);
	b = store->cur;
	if (b->n == 0)
		event_active(store->flush_ev, EV_TIMEOUT, 0);
	if (b->n == b->cap) {
		b->cap = b->cap == 0 ? 64 : b->cap * 2;
		b->ops = xreallocarray(b->ops, b->cap, sizeof *b->ops);
	}
	op = &b->ops[b->n++];
	memset(op, 0, sizeof *op);
	op->type = type;
	return (op);
}

/* Copy a field table into an operation's blob. */
static void
store_op_blob(struct store_op *op, const struct field_table *t)
{
	op->bloblen = t->len;
	op->blob = xmalloc(t->len + 1);
	if (t->len > 0)
		memcpy(op->blob, t->p, t->len);
}

/* Id of the batch being filled. */
uint64_t
store_batch(void)
{
	return (store != NULL && store->cur != NULL ? store->cur->id : 0);
}

/* Has the batch being filled any operation? */
int
store_batch_used(void)
{
	return (store != NULL && store->cur != NULL && store->cur->n > 0);
}

/*
 * Write m's row in the batch being filled, once however many queues (or
 * delayed exchanges) hold it.
 */
static void
store_message_put(struct message *m)
{
	struct store_op	*op;

	if (m->store_id != 0)
		return;
	m->store_id = store->next_msg_id++;
	if ((op = store_op_add(OP_MPUT)) == NULL)
		return;
	op->msg = message_ref(m);
	m->store_pending = store->cur;
	m->store_op = (uint32_t)(store->cur->n - 1);
}

/* A durable exchange was declared. */
void
store_exchange_put(struct exchange *x)
{
	struct store_op	*op;

	if (!x->durable || x->builtin || (op = store_op_add(OP_XPUT)) == NULL)
		return;
	op->s[0] = xstrdup(x->vhost->name);
	op->s[1] = xstrdup(x->name);
	op->s[2] = xstrdup(exchange_type_name(x));
	op->i0 = x->auto_delete;
	op->i1 = x->internal;
	store_op_blob(op, &x->args);
}

/* A durable exchange was deleted, with its bindings. */
void
store_exchange_del(struct exchange *x)
{
	struct store_op	*op;

	if (!x->durable || x->builtin || (op = store_op_add(OP_XDEL)) == NULL)
		return;
	op->s[0] = xstrdup(x->vhost->name);
	op->s[1] = xstrdup(x->name);
}

/* A durable queue was declared: it gets its store id here. */
void
store_queue_put(struct queue *q)
{
	struct store_op	*op;

	if (!q->durable || store == NULL)
		return;
	if (q->store_id == 0)
		q->store_id = store->next_queue_id++;
	if ((op = store_op_add(OP_QPUT)) == NULL)
		return;
	op->a = q->store_id;
	op->s[0] = xstrdup(q->vhost->name);
	op->s[1] = xstrdup(q->name);
	op->i0 = q->auto_delete;
	store_op_blob(op, &q->args);
}

/* A durable queue was deleted with its messages and bindings. */
void
store_queue_del(struct queue *q)
{
	struct store_op	*op;

	if (!q->durable || q->store_id == 0 ||
	    (op = store_op_add(OP_QDEL)) == NULL)
		return;
	op->a = q->store_id;
	op->s[0] = xstrdup(q->vhost->name);
	op->s[1] = xstrdup(q->name);
}

/* Fill a binding operation; NULL unless both ends are durable. */
static void
store_binding_op(struct binding *b, enum store_op_type type)
{
	struct store_op	*op;
	int		 durable;

	/* As RabbitMQ: a binding is durable when both its ends are. */
	durable = b->source->durable &&
	    (b->queue != NULL ? b->queue->durable : b->dest_x->durable);
	if (!durable || (op = store_op_add(type)) == NULL)
		return;
	op->s[0] = xstrdup(b->source->vhost->name);
	op->s[1] = xstrdup(b->source->name);
	op->s[2] = xstrdup(b->queue != NULL ? b->queue->name :
	    b->dest_x->name);
	op->s[3] = xstrndup(b->key, b->keylen);
	op->i0 = b->queue != NULL ? 0 : 1;
	store_op_blob(op, &b->args);
}

/* A binding between durable ends was made. */
void
store_binding_put(struct binding *b)
{
	store_binding_op(b, OP_BPUT);
}

/* ... or removed. */
void
store_binding_del(struct binding *b)
{
	store_binding_op(b, OP_BDEL);
}

/*
 * A persistent message entered a durable queue.  The message row is
 * written once however many queues hold it.
 */
void
store_enqueue(struct queue *q, struct message *m, uint64_t seq,
    uint64_t expires)
{
	struct store_op	*op;

	if (store == NULL || !store->running || store->recovering)
		return;
	store_message_put(m);
	if ((op = store_op_add(OP_QMPUT)) == NULL)
		return;
	op->a = q->store_id;
	op->b = seq;
	op->i0 = (int64_t)m->store_id;
	op->i1 = (int64_t)expires;
	m->store_refs++;
}

/* A persistent message left a durable queue for good. */
void
store_dequeue(struct queue *q, struct message *m, uint64_t seq)
{
	struct store_op	*op;

	if (m->store_id == 0 || m->store_refs == 0)
		return;
	if (m->store_refs == 1 && store_cancel(m))
		return;
	/* A deleted queue's rows went with it (OP_QDEL). */
	if (!q->deleted && (op = store_op_add(OP_QMDEL)) != NULL) {
		op->a = q->store_id;
		op->b = seq;
	}
	if (--m->store_refs == 0 && (op = store_op_add(OP_MDEL)) != NULL)
		op->a = m->store_id;
}

/*
 * A persistent message at seq was delivered from q.  One update per queue
 * and batch records the highest such seq; after a crash everything at or
 * below it comes back with redelivered set.
 */
void
store_delivered(struct queue *q, uint64_t seq)
{
	if (store == NULL || !store->running || seq <= q->delivered_seq)
		return;
	q->delivered_seq = seq;
	if (q->store_seen)
		return;
	q->store_seen = 1;
	if (store->cur->n == 0)
		event_active(store->flush_ev, EV_TIMEOUT, 0);
	if (store->nseen == store->seencap) {
		store->seencap = store->seencap == 0 ? 16 : store->seencap * 2;
		store->seen = xreallocarray(store->seen, store->seencap,
		    sizeof *store->seen);
	}
	store->seen[store->nseen++] = queue_ref(q);
}

/*
 * A persistent message waits in a durable delayed exchange: its row and a
 * delayed row (id) keep it across a restart.
 */
void
store_delayed_put(struct exchange *x, struct message *m, uint64_t id,
    uint64_t due)
{
	struct store_op	*op;

	if (!x->durable || m->delivery_mode != 2 || store == NULL ||
	    !store->running || store->recovering)
		return;
	store_message_put(m);
	if ((op = store_op_add(OP_DPUT)) == NULL)
		return;
	op->a = id;
	op->s[0] = xstrdup(x->vhost->name);
	op->s[1] = xstrdup(x->name);
	op->i0 = (int64_t)due;
	op->i1 = (int64_t)m->store_id;
	m->store_refs++;
}

/* The delayed message went (routed or dropped). */
void
store_delayed_del(struct message *m, uint64_t id)
{
	struct store_op	*op;

	if (m->store_id == 0 || m->store_refs == 0)
		return;
	if ((op = store_op_add(OP_DDEL)) != NULL)
		op->a = id;
	if (--m->store_refs == 0 && (op = store_op_add(OP_MDEL)) != NULL)
		op->a = m->store_id;
}

/* A deduplication key of a durable exchange with disk persistence. */
void
store_dedup_key(struct exchange *x, const char *key, size_t len,
    uint64_t expires, int put)
{
	struct store_op	*op;

	if ((op = store_op_add(put ? OP_KPUT : OP_KDEL)) == NULL)
		return;
	op->s[0] = xstrdup(x->vhost->name);
	op->s[1] = xstrdup(x->name);
	op->blob = xmalloc(len + 1);
	memcpy(op->blob, key, len);
	op->bloblen = len;
	op->i0 = (int64_t)expires;
}

/* Forget a paged-out entry: its message belongs to this queue alone. */
void
store_dequeue_paged(struct queue *q, uint64_t id, uint64_t seq)
{
	struct store_op	*op;

	if (!q->deleted && (op = store_op_add(OP_QMDEL)) != NULL) {
		op->a = q->store_id;
		op->b = seq;
	}
	if ((op = store_op_add(OP_MDEL)) != NULL)
		op->a = id;
}

/* Is the message's row committed (so that it may be paged out)? */
int
store_is_committed(const struct message *m)
{
	return (store != NULL && m->store_id != 0 && m->store_pending == NULL);
}

/* The id of the batch that writes m, or 0 once it is committed. */
uint64_t
store_message_batch(const struct message *m)
{
	return (m->store_pending != NULL ? m->store_pending->id : 0);
}

/*
 * A message held by one queue leaves it before the batch that writes it
 * has gone to the store thread: nothing need be written at all (the
 * message row and its queue row are struck out of the batch).  Under a
 * fast consumer most persistent messages go this way.
 */
static int
store_cancel(struct message *m)
{
	struct store_batch	*b = m->store_pending;
	struct store_op		*mput, *qmput;
	int			 done = 0;

	if (b == NULL || m->store_op + 1 >= b->n)
		return (0);
	pthread_mutex_lock(&store->lock);
	mput = &b->ops[m->store_op];
	qmput = &b->ops[m->store_op + 1];
	if (!b->taken && mput->type == OP_MPUT && mput->msg == m &&
	    qmput->type == OP_QMPUT && (uint64_t)qmput->i0 == m->store_id) {
		mput->type = qmput->type = OP_NONE;
		m->store_refs = 0;
		m->store_id = 0;
		m->store_pending = NULL;
		done = 1;
	}
	pthread_mutex_unlock(&store->lock);
	return (done);
}

/* Make a message from a row: exchange, routing key, props, body. */
static struct message *
store_row_message(sqlite3_stmt *st, int col, uint64_t id)
{
	struct message		*m;
	const char		*x = (const char *)sqlite3_column_text(st, col);
	const void		*rk = sqlite3_column_blob(st, col + 1);

	m = message_new(x != NULL ? x : "", x != NULL ? strnlen(x, 255) : 0,
	    rk != NULL ? rk : "", (size_t)sqlite3_column_bytes(st, col + 1) &
	    255, sqlite3_column_blob(st, col + 2),
	    (size_t)sqlite3_column_bytes(st, col + 2),
	    (uint64_t)sqlite3_column_bytes(st, col + 3));
	if (m->body_size > 0)
		memcpy(MSG_BODY(m), sqlite3_column_blob(st, col + 3),
		    m->body_size);
	message_parse_props(m);
	m->store_id = id;
	return (m);
}

/*
 * Read paged-out entries back (one query over their seq range).  This is
 * a read in the loop, bounded to a few hundred rows that the page cache
 * usually holds; the writes stay on the store thread.
 */
size_t
store_page_in(struct queue *q, struct qentry **want, size_t n)
{
	sqlite3_stmt	*st = store != NULL ? store->page_in : NULL;
	struct message	*m;
	uint64_t	 lo = UINT64_MAX, hi = 0, seq;
	size_t		 i, loaded = 0;

	if (st == NULL || n == 0)
		return (0);
	for (i = 0; i < n; i++) {
		if (want[i]->seq < lo)
			lo = want[i]->seq;
		if (want[i]->seq > hi)
			hi = want[i]->seq;
	}
	sqlite3_bind_int64(st, 1, (int64_t)q->store_id);
	sqlite3_bind_int64(st, 2, (int64_t)lo);
	sqlite3_bind_int64(st, 3, (int64_t)hi);
	i = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		seq = (uint64_t)sqlite3_column_int64(st, 0);
		/* Entries and rows are both in seq order, mostly. */
		while (i < n && want[i]->seq < seq)
			i++;
		if (i == n)
			break;
		if (want[i]->seq != seq || !QENTRY_PAGED(want[i]) ||
		    QENTRY_STORE_ID(want[i]) !=
		    (uint64_t)sqlite3_column_int64(st, 1))
			continue;
		m = store_row_message(st, 2, QENTRY_STORE_ID(want[i]));
		m->store_refs = 1;
		want[i]->msg = m;
		q->bytes += m->body_size;
		loaded++;
		i++;
	}
	sqlite3_reset(st);
	return (loaded);
}

/* Page out committed messages from durable queues until want is freed. */
uint64_t
store_page_out(uint64_t want)
{
	struct vhost	*v, *vtmp;
	struct queue	*q, *qtmp;
	uint64_t	 freed = 0;

	if (store == NULL)
		return (0);
	HASH_ITER(hh, broker->vhosts, v, vtmp) {
		HASH_ITER(hh, v->queues, q, qtmp) {
			if (freed >= want)
				return (freed);
			freed += queue_page_out(q, want - freed);
		}
	}
	return (freed);
}

/* End of a loop turn: hand the batch to the store thread. */
static void
store_flush_cb(evutil_socket_t fd, short what, void *arg)
{
	struct store_op	*op;
	struct queue	*q;
	size_t		 i;

	for (i = 0; i < store->nseen; i++) {
		q = store->seen[i];
		q->store_seen = 0;
		if (!q->deleted && (op = store_op_add(OP_QSEEN)) != NULL) {
			op->a = q->store_id;
			op->b = q->delivered_seq;
		}
		queue_unref(&q);
	}
	store->nseen = 0;
	if (store->cur->n == 0)
		return;
	pthread_mutex_lock(&store->lock);
	TAILQ_INSERT_TAIL(&store->pending, store->cur, entry);
	pthread_cond_signal(&store->cond);
	pthread_mutex_unlock(&store->lock);
	store->cur = NULL;
	store_new_batch();
}

/* The store thread said something: batches committed, or a failure. */
static void
store_done_cb(evutil_socket_t fd, short what, void *arg)
{
	struct store_batch_list	 done;
	struct store_batch	*b;
	char			 buf[256];
	int			 failing;

	while (read(fd, buf, sizeof buf) > 0)
		;
	TAILQ_INIT(&done);
	pthread_mutex_lock(&store->lock);
	TAILQ_CONCAT(&done, &store->done, entry);
	failing = store->failing;
	pthread_mutex_unlock(&store->lock);
	if (failing != store->failing_seen) {
		store->failing_seen = failing;
		store_on_failure(failing);
	}
	if (TAILQ_EMPTY(&done))
		return;
	while ((b = TAILQ_FIRST(&done)) != NULL) {
		TAILQ_REMOVE(&done, b, entry);
		store->committed = b->id;
		store_batch_free(b);
	}
	store_on_commit(store->committed);
}

/* Bind a text, or an empty one for NULL. */
static void
store_bind_text(sqlite3_stmt *st, int i, const char *s)
{
	sqlite3_bind_text(st, i, s != NULL ? s : "", -1, SQLITE_STATIC);
}

/* Run one operation inside the open transaction; SQLITE_OK or an error. */
static int
store_exec_op(struct store_op *op)
{
	sqlite3_stmt	*st, *st2 = NULL, *st3 = NULL;
	struct message	*m;
	int		 rc;

	switch (op->type) {
	case OP_XPUT:
		st = store->st[ST_XPUT];
		store_bind_text(st, 1, op->s[0]);
		store_bind_text(st, 2, op->s[1]);
		store_bind_text(st, 3, op->s[2]);
		sqlite3_bind_int64(st, 4, op->i0);
		sqlite3_bind_int64(st, 5, op->i1);
		sqlite3_bind_blob(st, 6, op->blob, (int)op->bloblen,
		    SQLITE_STATIC);
		break;
	case OP_XDEL:
		st = store->st[ST_XDEL];
		store_bind_text(st, 1, op->s[0]);
		store_bind_text(st, 2, op->s[1]);
		st2 = store->st[ST_XDEL_BINDINGS];
		store_bind_text(st2, 1, op->s[0]);
		store_bind_text(st2, 2, op->s[1]);
		st3 = store->st[ST_XDEL_KEYS];
		store_bind_text(st3, 1, op->s[0]);
		store_bind_text(st3, 2, op->s[1]);
		break;
	case OP_QPUT:
		st = store->st[ST_QPUT];
		sqlite3_bind_int64(st, 1, (int64_t)op->a);
		store_bind_text(st, 2, op->s[0]);
		store_bind_text(st, 3, op->s[1]);
		sqlite3_bind_int64(st, 4, op->i0);
		sqlite3_bind_blob(st, 5, op->blob, (int)op->bloblen,
		    SQLITE_STATIC);
		break;
	case OP_QDEL:
		st = store->st[ST_QDEL];
		sqlite3_bind_int64(st, 1, (int64_t)op->a);
		st2 = store->st[ST_QDEL_MSGS];
		sqlite3_bind_int64(st2, 1, (int64_t)op->a);
		st3 = store->st[ST_QDEL_BINDINGS];
		store_bind_text(st3, 2, op->s[0]);
		store_bind_text(st3, 3, op->s[1]);
		break;
	case OP_BPUT:
	case OP_BDEL:
		st = store->st[op->type == OP_BPUT ? ST_BPUT : ST_BDEL];
		store_bind_text(st, 1, op->s[0]);
		store_bind_text(st, 2, op->s[1]);
		sqlite3_bind_int64(st, 3, op->i0);
		store_bind_text(st, 4, op->s[2]);
		sqlite3_bind_blob(st, 5, op->s[3], (int)strlen(op->s[3]),
		    SQLITE_STATIC);
		sqlite3_bind_blob(st, 6, op->blob, (int)op->bloblen,
		    SQLITE_STATIC);
		break;
	case OP_MPUT:
		m = op->msg;
		st = store->st[ST_MPUT];
		sqlite3_bind_int64(st, 1, (int64_t)m->store_id);
		sqlite3_bind_text(st, 2, MSG_EXCHANGE(m), m->exchange_len,
		    SQLITE_STATIC);
		sqlite3_bind_blob(st, 3, MSG_RK(m), m->routing_key_len,
		    SQLITE_STATIC);
		sqlite3_bind_blob(st, 4, MSG_PROPS(m), (int)m->props_len,
		    SQLITE_STATIC);
		sqlite3_bind_blob64(st, 5, MSG_BODY(m), m->body_size,
		    SQLITE_STATIC);
		break;
	case OP_QMPUT:
		st = store->st[ST_QMPUT];
		sqlite3_bind_int64(st, 1, (int64_t)op->a);
		sqlite3_bind_int64(st, 2, (int64_t)op->b);
		sqlite3_bind_int64(st, 3, op->i0);
		sqlite3_bind_int64(st, 4, op->i1);
		break;
	case OP_QMDEL:
		st = store->st[ST_QMDEL];
		sqlite3_bind_int64(st, 1, (int64_t)op->a);
		sqlite3_bind_int64(st, 2, (int64_t)op->b);
		break;
	case OP_MDEL:
		st = store->st[ST_MDEL];
		sqlite3_bind_int64(st, 1, (int64_t)op->a);
		break;
	case OP_QSEEN:
		st = store->st[ST_QSEEN];
		sqlite3_bind_int64(st, 1, (int64_t)op->a);
		sqlite3_bind_int64(st, 2, (int64_t)op->b);
		break;
	case OP_DPUT:
		st = store->st[ST_DPUT];
		sqlite3_bind_int64(st, 1, (int64_t)op->a);
		store_bind_text(st, 2, op->s[0]);
		store_bind_text(st, 3, op->s[1]);
		sqlite3_bind_int64(st, 4, op->i0);
		sqlite3_bind_int64(st, 5, op->i1);
		break;
	case OP_DDEL:
		st = store->st[ST_DDEL];
		sqlite3_bind_int64(st, 1, (int64_t)op->a);
		break;
	case OP_KPUT:
	case OP_KDEL:
		st = store->st[op->type == OP_KPUT ? ST_KPUT : ST_KDEL];
		store_bind_text(st, 1, op->s[0]);
		store_bind_text(st, 2, op->s[1]);
		sqlite3_bind_blob(st, 3, op->blob, (int)op->bloblen,
		    SQLITE_STATIC);
		if (op->type == OP_KPUT)
			sqlite3_bind_int64(st, 4, op->i0);
		break;
	case OP_NONE:
		return (SQLITE_OK);
	default:
		return (SQLITE_MISUSE);
	}
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc == SQLITE_DONE && st2 != NULL) {
		rc = sqlite3_step(st2);
		sqlite3_reset(st2);
		sqlite3_clear_bindings(st2);
	}
	if (rc == SQLITE_DONE && st3 != NULL) {
		rc = sqlite3_step(st3);
		sqlite3_reset(st3);
		sqlite3_clear_bindings(st3);
	}
	return (rc == SQLITE_DONE ? SQLITE_OK : rc);
}

/* Step a statement that returns no rows. */
static int
store_step(enum store_stmt s)
{
	int	rc;

	rc = sqlite3_step(store->st[s]);
	sqlite3_reset(store->st[s]);
	return (rc == SQLITE_DONE ? SQLITE_OK : rc);
}

/* Commit the given batches in one transaction: 0, or -1 with *cause. */
static int
store_commit(struct store_batch_list *work, char **cause)
{
	struct store_batch	*b;
	size_t			 i;
	int			 rc;

	if ((rc = store_step(ST_BEGIN)) != SQLITE_OK)
		goto fail;
	TAILQ_FOREACH(b, work, entry) {
		for (i = 0; i < b->n; i++) {
			if ((rc = store_exec_op(&b->ops[i])) != SQLITE_OK)
				goto fail;
		}
	}
	if ((rc = store_step(ST_COMMIT)) != SQLITE_OK)
		goto fail;
	return (0);
fail:
	xasprintf(cause, "%s (%s)", store_errmsg(), sqlite3_errstr(rc));
	if (!sqlite3_get_autocommit(store->db))
		store_step(ST_ROLLBACK);
	return (-1);
}

/*
 * The store thread: take every batch handed over since the last commit,
 * commit them together, hand them back.  A failed commit is retried until
 * it succeeds; meanwhile nothing in those batches is confirmed.
 */
static void *
store_thread_main(void *arg)
{
	struct store_batch_list	 work;
	struct store_batch	*b;
	char			*cause;
	char			 one = 1;
	struct timespec		 ts;

	TAILQ_INIT(&work);
	for (;;) {
		pthread_mutex_lock(&store->lock);
		while (TAILQ_EMPTY(&store->pending) && !store->stop)
			pthread_cond_wait(&store->cond, &store->lock);
		if (TAILQ_EMPTY(&store->pending)) {
			pthread_mutex_unlock(&store->lock);
			break;
		}
		TAILQ_FOREACH(b, &store->pending, entry)
			b->taken = 1;
		TAILQ_CONCAT(&work, &store->pending, entry);
		pthread_mutex_unlock(&store->lock);
		while (store_commit(&work, &cause) != 0) {
			log_error("store: commit failed: %s; publishers are "
			    "blocked and nothing more is confirmed until it "
			    "succeeds", cause);
			free(cause);
			pthread_mutex_lock(&store->lock);
			store->failing = 1;
			pthread_mutex_unlock(&store->lock);
			(void)write(store->pipe[1], &one, 1);
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += STORE_RETRY_SECONDS;
			pthread_mutex_lock(&store->lock);
			if (!store->stop)
				pthread_cond_timedwait(&store->cond,
				    &store->lock, &ts);
			if (store->stop && store->failing) {
				pthread_mutex_unlock(&store->lock);
				log_error("store: stopping with %s",
				    "uncommitted (and unconfirmed) batches");
				goto out;
			}
			pthread_mutex_unlock(&store->lock);
		}
		pthread_mutex_lock(&store->lock);
		if (store->failing)
			log_notice("store: commits succeed again");
		store->failing = 0;
		TAILQ_CONCAT(&store->done, &work, entry);
		pthread_mutex_unlock(&store->lock);
		(void)write(store->pipe[1], &one, 1);
	}
out:
	pthread_mutex_lock(&store->lock);
	TAILQ_CONCAT(&store->done, &work, entry);
	pthread_mutex_unlock(&store->lock);
	return (NULL);
}

/* Run SQL with no result; 0 or -1 with *cause. */
static int
store_exec(const char *sql, char **cause)
{
	char	*err = NULL;

	if (sqlite3_exec(store->db, sql, NULL, NULL, &err) != SQLITE_OK) {
		xasprintf(cause, "%s: %s", store->path,
		    err != NULL ? err : store_errmsg());
		sqlite3_free(err);
		return (-1);
	}
	return (0);
}

/* Open the database, check its version, create tables, recover. */
int
store_open(const char *dir, char **cause)
{
	char		*lockpath;
	const char	*sync;
	char		 sql[128];
	sqlite3_stmt	*st;
	int		 version, i, flags;

	store = xcalloc(1, sizeof *store);
	store->pipe[0] = store->pipe[1] = store->lockfd = -1;
	pthread_mutex_init(&store->lock, NULL);
	pthread_cond_init(&store->cond, NULL);
	TAILQ_INIT(&store->pending);
	TAILQ_INIT(&store->done);
	xasprintf(&lockpath, "%s/warrend.lock", dir);
	store->lockfd = open(lockpath, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
	if (store->lockfd == -1 || flock(store->lockfd, LOCK_EX | LOCK_NB)
	    != 0) {
		xasprintf(cause, "%s: %s", lockpath, errno == EWOULDBLOCK ?
		    "the data directory is in use by another warrend" :
		    strerror(errno));
		free(lockpath);
		goto fail;
	}
	free(lockpath);
	xasprintf(&store->path, "%s/warren.db", dir);
	flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
	    SQLITE_OPEN_NOMUTEX;
	if (sqlite3_open_v2(store->path, &store->db, flags, NULL) !=
	    SQLITE_OK) {
		xasprintf(cause, "%s: %s", store->path, store->db != NULL ?
		    store_errmsg() : "cannot open");
		goto fail;
	}
	sqlite3_extended_result_codes(store->db, 1);
	if (sqlite3_prepare_v2(store->db, "PRAGMA user_version", -1, &st,
	    NULL) != SQLITE_OK || sqlite3_step(st) != SQLITE_ROW) {
		xasprintf(cause, "%s: not a Warren store (%s)", store->path,
		    store_errmsg());
		sqlite3_finalize(st);
		goto fail;
	}
	version = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (version > STORE_SCHEMA_VERSION) {
		xasprintf(cause, "%s: store schema version %d is newer than "
		    "this warrend understands (%d); use a newer warrend",
		    store->path, version, STORE_SCHEMA_VERSION);
		goto fail;
	}
	sync = config.store_sync;
	/* Other processes are kept out by the lock file. */
	snprintf(sql, sizeof sql, "PRAGMA journal_mode = WAL; "
	    "PRAGMA synchronous = %s;", sync);
	if (store_exec(sql, cause) != 0)
		goto fail;
	/*
	 * A new store, or one from an older version, gets its tables now; a
	 * current one is not written before recovery has read it whole, so
	 * that a damaged file is refused unchanged.
	 */
	if (version < STORE_SCHEMA_VERSION) {
		if (store_exec("BEGIN", cause) != 0 ||
		    store_exec(store_schema, cause) != 0)
			goto fail;
		/* Version 4 keeps each queued message's expiry time. */
		if (sqlite3_prepare_v2(store->db, "SELECT count(*) FROM "
		    "pragma_table_info('queue_msg') WHERE name = 'expires'",
		    -1, &st, NULL) != SQLITE_OK ||
		    sqlite3_step(st) != SQLITE_ROW) {
			xasprintf(cause, "%s: %s", store->path,
			    store_errmsg());
			sqlite3_finalize(st);
			goto fail;
		}
		i = sqlite3_column_int(st, 0);
		sqlite3_finalize(st);
		if (i == 0 && store_exec("ALTER TABLE queue_msg ADD COLUMN "
		    "expires INTEGER NOT NULL DEFAULT 0", cause) != 0)
			goto fail;
		snprintf(sql, sizeof sql, "PRAGMA user_version = %d",
		    STORE_SCHEMA_VERSION);
		if (store_exec(sql, cause) != 0 ||
		    store_exec("INSERT OR REPLACE INTO meta VALUES "
		    "('clean', 1)", cause) != 0 ||
		    store_exec("COMMIT", cause) != 0)
			goto fail;
	}
	for (i = 0; i < ST_COUNT; i++) {
		if (sqlite3_prepare_v3(store->db, store_sql[i], -1,
		    SQLITE_PREPARE_PERSISTENT, &store->st[i], NULL) !=
		    SQLITE_OK) {
			xasprintf(cause, "%s: %s", store->path,
			    store_errmsg());
			goto fail;
		}
	}
	if (store_recover(cause) != 0)
		goto fail;
	return (0);
fail:
	store_close();
	return (-1);
}

/* Start the thread and the loop's side of the hand-over. */
void
store_start(void)
{
	char	*cause;

	if (sqlite3_open_v2(store->path, &store->rdb, SQLITE_OPEN_READONLY |
	    SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v3(store->rdb, "SELECT qm.seq, m.id, m.exchange, "
	    "m.routing_key, m.props, m.body FROM queue_msg qm JOIN message m "
	    "ON m.id = qm.msg_id WHERE qm.queue_id = ?1 AND qm.seq BETWEEN "
	    "?2 AND ?3 ORDER BY qm.seq", -1, SQLITE_PREPARE_PERSISTENT,
	    &store->page_in, NULL) != SQLITE_OK)
		fatal("store: cannot open a reader on %s: %s", store->path,
		    sqlite3_errmsg(store->rdb));
	if (pipe2(store->pipe, O_CLOEXEC | O_NONBLOCK) != 0)
		fatal("pipe: %s", strerror(errno));
	store->done_ev = event_new(broker->base, store->pipe[0],
	    EV_READ | EV_PERSIST, store_done_cb, NULL);
	event_add(store->done_ev, NULL);
	store->flush_ev = event_new(broker->base, -1, 0, store_flush_cb,
	    NULL);
	store_new_batch();
	/* Until store_close says otherwise, a restart follows a crash. */
	if (store_exec("INSERT OR REPLACE INTO meta VALUES ('clean', 0)",
	    &cause) != 0)
		fatal("store: %s", cause);
	if (pthread_create(&store->thread, NULL, store_thread_main, NULL) !=
	    0)
		fatal("cannot start the store thread");
	store->running = 1;
}

/* Commit what is pending, stop the thread and close. */
void
store_close(void)
{
	struct store_batch	*b;
	char			*cause;
	int			 i;

	if (store == NULL)
		return;
	if (store->running) {
		store_flush_cb(-1, 0, NULL);
		pthread_mutex_lock(&store->lock);
		store->stop = 1;
		pthread_cond_signal(&store->cond);
		pthread_mutex_unlock(&store->lock);
		pthread_join(store->thread, NULL);
		store->running = 0;
		if (!store->failing && store_exec("INSERT OR REPLACE INTO meta "
		    "VALUES ('clean', 1)", &cause) != 0) {
			log_error("store: %s", cause);
			free(cause);
		}
		while ((b = TAILQ_FIRST(&store->done)) != NULL) {
			TAILQ_REMOVE(&store->done, b, entry);
			store_batch_free(b);
		}
		if (store->cur != NULL)
			store_batch_free(store->cur);
		free(store->seen);
	}
	if (store->done_ev != NULL)
		event_free(store->done_ev);
	if (store->flush_ev != NULL)
		event_free(store->flush_ev);
	for (i = 0; i < ST_COUNT; i++)
		sqlite3_finalize(store->st[i]);
	sqlite3_finalize(store->page_in);
	if (store->rdb != NULL)
		sqlite3_close(store->rdb);
	if (store->db != NULL)
		sqlite3_close(store->db);
	for (i = 0; i < 2; i++)
		if (store->pipe[i] != -1)
			close(store->pipe[i]);
	if (store->lockfd != -1)
		close(store->lockfd);
	pthread_mutex_destroy(&store->lock);
	pthread_cond_destroy(&store->cond);
	free(store->path);
	free(store);
	store = NULL;
}

/* Queue ids seen during recovery, for messages to find their queue. */
struct store_qref {
	uint64_t	 id;
	struct queue	*q;
	UT_hash_handle	 hh;
};

/* Messages seen during recovery: one object however many queues. */
struct store_mref {
	uint64_t	 id;
	struct message	*m;
	UT_hash_handle	 hh;
};

/* A table column as a field table (borrowed from the statement). */
static struct field_table
store_col_table(sqlite3_stmt *st, int i)
{
	struct field_table	t;

	t.p = sqlite3_column_blob(st, i);
	t.len = (uint32_t)sqlite3_column_bytes(st, i);
	if (t.p == NULL || table_validate(t.p, t.len) != 0)
		t.len = 0;
	return (t);
}

/* A text column, never NULL. */
static const char *
store_col_text(sqlite3_stmt *st, int i)
{
	const char	*s = (const char *)sqlite3_column_text(st, i);

	return (s != NULL ? s : "");
}

/* Prepare a read-only query for recovery. */
static sqlite3_stmt *
store_query(const char *sql, char **cause)
{
	sqlite3_stmt	*st;

	if (sqlite3_prepare_v2(store->db, sql, -1, &st, NULL) != SQLITE_OK) {
		xasprintf(cause, "%s: %s", store->path, store_errmsg());
		return (NULL);
	}
	return (st);
}

/* Recover exchanges, queues, bindings and messages, in that order. */
static int
store_recover(char **cause)
{
	struct store_qref	*qrefs = NULL, *qr, *qrtmp;
	struct store_mref	*mrefs = NULL, *mr, *mrtmp;
	sqlite3_stmt		*st = NULL;
	struct vhost		*v;
	struct exchange		*x, *dx;
	struct queue		*q;
	struct message		*m;
	struct field_table	 args;
	const struct exchange_type *type;
	enum exchange_kind	 kind;
	char			 why[256];
	const char		*rk;
	uint64_t		 id, seq, nmsg = 0, nq = 0, nx = 0, nb = 0;
	uint64_t		 ndelayed = 0;
	int			 crashed;
	int			 rc, ret = -1;

	store->recovering = 1;
	store->next_msg_id = store->next_queue_id = 1;
	if ((st = store_query("SELECT value FROM meta WHERE key = 'clean'",
	    cause)) == NULL)
		goto out;
	crashed = sqlite3_step(st) == SQLITE_ROW &&
	    sqlite3_column_int(st, 0) == 0;
	sqlite3_finalize(st);
	st = NULL;
	if (crashed)
		log_warn("store: warrend did not stop cleanly: recovered "
		    "messages are marked redelivered");
	if ((st = store_query("SELECT vhost, name, type, auto_delete, "
	    "internal, args FROM exchange", cause)) == NULL)
		goto out;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		v = vhost_create(store_col_text(st, 0));
		args = store_col_table(st, 5);
		if (exchange_resolve(store_col_text(st, 2), &args, &type,
		    &kind, why, sizeof why) != 0 || vhost_exchange_find(v,
		    store_col_text(st, 1)) != NULL)
			continue;
		x = exchange_new(v, store_col_text(st, 1), type, 1,
		    sqlite3_column_int(st, 3), sqlite3_column_int(st, 4),
		    &args);
		exchange_set_kind(x, kind);
		nx++;
	}
	if (rc != SQLITE_DONE)
		goto dberr;
	sqlite3_finalize(st);
	if ((st = store_query("SELECT id, vhost, name, auto_delete, args, "
	    "delivered_seq FROM queue", cause)) == NULL)
		goto out;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		v = vhost_create(store_col_text(st, 1));
		args = store_col_table(st, 4);
		q = queue_new(v, store_col_text(st, 2), 1, 0,
		    sqlite3_column_int(st, 3), NULL, &args);
		q->store_id = (uint64_t)sqlite3_column_int64(st, 0);
		q->delivered_seq = (uint64_t)sqlite3_column_int64(st, 5);
		/* New positions come after every one ever delivered. */
		q->next_seq = q->delivered_seq;
		if (q->store_id >= store->next_queue_id)
			store->next_queue_id = q->store_id + 1;
		qr = xcalloc(1, sizeof *qr);
		qr->id = q->store_id;
		qr->q = q;
		HASH_ADD(hh, qrefs, id, sizeof qr->id, qr);
		nq++;
	}
	if (rc != SQLITE_DONE)
		goto dberr;
	sqlite3_finalize(st);
	if ((st = store_query("SELECT vhost, source, dest_kind, dest, "
	    "routing_key, args FROM binding", cause)) == NULL)
		goto out;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if ((v = vhost_find(store_col_text(st, 0))) == NULL ||
		    (x = vhost_exchange_find(v, store_col_text(st, 1))) ==
		    NULL)
			continue;
		q = NULL;
		dx = NULL;
		if (sqlite3_column_int(st, 2) == 0)
			q = vhost_queue_find(v, store_col_text(st, 3));
		else
			dx = vhost_exchange_find(v, store_col_text(st, 3));
		if (q == NULL && dx == NULL)
			continue;
		rk = sqlite3_column_blob(st, 4);
		args = store_col_table(st, 5);
		exchange_bind(x, q, dx, rk != NULL ? rk : "",
		    (size_t)sqlite3_column_bytes(st, 4), &args);
		nb++;
	}
	if (rc != SQLITE_DONE)
		goto dberr;
	sqlite3_finalize(st);
	/* Delayed messages, and the keys of persistent dedup caches. */
	if ((st = store_query("SELECT d.id, d.vhost, d.exchange, d.due, m.id, "
	    "m.exchange, m.routing_key, m.props, m.body FROM delayed d JOIN "
	    "message m ON m.id = d.msg_id", cause)) == NULL)
		goto out;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if ((v = vhost_find(store_col_text(st, 1))) == NULL ||
		    (x = vhost_exchange_find(v, store_col_text(st, 2))) ==
		    NULL)
			continue;
		id = (uint64_t)sqlite3_column_int64(st, 4);
		m = store_row_message(st, 5, id);
		m->store_refs = 1;
		if (id >= store->next_msg_id)
			store->next_msg_id = id + 1;
		delayed_restore(x, m, (uint64_t)sqlite3_column_int64(st, 0),
		    (uint64_t)sqlite3_column_int64(st, 3));
		message_unref(&m);
		ndelayed++;
	}
	if (rc != SQLITE_DONE)
		goto dberr;
	sqlite3_finalize(st);
	if ((st = store_query("SELECT vhost, exchange, key, expires FROM "
	    "dedup", cause)) == NULL)
		goto out;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if ((v = vhost_find(store_col_text(st, 0))) == NULL ||
		    (x = vhost_exchange_find(v, store_col_text(st, 1))) ==
		    NULL || x->dedup == NULL)
			continue;
		dedup_restore(x->dedup, sqlite3_column_blob(st, 2),
		    (size_t)sqlite3_column_bytes(st, 2),
		    (uint64_t)sqlite3_column_int64(st, 3));
	}
	if (rc != SQLITE_DONE)
		goto dberr;
	sqlite3_finalize(st);
	/*
	 * Messages stay in the store until a consumer needs them, except
	 * those that several queues hold: one object must serve them all.
	 */
	if ((st = store_query("SELECT m.id, m.exchange, m.routing_key, "
	    "m.props, m.body FROM message m WHERE m.id IN (SELECT msg_id FROM "
	    "queue_msg GROUP BY msg_id HAVING count(*) > 1)", cause)) == NULL)
		goto out;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		id = (uint64_t)sqlite3_column_int64(st, 0);
		mr = xcalloc(1, sizeof *mr);
		mr->id = id;
		mr->m = store_row_message(st, 1, id);
		HASH_ADD(hh, mrefs, id, sizeof mr->id, mr);
	}
	if (rc != SQLITE_DONE)
		goto dberr;
	sqlite3_finalize(st);
	if ((st = store_query("SELECT queue_id, seq, msg_id, expires FROM "
	    "queue_msg ORDER BY queue_id, seq", cause)) == NULL)
		goto out;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		id = (uint64_t)sqlite3_column_int64(st, 0);
		HASH_FIND(hh, qrefs, &id, sizeof id, qr);
		if (qr == NULL)
			continue;
		seq = (uint64_t)sqlite3_column_int64(st, 1);
		id = (uint64_t)sqlite3_column_int64(st, 2);
		if (id >= store->next_msg_id)
			store->next_msg_id = id + 1;
		HASH_FIND(hh, mrefs, &id, sizeof id, mr);
		m = mr != NULL ? mr->m : NULL;
		if (m != NULL)
			m->store_refs++;
		/*
		 * Delivered marks reach the disk after the deliveries: after
		 * a crash, any message may have been delivered.
		 */
		queue_recover_push(qr->q, m, id, seq, crashed ||
		    seq <= qr->q->delivered_seq,
		    (uint64_t)sqlite3_column_int64(st, 3));
		nmsg++;
	}
	if (rc != SQLITE_DONE)
		goto dberr;
	sqlite3_finalize(st);
	st = NULL;
	if ((st = store_query("SELECT coalesce(max(id), 0) FROM message",
	    cause)) == NULL)
		goto out;
	if (sqlite3_step(st) == SQLITE_ROW &&
	    (uint64_t)sqlite3_column_int64(st, 0) >= store->next_msg_id)
		store->next_msg_id = (uint64_t)sqlite3_column_int64(st, 0) + 1;
	/* A crash can leave rows of messages nothing holds any more. */
	if (crashed && store_exec("DELETE FROM message WHERE id NOT IN "
	    "(SELECT msg_id FROM queue_msg UNION SELECT msg_id FROM delayed)",
	    cause) != 0)
		goto out;
	HASH_ITER(hh, qrefs, qr, qrtmp)
		queue_recovered(qr->q);
	log_notice("store: recovered %llu exchanges, %llu queues, %llu "
	    "bindings, %llu queued and %llu delayed messages from %s",
	    (unsigned long long)nx, (unsigned long long)nq,
	    (unsigned long long)nb, (unsigned long long)nmsg,
	    (unsigned long long)ndelayed, store->path);
	ret = 0;
	goto out;
dberr:
	xasprintf(cause, "%s: reading the store failed: %s", store->path,
	    store_errmsg());
out:
	sqlite3_finalize(st);
	HASH_ITER(hh, qrefs, qr, qrtmp) {
		HASH_DEL(qrefs, qr);
		free(qr);
	}
	HASH_ITER(hh, mrefs, mr, mrtmp) {
		HASH_DEL(mrefs, mr);
		message_unref(&mr->m);
		free(mr);
	}
	store->recovering = 0;
	return (ret);
}
