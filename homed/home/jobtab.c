/*
 * jobtab.c: where home finds its jobs without walking them all: by id
 * (a host's frames name their job), and those waiting for a slot, in
 * the order they came (placing looks at those alone). job.c keeps both
 * with d->jobs.
 */
#include "homed.h"

struct job *
mig__job_find(struct homed *d, uint32_t id)
{
	struct job *j;

	for (j = d->job_ids[id % MIG_JOB_BUCKETS]; j != NULL; j = j->next_id)
		if (j->id == id)
			return j;
	return NULL;
}

void
mig__jobs_add(struct homed *d, struct job *j)
{
	struct job **b = &d->job_ids[j->id % MIG_JOB_BUCKETS];

	j->next_id = *b;
	*b = j;
}

void
mig__jobs_remove(struct homed *d, struct job *j)
{
	struct job **pp = &d->job_ids[j->id % MIG_JOB_BUCKETS];

	while (*pp != NULL && *pp != j)
		pp = &(*pp)->next_id;
	if (*pp != NULL)
		*pp = j->next_id;
	if (j->queued)
		TAILQ_REMOVE(&d->queue, j, qentry);
	j->queued = 0;
}

void
mig__job_queue_sync(struct homed *d, struct job *j)
{
	struct job *k;

	if (j->state == JOB_QUEUED && !j->queued) {
		/* New jobs go last; one queued again finds its place. */
		for (k = TAILQ_LAST(&d->queue, jobq); k != NULL &&
		    (int32_t)(k->id - j->id) > 0; k = TAILQ_PREV(k, jobq,
		    qentry))
			;
		if (k == NULL)
			TAILQ_INSERT_HEAD(&d->queue, j, qentry);
		else
			TAILQ_INSERT_AFTER(&d->queue, k, j, qentry);
		j->queued = 1;
	} else if (j->state != JOB_QUEUED && j->queued) {
		TAILQ_REMOVE(&d->queue, j, qentry);
		j->queued = 0;
	}
}
