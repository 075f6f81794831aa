/*
 * check_store.c: the SQLite store through its API: the schema in an empty
 * directory, recovery of exchanges, queues, bindings and messages, group
 * commit (one batch per loop turn, batch ids that never repeat), a message
 * shared by two durable queues stored once, the last dequeue deleting the
 * message row, queue delete removing its rows, delivered marks, a clean
 * close committing what is pending, a newer schema refused.
 *
 * Each test runs a broker of its own (Check forks): config_defaults(),
 * broker_init(), store_open() on a fresh directory, store_start(), and the
 * libevent loop turned by hand.  A "restart" is store_close(), broker_free()
 * and the same again on the same directory.  The database is read with a
 * second, read-only SQLite connection (WAL lets it read beside the store).
 */
#include "config.h"

#include <sys/stat.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <check.h>
#include <event2/event.h>
#include <sqlite3.h>

#include "broker.h"
#include "conf.h"
#include "exchange.h"
#include "message.h"
#include "queue.h"
#include "store.h"
#include "vhost.h"

/* Seconds a test waits for a commit before it fails. */
#define DEADLINE	10

static char		 dir[64];
static char		 dbpath[96];
static struct vhost	*vh;

/* Start a broker on dir with its store. */
static void
boot(void)
{
	char	*cause = NULL;

	ck_assert_int_eq(broker_init(&cause), 0);
	if (store_open(dir, &cause) != 0)
		ck_abort_msg("store_open: %s", cause);
	store_start();
	vh = vhost_find(config.default_vhost);
	ck_assert_ptr_nonnull(vh);
}

/* Stop it as warrend does at exit. */
static void
halt(void)
{
	store_close();
	broker_free();
	vh = NULL;
}

static int
rm_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return (remove(path));
}

/* Remove the test's directory (a failed test leaves it for a look). */
static void
rm_dir(void)
{
	if (dir[0] != '\0')
		nftw(dir, rm_cb, 8, FTW_DEPTH | FTW_PHYS);
	dir[0] = '\0';
}

static void
setup(void)
{
	snprintf(dir, sizeof dir, "/tmp/check_store.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(dbpath, sizeof dbpath, "%s/warren.db", dir);
	config_defaults();
	log_level = LOG_WARN;
	boot();
}

static void
teardown(void)
{
	if (broker != NULL)
		halt();
	rm_dir();
}

/* One read-only query returning one integer (-1 on error). */
static int64_t
db_int(const char *sql)
{
	sqlite3		*db;
	sqlite3_stmt	*st;
	int64_t		 v = -1;

	if (sqlite3_open_v2(dbpath, &db, SQLITE_OPEN_READONLY, NULL) !=
	    SQLITE_OK) {
		sqlite3_close(db);
		return (-1);
	}
	sqlite3_busy_timeout(db, 1000);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW)
			v = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	}
	sqlite3_close(db);
	return (v);
}

/* Rows in the message and queue_msg tables, read in one snapshot. */
static void
db_rows(int64_t *messages, int64_t *entries)
{
	*messages = db_int("SELECT (SELECT count(*) FROM message) * 1000000 + "
	    "(SELECT count(*) FROM queue_msg)");
	*entries = *messages % 1000000;
	*messages /= 1000000;
}

static void
loop_wake_cb(evutil_socket_t fd, short what, void *arg)
{
}

