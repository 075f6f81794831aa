/*
 * method.c: the AMQP 0-9-1 method table, with RabbitMQ's extensions
 * (exchange.bind/unbind, basic.nack, confirm, connection.blocked and
 * update-secret).  Each method with arguments has an array of field
 * descriptors pointing into its argument struct; one generic decoder and
 * one generic encoder walk those arrays.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "method.h"

#define METHOD_NITEMS(a)	(sizeof (a) / sizeof (a)[0])

/* A field descriptor: wire name, type, member of struct s. */
#define FIELD(s, name, type, member)					\
	{ name, type, offsetof(struct s, member) }

/* A method with arguments, stored at index mth of its class array. */
#define METHOD(cls, mth, name, s, fields, flags)			\
	[mth] = { AMQP_METHOD_ID(cls, mth), name, sizeof(struct s),	\
	    fields, METHOD_NITEMS(fields), flags }

/* A method without arguments. */
#define METHOD0(cls, mth, name, flags)					\
	[mth] = { AMQP_METHOD_ID(cls, mth), name, 0, NULL, 0, flags }

static size_t	 method_args_size(const struct method_desc *,
		     const uint8_t *);
static uint8_t	*method_args_write(const struct method_desc *,
		     const uint8_t *, uint8_t *);
static int	 method_args_read(const struct method_desc *,
		     struct wire_reader *, uint8_t *);

static const struct wire_field method_connection_start_f[] = {
	FIELD(connection_start, "version-major", WT_OCTET, version_major),
	FIELD(connection_start, "version-minor", WT_OCTET, version_minor),
	FIELD(connection_start, "server-properties", WT_TABLE,
	    server_properties),
	FIELD(connection_start, "mechanisms", WT_LONGSTR, mechanisms),
	FIELD(connection_start, "locales", WT_LONGSTR, locales),
};
static const struct wire_field method_connection_start_ok_f[] = {
	FIELD(connection_start_ok, "client-properties", WT_TABLE,
	    client_properties),
	FIELD(connection_start_ok, "mechanism", WT_SHORTSTR, mechanism),
	FIELD(connection_start_ok, "response", WT_LONGSTR, response),
	FIELD(connection_start_ok, "locale", WT_SHORTSTR, locale),
};
static const struct wire_field method_connection_secure_f[] = {
	FIELD(connection_secure, "challenge", WT_LONGSTR, challenge),
};
static const struct wire_field method_connection_secure_ok_f[] = {
	FIELD(connection_secure_ok, "response", WT_LONGSTR, response),
};
static const struct wire_field method_connection_tune_f[] = {
	FIELD(connection_tune, "channel-max", WT_SHORT, channel_max),
	FIELD(connection_tune, "frame-max", WT_LONG, frame_max),
	FIELD(connection_tune, "heartbeat", WT_SHORT, heartbeat),
};
static const struct wire_field method_connection_open_f[] = {
	FIELD(connection_open, "virtual-host", WT_SHORTSTR, virtual_host),
	FIELD(connection_open, "capabilities", WT_SHORTSTR, capabilities),
	FIELD(connection_open, "insist", WT_BIT, insist),
};
static const struct wire_field method_connection_open_ok_f[] = {
	FIELD(connection_open_ok, "known-hosts", WT_SHORTSTR, known_hosts),
};
static const struct wire_field method_connection_close_f[] = {
	FIELD(connection_close, "reply-code", WT_SHORT, reply_code),
	FIELD(connection_close, "reply-text", WT_SHORTSTR, reply_text),
	FIELD(connection_close, "class-id", WT_SHORT, class_id),
	FIELD(connection_close, "method-id", WT_SHORT, method_id),
};
static const struct wire_field method_connection_blocked_f[] = {
	FIELD(connection_blocked, "reason", WT_SHORTSTR, reason),
};
static const struct wire_field method_connection_update_secret_f[] = {
	FIELD(connection_update_secret, "new-secret", WT_LONGSTR, new_secret),
	FIELD(connection_update_secret, "reason", WT_SHORTSTR, reason),
};

