/*
 * config.c: configuration keys, defaults and parsing.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "broker.h"
#include "conf.h"

struct config config;

const struct config_entry config_table[] = {
	{ "frame_max", CONFIG_NUMBER, "131072", 4096, 16777216,
	  "Largest frame offered in connection.tune." },
	{ "channel_max", CONFIG_NUMBER, "2047", 1, 65535,
	  "Most channels per connection offered in connection.tune." },
	{ "heartbeat", CONFIG_NUMBER, "60", 0, 65535,
	  "Heartbeat interval in seconds offered in connection.tune." },
	{ "handshake_timeout", CONFIG_NUMBER, "10", 1, 3600,
	  "Seconds a client has to finish connection.open." },
	{ "max_message_size", CONFIG_NUMBER, "134217728", 1, 536870912,
	  "Largest message body accepted, in bytes." },
	{ "max_connections", CONFIG_NUMBER, "0", 0, 10000000,
	  "Most client connections at once; 0 means no limit." },
	{ "consumer_buffer", CONFIG_NUMBER, "1048576", 4096, 1073741824,
	  "Bytes queued to a consumer's socket before deliveries pause." },
	{ "default_user", CONFIG_STRING, "guest", 0, 0,
	  "User created when the broker has none." },
	{ "default_pass", CONFIG_STRING, "guest", 0, 0,
	  "Password of the default user." },
	{ "default_vhost", CONFIG_STRING, "/", 0, 0,
	  "Virtual host created when the broker has none." },
	{ "guest_loopback_only", CONFIG_BOOL, "yes", 0, 0,
	  "The user guest may connect only from loopback addresses." },
	{ "log_level", CONFIG_STRING, "info", 0, 0,
	  "One of error, warn, notice, info, debug." },
	{ "data_dir", CONFIG_STRING, "data", 0, 0,
	  "Directory for the store." },
	{ "store_sync", CONFIG_STRING, "full", 0, 0,
	  "SQLite synchronous mode of the store: full, normal or off." },
	{ "memory_limit", CONFIG_NUMBER, "0", 0, 16777216,
	  "MiB of messages held in memory before persistent ones are paged "
	  "out and publishers blocked; 0 means 40% of the machine's memory." },
	{ NULL, 0, NULL, 0, 0, NULL }
};

static void	*config_slot(const char *);

/* Where a key's value lives in struct config. */
static void *
config_slot(const char *name)
{
	static const struct {
		const char	*name;
		size_t		 off;
	} slots[] = {
		{ "frame_max", offsetof(struct config, frame_max) },
		{ "channel_max", offsetof(struct config, channel_max) },
		{ "heartbeat", offsetof(struct config, heartbeat) },
		{ "handshake_timeout", offsetof(struct config,
		    handshake_timeout) },
		{ "max_message_size", offsetof(struct config,
		    max_message_size) },
		{ "max_connections", offsetof(struct config,
		    max_connections) },
		{ "consumer_buffer", offsetof(struct config,
		    consumer_buffer) },
		{ "default_user", offsetof(struct config, default_user) },
		{ "default_pass", offsetof(struct config, default_pass) },
		{ "default_vhost", offsetof(struct config, default_vhost) },
		{ "guest_loopback_only", offsetof(struct config,
		    guest_loopback_only) },
		{ "log_level", offsetof(struct config, log_level) },
		{ "data_dir", offsetof(struct config, data_dir) },
		{ "store_sync", offsetof(struct config, store_sync) },
		{ "memory_limit", offsetof(struct config, memory_limit) },
	};
	size_t	i;

	for (i = 0; i < sizeof slots / sizeof slots[0]; i++)
		if (strcmp(slots[i].name, name) == 0)
			return ((char *)&config + slots[i].off);
	return (NULL);
}

/* Load every default. */
void
config_defaults(void)
{
	const struct config_entry	*e;
	char				*cause;

	for (e = config_table; e->name != NULL; e++) {
		if (config_set(e->name, e->dflt, &cause) != 0)
			fatal("bad default for %s: %s", e->name, cause);
	}
}

/* Set key to value. */
int
config_set(const char *key, const char *value, char **cause)
{
	const struct config_entry	*e;
	void				*slot;
	char				*end;
	long long			 n;

	for (e = config_table; e->name != NULL; e++)
		if (strcmp(e->name, key) == 0)
			break;
	if (e->name == NULL || (slot = config_slot(key)) == NULL) {
		xasprintf(cause, "unknown configuration key: %s", key);
		return (-1);
	}
	switch (e->type) {
	case CONFIG_NUMBER:
		errno = 0;
		n = strtoll(value, &end, 10);
		if (errno != 0 || end == value || *end != '\0' ||
		    n < e->min || n > e->max) {
			xasprintf(cause, "%s: '%s' is not a number from %"
			    PRId64 " to %" PRId64, key, value, e->min, e->max);
			return (-1);
		}
		*(int64_t *)slot = n;
		break;
	case CONFIG_STRING:
		free(*(char **)slot);
		*(char **)slot = xstrdup(value);
		break;
	case CONFIG_BOOL:
		if (strcasecmp(value, "yes") == 0 ||
		    strcasecmp(value, "true") == 0 || strcmp(value, "1") == 0)
			*(int *)slot = 1;
		else if (strcasecmp(value, "no") == 0 ||
		    strcasecmp(value, "false") == 0 || strcmp(value, "0") == 0)
			*(int *)slot = 0;
		else {
			xasprintf(cause, "%s: '%s' is not yes or no", key,
			    value);
			return (-1);
		}
		break;
	}
	return (0);
}

/* Read "key value" lines; '#' starts a comment. */
int
config_load(const char *path, char **cause)
{
	FILE	*f;
	char	 line[4096], *p, *key, *value, *end, *why;
	int	 lineno = 0, rc = -1;

	if ((f = fopen(path, "r")) == NULL) {
		xasprintf(cause, "%s: %s", path, strerror(errno));
		return (-1);
	}
	while (fgets(line, sizeof line, f) != NULL) {
		lineno++;
		if ((p = strchr(line, '#')) != NULL)
			*p = '\0';
		for (p = line; isspace((unsigned char)*p); p++)
			;
		if (*p == '\0')
			continue;
		key = p;
		while (*p != '\0' && !isspace((unsigned char)*p) && *p != '=')
			p++;
		if (*p != '\0')
			*p++ = '\0';
		while (isspace((unsigned char)*p) || *p == '=')
			p++;
		value = p;
		end = value + strlen(value);
		while (end > value && isspace((unsigned char)end[-1]))
			*--end = '\0';
		if (config_set(key, value, &why) != 0) {
			xasprintf(cause, "%s:%d: %s", path, lineno, why);
			free(why);
			goto out;
		}
	}
	rc = 0;
out:
	fclose(f);
	return (rc);
}

/* Print the configuration as a file that config_load reads back. */
void
config_dump(FILE *f)
{
	const struct config_entry	*e;
	void				*slot;

	for (e = config_table; e->name != NULL; e++) {
		slot = config_slot(e->name);
		fprintf(f, "# %s\n", e->help);
		switch (e->type) {
		case CONFIG_NUMBER:
			fprintf(f, "%s %" PRId64 "\n", e->name,
			    *(int64_t *)slot);
			break;
		case CONFIG_STRING:
			fprintf(f, "%s %s\n", e->name, *(char **)slot);
			break;
		case CONFIG_BOOL:
			fprintf(f, "%s %s\n", e->name,
			    *(int *)slot ? "yes" : "no");
			break;
		}
	}
}
