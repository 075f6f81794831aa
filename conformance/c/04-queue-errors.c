/*
 * 04-queue-errors: the channel exceptions queue methods raise, with
 * RabbitMQ's codes, texts and failing method ids: 404 for a passive declare
 * (and bind, purge, consume) of a missing queue, 405 for another
 * connection's exclusive queue, 406 for an inequivalent redeclare or a
 * conditional delete, 403 for the reserved amq. prefix.  After each, the
 * channel is closed and can be opened again under the same number.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

static void	 passive_missing(amqp_connection_state_t);
static void	 other_missing(amqp_connection_state_t);
static void	 exclusive_locked(amqp_connection_state_t);
static void	 inequivalent(amqp_connection_state_t);
static void	 delete_conditions(amqp_connection_state_t);
static void	 reserved_prefix(amqp_connection_state_t);

/* Run every case on one connection, reopening channel 1 after each error. */
int
main(int argc, char **argv)
{
	amqp_connection_state_t	 conn;

	(void)argc;
	harness_start(argv[0]);
	conn = harness_connect();
	passive_missing(conn);
	other_missing(conn);
	exclusive_locked(conn);
	inequivalent(conn);
	delete_conditions(conn);
	reserved_prefix(conn);
	harness_close(conn);
	return (harness_done());
}

/* A passive declare of a missing queue: 404, and the channel is usable again
 * after reopening. */
static void
passive_missing(amqp_connection_state_t conn)
{
	char			*q = harness_unique("c-missing");
	char			 text[512];
	amqp_queue_declare_ok_t	*ok;

	amqp_queue_declare(conn, 1, amqp_cstring_bytes(q), 1, 0, 0, 0,
	    amqp_empty_table);
	snprintf(text, sizeof text, "NOT_FOUND - no queue '%s' in vhost '/'",
	    q);
	harness_expect_channel_close(conn, 1, amqp_get_rpc_reply(conn),
	    AMQP_NOT_FOUND, AMQP_QUEUE_DECLARE, text);

	/* Same channel number again: a fresh channel that works. */
	harness_channel_open(conn, 1);
	ok = amqp_queue_declare(conn, 1, amqp_empty_bytes, 0, 0, 1, 1,
	    amqp_empty_table);
	harness_rpc_ok(conn, "queue.declare after reopen");
	HARNESS_ASSERT(ok->queue.len > 0, "server-named queue has no name");
	free(q);
}

/* Bind, purge, consume and get on a missing queue are 404 too; binding an
 * existing queue to a missing exchange is 404 about the exchange. */
static void
other_missing(amqp_connection_state_t conn)
{
	char			*q = harness_unique("c-missing");
	char			*x = harness_unique("c-missing-x");
	char			 text[512];
	amqp_queue_declare_ok_t	*ok;
	amqp_bytes_t		 real;

	snprintf(text, sizeof text, "NOT_FOUND - no queue '%s' in vhost '/'",
	    q);

	amqp_queue_purge(conn, 1, amqp_cstring_bytes(q));
	harness_expect_channel_close(conn, 1, amqp_get_rpc_reply(conn),
	    AMQP_NOT_FOUND, AMQP_QUEUE_PURGE, text);
	harness_channel_open(conn, 1);

	amqp_basic_consume(conn, 1, amqp_cstring_bytes(q), amqp_empty_bytes,
	    0, 0, 0, amqp_empty_table);
	harness_expect_channel_close(conn, 1, amqp_get_rpc_reply(conn),
	    AMQP_NOT_FOUND, AMQP_BASIC_CONSUME, text);
	harness_channel_open(conn, 1);

	harness_expect_channel_close(conn, 1, amqp_basic_get(conn, 1,
	    amqp_cstring_bytes(q), 1), AMQP_NOT_FOUND, AMQP_BASIC_GET, text);
	harness_channel_open(conn, 1);

	/* Binding a missing queue to an existing exchange. */
	amqp_queue_bind(conn, 1, amqp_cstring_bytes(q),
	    amqp_cstring_bytes("amq.direct"), amqp_cstring_bytes("k"),
	    amqp_empty_table);
	harness_expect_channel_close(conn, 1, amqp_get_rpc_reply(conn),
	    AMQP_NOT_FOUND, AMQP_QUEUE_BIND, text);
	harness_channel_open(conn, 1);

	/* Binding an existing queue to a missing exchange. */
	ok = amqp_queue_declare(conn, 1, amqp_empty_bytes, 0, 0, 1, 1,
	    amqp_empty_table);
	harness_rpc_ok(conn, "queue.declare");
	real = amqp_bytes_malloc_dup(ok->queue);
	amqp_queue_bind(conn, 1, real, amqp_cstring_bytes(x),
	    amqp_cstring_bytes("k"), amqp_empty_table);
	snprintf(text, sizeof text,
	    "NOT_FOUND - no exchange '%s' in vhost '/'", x);
	harness_expect_channel_close(conn, 1, amqp_get_rpc_reply(conn),
	    AMQP_NOT_FOUND, AMQP_QUEUE_BIND, text);
	harness_channel_open(conn, 1);
	amqp_bytes_free(real);
	free(q);
	free(x);
}