static const struct wire_field method_channel_open_f[] = {
	FIELD(channel_open, "out-of-band", WT_SHORTSTR, out_of_band),
};
static const struct wire_field method_channel_open_ok_f[] = {
	FIELD(channel_open_ok, "channel-id", WT_LONGSTR, channel_id),
};
static const struct wire_field method_channel_flow_f[] = {
	FIELD(channel_flow, "active", WT_BIT, active),
};

static const struct wire_field method_exchange_declare_f[] = {
	FIELD(exchange_declare, "ticket", WT_SHORT, ticket),
	FIELD(exchange_declare, "exchange", WT_SHORTSTR, exchange),
	FIELD(exchange_declare, "type", WT_SHORTSTR, type),
	FIELD(exchange_declare, "passive", WT_BIT, passive),
	FIELD(exchange_declare, "durable", WT_BIT, durable),
	FIELD(exchange_declare, "auto-delete", WT_BIT, auto_delete),
	FIELD(exchange_declare, "internal", WT_BIT, internal),
	FIELD(exchange_declare, "no-wait", WT_BIT, nowait),
	FIELD(exchange_declare, "arguments", WT_TABLE, arguments),
};
static const struct wire_field method_exchange_delete_f[] = {
	FIELD(exchange_delete, "ticket", WT_SHORT, ticket),
	FIELD(exchange_delete, "exchange", WT_SHORTSTR, exchange),
	FIELD(exchange_delete, "if-unused", WT_BIT, if_unused),
	FIELD(exchange_delete, "no-wait", WT_BIT, nowait),
};
static const struct wire_field method_exchange_bind_f[] = {
	FIELD(exchange_bind, "ticket", WT_SHORT, ticket),
	FIELD(exchange_bind, "destination", WT_SHORTSTR, destination),
	FIELD(exchange_bind, "source", WT_SHORTSTR, source),
	FIELD(exchange_bind, "routing-key", WT_SHORTSTR, routing_key),
	FIELD(exchange_bind, "no-wait", WT_BIT, nowait),
	FIELD(exchange_bind, "arguments", WT_TABLE, arguments),
};

static const struct wire_field method_queue_declare_f[] = {
	FIELD(queue_declare, "ticket", WT_SHORT, ticket),
	FIELD(queue_declare, "queue", WT_SHORTSTR, queue),
	FIELD(queue_declare, "passive", WT_BIT, passive),
	FIELD(queue_declare, "durable", WT_BIT, durable),
	FIELD(queue_declare, "exclusive", WT_BIT, exclusive),
	FIELD(queue_declare, "auto-delete", WT_BIT, auto_delete),
	FIELD(queue_declare, "no-wait", WT_BIT, nowait),
	FIELD(queue_declare, "arguments", WT_TABLE, arguments),
};
static const struct wire_field method_queue_declare_ok_f[] = {
	FIELD(queue_declare_ok, "queue", WT_SHORTSTR, queue),
	FIELD(queue_declare_ok, "message-count", WT_LONG, message_count),
	FIELD(queue_declare_ok, "consumer-count", WT_LONG, consumer_count),
};
static const struct wire_field method_queue_bind_f[] = {
	FIELD(queue_bind, "ticket", WT_SHORT, ticket),
	FIELD(queue_bind, "queue", WT_SHORTSTR, queue),
	FIELD(queue_bind, "exchange", WT_SHORTSTR, exchange),
	FIELD(queue_bind, "routing-key", WT_SHORTSTR, routing_key),
	FIELD(queue_bind, "no-wait", WT_BIT, nowait),
	FIELD(queue_bind, "arguments", WT_TABLE, arguments),
};
static const struct wire_field method_queue_purge_f[] = {
	FIELD(queue_purge, "ticket", WT_SHORT, ticket),
	FIELD(queue_purge, "queue", WT_SHORTSTR, queue),
	FIELD(queue_purge, "no-wait", WT_BIT, nowait),
};
static const struct wire_field method_queue_purge_ok_f[] = {
	FIELD(queue_purge_ok, "message-count", WT_LONG, message_count),
};
static const struct wire_field method_queue_delete_f[] = {
	FIELD(queue_delete, "ticket", WT_SHORT, ticket),
	FIELD(queue_delete, "queue", WT_SHORTSTR, queue),
	FIELD(queue_delete, "if-unused", WT_BIT, if_unused),
	FIELD(queue_delete, "if-empty", WT_BIT, if_empty),
	FIELD(queue_delete, "no-wait", WT_BIT, nowait),
};
static const struct wire_field method_queue_unbind_f[] = {
	FIELD(queue_unbind, "ticket", WT_SHORT, ticket),
	FIELD(queue_unbind, "queue", WT_SHORTSTR, queue),
	FIELD(queue_unbind, "exchange", WT_SHORTSTR, exchange),
	FIELD(queue_unbind, "routing-key", WT_SHORTSTR, routing_key),
	FIELD(queue_unbind, "arguments", WT_TABLE, arguments),
};

