/*
 * listener.h: listening sockets.
 */
#ifndef LISTENER_H
#define LISTENER_H

struct listener;

/* Listen on "host:port"; 0, or -1 with *cause set. */
int	listener_add(const char *, char **);
void	listener_free_all(void);

#endif /* LISTENER_H */