/* An exclusive queue belongs to its connection: declaring, consuming or
 * deleting it from another connection is 405 RESOURCE_LOCKED. */
static void
exclusive_locked(amqp_connection_state_t conn)
{
	amqp_connection_state_t	 other;
	char			*q = harness_unique("c-exclusive");
	amqp_bytes_t		 qb = amqp_cstring_bytes(q);
	const char		*locked = "RESOURCE_LOCKED - cannot obtain "
				    "exclusive access to locked queue '*";

	amqp_queue_declare(conn, 1, qb, 0, 0, 1, 0, amqp_empty_table);
	harness_rpc_ok(conn, "declare exclusive queue");

	other = harness_connect();
	amqp_queue_declare(other, 1, qb, 0, 0, 1, 0, amqp_empty_table);
	harness_expect_channel_close(other, 1, amqp_get_rpc_reply(other),
	    AMQP_RESOURCE_LOCKED, AMQP_QUEUE_DECLARE, locked);
	harness_channel_open(other, 1);

	amqp_queue_declare(other, 1, qb, 1, 0, 0, 0, amqp_empty_table);
	harness_expect_channel_close(other, 1, amqp_get_rpc_reply(other),
	    AMQP_RESOURCE_LOCKED, AMQP_QUEUE_DECLARE, locked);
	harness_channel_open(other, 1);

	amqp_basic_consume(other, 1, qb, amqp_empty_bytes, 0, 0, 0,
	    amqp_empty_table);
	harness_expect_channel_close(other, 1, amqp_get_rpc_reply(other),
	    AMQP_RESOURCE_LOCKED, AMQP_BASIC_CONSUME, locked);
	harness_channel_open(other, 1);

	amqp_queue_delete(other, 1, qb, 0, 0);
	harness_expect_channel_close(other, 1, amqp_get_rpc_reply(other),
	    AMQP_RESOURCE_LOCKED, AMQP_QUEUE_DELETE, locked);
	harness_close(other);

	/* Still there for its owner. */
	amqp_queue_declare(conn, 1, qb, 1, 0, 0, 0, amqp_empty_table);
	harness_rpc_ok(conn, "passive declare by the owner");
	amqp_queue_delete(conn, 1, qb, 0, 0);
	harness_rpc_ok(conn, "queue.delete by the owner");
	free(q);
}

/* Redeclaring with a different durable, auto-delete or exclusive flag, or
 * different arguments, is 406 PRECONDITION_FAILED; a passive declare
 * ignores all of those. */