static const struct wire_field method_basic_qos_f[] = {
	FIELD(basic_qos, "prefetch-size", WT_LONG, prefetch_size),
	FIELD(basic_qos, "prefetch-count", WT_SHORT, prefetch_count),
	FIELD(basic_qos, "global", WT_BIT, global),
};
static const struct wire_field method_basic_consume_f[] = {
	FIELD(basic_consume, "ticket", WT_SHORT, ticket),
	FIELD(basic_consume, "queue", WT_SHORTSTR, queue),
	FIELD(basic_consume, "consumer-tag", WT_SHORTSTR, consumer_tag),
	FIELD(basic_consume, "no-local", WT_BIT, no_local),
	FIELD(basic_consume, "no-ack", WT_BIT, no_ack),
	FIELD(basic_consume, "exclusive", WT_BIT, exclusive),
	FIELD(basic_consume, "no-wait", WT_BIT, nowait),
	FIELD(basic_consume, "arguments", WT_TABLE, arguments),
};
static const struct wire_field method_basic_consume_ok_f[] = {
	FIELD(basic_consume_ok, "consumer-tag", WT_SHORTSTR, consumer_tag),
};
static const struct wire_field method_basic_cancel_f[] = {
	FIELD(basic_cancel, "consumer-tag", WT_SHORTSTR, consumer_tag),
	FIELD(basic_cancel, "no-wait", WT_BIT, nowait),
};
static const struct wire_field method_basic_publish_f[] = {
	FIELD(basic_publish, "ticket", WT_SHORT, ticket),
	FIELD(basic_publish, "exchange", WT_SHORTSTR, exchange),
	FIELD(basic_publish, "routing-key", WT_SHORTSTR, routing_key),
	FIELD(basic_publish, "mandatory", WT_BIT, mandatory),
	FIELD(basic_publish, "immediate", WT_BIT, immediate),
};
static const struct wire_field method_basic_return_f[] = {
	FIELD(basic_return, "reply-code", WT_SHORT, reply_code),
	FIELD(basic_return, "reply-text", WT_SHORTSTR, reply_text),
	FIELD(basic_return, "exchange", WT_SHORTSTR, exchange),
	FIELD(basic_return, "routing-key", WT_SHORTSTR, routing_key),
};
static const struct wire_field method_basic_deliver_f[] = {
	FIELD(basic_deliver, "consumer-tag", WT_SHORTSTR, consumer_tag),
	FIELD(basic_deliver, "delivery-tag", WT_LONGLONG, delivery_tag),
	FIELD(basic_deliver, "redelivered", WT_BIT, redelivered),
	FIELD(basic_deliver, "exchange", WT_SHORTSTR, exchange),
	FIELD(basic_deliver, "routing-key", WT_SHORTSTR, routing_key),
};
static const struct wire_field method_basic_get_f[] = {
	FIELD(basic_get, "ticket", WT_SHORT, ticket),
	FIELD(basic_get, "queue", WT_SHORTSTR, queue),
	FIELD(basic_get, "no-ack", WT_BIT, no_ack),
};
static const struct wire_field method_basic_get_ok_f[] = {
	FIELD(basic_get_ok, "delivery-tag", WT_LONGLONG, delivery_tag),
	FIELD(basic_get_ok, "redelivered", WT_BIT, redelivered),
	FIELD(basic_get_ok, "exchange", WT_SHORTSTR, exchange),
	FIELD(basic_get_ok, "routing-key", WT_SHORTSTR, routing_key),
	FIELD(basic_get_ok, "message-count", WT_LONG, message_count),
};
static const struct wire_field method_basic_get_empty_f[] = {
	FIELD(basic_get_empty, "cluster-id", WT_SHORTSTR, cluster_id),
};
static const struct wire_field method_basic_ack_f[] = {
	FIELD(basic_ack, "delivery-tag", WT_LONGLONG, delivery_tag),
	FIELD(basic_ack, "multiple", WT_BIT, multiple),
};
static const struct wire_field method_basic_reject_f[] = {
	FIELD(basic_reject, "delivery-tag", WT_LONGLONG, delivery_tag),
	FIELD(basic_reject, "requeue", WT_BIT, requeue),
};
static const struct wire_field method_basic_recover_f[] = {
	FIELD(basic_recover, "requeue", WT_BIT, requeue),
};
static const struct wire_field method_basic_nack_f[] = {
	FIELD(basic_nack, "delivery-tag", WT_LONGLONG, delivery_tag),
	FIELD(basic_nack, "multiple", WT_BIT, multiple),
	FIELD(basic_nack, "requeue", WT_BIT, requeue),
};

