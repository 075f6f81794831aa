/*
 * auth.c: users and SASL.  Passwords are kept as salted SHA-256 digests.
 * Until users become durable (the store issue) there is the default user,
 * with full rights on the default vhost.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <uthash.h>

#include "broker.h"
#include "auth.h"
#include "conf.h"
#include "wire.h"

struct user {
	char		*name;		/* owned */
	unsigned char	 salt[16];
	unsigned char	 digest[32];
	char		*vhost;		/* owned: the vhost it may use */
	UT_hash_handle	 hh;
};

static struct user	*auth_users;

static void	auth_digest(const unsigned char *, const char *, size_t,
		    unsigned char *);
static void	auth_user_add(const char *, const char *, const char *);

/* SHA-256 of salt + password. */
static void
auth_digest(const unsigned char *salt, const char *pw, size_t pwlen,
    unsigned char *out)
{
	EVP_MD_CTX	*ctx;
	unsigned int	 n;

	if ((ctx = EVP_MD_CTX_new()) == NULL)
		fatal("EVP_MD_CTX_new failed");
	if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1 ||
	    EVP_DigestUpdate(ctx, salt, 16) != 1 ||
	    EVP_DigestUpdate(ctx, pw, pwlen) != 1 ||
	    EVP_DigestFinal_ex(ctx, out, &n) != 1)
		fatal("SHA-256 failed");
	EVP_MD_CTX_free(ctx);
}

/* Add a user with a password and one vhost. */
static void
auth_user_add(const char *name, const char *pw, const char *vhost)
{
	struct user	*u;

	u = xcalloc(1, sizeof *u);
	u->name = xstrdup(name);
	if (RAND_bytes(u->salt, sizeof u->salt) != 1)
		fatal("RAND_bytes failed");
	auth_digest(u->salt, pw, strlen(pw), u->digest);
	u->vhost = xstrdup(vhost);
	HASH_ADD_KEYPTR(hh, auth_users, u->name, strlen(u->name), u);
}

/* Create the default user. */
void
auth_init(void)
{
	auth_user_add(config.default_user, config.default_pass,
	    config.default_vhost);
}

/* Free all users. */
void
auth_free(void)
{
	struct user	*u, *tmp;

	HASH_ITER(hh, auth_users, u, tmp) {
		HASH_DEL(auth_users, u);
		free(u->name);
		free(u->vhost);
		free(u);
	}
}

/*
 * Check a login.  PLAIN's response is "authzid NUL user NUL password";
 * AMQPLAIN's is a field table (without its length) with LOGIN and
 * PASSWORD.
 */
int
auth_login(const char *mech, const uint8_t *resp, size_t len, int loopback,
    char **user, const char **why)
{
	struct field_table	 t;
	struct field_value	 fv;
	struct user		*u;
	const uint8_t		*p, *nul;
	char			 name[256];
	const char		*pw;
	size_t			 namelen, pwlen;
	unsigned char		 digest[32];

	if (strcmp(mech, "PLAIN") == 0) {
		if ((nul = memchr(resp, '\0', len)) == NULL)
			goto bad;
		p = nul + 1;
		if ((nul = memchr(p, '\0', len - (p - resp))) == NULL)
			goto bad;
		namelen = nul - p;
		if (namelen >= sizeof name)
			goto bad;
		memcpy(name, p, namelen);
		name[namelen] = '\0';
		pw = (const char *)nul + 1;
		pwlen = len - ((const uint8_t *)pw - resp);
	} else if (strcmp(mech, "AMQPLAIN") == 0) {
		if (len > UINT32_MAX || table_validate(resp, len) != 0)
			goto bad;
		t.p = resp;
		t.len = (uint32_t)len;
		if (!table_find(&t, "LOGIN", &fv) || fv.type != 'S' ||
		    fv.v.s.len >= sizeof name)
			goto bad;
		memcpy(name, fv.v.s.p, fv.v.s.len);
		name[fv.v.s.len] = '\0';
		if (!table_find(&t, "PASSWORD", &fv) || fv.type != 'S')
			goto bad;
		pw = (const char *)fv.v.s.p;
		pwlen = fv.v.s.len;
	} else {
		*why = "unsupported mechanism";
		return (-1);
	}
	HASH_FIND_STR(auth_users, name, u);
	if (u == NULL) {
		*why = "no such user";
		return (-1);
	}
	auth_digest(u->salt, pw, pwlen, digest);
	if (CRYPTO_memcmp(digest, u->digest, sizeof digest) != 0) {
		*why = "wrong password";
		return (-1);
	}
	if (config.guest_loopback_only && strcmp(name, "guest") == 0 &&
	    !loopback) {
		*why = "user 'guest' can only connect via localhost";
		return (-1);
	}
	*user = xstrdup(name);
	return (0);
bad:
	*why = "malformed response";
	return (-1);
}

/* May this user open this vhost? */
int
auth_vhost_allowed(const char *user, const char *vhost)
{
	struct user	*u;

	HASH_FIND_STR(auth_users, user, u);
	return (u != NULL && strcmp(u->vhost, vhost) == 0);
}
