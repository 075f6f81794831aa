/*
 * method.h: frames, the method table and basic properties.  Every AMQP
 * 0-9-1 method (with RabbitMQ's extensions) has an argument struct below;
 * a table of field descriptors drives one generic decoder and encoder.
 */
#ifndef METHOD_H
#define METHOD_H

#include <stddef.h>
#include <stdint.h>

#include "amqp_defs.h"
#include "wire.h"

struct evbuffer;

/* One frame as read off the wire; the payload is borrowed. */
struct frame {
	uint8_t		 type;
	uint16_t	 channel;
	uint32_t	 size;
	const uint8_t	*payload;	/* borrowed */
};

#define FRAME_PARTIAL	1	/* frame_decode: more bytes are needed */
/*
 * Decode one frame from buf: 0 with *used set, FRAME_PARTIAL, or
 * AMQP_FRAME_ERROR when the frame-end octet is wrong.
 */
int	frame_decode(const uint8_t *, size_t, struct frame *, size_t *);
/* Append a frame header (type, channel, size) / a whole heartbeat. */
void	frame_put_header(struct evbuffer *, uint8_t, uint16_t, uint32_t);
void	frame_put_heartbeat(struct evbuffer *);

/* Field types of method arguments. */
enum wire_type {
	WT_OCTET,	/* uint8_t */
	WT_SHORT,	/* uint16_t */
	WT_LONG,	/* uint32_t */
	WT_LONGLONG,	/* uint64_t */
	WT_SHORTSTR,	/* struct shortstr */
	WT_LONGSTR,	/* struct longstr */
	WT_BIT,		/* uint8_t, 0 or 1; adjacent bits share an octet */
	WT_TABLE,	/* struct field_table */
	WT_TIMESTAMP	/* uint64_t */
};

struct wire_field {
	const char	*name;
	enum wire_type	 type;
	size_t		 off;	/* offsetof into the argument struct */
};

#define METHOD_CONTENT	0x1	/* followed by a content header and body */
#define METHOD_SYNC	0x2	/* expects a reply (has an -ok) */

struct method_desc {
	uint32_t		 id;
	const char		*name;		/* "queue.declare" */
	size_t			 size;		/* of the argument struct */
	const struct wire_field	*fields;
	unsigned		 nfields;
	int			 flags;
};

/* Argument structs, one per method with arguments. */
struct connection_start {
	uint8_t			version_major, version_minor;
	struct field_table	server_properties;
	struct longstr		mechanisms, locales;
};
struct connection_start_ok {
	struct field_table	client_properties;
	struct shortstr		mechanism;
	struct longstr		response;
	struct shortstr		locale;
};
struct connection_secure { struct longstr challenge; };
struct connection_secure_ok { struct longstr response; };
struct connection_tune {			/* also tune-ok */
	uint16_t		channel_max;
	uint32_t		frame_max;
	uint16_t		heartbeat;
};
struct connection_open {
	struct shortstr		virtual_host;
	struct shortstr		capabilities;	/* reserved */
	uint8_t			insist;		/* reserved */
};
struct connection_open_ok { struct shortstr known_hosts; };
struct connection_close {			/* also channel.close */
	uint16_t		reply_code;
	struct shortstr		reply_text;
	uint16_t		class_id;
	uint16_t		method_id;
};
struct connection_blocked { struct shortstr reason; };
struct connection_update_secret {
	struct longstr		new_secret;
	struct shortstr		reason;
};
struct channel_open { struct shortstr out_of_band; };
struct channel_open_ok { struct longstr channel_id; };
struct channel_flow { uint8_t active; };	/* also flow-ok */

struct exchange_declare {
	uint16_t		ticket;
	struct shortstr		exchange, type;
	uint8_t			passive, durable, auto_delete, internal, nowait;
	struct field_table	arguments;
};
struct exchange_delete {
	uint16_t		ticket;
	struct shortstr		exchange;
	uint8_t			if_unused, nowait;
};
struct exchange_bind {				/* also exchange.unbind */
	uint16_t		ticket;
	struct shortstr		destination, source, routing_key;
	uint8_t			nowait;
	struct field_table	arguments;
};

struct queue_declare {
	uint16_t		ticket;
	struct shortstr		queue;
	uint8_t			passive, durable, exclusive, auto_delete, nowait;
	struct field_table	arguments;
};
struct queue_declare_ok {
	struct shortstr		queue;
	uint32_t		message_count, consumer_count;
};
struct queue_bind {
	uint16_t		ticket;
	struct shortstr		queue, exchange, routing_key;
	uint8_t			nowait;
	struct field_table	arguments;
};
struct queue_purge {
	uint16_t		ticket;
	struct shortstr		queue;
	uint8_t			nowait;
};
struct queue_purge_ok { uint32_t message_count; };	/* also delete-ok */
struct queue_delete {
	uint16_t		ticket;
	struct shortstr		queue;
	uint8_t			if_unused, if_empty, nowait;
};
struct queue_unbind {
	uint16_t		ticket;
	struct shortstr		queue, exchange, routing_key;
	struct field_table	arguments;
};