static const struct wire_field method_confirm_select_f[] = {
	FIELD(confirm_select, "no-wait", WT_BIT, nowait),
};

/*
 * One array per class, indexed by method id, so method_find() is a switch
 * and an index.  METHOD_SYNC marks requests that have a reply; the
 * replies themselves do not carry it.
 */
static const struct method_desc method_connection[] = {
	METHOD(10, 10, "connection.start", connection_start,
	    method_connection_start_f, METHOD_SYNC),
	METHOD(10, 11, "connection.start-ok", connection_start_ok,
	    method_connection_start_ok_f, 0),
	METHOD(10, 20, "connection.secure", connection_secure,
	    method_connection_secure_f, METHOD_SYNC),
	METHOD(10, 21, "connection.secure-ok", connection_secure_ok,
	    method_connection_secure_ok_f, 0),
	METHOD(10, 30, "connection.tune", connection_tune,
	    method_connection_tune_f, METHOD_SYNC),
	METHOD(10, 31, "connection.tune-ok", connection_tune,
	    method_connection_tune_f, 0),
	METHOD(10, 40, "connection.open", connection_open,
	    method_connection_open_f, METHOD_SYNC),
	METHOD(10, 41, "connection.open-ok", connection_open_ok,
	    method_connection_open_ok_f, 0),
	METHOD(10, 50, "connection.close", connection_close,
	    method_connection_close_f, METHOD_SYNC),
	METHOD0(10, 51, "connection.close-ok", 0),
	METHOD(10, 60, "connection.blocked", connection_blocked,
	    method_connection_blocked_f, 0),
	METHOD0(10, 61, "connection.unblocked", 0),
	METHOD(10, 70, "connection.update-secret", connection_update_secret,
	    method_connection_update_secret_f, METHOD_SYNC),
	METHOD0(10, 71, "connection.update-secret-ok", 0),
};

static const struct method_desc method_channel[] = {
	METHOD(20, 10, "channel.open", channel_open, method_channel_open_f,
	    METHOD_SYNC),
	METHOD(20, 11, "channel.open-ok", channel_open_ok,
	    method_channel_open_ok_f, 0),
	METHOD(20, 20, "channel.flow", channel_flow, method_channel_flow_f,
	    METHOD_SYNC),
	METHOD(20, 21, "channel.flow-ok", channel_flow, method_channel_flow_f,
	    0),
	METHOD(20, 40, "channel.close", connection_close,
	    method_connection_close_f, METHOD_SYNC),
	METHOD0(20, 41, "channel.close-ok", 0),
};

