/*
 * 08-tx-basic: transactions.  After tx.select, publishes and acks take
 * effect at tx.commit and are discarded by tx.rollback; the channel stays
 * transactional after either.  tx.commit or tx.rollback on a plain channel
 * and confirm.select on a transactional one are 406.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

static void	 publish(amqp_connection_state_t, amqp_channel_t, const char *,
		    const char *);
static uint64_t	 get_one(amqp_connection_state_t, amqp_channel_t,
		    const char *, const char *);
static void	 expect_empty(amqp_connection_state_t, amqp_channel_t,
		    const char *);
static void	 publishes(amqp_connection_state_t, const char *);
static void	 acks(amqp_connection_state_t, const char *);
static void	 mode_errors(amqp_connection_state_t);

/* A queue checked from channel 1; the transactions run on channel 2. */
int
main(int argc, char **argv)
{
	amqp_connection_state_t	 conn;
	char			*q;

	(void)argc;
	harness_start(argv[0]);
	conn = harness_connect();
	q = harness_unique("c-tx");
	amqp_queue_declare(conn, 1, amqp_cstring_bytes(q), 0, 0, 1, 0,
	    amqp_empty_table);
	harness_rpc_ok(conn, "queue.declare");
	publishes(conn, q);
	acks(conn, q);
	mode_errors(conn);
	harness_close(conn);
	free(q);
	return (harness_done());
}

/* Publishes: invisible until commit, gone after rollback. */
static void
publishes(amqp_connection_state_t conn, const char *q)
{
	amqp_queue_declare_ok_t	*ok;

	harness_channel_open(conn, 2);
	amqp_tx_select(conn, 2);
	harness_rpc_ok(conn, "tx.select");

	publish(conn, 2, q, "a");
	publish(conn, 2, q, "b");
	publish(conn, 2, q, "c");
	/* A synchronous method on channel 2 orders the publishes before
	 * the count; they must still be pending. */
	ok = amqp_queue_declare(conn, 2, amqp_cstring_bytes(q), 1, 0, 0, 0,
	    amqp_empty_table);
	harness_rpc_ok(conn, "passive declare");
	HARNESS_ASSERT(ok->message_count == 0, "%u messages visible before "
	    "tx.commit", ok->message_count);

	/* commit-ok means they are in the queue: no polling. */
	amqp_tx_commit(conn, 2);
	harness_rpc_ok(conn, "tx.commit");
	ok = amqp_queue_declare(conn, 1, amqp_cstring_bytes(q), 1, 0, 0, 0,
	    amqp_empty_table);
	harness_rpc_ok(conn, "passive declare");
	HARNESS_ASSERT(ok->message_count == 3, "%u messages after tx.commit",
	    ok->message_count);

	/* Rolled back publishes never arrive, even after a later commit. */
	publish(conn, 2, q, "rolled-back-1");
	publish(conn, 2, q, "rolled-back-2");
	amqp_tx_rollback(conn, 2);
	harness_rpc_ok(conn, "tx.rollback");
	amqp_tx_commit(conn, 2);
	harness_rpc_ok(conn, "empty tx.commit");
	ok = amqp_queue_declare(conn, 1, amqp_cstring_bytes(q), 1, 0, 0, 0,
	    amqp_empty_table);
	harness_rpc_ok(conn, "passive declare");
	HARNESS_ASSERT(ok->message_count == 3, "%u messages after rollback "
	    "and commit, expected 3", ok->message_count);
	harness_channel_close(conn, 2);
}

/*
 * Acks: a rolled back ack leaves the message unacked (requeued when the
 * channel closes); a committed one removes it for good.
 */
