/*
 * replay.c: run a libFuzzer target without libFuzzer, as make check does
 * over the corpus.  Each file named on the command line, and each file
 * below a directory named there (as libFuzzer reads a corpus), is read
 * whole into a buffer of its own size, so that a sanitizer sees any read
 * past it, and given to LLVMFuzzerTestOneInput() once.  A target that
 * finds a bug aborts, right after the name of the input is printed;
 * otherwise the exit status is 0, or 1 if an input could not be read or
 * there was none at all.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int		LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int	replay_file(const char *);
static int	replay_dir(const char *);
static int	replay_path(const char *);

static size_t	replay_count;

/* Read one file and run the target on it; 0, or -1 if unreadable. */
static int
replay_file(const char *path)
{
	FILE		*f;
	struct stat	 sb;
	uint8_t		*buf = NULL;
	size_t		 size;
	int		 rc = -1;

	if ((f = fopen(path, "rb")) == NULL) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return (-1);
	}
	if (fstat(fileno(f), &sb) != 0 || sb.st_size < 0) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		goto out;
	}
	size = (size_t)sb.st_size;
	/* malloc(0) may return NULL; the target is told the size anyway. */
	if ((buf = malloc(size == 0 ? 1 : size)) == NULL) {
		fprintf(stderr, "replay: %s: out of memory\n", path);
		goto out;
	}
	if (fread(buf, 1, size, f) != size) {
		fprintf(stderr, "replay: %s: short read\n", path);
		goto out;
	}
	fprintf(stderr, "replay: %s (%zu bytes)\n", path, size);
	LLVMFuzzerTestOneInput(buf, size);
	replay_count++;
	rc = 0;

out:
	free(buf);
	fclose(f);
	return (rc);
}

/* Run every file below a directory, in name order; dot files are not. */
static int
replay_dir(const char *path)
{
	struct dirent	**names;
	char		 *file;
	int		  i, n, rc = 0;

	if ((n = scandir(path, &names, NULL, alphasort)) < 0) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return (-1);
	}
	for (i = 0; i < n; i++) {
		if (names[i]->d_name[0] != '.') {
			if (asprintf(&file, "%s/%s", path,
			    names[i]->d_name) < 0) {
				fprintf(stderr, "replay: out of memory\n");
				exit(1);
			}
			if (replay_path(file) != 0)
				rc = -1;
			free(file);
		}
		free(names[i]);
	}
	free(names);
	return (rc);
}

/* A file, or a directory; what is neither (a FIFO) is passed over. */
static int
replay_path(const char *path)
{
	struct stat	sb;

	if (stat(path, &sb) != 0) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return (-1);
	}
	if (S_ISDIR(sb.st_mode))
		return (replay_dir(path));
	if (!S_ISREG(sb.st_mode))
		return (0);
	return (replay_file(path));
}

int
main(int argc, char **argv)
{
	int	i, rc = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s file-or-directory ...\n", argv[0]);
		return (2);
	}
	for (i = 1; i < argc; i++) {
		if (replay_path(argv[i]) != 0)
			rc = 1;
	}
	if (replay_count == 0) {
		fprintf(stderr, "replay: no inputs\n");
		rc = 1;
	}
	fprintf(stderr, "replay: %zu inputs run\n", replay_count);
	return (rc);
}
