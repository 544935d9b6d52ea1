/* link.c - see link.h */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "link.h"

static size_t frame_len(const unsigned char *h)
{
	return (size_t)h[0] << 24 | (size_t)h[1] << 16 | (size_t)h[2] << 8 |
	       (size_t)h[3];
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int sysg_link_send(int fd, const json_t *msg)
{
	char *s = json_dumps(msg, JSON_COMPACT);
	unsigned char h[4];
	size_t n;
	int rc;

	if (!s)
		return -ENOMEM;
	n = strlen(s);
	if (n > SYSG_LINK_MAX) {
		free(s);
		return -E2BIG;
	}
	h[0] = (unsigned char)(n >> 24);
	h[1] = (unsigned char)(n >> 16);
	h[2] = (unsigned char)(n >> 8);
	h[3] = (unsigned char)n;
	rc = write_all(fd, (const char *)h, 4);
	if (rc == 0)
		rc = write_all(fd, s, n);
	free(s);
	return rc;
}

static int read_all(int fd, char *p, size_t n)
{
	while (n) {
		ssize_t r = read(fd, p, n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return -EPIPE;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

static int parse(const char *p, size_t n, json_t **msg)
{
	*msg = json_loadb(p, n, 0, NULL);
	if (!*msg || !json_is_object(*msg)) {
		json_decref(*msg);
		*msg = NULL;
		return -EPROTO;
	}
	return 0;
}

int sysg_link_recv(int fd, json_t **msg)
{
	unsigned char h[4];
	size_t n;
	char *p;
	int rc = read_all(fd, (char *)h, 4);

	*msg = NULL;
	if (rc < 0)
		return rc;
	n = frame_len(h);
	if (n > SYSG_LINK_MAX)
		return -EPROTO;
	p = malloc(n ? n : 1);
	if (!p)
		return -ENOMEM;
	rc = read_all(fd, p, n);
	if (rc == 0)
		rc = parse(p, n, msg);
	free(p);
	return rc;
}

int sysg_link_fill(struct sysg_link_buf *b, int fd)
{
	for (;;) {
		ssize_t r;

		if (b->cap - b->len < 4096) {
			size_t cap = b->cap ? b->cap * 2 : 8192;
			char *nb;

			if (cap > SYSG_LINK_MAX + 8192)
				return -EPROTO;
			nb = realloc(b->buf, cap);
			if (!nb)
				return -ENOMEM;
			b->buf = nb;
			b->cap = cap;
		}
		r = read(fd, b->buf + b->len, b->cap - b->len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK ?
			       0 : -errno;
		if (r == 0)
			return -EPIPE;
		b->len += (size_t)r;
	}
}

int sysg_link_take(struct sysg_link_buf *b, json_t **msg)
{
	size_t n;
	int rc;

	*msg = NULL;
	if (b->len < 4)
		return 0;
	n = frame_len((const unsigned char *)b->buf);
	if (n > SYSG_LINK_MAX)
		return -EPROTO;
	if (b->len < 4 + n)
		return 0;
	rc = parse(b->buf + 4, n, msg);
	memmove(b->buf, b->buf + 4 + n, b->len - 4 - n);
	b->len -= 4 + n;
	return rc < 0 ? rc : 1;
}

void sysg_link_buf_free(struct sysg_link_buf *b)
{
	free(b->buf);
	memset(b, 0, sizeof(*b));
}

int64_t sysg_jint(const json_t *j, const char *key)
{
	return json_integer_value(json_object_get(j, key));
}

const char *sysg_jstr(const json_t *j, const char *key)
{
	return json_string_value(json_object_get(j, key));
}
