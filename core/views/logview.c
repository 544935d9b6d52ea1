/* logview.c - see logview.h */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "logview.h"
#include "mux.h"
#include "base/base.h"

#define BLOCK 65536

/* ------------------------------------------------------------ the set */

static int add_file(struct sysg_logset *set, const char *dir,
		    const char *svc, const char *kind)
{
	struct sysg_logfile *v = realloc(set->v, (set->n + 1) * sizeof(*v));
	struct sysg_logfile *f;
	char *name = NULL;

	if (!v)
		return -ENOMEM;
	set->v = v;
	f = &v[set->n];
	memset(f, 0, sizeof(*f));
	if (svc ? asprintf(&name, "%s_%s.log", svc, kind) < 0 :
	    !(name = strdup("supervisor.log")))
		return -ENOMEM;
	f->path = sysg_path_join(dir, name);
	free(name);
	f->kind = strdup(kind);
	f->service = svc ? strdup(svc) : NULL;
	set->n++;
	if (!f->path || !f->kind || (svc && !f->service))
		return -ENOMEM;
	return 0;
}

int sysg_logset_build(struct sysg_logset *set, const char *log_dir,
		      const char *const *services, size_t nservices,
		      const char *kind, int with_supervisor)
{
	int rc = 0;

	memset(set, 0, sizeof(*set));
	if (kind && !strcmp(kind, "supervisor"))
		return add_file(set, log_dir, NULL, "supervisor");
	for (size_t i = 0; rc == 0 && i < nservices; i++) {
		if (!kind || !strcmp(kind, "stdout"))
			rc = add_file(set, log_dir, services[i], "stdout");
		if (rc == 0 && (!kind || !strcmp(kind, "stderr")))
			rc = add_file(set, log_dir, services[i], "stderr");
	}
	if (rc == 0 && !kind && with_supervisor)
		rc = add_file(set, log_dir, NULL, "supervisor");
	if (rc < 0)
		sysg_logset_free(set);
	return rc;
}

void sysg_logset_free(struct sysg_logset *set)
{
	for (size_t i = 0; i < set->n; i++) {
		free(set->v[i].service);
		free(set->v[i].kind);
		free(set->v[i].path);
	}
	free(set->v);
	memset(set, 0, sizeof(*set));
}

/* ------------------------------------------------ services with logs */

/* The service name of a log file name, or NULL. */
static char *service_of(const char *file)
{
	static const char *const suffixes[] = { "_stdout.log", "_stderr.log" };
	size_t len = strlen(file);

	for (int i = 0; i < 2; i++) {
		size_t sl = strlen(suffixes[i]);

		if (len > sl && !strcmp(file + len - sl, suffixes[i]))
			return strndup(file, len - sl);
	}
	return NULL;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sort V and drop duplicates; returns the new count. */
static size_t sort_unique(char **v, size_t n)
{
	size_t k = 0;

	if (n > 1)
		qsort(v, n, sizeof(*v), cmp_str);
	for (size_t i = 0; i < n; i++) {
		if (k && !strcmp(v[k - 1], v[i]))
			free(v[i]);
		else
			v[k++] = v[i];
	}
	return k;
}

int sysg_log_services(const char *log_dir, char ***out)
{
	DIR *d = opendir(log_dir);
	struct dirent *de;
	char **v = NULL, *name;
	size_t n = 0;

	*out = NULL;
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d))) {
		char **nv;

		name = service_of(de->d_name);
		if (!name)
			continue;
		nv = realloc(v, (n + 1) * sizeof(*v));
		if (!nv) {
			free(name);
			closedir(d);
			while (n > 0)
				free(v[--n]);
			free(v);
			return -ENOMEM;
		}
		v = nv;
		v[n++] = name;
	}
	closedir(d);
	n = sort_unique(v, n);
	*out = v;
	return (int)n;
}

/* ---------------------------------------------------------------- tail */

/* Copy [FROM, TO) of FD to OUT. 0 or -errno. */
static int copy_range(int fd, off_t from, off_t to, FILE *out, char *buf)
{
	while (from < to) {
		size_t want = (size_t)(to - from) < BLOCK ? (size_t)(to - from) :
			      BLOCK;
		ssize_t n = pread(fd, buf, want, from);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		fwrite(buf, 1, (size_t)n, out);
		from += n;
	}
	return 0;
}

/* The offset where the last LINES lines of the first SIZE bytes of FD
 * begin, reading backwards one block at a time. */
