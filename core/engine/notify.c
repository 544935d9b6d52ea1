/* notify.c - change notifications: every change of a unit's status is
 * recorded when it happens (sup_note_status, from inside transitions)
 * and delivered later from the loop (sup_deliver), in order, to the
 * subscribers of supervisor.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "svc.h"

#define MAX_SUBSCRIBERS 64

/* Append one change; on allocation failure the change is lost for the
 * subscribers (logged): the engine itself goes on. */
static void push(struct sysg_supervisor *s, const char *name,
		 enum sysg_unit_status old, enum sysg_unit_status now)
{
	struct sup_notify *n = &s->notify;
	struct sup_change *c;

	n->seq++;
	n->idle_check = 1;
	if (!n->nsubs)
		return;         /* nobody listens: nothing to keep */
	if (n->npending == n->cap) {
		size_t cap = n->cap ? n->cap * 2 : 16;
		struct sup_change *nv = realloc(n->pending, cap * sizeof(*nv));

		if (!nv) {
			sysg_log(&s->log, SYSG_LOG_ERROR, "out of memory: a "
				 "change of %s was not notified", name);
			return;
		}
		n->pending = nv;
		n->cap = cap;
	}
	c = &n->pending[n->npending++];
	c->seq = n->seq;
	c->old_status = old;
	c->new_status = now;
	snprintf(c->name, sizeof(c->name), "%s", name);
}

void sup_note_status(struct svc *v)
{
	enum sysg_unit_status now = svc_pub_status(v);

	if (now == v->pub_status)
		return;
	push(v->sup, v->cfg->name, v->pub_status, now);
	v->pub_status = now;
}

void sup_note_activity(struct sysg_supervisor *s)
{
	s->notify.idle_check = 1;
}

static void tell(struct sysg_supervisor *s, const struct sysg_unit_change *ch)
{
	struct sup_notify *n = &s->notify;

	/* a subscriber may subscribe or unsubscribe meanwhile */
	for (size_t i = 0; i < n->nsubs; i++) {
		struct sup_subscriber sub = n->subs[i];

		if (sub.fn && ch->seq > sub.since)
			sub.fn(sub.arg, ch);
	}
}

static void tell_change(struct sysg_supervisor *s, const struct sup_change *c)
{
	struct sysg_unit_change ch = {
		.kind = SYSG_CHANGE_UNIT, .seq = c->seq, .name = c->name,
		.old_status = c->old_status, .new_status = c->new_status,
		.old_phase = sysg_status_phase(c->old_status),
		.new_phase = sysg_status_phase(c->new_status),
		.status = sysg_status_word(c->new_status),
	};
	int i = sysg_supervisor_index(s, c->name);

	ch.index = i < 0 ? SYSG_UNIT_GONE : (size_t)i;
	tell(s, &ch);
}

static void tell_idle(struct sysg_supervisor *s)
{
	struct sysg_unit_change ch = {
		.kind = SYSG_CHANGE_IDLE, .seq = ++s->notify.seq,
		.index = SYSG_UNIT_GONE, .name = "",
		.status = "",
	};

	tell(s, &ch);
}

/* Forget unsubscribed slots at the end of the list. */
static void trim(struct sup_notify *n)
{
	while (n->nsubs && !n->subs[n->nsubs - 1].fn)
		n->nsubs--;
}

void sup_deliver(struct sysg_supervisor *s)
{
	struct sup_notify *n = &s->notify;

	if (n->delivering)
		return;
	n->delivering = 1;
	for (;;) {
		/* a callback may record more changes (and move PENDING) */
		for (size_t i = 0; i < n->npending; i++) {
			struct sup_change c = n->pending[i];

			tell_change(s, &c);
		}
		n->npending = 0;
		if (!n->idle_check)
			break;
		n->idle_check = 0;
		if (n->nsubs && sysg_supervisor_idle(s))
			tell_idle(s);
		if (!n->npending)
			break;
	}
	trim(n);
	n->delivering = 0;
}

int sysg_supervisor_subscribe(struct sysg_supervisor *s, sysg_change_fn fn,
			      void *arg)
{
	struct sup_notify *n = &s->notify;
	struct sup_subscriber *nv;
	size_t i;

	for (i = 0; i < n->nsubs && n->subs[i].fn; i++)
		;
	if (i == n->nsubs) {
		if (n->nsubs == MAX_SUBSCRIBERS)
			return -ENOMEM;
		nv = realloc(n->subs, (n->nsubs + 1) * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		n->subs = nv;
		n->nsubs++;
	}
	n->subs[i].fn = fn;
	n->subs[i].arg = arg;
	n->subs[i].since = n->seq;
	return (int)i;
}

void sysg_supervisor_unsubscribe(struct sysg_supervisor *s, int id)
{
	struct sup_notify *n = &s->notify;

	if (id < 0 || (size_t)id >= n->nsubs)
		return;
	n->subs[id].fn = NULL;
	n->subs[id].arg = NULL;
	if (!n->delivering)
		trim(n);
}

uint64_t sysg_supervisor_change_seq(const struct sysg_supervisor *s)
{
	return s->notify.seq;
}

int sysg_supervisor_phase(const struct sysg_supervisor *s, size_t i,
			  enum sysg_unit_status *status)
{
	enum sysg_unit_status st;

	if (i >= s->nactive)
		return -ENOENT;
	st = svc_pub_status(s->svcs[i]);
	if (status)
		*status = st;
	return (int)sysg_status_phase(st);
}

void sup_notify_free(struct sysg_supervisor *s)
{
	free(s->notify.pending);
	free(s->notify.subs);
	memset(&s->notify, 0, sizeof(s->notify));
}