/* One turn of the loop that does not wait. */
static void
turn(void)
{
	event_base_loop(broker->base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
}

/*
 * Turn the loop until cond(arg) holds, at most DEADLINE seconds: each
 * turn waits for an event (the store's pipe) or 10 ms.
 */
static int
run_until(int (*cond)(void *), void *arg)
{
	struct event	*ev;
	struct timeval	 tv = { 0, 10000 };
	time_t		 end = time(NULL) + DEADLINE;

	ev = evtimer_new(broker->base, loop_wake_cb, NULL);
	while (!cond(arg)) {
		if (time(NULL) > end) {
			event_free(ev);
			return (0);
		}
		evtimer_add(ev, &tv);
		event_base_loop(broker->base, EVLOOP_ONCE);
	}
	event_free(ev);
	return (1);
}

static int
committed_cond(void *arg)
{
	return (store_is_committed(arg));
}

/* Wait until the loop has heard that m's batch is committed. */
static void
wait_committed(struct message *m)
{
	ck_assert_msg(run_until(committed_cond, m),
	    "batch %llu not committed within %d s (store at batch %llu)",
	    (unsigned long long)store_message_batch(m), DEADLINE,
	    (unsigned long long)store_batch());
}

struct sql_want {
	const char	*sql;
	int64_t		 want;
};

static int
sql_cond(void *arg)
{
	struct sql_want	*w = arg;

	return (db_int(w->sql) == w->want);
}

/* Turn the loop until the query gives want. */
static void
wait_sql(const char *sql, int64_t want)
{
	struct sql_want	w = { sql, want };

	ck_assert_msg(run_until(sql_cond, &w), "%s: %lld, expected %lld "
	    "within %d s", sql, (long long)db_int(sql), (long long)want,
	    DEADLINE);
}

/* A message of size bytes: "N:" then a pattern from n; persistent or not. */
static struct message *
mk(uint32_t n, size_t size, int persistent)
{
	/* Flags (delivery-mode present) and delivery-mode, as received. */
	uint8_t		 props[3] = { 0x10, 0x00, persistent ? 2 : 1 };
	struct message	*m;
	size_t		 i;

	m = message_new("amq.direct", 10, "key", 3, props, sizeof props,
	    size);
	for (i = 0; i < size; i++)
		MSG_BODY(m)[i] = (uint8_t)(n * 31 + i * 7);
	if (size >= 4)
		memcpy(MSG_BODY(m), &n, 4);
	message_parse_props(m);
	return (m);
}

/* Is e the message mk(n, size) made? */
static int
is_msg(const struct message *m, uint32_t n, size_t size)
{
	size_t	i;

	if (m->body_size != size)
		return (0);
	for (i = 0; i < size; i++) {
		if (i < 4 && size >= 4) {
			if (MSG_BODY(m)[i] != ((const uint8_t *)&n)[i])
				return (0);
		} else if (MSG_BODY(m)[i] != (uint8_t)(n * 31 + i * 7))
			return (0);
	}
	return (1);
}

/* Push n persistent messages of size bytes; returns the last (a ref). */
static struct message *
push(struct queue *q, uint32_t first, uint32_t n, size_t size)
{
	struct message	*m = NULL;
	uint32_t	 i;

	for (i = first; i < first + n; i++) {
		message_unref(&m);
		m = mk(i, size, 1);
		ck_assert_int_eq(queue_push(q, m), 0);
	}
	return (m);
}

/* Take the head and let it go for good (an ack); its seq. */
static uint64_t
settle(struct queue *q)
{
	struct qentry	e;
	uint64_t	seq;

	ck_assert(queue_take(q, &e));
	seq = e.seq;
	queue_forget(q, e.msg, e.seq);
	message_unref(&e.msg);
	return (seq);
}

static struct queue *
durable_queue(const char *name, const struct field_table *args)
{
	struct queue	*q;

	q = queue_new(vh, name, 1, 0, 0, NULL, args);
	store_queue_put(q);
	return (q);
}

START_TEST(test_store_creates_schema)
{
	struct queue	*q;
	struct message	*m;

	halt();
	ck_assert_int_eq(access(dbpath, F_OK), 0);
	ck_assert_int_eq(db_int("SELECT count(*) FROM sqlite_master WHERE "
	    "type = 'table' AND name IN ('exchange', 'queue', 'binding', "
	    "'message', 'queue_msg')"), 5);
	ck_assert_int_ge(db_int("PRAGMA user_version"), 1);
	/* Open again: the same file, nothing to recover, usable. */
	boot();
	ck_assert_ptr_null(vhost_queue_find(vh, "q"));
	q = durable_queue("q", NULL);
	m = push(q, 0, 1, 10);
	wait_committed(m);
	message_unref(&m);
	halt();
	boot();
	ck_assert_ptr_nonnull(q = vhost_queue_find(vh, "q"));
	ck_assert_uint_eq(q->count, 1);
}
END_TEST

START_TEST(test_store_recovers_entities_and_messages)
{
	/* alternate-exchange = "ae"; x-max-length = 100 (tables' contents). */
	static const uint8_t	 xargs[] = "\x12" "alternate-exchange" "S"
				    "\0\0\0\x02" "ae";
	static const uint8_t	 qargs[] = "\x0c" "x-max-length" "l"
				    "\0\0\0\0\0\0\0\x64";
	struct field_table	 xa = { xargs, sizeof xargs - 1 };
	struct field_table	 qa = { qargs, sizeof qargs - 1 };
	static const size_t	 sizes[] = { 0, 1, 100, 5000, 200000 };
	struct exchange		*x, *x2, *ae, *tx;
	struct queue		*q, *tq;
	struct message		*m;
	struct route_result	 rr = { NULL, 0, 0 };
	struct qentry		 e;
	uint64_t		 seq = 0;
	uint32_t		 i;

	ae = exchange_new(vh, "ae", &exchange_type_fanout, 1, 0, 0, NULL);
	store_exchange_put(ae);
	x = exchange_new(vh, "x", &exchange_type_direct, 1, 0, 0, &xa);
	store_exchange_put(x);
	x2 = exchange_new(vh, "x2", &exchange_type_topic, 1, 1, 1, NULL);
	store_exchange_put(x2);
	tx = exchange_new(vh, "tx", &exchange_type_direct, 0, 0, 0, NULL);
	store_exchange_put(tx);
	q = durable_queue("q", &qa);
	tq = queue_new(vh, "tq", 0, 0, 0, NULL, NULL);
	store_queue_put(tq);
	exchange_bind(x, q, NULL, "k", 1, NULL);
	exchange_bind(x, NULL, x2, "e2e", 3, NULL);
	exchange_bind(x2, q, NULL, "e2e.#", 5, NULL);
	exchange_bind(x, tq, NULL, "t", 1, NULL);	/* not durable */
	exchange_bind(tx, q, NULL, "t", 1, NULL);	/* not durable */
	for (i = 0; i < 5; i++) {
		m = mk(i, sizes[i], 1);
		queue_push(q, m);
		message_unref(&m);
		m = mk(100 + i, 10, 0);			/* transient */
		queue_push(q, m);
		message_unref(&m);
	}
	m = mk(999, 10, 1);
	queue_push(tq, m);				/* non-durable queue */
	message_unref(&m);
	m = mk(5, 10, 1);
	queue_push(q, m);
	wait_committed(m);
	message_unref(&m);

	halt();
	boot();
	ck_assert_ptr_null(vhost_exchange_find(vh, "tx"));
	ck_assert_ptr_null(vhost_queue_find(vh, "tq"));
	ck_assert_ptr_nonnull(x = vhost_exchange_find(vh, "x"));
	ck_assert_ptr_nonnull(x2 = vhost_exchange_find(vh, "x2"));
	ck_assert_ptr_nonnull(vhost_exchange_find(vh, "ae"));
	ck_assert(x->type == &exchange_type_direct);
	ck_assert(x2->type == &exchange_type_topic);
	ck_assert(x->durable && !x->auto_delete && !x->internal);
	ck_assert(x2->durable && x2->auto_delete && x2->internal);
	ck_assert_uint_eq(x->args.len, xa.len);
	ck_assert_mem_eq(x->args.p, xa.p, xa.len);
	ck_assert_str_eq(x->alternate, "ae");
	ck_assert_ptr_nonnull(q = vhost_queue_find(vh, "q"));
	ck_assert(q->durable && !q->auto_delete && !q->exclusive);
	ck_assert_uint_eq(q->args.len, qa.len);
	ck_assert_mem_eq(q->args.p, qa.p, qa.len);
	ck_assert_int_eq(q->max_length, 100);
	/* Bindings: x -k-> q, x -e2e-> x2 -e2e.#-> q; nothing from tx. */
	ck_assert_uint_eq(x->nbindings, 2);
	ck_assert_uint_eq(x2->nbindings, 1);
	exchange_route(x, "k", 1, NULL, &rr);
	ck_assert_uint_eq(rr.n, 1);
	ck_assert_ptr_eq(rr.q[0], q);
	exchange_route(x, "e2e", 3, NULL, &rr);
	ck_assert_uint_eq(rr.n, 1);
	ck_assert_ptr_eq(rr.q[0], q);
	exchange_route(x, "t", 1, NULL, &rr);
	ck_assert_uint_eq(rr.n, 0);
	route_result_free(&rr);
	/* The persistent messages, in order, intact, not redelivered. */
	ck_assert_uint_eq(q->count, 6);
	for (i = 0; i < 6; i++) {
		ck_assert(queue_take(q, &e));
		ck_assert_msg(is_msg(e.msg, i, i < 5 ? sizes[i] : 10),
		    "message %u differs", i);
		ck_assert_uint_eq(e.msg->delivery_mode, 2);
		ck_assert_int_eq(e.msg->exchange_len, 10);
		ck_assert_mem_eq(MSG_EXCHANGE(e.msg), "amq.direct", 10);
		ck_assert_mem_eq(MSG_RK(e.msg), "key", 3);
		ck_assert_int_eq(e.redelivered, 0);
		ck_assert_uint_gt(e.seq, seq);
		seq = e.seq;
		message_unref(&e.msg);
	}
}
END_TEST

/*
 * Everything queued in one loop turn is one batch; the next turn fills the
 * next batch, whose id is one more, even while the one before is still
 * being committed.  A message is reported committed (what releases its
 * confirm) only once its own batch is on disk.
 */
START_TEST(test_store_group_commit)
{
	struct queue	*q;
	struct message	*m0, *first, *next;
	uint64_t	 b0;
	int64_t		 msgs, rows;
	int		 done;

	q = durable_queue("q", NULL);
	m0 = push(q, 0, 1, 64);
	wait_committed(m0);
	message_unref(&m0);
	turn();
	b0 = store_batch();
	ck_assert(!store_batch_used());
	first = push(q, 1, 100, 64);
	/* A hundred enqueues in one turn: all in the batch being filled. */
	ck_assert_uint_eq(store_batch(), b0);
	ck_assert(store_batch_used());
	ck_assert_uint_eq(store_message_batch(first), b0);
	ck_assert_msg(!store_is_committed(first), "a message in the batch "
	    "being filled (%llu) is reported committed: that id was "
	    "committed before", (unsigned long long)b0);
	turn();				/* end of the turn: handed over */
	ck_assert_msg(store_batch() == b0 + 1, "after batch %llu was handed "
	    "to the store thread the next batch is %llu, not %llu",
	    (unsigned long long)b0, (unsigned long long)store_batch(),
	    (unsigned long long)b0 + 1);
	ck_assert(!store_batch_used());
	next = push(q, 101, 1, 64);
	ck_assert_uint_eq(store_message_batch(next), b0 + 1);
	ck_assert(!store_is_committed(next));
	wait_committed(first);
	/* Reported committed means on disk, all hundred at once. */
	done = store_is_committed(next);
	db_rows(&msgs, &rows);
	ck_assert_int_ge(rows, 101);
	if (done)
		ck_assert_int_eq(rows, 102);
	wait_committed(next);
	db_rows(&msgs, &rows);
	ck_assert_int_eq(msgs, 102);
	ck_assert_int_eq(rows, 102);
	message_unref(&first);
	message_unref(&next);
}
END_TEST

START_TEST(test_store_shared_message_stored_once)
{
	struct queue	*a, *b;
	struct message	*m;
	int64_t		 msgs, rows;

	a = durable_queue("a", NULL);
	b = durable_queue("b", NULL);
	m = mk(1, 3000, 1);
	queue_push(a, m);
	queue_push(b, m);
	wait_committed(m);
	message_unref(&m);
	db_rows(&msgs, &rows);
	ck_assert_int_eq(msgs, 1);
	ck_assert_int_eq(rows, 2);
	/* Settled in a: the row stays for b. */
	settle(a);
	wait_sql("SELECT count(*) FROM queue_msg", 1);
	db_rows(&msgs, &rows);
	ck_assert_int_eq(msgs, 1);
	ck_assert_int_eq(rows, 1);
	/* The last reference goes: so does the message row. */
	settle(b);
	wait_sql("SELECT count(*) FROM queue_msg", 0);
	db_rows(&msgs, &rows);
	ck_assert_int_eq(msgs, 0);
	ck_assert_int_eq(rows, 0);
	/* And after a restart both queues are empty. */
	halt();
	boot();
	ck_assert_uint_eq(vhost_queue_find(vh, "a")->count, 0);
	ck_assert_uint_eq(vhost_queue_find(vh, "b")->count, 0);
}
END_TEST

START_TEST(test_store_queue_delete_removes_rows)
{
	struct exchange	*x;
	struct queue	*q, *keep;
	struct message	*m;
	int64_t		 msgs, rows;

	x = exchange_new(vh, "x", &exchange_type_fanout, 1, 0, 0, NULL);
	store_exchange_put(x);
	q = durable_queue("q", NULL);
	keep = durable_queue("keep", NULL);
	exchange_bind(x, q, NULL, "", 0, NULL);
	exchange_bind(x, keep, NULL, "", 0, NULL);
	m = push(q, 0, 5, 100);
	message_unref(&m);
	m = mk(9, 100, 1);
	queue_push(keep, m);
	wait_committed(m);
	message_unref(&m);
	db_rows(&msgs, &rows);
	ck_assert_int_eq(msgs, 6);
	ck_assert_int_eq(rows, 6);
	ck_assert_int_eq(db_int("SELECT count(*) FROM binding"), 2);
	ck_assert_uint_eq(queue_delete(q), 5);
	wait_sql("SELECT count(*) FROM queue WHERE name = 'q'", 0);
	db_rows(&msgs, &rows);
	ck_assert_int_eq(msgs, 1);
	ck_assert_int_eq(rows, 1);
	ck_assert_int_eq(db_int("SELECT count(*) FROM binding"), 1);
	halt();
	boot();
	ck_assert_ptr_null(vhost_queue_find(vh, "q"));
	ck_assert_ptr_nonnull(keep = vhost_queue_find(vh, "keep"));
	ck_assert_uint_eq(keep->count, 1);
	ck_assert_uint_eq(vhost_exchange_find(vh, "x")->nbindings, 1);
}
END_TEST

START_TEST(test_store_delivered_mark)
{
	struct queue	*q;
	struct qentry	 e[2], f;
	struct message	*m;
	int		 i;

	q = durable_queue("q", NULL);
	m = push(q, 0, 4, 10);
	message_unref(&m);
	/* Two delivered and never settled (a crash comes before the ack). */
	for (i = 0; i < 2; i++) {
		ck_assert(queue_take(q, &e[i]));
		store_delivered(q, e[i].seq);
	}
	wait_sql("SELECT delivered_seq FROM queue WHERE name = 'q'",
	    (int64_t)e[1].seq);
	message_unref(&e[0].msg);
	message_unref(&e[1].msg);
	halt();
	boot();
	ck_assert_ptr_nonnull(q = vhost_queue_find(vh, "q"));
	ck_assert_uint_eq(q->count, 4);
	for (i = 0; i < 4; i++) {
		ck_assert(queue_take(q, &f));
		ck_assert_msg(is_msg(f.msg, (uint32_t)i, 10), "message %d", i);
		ck_assert_int_eq(f.redelivered, i < 2);
		message_unref(&f.msg);
	}
}
END_TEST

/* store_close() commits the batch being filled (a clean stop). */
START_TEST(test_store_close_commits_pending)
{
	struct queue	*q;
	struct message	*m;

	q = durable_queue("q", NULL);
	m = push(q, 0, 3, 10);
	message_unref(&m);
	ck_assert(store_batch_used());
	halt();
	ck_assert_int_eq(db_int("SELECT count(*) FROM queue_msg"), 3);
	boot();
	ck_assert_uint_eq(vhost_queue_find(vh, "q")->count, 3);
}
END_TEST

START_TEST(test_store_refuses_newer_schema)
{
	sqlite3	*db;
	char	*cause = NULL;

	halt();
	ck_assert_int_eq(sqlite3_open(dbpath, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(db, "PRAGMA user_version = 99", NULL,
	    NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	ck_assert_int_eq(broker_init(&cause), 0);
	ck_assert_int_eq(store_open(dir, &cause), -1);
	ck_assert_ptr_nonnull(cause);
	ck_assert_msg(strstr(cause, "99") != NULL, "cause: %s", cause);
	free(cause);
	broker_free();
	ck_assert_int_eq(db_int("PRAGMA user_version"), 99);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("store");
	TCase	*tc = tcase_create("sqlite");
	SRunner	*sr;
	int	 failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_store_creates_schema);
	tcase_add_test(tc, test_store_recovers_entities_and_messages);
	tcase_add_test(tc, test_store_group_commit);
	tcase_add_test(tc, test_store_shared_message_stored_once);
	tcase_add_test(tc, test_store_queue_delete_removes_rows);
	tcase_add_test(tc, test_store_delivered_mark);
	tcase_add_test(tc, test_store_close_commits_pending);
	tcase_add_test(tc, test_store_refuses_newer_schema);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