static const struct method_desc method_exchange[] = {
	METHOD(40, 10, "exchange.declare", exchange_declare,
	    method_exchange_declare_f, METHOD_SYNC),
	METHOD0(40, 11, "exchange.declare-ok", 0),
	METHOD(40, 20, "exchange.delete", exchange_delete,
	    method_exchange_delete_f, METHOD_SYNC),
	METHOD0(40, 21, "exchange.delete-ok", 0),
	METHOD(40, 30, "exchange.bind", exchange_bind, method_exchange_bind_f,
	    METHOD_SYNC),
	METHOD0(40, 31, "exchange.bind-ok", 0),
	METHOD(40, 40, "exchange.unbind", exchange_bind,
	    method_exchange_bind_f, METHOD_SYNC),
	/* RabbitMQ's extension numbers unbind-ok 51, not 41. */
	METHOD0(40, 51, "exchange.unbind-ok", 0),
};

static const struct method_desc method_queue[] = {
	METHOD(50, 10, "queue.declare", queue_declare, method_queue_declare_f,
	    METHOD_SYNC),
	METHOD(50, 11, "queue.declare-ok", queue_declare_ok,
	    method_queue_declare_ok_f, 0),
	METHOD(50, 20, "queue.bind", queue_bind, method_queue_bind_f,
	    METHOD_SYNC),
	METHOD0(50, 21, "queue.bind-ok", 0),
	METHOD(50, 30, "queue.purge", queue_purge, method_queue_purge_f,
	    METHOD_SYNC),
	METHOD(50, 31, "queue.purge-ok", queue_purge_ok,
	    method_queue_purge_ok_f, 0),
	METHOD(50, 40, "queue.delete", queue_delete, method_queue_delete_f,
	    METHOD_SYNC),
	METHOD(50, 41, "queue.delete-ok", queue_purge_ok,
	    method_queue_purge_ok_f, 0),
	METHOD(50, 50, "queue.unbind", queue_unbind, method_queue_unbind_f,
	    METHOD_SYNC),
	METHOD0(50, 51, "queue.unbind-ok", 0),
};

static const struct method_desc method_basic[] = {
	METHOD(60, 10, "basic.qos", basic_qos, method_basic_qos_f,
	    METHOD_SYNC),
	METHOD0(60, 11, "basic.qos-ok", 0),
	METHOD(60, 20, "basic.consume", basic_consume, method_basic_consume_f,
	    METHOD_SYNC),
	METHOD(60, 21, "basic.consume-ok", basic_consume_ok,
	    method_basic_consume_ok_f, 0),
	METHOD(60, 30, "basic.cancel", basic_cancel, method_basic_cancel_f,
	    METHOD_SYNC),
	METHOD(60, 31, "basic.cancel-ok", basic_consume_ok,
	    method_basic_consume_ok_f, 0),
	METHOD(60, 40, "basic.publish", basic_publish, method_basic_publish_f,
	    METHOD_CONTENT),
	METHOD(60, 50, "basic.return", basic_return, method_basic_return_f,
	    METHOD_CONTENT),
	METHOD(60, 60, "basic.deliver", basic_deliver, method_basic_deliver_f,
	    METHOD_CONTENT),
	METHOD(60, 70, "basic.get", basic_get, method_basic_get_f,
	    METHOD_SYNC),
	METHOD(60, 71, "basic.get-ok", basic_get_ok, method_basic_get_ok_f,
	    METHOD_CONTENT),
	METHOD(60, 72, "basic.get-empty", basic_get_empty,
	    method_basic_get_empty_f, 0),
	METHOD(60, 80, "basic.ack", basic_ack, method_basic_ack_f, 0),
	METHOD(60, 90, "basic.reject", basic_reject, method_basic_reject_f,
	    0),
	METHOD(60, 100, "basic.recover-async", basic_recover,
	    method_basic_recover_f, 0),
	METHOD(60, 110, "basic.recover", basic_recover,
	    method_basic_recover_f, METHOD_SYNC),
	METHOD0(60, 111, "basic.recover-ok", 0),
	METHOD(60, 120, "basic.nack", basic_nack, method_basic_nack_f, 0),
};