static off_t tail_start(int fd, off_t size, long lines, char *buf)
{
	off_t pos = size;
	long seen = 0;

	if (lines <= 0)
		return size;
	while (pos > 0) {
		size_t chunk = pos < BLOCK ? (size_t)pos : BLOCK;
		ssize_t n;

		pos -= (off_t)chunk;
		n = pread(fd, buf, chunk, pos);
		if (n < (ssize_t)chunk)
			return pos + (n > 0 ? n : 0);
		for (size_t i = chunk; i-- > 0;) {
			/* a newline ends a line; the file's last byte being
			 * one does not start another */
			if (buf[i] != '\n' || pos + (off_t)i == size - 1)
				continue;
			if (++seen == lines)
				return pos + (off_t)i + 1;
		}
	}
	return 0;
}

static int tail_fd(int fd, long lines, FILE *out, off_t *end)
{
	struct stat st;
	char *buf;
	off_t start;
	int rc;

	if (fstat(fd, &st) < 0)
		return -errno;
	buf = malloc(BLOCK);
	if (!buf)
		return -ENOMEM;
	start = tail_start(fd, st.st_size, lines, buf);
	rc = copy_range(fd, start, st.st_size, out, buf);
	free(buf);
	if (end)
		*end = st.st_size;
	return rc;
}

int sysg_log_tail(const char *path, long lines, FILE *out, off_t *end)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	int rc;

	if (fd < 0)
		return -errno;
	rc = tail_fd(fd, lines, out, end);
	close(fd);
	return rc;
}

static void header(const struct sysg_logfile *f, FILE *out)
{
	if (f->service)
		fprintf(out, "==> %s (%s): %s <==\n", f->service, f->kind, f->path);
	else
		fprintf(out, "==> supervisor: %s <==\n", f->path);
}

int sysg_logs_show(const struct sysg_logset *set, long lines, FILE *out)
{
	size_t existing = 0, shown = 0;

	for (size_t i = 0; i < set->n; i++)
		existing += access(set->v[i].path, F_OK) == 0;
	for (size_t i = 0; i < set->n; i++) {
		int fd = open(set->v[i].path, O_RDONLY | O_CLOEXEC |
			      O_NOFOLLOW | O_NONBLOCK);
		int rc;

		if (fd < 0 && errno == ENOENT)
			continue;
		if (fd < 0)
			return -errno;
		if (existing > 1)
			fprintf(out, "%s", shown ? "\n" : "");
		if (existing > 1)
			header(&set->v[i], out);
		rc = tail_fd(fd, lines, out, NULL);
		close(fd);
		if (rc < 0)
			return rc;
		shown++;
	}
	fflush(out);
	return (int)shown;
}

int sysg_log_clear(const char *path)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	struct stat st;
	int rc = 0;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		rc = -errno;
	else if (!S_ISREG(st.st_mode))
		rc = -EINVAL;
	else if (ftruncate(fd, 0) < 0)
		rc = -errno;
	close(fd);
	return rc;
}

/* -------------------------------------------------------------- follow */

struct followed {
	const struct sysg_logfile *f;
	FILE *out;              /* where its text goes */
	int fd;                 /* -1 while the file does not exist */
	dev_t dev;
	ino_t ino;
	off_t off;              /* printed up to here */
};

struct follow {
	struct followed *v;
	size_t n;
	const struct sysg_follow_opts *o;
	ssize_t last;           /* index of the file printed last, or -1 */
	char *buf;
};

static void note(const struct follow *fw, const struct followed *x,
		 const char *what)
{
	if (fw->o->notes)
		fprintf(fw->o->notes, "sysg: %s: %s\n", x->f->path, what);
}

/* Open X's path; print its last lines when HISTORY, else start at 0. */
static void attach(struct follow *fw, struct followed *x, int history)
{
	struct stat st;

	x->fd = open(x->f->path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW |
		     O_NONBLOCK);
	if (x->fd < 0 || fstat(x->fd, &st) < 0) {
		if (x->fd >= 0)
			close(x->fd);
		x->fd = -1;
		return;
	}
	x->dev = st.st_dev;
	x->ino = st.st_ino;
	x->off = history ? st.st_size : 0;
	if (history) {
		if (fw->n > 1 && !fw->o->mux) {
			fprintf(fw->o->out, "%s", fw->last >= 0 ? "\n" : "");
			header(x->f, fw->o->out);
			fw->last = x - fw->v;
		}
		tail_fd(x->fd, fw->o->lines, x->out, &x->off);
		fflush(x->out);
	}
}

