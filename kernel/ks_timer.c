// SPDX-License-Identifier: GPL-2.0
/*
 * Timers: a script's Timer.run() every interval (or once), in a kworker of
 * ks_wq (process context).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/jiffies.h>
#include <linux/workqueue.h>
#include "ks.h"

/*
 * A Timer's run(), in a kworker (process context). It never waits for the
 * script: when a handler holds it, the tick is skipped (counted) and the
 * timer comes back one jiffy later. Periodic timers queue themselves again.
 */
static void ks_timer_fn(struct work_struct *work)
{
	struct ks_kobj *k = container_of(to_delayed_work(work), struct ks_kobj, timer.work);
	struct ks_script *s = k->script;
	unsigned long next;
	long refund;
	int rc;

	if (!mutex_trylock(&s->lock)) {
		WRITE_ONCE(k->timer.missed, k->timer.missed + 1);
		/* An unload that is waiting may yet be killed: come back until
		 * the script is dead (the unload's cancel copes with requeues). */
		if (!READ_ONCE(s->dead))
			queue_delayed_work(ks_wq, &k->timer.work, 1);
		return;
	}
	if (s->dead || !s->committed || k->obj->stopped) {
		mutex_unlock(&s->lock);
		return;
	}
	ks_hold(s);
	refund = atomic_long_xchg(&s->refund, 0);
	if (refund)
		ks_charge(s->state, -refund);
	s->handler_calls++;
	rc = ks_object_run(s->state, k->obj);
	if (rc != KS_OK)
		ks_handler_error(s, rc, "Timer.run");
	next = msecs_to_jiffies(k->interval_ms);
	if (k->obj->periodic && !k->obj->stopped && !s->dead)
		queue_delayed_work(ks_wq, &k->timer.work, next);
	ks_leave(s);
}

static int ks_timer_create(struct ks_kobj *k)
{
	INIT_DELAYED_WORK(&k->timer.work, ks_timer_fn);
	return 0;
}

/* Nothing to register: a timer starts at the commit. */
static int ks_timer_enable(struct ks_kobj *k, struct ks_diag *dg)
{
	return 0;
}

static void ks_timer_start(struct ks_kobj *k)
{
	if (!k->obj->stopped && !k->timer.started) {
		k->timer.started = true;
		queue_delayed_work(ks_wq, &k->timer.work, msecs_to_jiffies(k->interval_ms));
	}
}

/* Timer.stop(). Not _sync: run() itself may be the caller, or a hook in
 * atomic context (cancel_delayed_work() is safe there). */
void ks_timer_stop(struct ks_kobj *k)
{
	if (k->timer.started)
		cancel_delayed_work(&k->timer.work);
}

/* Waits for a run in progress; a run that requeues itself is cancelled too. */
static void ks_timer_disable(struct ks_kobj *k)
{
	cancel_delayed_work_sync(&k->timer.work);
}

/* Its interval, and the ticks skipped while a handler held the script. */
static void ks_timer_record(const struct ks_kobj *k, struct ks_ioc_object *o)
{
	o->interval_ms = k->interval_ms;
	o->missed = READ_ONCE(k->timer.missed);
}

/* A timer's work item. */
const struct ks_kind_ops ks_timer_ops = {
	.name = "timer",
	.cost = 64,
	.create = ks_timer_create,
	.enable = ks_timer_enable,
	.start = ks_timer_start,
	.disable = ks_timer_disable,
	.record = ks_timer_record,
};