static const struct method_desc method_confirm[] = {
	METHOD(85, 10, "confirm.select", confirm_select,
	    method_confirm_select_f, METHOD_SYNC),
	METHOD0(85, 11, "confirm.select-ok", 0),
};

static const struct method_desc method_tx[] = {
	METHOD0(90, 10, "tx.select", METHOD_SYNC),
	METHOD0(90, 11, "tx.select-ok", 0),
	METHOD0(90, 20, "tx.commit", METHOD_SYNC),
	METHOD0(90, 21, "tx.commit-ok", 0),
	METHOD0(90, 30, "tx.rollback", METHOD_SYNC),
	METHOD0(90, 31, "tx.rollback-ok", 0),
};

/* Look a method up by id; NULL when the class or method is unknown. */
const struct method_desc *
method_find(uint32_t id)
{
	const struct method_desc	*tab;
	size_t				 n;
	uint16_t			 mth;

	switch (AMQP_METHOD_CLASS(id)) {
	case AMQP_CLASS_CONNECTION:
		tab = method_connection;
		n = METHOD_NITEMS(method_connection);
		break;
	case AMQP_CLASS_CHANNEL:
		tab = method_channel;
		n = METHOD_NITEMS(method_channel);
		break;
	case AMQP_CLASS_EXCHANGE:
		tab = method_exchange;
		n = METHOD_NITEMS(method_exchange);
		break;
	case AMQP_CLASS_QUEUE:
		tab = method_queue;
		n = METHOD_NITEMS(method_queue);
		break;
	case AMQP_CLASS_BASIC:
		tab = method_basic;
		n = METHOD_NITEMS(method_basic);
		break;
	case AMQP_CLASS_CONFIRM:
		tab = method_confirm;
		n = METHOD_NITEMS(method_confirm);
		break;
	case AMQP_CLASS_TX:
		tab = method_tx;
		n = METHOD_NITEMS(method_tx);
		break;
	default:
		return (NULL);
	}
	mth = AMQP_METHOD_INDEX(id);
	if (mth >= n || tab[mth].name == NULL)
		return (NULL);
	return (&tab[mth]);
}

/* Name of a method id for messages, or "unknown". */
const char *
method_name(uint32_t id)
{
	const struct method_desc	*m;

	if ((m = method_find(id)) == NULL)
		return ("unknown");
	return (m->name);
}

/*
 * Read the arguments of m into the struct at a.  0-9-1 section 4.2.5.2:
 * consecutive bit fields share an octet, first bit in the least
 * significant position, a new octet after eight.
 */
static int
method_args_read(const struct method_desc *m, struct wire_reader *r,
    uint8_t *a)
{
	const struct wire_field	*f;
	unsigned		 i;
	int			 bit = -1;
	uint8_t			 octet = 0;

	for (i = 0; i < m->nfields; i++) {
		f = &m->fields[i];
		if (f->type != WT_BIT)
			bit = -1;
		switch (f->type) {
		case WT_OCTET:
			if (wire_get_u8(r, (uint8_t *)(a + f->off)) != 0)
				return (-1);
			break;
		case WT_SHORT:
			if (wire_get_u16(r, (uint16_t *)(a + f->off)) != 0)
				return (-1);
			break;
		case WT_LONG:
			if (wire_get_u32(r, (uint32_t *)(a + f->off)) != 0)
				return (-1);
			break;
		case WT_LONGLONG:
		case WT_TIMESTAMP:
			if (wire_get_u64(r, (uint64_t *)(a + f->off)) != 0)
				return (-1);
			break;
		case WT_SHORTSTR:
			if (wire_get_shortstr(r,
			    (struct shortstr *)(a + f->off)) != 0)
				return (-1);
			break;
		case WT_LONGSTR:
			if (wire_get_longstr(r,
			    (struct longstr *)(a + f->off)) != 0)
				return (-1);
			break;
		case WT_TABLE:
			if (wire_get_table(r,
			    (struct field_table *)(a + f->off)) != 0)
				return (-1);
			break;
		case WT_BIT:
			if (bit < 0 || bit == 8) {
				if (wire_get_u8(r, &octet) != 0)
					return (-1);
				bit = 0;
			}
			a[f->off] = (octet >> bit) & 1;
			bit++;
			break;
		}
	}
	return (0);
}

