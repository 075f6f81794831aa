/*
 * check_queue.c: the queue's ring buffer: FIFO across growth, requeue at
 * the head with the redelivered flag, purge and byte counts.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "broker.h"
#include "message.h"
#include "queue.h"
#include "vhost.h"

static struct vhost	*vh;

static void
setup(void)
{
	vh = xcalloc(1, sizeof *vh);
	vh->name = xstrdup("/");
}

static void
teardown(void)
{
	struct queue	*q, *tmp;

	HASH_ITER(hh, vh->queues, q, tmp)
		queue_delete(q);
	free(vh->name);
	free(vh);
}

/* A message whose body is the 4-byte number n. */
static struct message *
mk(uint32_t n)
{
	struct message	*m;

	m = message_new("", 0, "k", 1, (const uint8_t *)"\0\0", 2, 4);
	memcpy(MSG_BODY(m), &n, 4);
	return (m);
}

static uint32_t
num(const struct message *m)
{
	uint32_t	n;

	memcpy(&n, MSG_BODY(m), 4);
	return (n);
}

START_TEST(test_queue_fifo_across_growth)
{
	struct queue	*q;
	struct message	*m;
	struct qentry	 e;
	uint32_t	 i;

	q = queue_new(vh, "q", 0, 0, 0, NULL, NULL);
	for (i = 0; i < 1000; i++) {
		m = mk(i);
		queue_push(q, m);
		message_unref(&m);
		/* Interleave pops so that the ring wraps before it grows. */
		if (i % 3 == 0) {
			ck_assert(queue_take(q, &e));
			ck_assert_uint_eq(num(e.msg), i / 3);
			message_unref(&e.msg);
		}
	}
	ck_assert_uint_eq(q->bytes, q->count * 4);
	i = 334;
	while (queue_take(q, &e)) {
		ck_assert_uint_eq(num(e.msg), i);
		ck_assert_int_eq(e.redelivered, 0);
		message_unref(&e.msg);
		i++;
	}
	ck_assert_uint_eq(i, 1000);
	ck_assert_uint_eq(q->bytes, 0);
}
END_TEST

START_TEST(test_queue_requeue_keeps_order)
{
	struct queue	*q;
	struct message	*m;
	struct qentry	 e[5], x;
	uint32_t	 i;

	q = queue_new(vh, "q2", 0, 0, 0, NULL, NULL);
	for (i = 0; i < 10; i++) {
		m = mk(i);
		queue_push(q, m);
		message_unref(&m);
	}
	for (i = 0; i < 5; i++)
		ck_assert(queue_take(q, &e[i]));
	/* Requeue 4, 2, 0 (newest first), as a channel does. */
	queue_requeue(q, &e[4]);
	queue_requeue(q, &e[2]);
	queue_requeue(q, &e[0]);
	message_unref(&e[1].msg);
	message_unref(&e[3].msg);
	ck_assert_uint_eq(q->count, 8);
	ck_assert(queue_take(q, &x));
	ck_assert_uint_eq(num(x.msg), 0);
	ck_assert_int_eq(x.redelivered, 1);
	message_unref(&x.msg);
	ck_assert(queue_take(q, &x));
	ck_assert_uint_eq(num(x.msg), 2);
	message_unref(&x.msg);
	ck_assert(queue_take(q, &x));
	ck_assert_uint_eq(num(x.msg), 4);
	message_unref(&x.msg);
	ck_assert(queue_take(q, &x));
	ck_assert_uint_eq(num(x.msg), 5);
	ck_assert_int_eq(x.redelivered, 0);
	message_unref(&x.msg);
	ck_assert_uint_eq(queue_purge(q), 4);
	ck_assert_uint_eq(q->count, 0);
	ck_assert(!queue_take(q, &x));
}
END_TEST

START_TEST(test_queue_shares_one_message)
{
	struct queue	*a, *b;
	struct message	*m;
	struct qentry	 e;

	a = queue_new(vh, "a", 0, 0, 0, NULL, NULL);
	b = queue_new(vh, "b", 0, 0, 0, NULL, NULL);
	m = mk(7);
	queue_push(a, m);
	queue_push(b, m);
	ck_assert_uint_eq(m->refcnt, 3);
	ck_assert(queue_take(a, &e));
	ck_assert_ptr_eq(e.msg, m);
	message_unref(&e.msg);
	ck_assert_uint_eq(queue_delete(b), 1);
	ck_assert_uint_eq(m->refcnt, 1);
	message_unref(&m);
	ck_assert_ptr_null(vhost_queue_find(vh, "b"));
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("queue");
	TCase	*tc = tcase_create("ring");
	SRunner	*sr;
	int	 failed;

	broker = xcalloc(1, sizeof *broker);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_queue_fifo_across_growth);
	tcase_add_test(tc, test_queue_requeue_keeps_order);
	tcase_add_test(tc, test_queue_shares_one_message);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	free(broker);
	return (failed == 0 ? 0 : 1);
}