static void
acks(amqp_connection_state_t conn, const char *q)
{
	uint64_t	 tag;

	harness_channel_open(conn, 2);
	amqp_tx_select(conn, 2);
	harness_rpc_ok(conn, "tx.select");
	get_one(conn, 2, q, "a");
	get_one(conn, 2, q, "b");
	tag = get_one(conn, 2, q, "c");
	harness_status_ok(amqp_basic_ack(conn, 2, tag, 1), "basic.ack");
	amqp_tx_rollback(conn, 2);
	harness_rpc_ok(conn, "tx.rollback");
	harness_channel_close(conn, 2);
	harness_wait_message_count(conn, 1, q, 3);

	harness_channel_open(conn, 2);
	amqp_tx_select(conn, 2);
	harness_rpc_ok(conn, "tx.select");
	get_one(conn, 2, q, "a");
	get_one(conn, 2, q, "b");
	tag = get_one(conn, 2, q, "c");
	harness_status_ok(amqp_basic_ack(conn, 2, tag, 1), "basic.ack");
	amqp_tx_commit(conn, 2);
	harness_rpc_ok(conn, "tx.commit");
	harness_channel_close(conn, 2);

	/* Had the acks been lost, closing would have requeued a, b and c
	 * ahead of the marker. */
	publish(conn, 1, q, "marker");
	harness_wait_message_count(conn, 1, q, 1);
	tag = get_one(conn, 1, q, "marker");
	harness_status_ok(amqp_basic_ack(conn, 1, tag, 0), "basic.ack");
	expect_empty(conn, 1, q);
}

/* tx.commit/rollback outside a transaction, confirm.select inside one. */
static void
mode_errors(amqp_connection_state_t conn)
{
	harness_channel_open(conn, 2);
	amqp_tx_commit(conn, 2);
	harness_expect_channel_close(conn, 2, amqp_get_rpc_reply(conn),
	    AMQP_PRECONDITION_FAILED, AMQP_TX_COMMIT,
	    "PRECONDITION_FAILED - channel is not transactional");
	harness_channel_open(conn, 2);
	amqp_tx_rollback(conn, 2);
	harness_expect_channel_close(conn, 2, amqp_get_rpc_reply(conn),
	    AMQP_PRECONDITION_FAILED, AMQP_TX_ROLLBACK,
	    "PRECONDITION_FAILED - channel is not transactional");
	harness_channel_open(conn, 2);
	amqp_tx_select(conn, 2);
	harness_rpc_ok(conn, "tx.select");
	amqp_tx_select(conn, 2);
	harness_rpc_ok(conn, "second tx.select");
	amqp_confirm_select(conn, 2);
	harness_expect_channel_close(conn, 2, amqp_get_rpc_reply(conn),
	    AMQP_PRECONDITION_FAILED, AMQP_CONFIRM_SELECT,
	    "PRECONDITION_FAILED - cannot switch from tx to confirm mode");
}

/* Publish body to q through the default exchange on ch. */
static void
publish(amqp_connection_state_t conn, amqp_channel_t ch, const char *q,
    const char *body)
{
	harness_status_ok(amqp_basic_publish(conn, ch, amqp_empty_bytes,
	    amqp_cstring_bytes(q), 0, 0, NULL, amqp_cstring_bytes(body)),
	    "basic.publish");
}

/* basic.get (manual ack) on ch must return body; returns its tag. */
static uint64_t
get_one(amqp_connection_state_t conn, amqp_channel_t ch, const char *q,
    const char *body)
{
	amqp_rpc_reply_t	 r;
	amqp_basic_get_ok_t	*g;
	amqp_message_t		 m;
	uint64_t		 tag;

	r = amqp_basic_get(conn, ch, amqp_cstring_bytes(q), 0);
	harness_ok(r, "basic.get");
	HARNESS_ASSERT(r.reply.id == AMQP_BASIC_GET_OK_METHOD,
	    "basic.get for '%s' answered %s", body,
	    amqp_method_name(r.reply.id));
	g = r.reply.decoded;
	tag = g->delivery_tag;
	harness_ok(amqp_read_message(conn, ch, &m, 0), "read get-ok content");
	HARNESS_ASSERT(harness_bytes_eq_str(m.body, body),
	    "got '%.*s', expected '%s'", (int)m.body.len, (char *)m.body.bytes,
	    body);
	amqp_destroy_message(&m);
	return (tag);
}

/* basic.get on ch must find q empty. */
static void
expect_empty(amqp_connection_state_t conn, amqp_channel_t ch, const char *q)
{
	amqp_rpc_reply_t	 r;

	r = amqp_basic_get(conn, ch, amqp_cstring_bytes(q), 0);
	harness_ok(r, "basic.get");
	HARNESS_ASSERT(r.reply.id == AMQP_BASIC_GET_EMPTY_METHOD,
	    "queue not empty: %s", amqp_method_name(r.reply.id));
}
