/*
 * args.c: queue and exchange x-arguments: validation and equivalence with
 * RabbitMQ's rules and reply texts (rabbit_amqqueue, rabbit_misc).
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "args.h"

/* The arguments RabbitMQ compares when a queue is declared again. */
const char *const args_queue_keys[] = {
	"x-expires", "x-message-ttl", "x-dead-letter-exchange",
	"x-dead-letter-routing-key", "x-max-length", "x-max-length-bytes",
	"x-max-priority", "x-overflow", "x-queue-mode",
	"x-single-active-consumer", "x-delivery-limit", NULL
};

/* ... and an exchange. */
const char *const args_exchange_keys[] = { "alternate-exchange",
	"x-delayed-type", NULL };

/* RabbitMQ's name for a field type. */
const char *
args_type_name(uint8_t t)
{
	switch (t) {
	case 'S':	return ("longstr");
	case 'I':	return ("signedint");
	case 'l':	return ("long");
	case 'b':	return ("byte");
	case 'B':	return ("unsignedbyte");
	case 's':	return ("short");
	case 'u':	return ("unsignedshort");
	case 'i':	return ("unsignedint");
	case 'f':	return ("float");
	case 'd':	return ("double");
	case 'D':	return ("decimal");
	case 't':	return ("bool");
	case 'T':	return ("timestamp");
	case 'F':	return ("table");
	case 'A':	return ("array");
	case 'V':	return ("void");
	case 'x':	return ("binary");
	}
	return ("unknown");
}

/* Print a value as Erlang's ~tp/~ts would, more or less. */
static void
args_value_print(const struct field_value *v, char *buf, size_t len)
{
	int64_t	i;

	if (field_value_int(v, &i) == 0 && v->type != 't')
		snprintf(buf, len, "%" PRId64, i);
	else if (v->type == 't')
		snprintf(buf, len, "%s", v->v.b ? "true" : "false");
	else if (v->type == 'S' || v->type == 'x')
		snprintf(buf, len, "%.*s", (int)(v->v.s.len > 200 ? 200 :
		    v->v.s.len), (const char *)v->v.s.p);
	else if (v->type == 'd')
		snprintf(buf, len, "%g", v->v.d);
	else if (v->type == 'f')
		snprintf(buf, len, "%g", (double)v->v.f);
	else
		snprintf(buf, len, "...");
}

/* Is this an integer type? */
static int
args_is_int(uint8_t t)
{
	return (strchr("bBsuIilT", t) != NULL && t != 0);
}

/* Is a longstr value exactly s? */
static int
args_str_is(const struct field_value *v, const char *s)
{
	return (v->v.s.len == strlen(s) && memcmp(v->v.s.p, s, v->v.s.len) ==
	    0);
}

/* Write RabbitMQ's usual "invalid arg" text for key. */
static int
args_invalid(char *text, size_t len, const char *key, const char *qname,
    const char *vhost, const char *why)
{
	snprintf(text, len, "invalid arg '%s' for queue '%s' in vhost '%s': %s",
	    key, qname, vhost, why);
	return (-1);
}

/* Is v a longstr equal to one of the NULL-terminated list? */
static int
args_str_in(const struct field_value *v, const char *const *list)
{
	for (; *list != NULL; list++)
		if (args_str_is(v, *list))
			return (1);
	return (0);
}

/*
 * Validate queue.declare arguments as rabbit_amqqueue's declare checks do;
 * 0, or -1 with text holding the reply text after "PRECONDITION_FAILED - ".
 */
