/*
 * auth.h: users, passwords and SASL mechanisms (PLAIN, AMQPLAIN).
 */
#ifndef AUTH_H
#define AUTH_H

#include <stddef.h>
#include <stdint.h>

/*
 * Check a SASL response for mechanism; 0 with *user set (caller frees),
 * or -1 with *why set to a static reason for the log.
 */
int	auth_login(const char *, const uint8_t *, size_t, int, char **,
	    const char **);
/* May user use vhost? */
int	auth_vhost_allowed(const char *, const char *);
/* Create the default user from the configuration. */
void	auth_init(void);
void	auth_free(void);

#endif /* AUTH_H */
