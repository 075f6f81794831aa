/*
 * props.c: content headers and the fourteen basic properties (0-9-1
 * section 4.2.6.1).  A 16-bit flag word, most significant bit first,
 * says which properties follow; only the present ones are on the wire.
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

/* Flag bit 0 says another flag word follows; basic never needs one. */
#define PROPS_CONTINUATION	0x0001
/* Bits that name no basic property. */
#define PROPS_UNUSED		0x0003

#define PROP(name, type, member)					\
	{ name, type, offsetof(struct basic_props, member) }

/* In wire order: entry i is present when flag bit (15 - i) is set. */
static const struct wire_field props_fields[] = {
	PROP("content-type", WT_SHORTSTR, content_type),
	PROP("content-encoding", WT_SHORTSTR, content_encoding),
	PROP("headers", WT_TABLE, headers),
	PROP("delivery-mode", WT_OCTET, delivery_mode),
	PROP("priority", WT_OCTET, priority),
	PROP("correlation-id", WT_SHORTSTR, correlation_id),
	PROP("reply-to", WT_SHORTSTR, reply_to),
	PROP("expiration", WT_SHORTSTR, expiration),
	PROP("message-id", WT_SHORTSTR, message_id),
	PROP("timestamp", WT_TIMESTAMP, timestamp),
	PROP("type", WT_SHORTSTR, type),
	PROP("user-id", WT_SHORTSTR, user_id),
	PROP("app-id", WT_SHORTSTR, app_id),
	PROP("cluster-id", WT_SHORTSTR, cluster_id),
};
#define PROPS_COUNT	(sizeof props_fields / sizeof props_fields[0])

/*
 * Split a content header payload: class id, weight, body size, then the
 * property flags and list, which props_decode() reads.  As in RabbitMQ,
 * only the first twelve octets are required here; missing flags are
 * props_decode()'s error.  Whether class and weight are acceptable is the
 * caller's decision.
 */
int
content_header_decode(const uint8_t *p, size_t len, struct content_header *h)
{
	struct wire_reader	r;

	r.p = p;
	r.len = len;
	r.off = 0;
	if (wire_get_u16(&r, &h->class_id) != 0 ||
	    wire_get_u16(&r, &h->weight) != 0 ||
	    wire_get_u64(&r, &h->body_size) != 0)
		return (AMQP_FRAME_ERROR);
	h->props = p + r.off;
	h->props_len = r.len - r.off;
	return (0);
}

/*
 * Decode property bytes (flags onward).  Absent properties read as empty
 * strings, zero and an empty table.  A continuation flag or an unused
 * bit is an error, and so are bytes after the last property.
 */
int
props_decode(const uint8_t *p, size_t len, struct basic_props *bp)
{
	const struct wire_field	*f;
	struct wire_reader	 r;
	struct shortstr		*ss;
	struct field_table	*t;
	uint8_t			*a = (uint8_t *)bp;
	uint16_t		 flags;
	unsigned		 i;
	int			 rc;

	r.p = p;
	r.len = len;
	r.off = 0;
	if (wire_get_u16(&r, &flags) != 0 || (flags & PROPS_UNUSED) != 0)
		return (AMQP_FRAME_ERROR);
	bp->flags = flags;
	for (i = 0; i < PROPS_COUNT; i++) {
		f = &props_fields[i];
		if ((flags & (0x8000 >> i)) == 0) {
			switch (f->type) {
			case WT_SHORTSTR:
				ss = (struct shortstr *)(a + f->off);
				ss->len = 0;
				ss->s[0] = '\0';
				break;
			case WT_TABLE:
				t = (struct field_table *)(a + f->off);
				t->p = NULL;
				t->len = 0;
				break;
			case WT_OCTET:
				a[f->off] = 0;
				break;
			default:
				memset(a + f->off, 0, sizeof(uint64_t));
				break;
			}
			continue;
		}
		switch (f->type) {
		case WT_SHORTSTR:
			rc = wire_get_shortstr(&r,
			    (struct shortstr *)(a + f->off));
			break;
		case WT_TABLE:
			rc = wire_get_table(&r,
			    (struct field_table *)(a + f->off));
			break;
		case WT_OCTET:
			rc = wire_get_u8(&r, a + f->off);
			break;
		default:
			rc = wire_get_u64(&r, (uint64_t *)(a + f->off));
			break;
		}
		if (rc != 0)
			return (AMQP_FRAME_ERROR);
	}
	if (r.off != r.len)
		return (AMQP_FRAME_ERROR);
	return (0);
}

/*
 * Append property bytes (flags onward) in one reserved extent.  Only the
 * fourteen property bits of bp->flags are honoured.
 */
void
props_encode(struct evbuffer *b, const struct basic_props *bp)
{
	const struct wire_field		*f;
	const struct shortstr		*ss;
	const struct field_table	*t;
	const uint8_t			*a = (const uint8_t *)bp;
	struct evbuffer_iovec		 vec;
	uint16_t			 flags;
	uint64_t			 u64;
	size_t				 total;
	unsigned			 i;
	uint8_t				*p;

	flags = bp->flags & ~PROPS_UNUSED;
	total = 2;
	for (i = 0; i < PROPS_COUNT; i++) {
		f = &props_fields[i];
		if ((flags & (0x8000 >> i)) == 0)
			continue;
		switch (f->type) {
		case WT_SHORTSTR:
			total += 1 + (size_t)((const struct shortstr *)
			    (a + f->off))->len;
			break;
		case WT_TABLE:
			total += 4 + (size_t)((const struct field_table *)
			    (a + f->off))->len;
			break;
		case WT_OCTET:
			total += 1;
			break;
		default:
			total += 8;
			break;
		}
	}
	if (evbuffer_reserve_space(b, total, &vec, 1) != 1 ||
	    vec.iov_len < total)
		abort();
	p = wire_enc_u16(vec.iov_base, flags);
	for (i = 0; i < PROPS_COUNT; i++) {
		f = &props_fields[i];
		if ((flags & (0x8000 >> i)) == 0)
			continue;
		switch (f->type) {
		case WT_SHORTSTR:
			ss = (const struct shortstr *)(a + f->off);
			p = wire_enc_u8(p, ss->len);
			p = wire_enc_bytes(p, ss->s, ss->len);
			break;
		case WT_TABLE:
			t = (const struct field_table *)(a + f->off);
			p = wire_enc_u32(p, t->len);
			p = wire_enc_bytes(p, t->p, t->len);
			break;
		case WT_OCTET:
			p = wire_enc_u8(p, a[f->off]);
			break;
		default:
			memcpy(&u64, a + f->off, sizeof u64);
			p = wire_enc_u64(p, u64);
			break;
		}
	}
	vec.iov_len = total;
	evbuffer_commit_space(b, &vec, 1);
}
