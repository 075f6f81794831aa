/*
 * conf.h: the configuration table (config.c); config.h is autoconf's.  One row per key drives the config
 * file, -o key=value, --dump-config and the man page check.
 */
#ifndef WARREN_CONF_H
#define WARREN_CONF_H

#include <stdint.h>
#include <stdio.h>

enum config_type {
	CONFIG_NUMBER,
	CONFIG_STRING,
	CONFIG_BOOL
};

struct config_entry {
	const char		*name;
	enum config_type	 type;
	const char		*dflt;
	int64_t			 min, max;	/* numbers */
	const char		*help;
};

/* Current values, read everywhere (set once at start-up). */
struct config {
	int64_t		 frame_max;
	int64_t		 channel_max;
	int64_t		 heartbeat;
	int64_t		 handshake_timeout;
	int64_t		 max_message_size;
	int64_t		 max_connections;
	int64_t		 consumer_buffer;
	char		*default_user;
	char		*default_pass;
	char		*default_vhost;
	int		 guest_loopback_only;
	char		*log_level;
	char		*data_dir;
	char		*store_sync;
	int64_t		 memory_limit;
};

extern struct config config;
extern const struct config_entry config_table[];

/* Load defaults. */
void	config_defaults(void);
/* Set one key from text; 0, or -1 with *cause set (caller frees). */
int	config_set(const char *, const char *, char **);
/* Read a file of "key value" lines; 0, or -1 with *cause set. */
int	config_load(const char *, char **);
/* Print every key and its value as a config file. */
void	config_dump(FILE *);

#endif /* WARREN_CONF_H */
