/*
 * wire.h: the AMQP 0-9-1 field codec.  Strings and tables decoded from a
 * frame borrow the frame's bytes; nothing here allocates.
 */
#ifndef WIRE_H
#define WIRE_H

#include <stddef.h>
#include <stdint.h>

struct evbuffer;

/* A short string, copied out of the frame and NUL-terminated. */
struct shortstr {
	uint8_t		 len;
	char		 s[256];
};

/* A long string: borrowed bytes. */
struct longstr {
	const uint8_t	*p;	/* borrowed */
	uint32_t	 len;
};

/*
 * A field table kept as its raw wire bytes (without the 4-byte length);
 * the decoder validates the bytes once, so walking them later cannot fail.
 */
struct field_table {
	const uint8_t	*p;	/* borrowed */
	uint32_t	 len;
};

/* One decoded field value; strings, tables and arrays borrow. */
struct field_value {
	uint8_t		 type;	/* 't','b','B','s','u','I','i','l','f','d',
				   'D','S','A','T','F','V','x'; and 'L', a
				   signed 64-bit like 'l', as RabbitMQ */
	union {
		int		 b;	/* 't' */
		int64_t		 i;	/* 'b','s','I','l','L' */
		uint64_t	 u;	/* 'B','u','i','T' */
		float		 f;	/* 'f' */
		double		 d;	/* 'd' */
		struct {
			uint8_t	 scale;
			uint32_t value;
		}		 dec;	/* 'D' */
		struct longstr	 s;	/* 'S','x' */
		struct field_table t;	/* 'F', and 'A' (array bytes) */
	} v;
};

/* Byte reader over a frame payload. */
struct wire_reader {
	const uint8_t	*p;
	size_t		 len;
	size_t		 off;
};

/* Readers: 0 on success, -1 when the input is short or malformed. */
int	wire_get_u8(struct wire_reader *, uint8_t *);
int	wire_get_u16(struct wire_reader *, uint16_t *);
int	wire_get_u32(struct wire_reader *, uint32_t *);
int	wire_get_u64(struct wire_reader *, uint64_t *);
int	wire_get_shortstr(struct wire_reader *, struct shortstr *);
int	wire_get_longstr(struct wire_reader *, struct longstr *);
int	wire_get_table(struct wire_reader *, struct field_table *);

/* Writers append to an evbuffer. */
void	wire_put_u8(struct evbuffer *, uint8_t);
void	wire_put_u16(struct evbuffer *, uint16_t);
void	wire_put_u32(struct evbuffer *, uint32_t);
void	wire_put_u64(struct evbuffer *, uint64_t);
void	wire_put_shortstr(struct evbuffer *, const struct shortstr *);
void	wire_put_longstr(struct evbuffer *, const struct longstr *);
void	wire_put_table(struct evbuffer *, const struct field_table *);

/*
 * Encoders into flat memory (for frames built in one reserved extent):
 * each stores big-endian and returns the pointer just past what it wrote.
 */
uint8_t	*wire_enc_u8(uint8_t *, uint8_t);
uint8_t	*wire_enc_u16(uint8_t *, uint16_t);
uint8_t	*wire_enc_u32(uint8_t *, uint32_t);
uint8_t	*wire_enc_u64(uint8_t *, uint64_t);
uint8_t	*wire_enc_bytes(uint8_t *, const void *, size_t);

/* Set a short string from a C string, truncated to 255 bytes. */
void	wire_shortstr_set(struct shortstr *, const char *);

/* Is this well-formed UTF-8 (RFC 3629: no overlongs, no surrogates)? */
int	wire_utf8_valid(const void *, size_t);

/* Tables and arrays nested deeper than this fail validation. */
#define WIRE_TABLE_DEPTH_MAX	64

/* Check that len bytes are a well-formed table body; 0 or -1. */
int	table_validate(const uint8_t *, size_t);
/* Find key; 1 and *out filled when present, 0 when absent. */
int	table_find(const struct field_table *, const char *,
	    struct field_value *);

/* Walk a validated table.  table_next returns 1 per entry, 0 at the end. */
struct table_iter {
	const struct field_table *t;
	size_t		 off;
};
void	table_iter_init(struct table_iter *, const struct field_table *);
int	table_next(struct table_iter *, struct shortstr *,
	    struct field_value *);
/* Walk a validated array ('A' value); 1 per element, 0 at the end. */
int	array_next(struct table_iter *, struct field_value *);

/* Integer value of any integer field type; 0, or -1 if not an integer. */
int	field_value_int(const struct field_value *, int64_t *);
/* Compare two values by type and content; 1 when equal. */
int	field_value_equal(const struct field_value *,
	    const struct field_value *);
/* Compare two tables as sets of key/value pairs; 1 when equal. */
int	table_equal(const struct field_table *, const struct field_table *);

/*
 * Table building: append entries to an evbuffer (no outer length), then
 * point a struct field_table at evbuffer_pullup() of it.
 */
void	table_add_longstr(struct evbuffer *, const char *, const char *);
void	table_add_bool(struct evbuffer *, const char *, int);
void	table_add_int(struct evbuffer *, const char *, int64_t);	/* 'l' */
void	table_add_table(struct evbuffer *, const char *,
	    const struct field_table *);
void	array_add_value(struct evbuffer *, const struct field_value *);
/* Append every entry of a table but one (NULL: all). */
void	table_copy_except(struct evbuffer *, const struct field_table *,
	    const char *);
void	table_add_value(struct evbuffer *, const char *,
	    const struct field_value *);
/* Append an entry whose key came off the wire (it may hold a NUL). */
void	table_add_entry(struct evbuffer *, const struct shortstr *,
	    const struct field_value *);
/* Is the key exactly s?  Compared with its length, NULs included. */
int	shortstr_is(const struct shortstr *, const char *);

#endif /* WIRE_H */