/* Print bytes FROM..TO of FD as X's lines: with several files, a header
 * first when the last lines printed were another file's. */
static void emit(struct follow *fw, struct followed *x, int fd, off_t from,
		 off_t to)
{
	if (fw->n > 1 && fw->last != x - fw->v && !fw->o->mux) {
		fprintf(fw->o->out, "\n");
		header(x->f, fw->o->out);
		fw->last = x - fw->v;
	}
	copy_range(fd, from, to, x->out, fw->buf);
	if (x->out != fw->o->out)
		fflush(x->out);
}

/* X's file was emptied by a copy-truncate rotation (the supervisor's, in
 * direct log mode): its content, ours up to X->off, now heads PATH.1.
 * Print the rest of it. 1 when PATH.1 holds it, else 0. */
static int rotated_rest(struct follow *fw, struct followed *x)
{
	char one[4200];
	struct stat st;
	int fd, ok;

	if ((size_t)snprintf(one, sizeof(one), "%s.1", x->f->path) >=
	    sizeof(one))
		return 0;
	fd = open(one, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0)
		return 0;
	ok = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
	     st.st_size >= x->off;
	if (ok && st.st_size > x->off)
		emit(fw, x, fd, x->off, st.st_size);
	close(fd);
	return ok;
}

/* Print what was appended to X since the last poll. */
static void pump(struct follow *fw, struct followed *x)
{
	struct stat st;

	if (x->fd < 0 || fstat(x->fd, &st) < 0)
		return;
	if (st.st_size < x->off) {
		/* copy-truncate rotation: what came after our offset went to
		 * PATH.1 with the rest; print it from there */
		if (!rotated_rest(fw, x))
			note(fw, x, "file truncated");
		x->off = 0;
	}
	if (st.st_size == x->off)
		return;
	emit(fw, x, x->fd, x->off, st.st_size);
	x->off = st.st_size;
}

/* One poll of X: new data, truncation, rotation, appearance. */
static void poll_one(struct follow *fw, struct followed *x)
{
	struct stat st;

	if (x->fd < 0) {
		attach(fw, x, 0);
		pump(fw, x);
		return;
	}
	pump(fw, x);
	if (stat(x->f->path, &st) == 0 &&
	    (st.st_ino != x->ino || st.st_dev != x->dev)) {
		note(fw, x, "file replaced (rotated); following the new file");
		close(x->fd);
		attach(fw, x, 0);
		pump(fw, x);
	}
}

static void follow_free(struct follow *fw)
{
	for (size_t i = 0; i < fw->n; i++) {
		if (fw->v[i].fd >= 0)
			close(fw->v[i].fd);
		if (fw->v[i].out && fw->v[i].out != fw->o->out)
			fclose(fw->v[i].out);
	}
	free(fw->v);
	free(fw->buf);
}

int sysg_logs_follow(const struct sysg_logset *set,
		     const struct sysg_follow_opts *o)
{
	struct follow fw = { NULL, set->n, o, -1, NULL };

	fw.v = calloc(set->n + 1, sizeof(*fw.v));
	fw.buf = malloc(BLOCK);
	if (!fw.v || !fw.buf) {
		free(fw.v);     /* no file is open yet */
		free(fw.buf);
		return -ENOMEM;
	}
	for (size_t i = 0; i < set->n; i++)
		fw.v[i].fd = -1;
	for (size_t i = 0; i < set->n; i++) {
		const struct sysg_logfile *f = &set->v[i];

		fw.v[i].f = f;
		fw.v[i].out = o->mux ? sysg_mux_stream(o->mux, f->service ?
				f->service : "sysg", f->kind &&
				!strcmp(f->kind, "stderr") ? 2 : 1) : o->out;
		if (!fw.v[i].out) {
			follow_free(&fw);
			return -ENOMEM;
		}
	}
	/* all names known first: the column has its width from the start */
	for (size_t i = 0; i < set->n; i++)
		attach(&fw, &fw.v[i], 1);
	fflush(o->out);
	while (!o->stop || !o->stop(o->arg)) {
		poll(NULL, 0, (int)(o->interval_ms > 0 ? o->interval_ms : 1000));
		for (size_t i = 0; i < set->n; i++)
			poll_one(&fw, &fw.v[i]);
		fflush(o->out);
	}
	follow_free(&fw);
	return 0;
}
