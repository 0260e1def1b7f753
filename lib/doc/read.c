/*
 * read.c: from a file to documents: the capped file reader, and
 * npgw_doc_parse, which checks size and encoding and picks the front-end
 * (YAML or JSON) by the file name or the first character. Both loaders
 * (lib/k8s, lib/config) read their files through these, so a file is
 * refused for the same reasons with the same words whoever reads it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "doc_private.h"

/* Read at most NPGW_DOC_MAX_FILE_SIZE + 1 bytes of fd: one more than the
 * limit is enough to know the file is too large. */
static int read_capped(int fd, char **out, size_t *len)
{
	size_t cap = 64 * 1024, n = 0;
	struct stat st;
	char *buf;

	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0)
		cap = (size_t)NPGW_MIN((uint64_t)st.st_size + 1,
				       (uint64_t)NPGW_DOC_MAX_FILE_SIZE + 1);
	buf = malloc(cap);
	if (buf == NULL)
		return -ENOMEM;
	for (;;) {
		ssize_t r;

		if (n == cap) {
			size_t ncap = NPGW_MIN(cap * 2, (size_t)NPGW_DOC_MAX_FILE_SIZE + 1);
			char *nb;

			if (ncap == cap)
				break; /* over the limit: the caller says so */
			nb = realloc(buf, ncap);
			if (nb == NULL) {
				free(buf);
				return -ENOMEM;
			}
			buf = nb;
			cap = ncap;
		}
		r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = errno;

			free(buf);
			return -e;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	*out = buf;
	*len = n;
	return 0;
}

int npgw_doc_read_file(const char *path, char **buf, size_t *len)
{
	int fd, rc;

	*buf = NULL;
	*len = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	rc = read_capped(fd, buf, len);
	close(fd);
	if (rc == 0 && *len > NPGW_DOC_MAX_FILE_SIZE) {
		free(*buf);
		*buf = NULL;
		*len = 0;
		rc = -EFBIG;
	}
	return rc;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

static bool is_json(const char *name, const char *buf, size_t len)
{
	size_t i = 0;

	if (ends_with(name, ".json"))
		return true;
	if (ends_with(name, ".yaml") || ends_with(name, ".yml"))
		return false;
	if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
		i = 3;
	while (i < len && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\n' || buf[i] == '\r'))
		i++;
	return i < len && (buf[i] == '{' || buf[i] == '[');
}

int npgw_doc_parse(struct npgw_doc_sink *sink, const char *buf, size_t len, npgw_doc_fn fn,
		   void *arg)
{
	uint32_t line, col;
	const char *why;

	if (len > NPGW_DOC_MAX_FILE_SIZE) {
		npgw_doc_error(sink, 0, 0, "larger than the limit of %u MiB",
			       NPGW_DOC_MAX_FILE_SIZE / 1024 / 1024);
		return sink->nomem ? -ENOMEM : -EINVAL;
	}
	if ((why = npgw_doc_check_utf8(buf, len, &line, &col)) != NULL) {
		npgw_doc_error(sink, line, col, "%s: input must be UTF-8 text", why);
		return sink->nomem ? -ENOMEM : -EINVAL;
	}
	if (is_json(sink->file ? sink->file : "", buf, len))
		return npgw_doc_parse_json(sink, buf, len, fn, arg);
	return npgw_doc_parse_yaml(sink, buf, len, fn, arg);
}