/* Encoded size of the arguments of m held in the struct at a. */
static size_t
method_args_size(const struct method_desc *m, const uint8_t *a)
{
	const struct wire_field	*f;
	size_t			 n = 0;
	unsigned		 i;
	int			 bit = -1;

	for (i = 0; i < m->nfields; i++) {
		f = &m->fields[i];
		if (f->type != WT_BIT)
			bit = -1;
		switch (f->type) {
		case WT_OCTET:
			n += 1;
			break;
		case WT_SHORT:
			n += 2;
			break;
		case WT_LONG:
			n += 4;
			break;
		case WT_LONGLONG:
		case WT_TIMESTAMP:
			n += 8;
			break;
		case WT_SHORTSTR:
			n += 1 + (size_t)((const struct shortstr *)
			    (a + f->off))->len;
			break;
		case WT_LONGSTR:
			n += 4 + (size_t)((const struct longstr *)
			    (a + f->off))->len;
			break;
		case WT_TABLE:
			n += 4 + (size_t)((const struct field_table *)
			    (a + f->off))->len;
			break;
		case WT_BIT:
			if (bit < 0 || bit == 8) {
				n += 1;
				bit = 0;
			}
			bit++;
			break;
		}
	}
	return (n);
}

/* Write the arguments of m from the struct at a to p; returns the end. */
static uint8_t *
method_args_write(const struct method_desc *m, const uint8_t *a, uint8_t *p)
{
	const struct wire_field		*f;
	const struct shortstr		*ss;
	const struct longstr		*ls;
	const struct field_table	*t;
	uint8_t				*octet = NULL;
	uint16_t			 u16;
	uint32_t			 u32;
	uint64_t			 u64;
	unsigned			 i;
	int				 bit = -1;

	for (i = 0; i < m->nfields; i++) {
		f = &m->fields[i];
		if (f->type != WT_BIT)
			bit = -1;
		switch (f->type) {
		case WT_OCTET:
			p = wire_enc_u8(p, a[f->off]);
			break;
		case WT_SHORT:
			memcpy(&u16, a + f->off, sizeof u16);
			p = wire_enc_u16(p, u16);
			break;
		case WT_LONG:
			memcpy(&u32, a + f->off, sizeof u32);
			p = wire_enc_u32(p, u32);
			break;
		case WT_LONGLONG:
		case WT_TIMESTAMP:
			memcpy(&u64, a + f->off, sizeof u64);
			p = wire_enc_u64(p, u64);
			break;
		case WT_SHORTSTR:
			ss = (const struct shortstr *)(a + f->off);
			p = wire_enc_u8(p, ss->len);
			p = wire_enc_bytes(p, ss->s, ss->len);
			break;
		case WT_LONGSTR:
			ls = (const struct longstr *)(a + f->off);
			p = wire_enc_u32(p, ls->len);
			p = wire_enc_bytes(p, ls->p, ls->len);
			break;
		case WT_TABLE:
			t = (const struct field_table *)(a + f->off);
			p = wire_enc_u32(p, t->len);
			p = wire_enc_bytes(p, t->p, t->len);
			break;
		case WT_BIT:
			if (bit < 0 || bit == 8) {
				octet = p;
				p = wire_enc_u8(p, 0);
				bit = 0;
			}
			if (a[f->off] != 0)
				*octet |= 1 << bit;
			bit++;
			break;
		}
	}
	return (p);
}

