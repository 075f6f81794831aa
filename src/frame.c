/*
 * frame.c: AMQP 0-9-1 frames (section 4.2.3): a 7-octet header of type,
 * channel and payload size, the payload, then the frame-end octet 0xCE.
 * Checking the size against the negotiated frame-max is the caller's job.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdint.h>

#include <event2/buffer.h>

#include "method.h"

/* Decode one frame from buf: 0, FRAME_PARTIAL or AMQP_FRAME_ERROR. */
int
frame_decode(const uint8_t *buf, size_t len, struct frame *f, size_t *used)
{
	struct wire_reader	r;
	uint8_t			type;
	uint16_t		channel;
	uint32_t		size;

	r.p = buf;
	r.len = len;
	r.off = 0;
	if (wire_get_u8(&r, &type) != 0 || wire_get_u16(&r, &channel) != 0 ||
	    wire_get_u32(&r, &size) != 0)
		return (FRAME_PARTIAL);
	/* Written so that a size near 4 GiB cannot overflow. */
	if (len - AMQP_FRAME_HEADER_SIZE <= size)
		return (FRAME_PARTIAL);
	if (buf[AMQP_FRAME_HEADER_SIZE + (size_t)size] != AMQP_FRAME_END)
		return (AMQP_FRAME_ERROR);
	f->type = type;
	f->channel = channel;
	f->size = size;
	f->payload = buf + AMQP_FRAME_HEADER_SIZE;
	*used = AMQP_FRAME_OVERHEAD + (size_t)size;
	return (0);
}

/* Append a frame header: type, channel, payload size. */
void
frame_put_header(struct evbuffer *b, uint8_t type, uint16_t channel,
    uint32_t size)
{
	uint8_t	 hdr[AMQP_FRAME_HEADER_SIZE], *p;

	p = wire_enc_u8(hdr, type);
	p = wire_enc_u16(p, channel);
	wire_enc_u32(p, size);
	evbuffer_add(b, hdr, sizeof hdr);
}

/* Append a whole heartbeat frame: always on channel 0, empty payload. */
void
frame_put_heartbeat(struct evbuffer *b)
{
	static const uint8_t	hb[AMQP_FRAME_OVERHEAD] = {
		AMQP_FRAME_HEARTBEAT, 0, 0, 0, 0, 0, 0, AMQP_FRAME_END
	};

	evbuffer_add(b, hb, sizeof hb);
}