struct basic_qos {
	uint32_t		prefetch_size;
	uint16_t		prefetch_count;
	uint8_t			global;
};
struct basic_consume {
	uint16_t		ticket;
	struct shortstr		queue, consumer_tag;
	uint8_t			no_local, no_ack, exclusive, nowait;
	struct field_table	arguments;
};
struct basic_consume_ok { struct shortstr consumer_tag; };	/* cancel-ok */
struct basic_cancel {
	struct shortstr		consumer_tag;
	uint8_t			nowait;
};
struct basic_publish {
	uint16_t		ticket;
	struct shortstr		exchange, routing_key;
	uint8_t			mandatory, immediate;
};
struct basic_return {
	uint16_t		reply_code;
	struct shortstr		reply_text, exchange, routing_key;
};
struct basic_deliver {
	struct shortstr		consumer_tag;
	uint64_t		delivery_tag;
	uint8_t			redelivered;
	struct shortstr		exchange, routing_key;
};
struct basic_get {
	uint16_t		ticket;
	struct shortstr		queue;
	uint8_t			no_ack;
};
struct basic_get_ok {
	uint64_t		delivery_tag;
	uint8_t			redelivered;
	struct shortstr		exchange, routing_key;
	uint32_t		message_count;
};
struct basic_get_empty { struct shortstr cluster_id; };
struct basic_ack {
	uint64_t		delivery_tag;
	uint8_t			multiple;
};
struct basic_reject {
	uint64_t		delivery_tag;
	uint8_t			requeue;
};
struct basic_recover { uint8_t requeue; };	/* also recover-async */
struct basic_nack {
	uint64_t		delivery_tag;
	uint8_t			multiple, requeue;
};
struct confirm_select { uint8_t nowait; };

/* Storage big enough for any method's arguments. */
union method_args {
	struct connection_start		 connection_start;
	struct connection_start_ok	 connection_start_ok;
	struct connection_secure	 connection_secure;
	struct connection_secure_ok	 connection_secure_ok;
	struct connection_tune		 connection_tune;
	struct connection_open		 connection_open;
	struct connection_open_ok	 connection_open_ok;
	struct connection_close		 connection_close;
	struct connection_blocked	 connection_blocked;
	struct connection_update_secret	 connection_update_secret;
	struct channel_open		 channel_open;
	struct channel_open_ok		 channel_open_ok;
	struct channel_flow		 channel_flow;
	struct exchange_declare		 exchange_declare;
	struct exchange_delete		 exchange_delete;
	struct exchange_bind		 exchange_bind;
	struct queue_declare		 queue_declare;
	struct queue_declare_ok		 queue_declare_ok;
	struct queue_bind		 queue_bind;
	struct queue_purge		 queue_purge;
	struct queue_purge_ok		 queue_purge_ok;
	struct queue_delete		 queue_delete;
	struct queue_unbind		 queue_unbind;
	struct basic_qos		 basic_qos;
	struct basic_consume		 basic_consume;
	struct basic_consume_ok		 basic_consume_ok;
	struct basic_cancel		 basic_cancel;
	struct basic_publish		 basic_publish;
	struct basic_return		 basic_return;
	struct basic_deliver		 basic_deliver;
	struct basic_get		 basic_get;
	struct basic_get_ok		 basic_get_ok;
	struct basic_get_empty		 basic_get_empty;
	struct basic_ack		 basic_ack;
	struct basic_reject		 basic_reject;
	struct basic_recover		 basic_recover;
	struct basic_nack		 basic_nack;
	struct confirm_select		 confirm_select;
};

/* Look a method up by id; NULL when the class or method is unknown. */
const struct method_desc *method_find(uint32_t);
/* Name of a method id for messages ("queue.declare"), or "unknown". */
const char	*method_name(uint32_t);

/*
 * Decode a method frame payload (class id onward) into *args, which must
 * be a union method_args.  Returns 0 with *md set, AMQP_COMMAND_INVALID
 * for an unknown class or method (with *md NULL and *id set), or
 * AMQP_FRAME_ERROR when the arguments are truncated or malformed (a bad
 * field table included).  Strings and tables borrow from the payload.
 */
int	method_decode(const uint8_t *, size_t, uint32_t *,
	    const struct method_desc **, union method_args *);
/*
 * RabbitMQ requires the short strings of every method without content
 * (names, tags, vhost, reply texts; not basic.publish/deliver/return/
 * get-ok) to be UTF-8, and answers connection.close 501 "FRAME_ERROR -
 * Malformed UTF-8 in shortstr" with class and method 0 otherwise.  So the
 * text can differ from a decode error, this is a separate check to run
 * after method_decode() succeeds: 0, or AMQP_FRAME_ERROR.
 */
int	method_check_utf8(const struct method_desc *, const void *);
/* Append a whole method frame (header, payload, frame-end). */
void	method_encode(struct evbuffer *, uint16_t, uint32_t, const void *);
/* Size of a whole method frame, and writing one into memory. */
size_t	method_frame_size(uint32_t, const void *);
uint8_t	*method_encode_mem(uint8_t *, uint16_t, uint32_t, const void *);

/* The fourteen basic properties.  Present fields are marked in flags. */
struct basic_props {
	uint16_t		flags;	/* AMQP_BASIC_*_FLAG */
	struct shortstr		content_type, content_encoding;
	struct field_table	headers;
	uint8_t			delivery_mode, priority;
	struct shortstr		correlation_id, reply_to, expiration,
				message_id;
	uint64_t		timestamp;
	struct shortstr		type, user_id, app_id, cluster_id;
};

/* Content header payload: class, weight, body size, then properties. */
struct content_header {
	uint16_t		class_id;
	uint16_t		weight;
	uint64_t		body_size;
	const uint8_t		*props;		/* borrowed: flags onward */
	size_t			 props_len;
};

/* Split a content header payload; 0, or AMQP_FRAME_ERROR. */
int	content_header_decode(const uint8_t *, size_t,
	    struct content_header *);
/* Decode property bytes (flags onward); 0, or AMQP_FRAME_ERROR. */
int	props_decode(const uint8_t *, size_t, struct basic_props *);
/* Append property bytes (flags onward). */
void	props_encode(struct evbuffer *, const struct basic_props *);

#endif /* METHOD_H */