static void
inequivalent(amqp_connection_state_t conn)
{
	char			*q = harness_unique("c-ineq");
	amqp_bytes_t		 qb = amqp_cstring_bytes(q);
	amqp_table_entry_t	 e;
	amqp_table_t		 args;
	char			 text[512];

	e.key = amqp_cstring_bytes("x-max-length");
	e.value.kind = AMQP_FIELD_KIND_I32;
	e.value.value.i32 = 10;
	args.num_entries = 1;
	args.entries = &e;

	/* durable=0, auto_delete=1: gone when this test's connection is. */
	amqp_queue_declare(conn, 1, qb, 0, 0, 0, 1, amqp_empty_table);
	harness_rpc_ok(conn, "queue.declare");
	amqp_queue_declare(conn, 1, qb, 0, 0, 0, 1, amqp_empty_table);
	harness_rpc_ok(conn, "identical redeclare");

	amqp_queue_declare(conn, 1, qb, 0, 1, 0, 1, amqp_empty_table);
	snprintf(text, sizeof text, "PRECONDITION_FAILED - inequivalent arg "
	    "'durable' for queue '%s' in vhost '/': received 'true' but "
	    "current is 'false'", q);
	harness_expect_channel_close(conn, 1, amqp_get_rpc_reply(conn),
	    AMQP_PRECONDITION_FAILED, AMQP_QUEUE_DECLARE, text);
	harness_channel_open(conn, 1);

	amqp_queue_declare(conn, 1, qb, 0, 0, 0, 0, amqp_empty_table);
	snprintf(text, sizeof text, "PRECONDITION_FAILED - inequivalent arg "
	    "'auto_delete' for queue '%s' in vhost '/': received 'false' but "
	    "current is 'true'", q);
	harness_expect_channel_close(conn, 1, amqp_get_rpc_reply(conn),
	    AMQP_PRECONDITION_FAILED, AMQP_QUEUE_DECLARE, text);
	harness_channel_open(conn, 1);

	amqp_queue_declare(conn, 1, qb, 0, 0, 0, 1, args);
	snprintf(text, sizeof text, "PRECONDITION_FAILED - inequivalent arg "
	    "'x-max-length' for queue '%s' in vhost '/': received the value "
	    "'10' of type 'signedint' but current is none", q);
	harness_expect_channel_close(conn, 1, amqp_get_rpc_reply(conn),
	    AMQP_PRECONDITION_FAILED, AMQP_QUEUE_DECLARE, text);
	harness_channel_open(conn, 1);

	/* Passive: flags and arguments are not compared. */
	amqp_queue_declare(conn, 1, qb, 1, 1, 0, 0, args);
	harness_rpc_ok(conn, "passive declare with other flags");
	amqp_queue_delete(conn, 1, qb, 0, 0);
	harness_rpc_ok(conn, "queue.delete");
	free(q);
}

/* queue.delete with if-empty on a queue holding a message, or if-unused on
 * one with a consumer, is 406 and leaves the queue in place. */
static void
delete_conditions(amqp_connection_state_t conn)
{
	char			*q = harness_unique("c-del");
	amqp_bytes_t		 qb = amqp_cstring_bytes(q);
	char			 text[512];

	amqp_queue_declare(conn, 1, qb, 0, 0, 1, 0, amqp_empty_table);
	harness_rpc_ok(conn, "queue.declare");
	harness_status_ok(amqp_basic_publish(conn, 1, amqp_empty_bytes, qb, 0,
	    0, NULL, amqp_cstring_bytes("x")), "basic.publish");

	harness_wait_message_count(conn, 1, q, 1);
	amqp_queue_delete(conn, 1, qb, 0, 1);
	snprintf(text, sizeof text, "PRECONDITION_FAILED - queue '%s' in "
	    "vhost '/' not empty", q);
	harness_expect_channel_close(conn, 1, amqp_get_rpc_reply(conn),
	    AMQP_PRECONDITION_FAILED, AMQP_QUEUE_DELETE, text);
	harness_channel_open(conn, 1);

	/* The consumer lives on channel 2, which the 406 leaves open. */
	harness_channel_open(conn, 2);
	amqp_basic_consume(conn, 2, qb, amqp_cstring_bytes("c1"), 0, 0, 0,
	    amqp_empty_table);
	harness_rpc_ok(conn, "basic.consume");
	amqp_queue_delete(conn, 1, qb, 1, 0);
	snprintf(text, sizeof text, "PRECONDITION_FAILED - queue '%s' in "
	    "vhost '/' in use", q);
	harness_expect_channel_close(conn, 1, amqp_get_rpc_reply(conn),
	    AMQP_PRECONDITION_FAILED, AMQP_QUEUE_DELETE, text);
	harness_channel_open(conn, 1);

	/* basic.cancel-ok means the queue has dropped the consumer. */
	amqp_basic_cancel(conn, 2, amqp_cstring_bytes("c1"));
	harness_rpc_ok(conn, "basic.cancel");
	amqp_queue_delete(conn, 1, qb, 1, 0);
	harness_rpc_ok(conn, "queue.delete if-unused");
	harness_channel_close(conn, 2);
	free(q);
}

/* Names starting with amq. are reserved: declaring one is 403. */
static void
reserved_prefix(amqp_connection_state_t conn)
{
	char	*q = harness_unique("amq.c-reserved");
	char	 text[512];

	amqp_queue_declare(conn, 1, amqp_cstring_bytes(q), 0, 0, 1, 1,
	    amqp_empty_table);
	snprintf(text, sizeof text, "ACCESS_REFUSED - queue name '%s' contains "
	    "reserved prefix 'amq.*'", q);
	harness_expect_channel_close(conn, 1, amqp_get_rpc_reply(conn),
	    AMQP_ACCESS_REFUSED, AMQP_QUEUE_DECLARE, text);
	harness_channel_open(conn, 1);
	free(q);
}
