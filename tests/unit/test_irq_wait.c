/* The interrupt waiter over real eventfds: wake-ups, tags, and timeouts that signals cannot stretch. */
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <pollen/irq.h>

static double ms_since(const struct timespec *a)
{
	struct timespec b;

	clock_gettime(CLOCK_MONOTONIC, &b);
	return (b.tv_sec - a->tv_sec) * 1e3 + (b.tv_nsec - a->tv_nsec) / 1e6;
}

static int efd;

static void *fire_later(void *arg)
{
	(void)arg;
	usleep(50000);
	uint64_t one = 1;
	(void)!write(efd, &one, sizeof(one));
	return NULL;
}

Test(irq_wait, an_event_wakes_the_waiter_with_its_tag_once)
{
	struct pl_irq_waiter *w = pl_irq_waiter_new();
	int other = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	void *tags[4] = { NULL };
	pthread_t t;

	efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	cr_assert_not_null(w);
	cr_assert_eq(pl_irq_waiter_add(w, other, (void *)1), 0);
	cr_assert_eq(pl_irq_waiter_add(w, efd, (void *)2), 0);
	pthread_create(&t, NULL, fire_later, NULL);
	cr_expect_eq(pl_irq_wait(w, 5000, tags, 4), 1);
	cr_expect_eq(tags[0], (void *)2, "the wrong eventfd's tag");
	pthread_join(t, NULL);
	/* The wait read the eventfd: nothing more is pending. */
	cr_expect_eq(pl_irq_wait(w, 0, tags, 4), 0);
	cr_expect_eq(pl_irq_waiter_del(w, efd), 0);
	cr_expect_eq(pl_irq_waiter_del(w, efd), -ENOENT);
	pl_irq_waiter_free(w);
	close(efd);
	close(other);
}

static void on_alarm(int sig)
{
	(void)sig;
}

/* A timer's signal every 100 ms interrupts epoll_wait again and again. */
Test(irq_wait, signals_do_not_stretch_the_timeout, .timeout = 10)
{
	struct pl_irq_waiter *w = pl_irq_waiter_new();
	struct sigaction sa = { .sa_handler = on_alarm };	/* no SA_RESTART */
	struct itimerval every = { { 0, 100000 }, { 0, 100000 } }, off = { 0 };
	struct timespec a;

	efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	cr_assert_eq(pl_irq_waiter_add(w, efd, NULL), 0);
	sigaction(SIGALRM, &sa, NULL);
	setitimer(ITIMER_REAL, &every, NULL);
	clock_gettime(CLOCK_MONOTONIC, &a);
	int n = pl_irq_wait(w, 300, NULL, 1);
	double ms = ms_since(&a);
	setitimer(ITIMER_REAL, &off, NULL);
	cr_expect_eq(n, 0);
	cr_expect_geq(ms, 299, "returned after %.0f ms of a 300 ms timeout", ms);
	cr_expect_lt(ms, 1000, "a 300 ms timeout took %.0f ms", ms);
	pl_irq_waiter_free(w);
	close(efd);
}