/*
 * Decode a method frame payload.  As in RabbitMQ's generated decoder,
 * the arguments must fill the payload exactly: bytes after the last field
 * are a frame error, like missing ones.  On AMQP_FRAME_ERROR, *id and
 * *md still name the method when the ids could be read, so the caller
 * can quote them in connection.close.
 */
int
method_decode(const uint8_t *p, size_t len, uint32_t *id,
    const struct method_desc **md, union method_args *args)
{
	const struct method_desc	*m;
	struct wire_reader		 r;
	uint16_t			 cls, mth;

	*md = NULL;
	*id = 0;
	r.p = p;
	r.len = len;
	r.off = 0;
	if (wire_get_u16(&r, &cls) != 0 || wire_get_u16(&r, &mth) != 0)
		return (AMQP_FRAME_ERROR);
	*id = AMQP_METHOD_ID(cls, mth);
	if ((m = method_find(*id)) == NULL)
		return (AMQP_COMMAND_INVALID);
	*md = m;
	if (method_args_read(m, &r, (uint8_t *)args) != 0 || r.off != r.len)
		return (AMQP_FRAME_ERROR);
	return (0);
}

/*
 * Check the short strings of a decoded method are UTF-8, as RabbitMQ's
 * generated decoder does for every method that carries no content (it
 * skips basic.publish and the other content methods for speed).
 */
int
method_check_utf8(const struct method_desc *m, const void *args)
{
	const struct shortstr	*ss;
	const uint8_t		*a = args;
	unsigned		 i;

	if (m->flags & METHOD_CONTENT)
		return (0);
	for (i = 0; i < m->nfields; i++) {
		if (m->fields[i].type != WT_SHORTSTR)
			continue;
		ss = (const struct shortstr *)(a + m->fields[i].off);
		if (!wire_utf8_valid(ss->s, ss->len))
			return (AMQP_FRAME_ERROR);
	}
	return (0);
}

/* Size of the whole method frame for these arguments. */
size_t
method_frame_size(uint32_t id, const void *args)
{
	const struct method_desc	*m;

	if ((m = method_find(id)) == NULL)
		abort();
	return (AMQP_FRAME_OVERHEAD + 4 + method_args_size(m, args));
}

/* Write a whole method frame at p (method_frame_size bytes); past it. */
uint8_t *
method_encode_mem(uint8_t *p, uint16_t channel, uint32_t id,
    const void *args)
{
	const struct method_desc	*m;
	size_t				 payload;

	if ((m = method_find(id)) == NULL)
		abort();
	payload = 4 + method_args_size(m, args);
	p = wire_enc_u8(p, AMQP_FRAME_METHOD);
	p = wire_enc_u16(p, channel);
	p = wire_enc_u32(p, (uint32_t)payload);
	p = wire_enc_u16(p, AMQP_METHOD_CLASS(id));
	p = wire_enc_u16(p, AMQP_METHOD_INDEX(id));
	p = method_args_write(m, args, p);
	*p++ = AMQP_FRAME_END;
	return (p);
}

/* Append a whole method frame (header, payload, frame-end). */
void
method_encode(struct evbuffer *b, uint16_t channel, uint32_t id,
    const void *args)
{
	const struct method_desc	*m;
	struct evbuffer_iovec		 vec;
	size_t				 payload, total;
	uint8_t				*p;

	if ((m = method_find(id)) == NULL)
		abort();
	payload = 4 + method_args_size(m, args);
	total = AMQP_FRAME_OVERHEAD + payload;
	if (evbuffer_reserve_space(b, total, &vec, 1) != 1 ||
	    vec.iov_len < total)
		abort();
	p = vec.iov_base;
	p = wire_enc_u8(p, AMQP_FRAME_METHOD);
	p = wire_enc_u16(p, channel);
	p = wire_enc_u32(p, (uint32_t)payload);
	p = wire_enc_u16(p, AMQP_METHOD_CLASS(id));
	p = wire_enc_u16(p, AMQP_METHOD_INDEX(id));
	p = method_args_write(m, args, p);
	*p = AMQP_FRAME_END;
	vec.iov_len = total;
	evbuffer_commit_space(b, &vec, 1);
}