int
args_queue_validate(const struct field_table *t, const char *qname,
    const char *vhost, char *text, size_t len)
{
	static const struct {
		const char	*key;
		int64_t		 min;	/* smallest allowed */
		int64_t		 max;	/* largest allowed, 0: none */
	} ints[] = {
		{ "x-expires", 1, ARGS_MAX_TTL },
		{ "x-message-ttl", 0, ARGS_MAX_TTL },
		{ "x-max-length", 0, 0 },
		{ "x-max-length-bytes", 0, 0 },
		{ "x-max-priority", 0, 255 },
		{ "x-delivery-limit", 0, 0 },
	};
	/* Arguments of other queue types (Warren has classic queues only). */
	static const char *const foreign[] = { "x-max-age",
	    "x-stream-max-segment-size-bytes", "x-initial-cluster-size",
	    "x-quorum-initial-group-size", "x-max-in-memory-length",
	    "x-max-in-memory-bytes", NULL };
	static const char *const overflows[] = { "drop-head",
	    "reject-publish", "reject-publish-dlx", NULL };
	static const char *const modes[] = { "default", "lazy", NULL };
	struct field_value	 v;
	int64_t			 i;
	size_t			 n;
	char			 why[300];

	if (table_find(t, "x-queue-type", &v)) {
		if (v.type != 'S') {
			snprintf(why, sizeof why, "{unacceptable_type,%s}",
			    args_type_name(v.type));
			return (args_invalid(text, len, "x-queue-type", qname,
			    vhost, why));
		}
		/*
		 * Warren has classic queues only: quorum and stream get
		 * RabbitMQ's text for a type it does not know.
		 */
		if (!args_str_is(&v, "classic")) {
			snprintf(why, sizeof why, "\"unsupported queue type "
			    "'%.*s'\"", (int)(v.v.s.len > 64 ? 64 :
			    v.v.s.len), (const char *)v.v.s.p);
			return (args_invalid(text, len, "x-queue-type", qname,
			    vhost, why));
		}
	}
	for (n = 0; foreign[n] != NULL; n++) {
		if (table_find(t, foreign[n], &v)) {
			snprintf(text, len, "invalid arg '%s' for queue '%s' "
			    "in vhost '%s' of queue type rabbit_classic_queue",
			    foreign[n], qname, vhost);
			return (-1);
		}
	}
	for (n = 0; n < sizeof ints / sizeof ints[0]; n++) {
		if (!table_find(t, ints[n].key, &v))
			continue;
		if (!args_is_int(v.type) || field_value_int(&v, &i) != 0)
			snprintf(why, sizeof why, "\"expected integer, got "
			    "%s\"", args_type_name(v.type));
		else if (i < 0)
			snprintf(why, sizeof why, "{value_negative,%" PRId64
			    "}", i);
		else if (i < ints[n].min)
			snprintf(why, sizeof why, "{value_zero,%" PRId64 "}",
			    i);
		else if (ints[n].max != 0 && i > ints[n].max &&
		    ints[n].max == 255)
			snprintf(why, sizeof why, "{max_value_exceeded,%"
			    PRId64 "}", i);
		else if (ints[n].max != 0 && i > ints[n].max)
			snprintf(why, sizeof why, "{value_too_large,%" PRId64
			    "}", i);
		else
			continue;
		return (args_invalid(text, len, ints[n].key, qname, vhost,
		    why));
	}
	if (table_find(t, "x-dead-letter-exchange", &v) && v.type != 'S') {
		snprintf(text, len, "invalid type '%s' for arg "
		    "'x-dead-letter-exchange' in queue '%s' in vhost '%s'",
		    args_type_name(v.type), qname, vhost);
		return (-1);
	}
	if (table_find(t, "x-dead-letter-routing-key", &v)) {
		if (v.type != 'S') {
			snprintf(why, sizeof why, "{unacceptable_type,%s}",
			    args_type_name(v.type));
			return (args_invalid(text, len,
			    "x-dead-letter-routing-key", qname, vhost, why));
		}
		if (!table_find(t, "x-dead-letter-exchange", &v))
			return (args_invalid(text, len,
			    "x-dead-letter-routing-key", qname, vhost,
			    "routing_key_but_no_dlx_defined"));
	}
	if (table_find(t, "x-single-active-consumer", &v) && v.type != 't') {
		snprintf(why, sizeof why, "{unacceptable_type,%s}",
		    args_type_name(v.type));
		return (args_invalid(text, len, "x-single-active-consumer",
		    qname, vhost, why));
	}
	if (table_find(t, "x-overflow", &v)) {
		if (v.type != 'S')
			snprintf(why, sizeof why, "{unacceptable_type,%s}",
			    args_type_name(v.type));
		else if (!args_str_in(&v, overflows))
			snprintf(why, sizeof why, "invalid_overflow");
		else
			why[0] = '\0';
		if (why[0] != '\0')
			return (args_invalid(text, len, "x-overflow", qname,
			    vhost, why));
	}
	if (table_find(t, "x-queue-mode", &v) && (v.type != 'S' ||
	    !args_str_in(&v, modes))) {
		if (v.type != 'S')
			snprintf(why, sizeof why, "{unacceptable_type,%s}",
			    args_type_name(v.type));
		else
			snprintf(why, sizeof why, "\"unsupported queue mode "
			    "'%.*s'\"", (int)(v.v.s.len > 64 ? 64 :
			    v.v.s.len), (const char *)v.v.s.p);
		return (args_invalid(text, len, "x-queue-mode", qname, vhost,
		    why));
	}
	if (table_find(t, "x-queue-version", &v) &&
	    (field_value_int(&v, &i) != 0 || (i != 1 && i != 2))) {
		if (field_value_int(&v, &i) != 0)
			snprintf(why, sizeof why, "{unacceptable_type,%s}",
			    args_type_name(v.type));
		else
			snprintf(why, sizeof why, "\"unsupported queue "
			    "version '%" PRId64 "'\"", i);
		return (args_invalid(text, len, "x-queue-version", qname,
		    vhost, why));
	}
	return (0);
}

/* Describe one side of an inequivalence, as rabbit_misc:val/1. */
static void
args_val(const struct field_value *v, int found, int typed, char *buf,
    size_t len)
{
	char	s[256];

	if (!found) {
		snprintf(buf, len, "none");
		return;
	}
	args_value_print(v, s, sizeof s);
	if (typed)
		snprintf(buf, len, "the value '%s' of type '%s'", s,
		    args_type_name(v->type));
	else
		snprintf(buf, len, "'%s'", s);
}

/*
 * Compare the listed keys of the current and the new arguments.  Integer
 * types are compatible with each other (rabbit_misc:type_compatible).
 */
int
args_equivalent(const struct field_table *cur, const struct field_table *nw,
    const char *const *keys, const char **key, char *buf, size_t len)
{
	struct field_value	 a, b;
	int			 fa, fb, same;
	char			 ra[300], rb[300];
	int64_t			 ia, ib;

	for (; *keys != NULL; keys++) {
		fa = table_find(cur, *keys, &a);
		fb = table_find(nw, *keys, &b);
		if (!fa && !fb)
			continue;
		if (fa && fb) {
			if (args_is_int(a.type) && args_is_int(b.type)) {
				field_value_int(&a, &ia);
				field_value_int(&b, &ib);
				same = ia == ib;
			} else
				same = field_value_equal(&a, &b);
			if (same)
				continue;
		}
		*key = *keys;
		/* Both present: plain values; one missing: typed. */
		args_val(&b, fb, !(fa && fb), rb, sizeof rb);
		args_val(&a, fa, !(fa && fb), ra, sizeof ra);
		snprintf(buf, len, "received %s but current is %s", rb, ra);
		return (-1);
	}
	return (0);
}
