/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Event-driven idle (poll mode "event"): a loop that found no work blocks until there is
 * some, instead of sleeping on a timer. One epoll set per lcore (driven by rte_epoll_wait,
 * which also clears interrupt file descriptors as their PMD requires) holds:
 *   - the port's Rx wake-up when the lcore polls the port: the Rx queue interrupt
 *     (rte_eth_dev_rx_intr_ctl_q, as l3fwd-power; net_tap and most NICs have one), else
 *     the kernel socket the PMD reads (net_af_packet's packet socket, which the kernel
 *     makes readable exactly while its Rx ring holds a frame; net_af_xdp's XSK socket);
 *   - eventfds other threads signal when they hand this lcore work: other lcores through
 *     the rings (mesh_net_idle_wake), the control thread, telemetry queries;
 *   - a timerfd set to the loop's next deadline, with ns precision (epoll's own timeout
 *     is in ms and has timer slack); set again only when that deadline moved (most
 *     wake-ups are frames, and the probe timer stays where it was).
 * Arming is race free: the loop first sets `sleeping` and arms the Rx interrupt, polls
 * once more, and blocks only if that pass found nothing too; a producer publishes its work
 * before it reads `sleeping` (both sides fence), so either the pass sees the work or the
 * producer signals. The port's sources are level triggered, so a frame that arrives
 * between the last poll and the wait ends the wait at once.
 * A port with no wake-up source (net_ring, net_memif, net_null) keeps the back-off's
 * growing sleeps, but inside the same epoll, so rings and the control thread still wake it.
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <linux/if_packet.h>

#include <rte_ethdev.h>
#include <rte_interrupts.h>

#include "mesh_common_dpdk.h"
#include "mesh_net.h"

#ifndef AF_XDP
#define AF_XDP 44
#endif

#define EVENT_SPIN_POLLS 1
#define MAX_BLOCK_NS (100 * MESH_NS_PER_MS) /* a signal on another thread is seen this late */

/* what ended a wait: rte_epoll_event.epdata.data of each source */
enum { SRC_RX = 1, SRC_FD, SRC_TIMER };

static void
drain(int fd, void *arg)
{
	uint64_t v;

	(void)arg;
	if (read(fd, &v, sizeof(v)) < 0) {
		/* EAGAIN: another wake-up already drained it */
	}
}

static int
watch(struct mesh_net_idle *w, int fd, uintptr_t src, bool drained)
{
	struct rte_epoll_event *ev;

	if (w->n_ev == MESH_NET_IDLE_FDS)
		return -ENOSPC;
	ev = &w->ev[w->n_ev];
	memset(ev, 0, sizeof(*ev));
	ev->epdata.event = EPOLLIN;
	ev->epdata.data = (void *)src;
	ev->epdata.cb_fun = drained ? drain : NULL;
	if (rte_epoll_ctl(w->epfd, EPOLL_CTL_ADD, fd, ev) < 0)
		return -errno ? -errno : -EIO;
	w->n_ev++;
	return 0;
}

int
mesh_net_idle_init(struct mesh_net_idle *w, enum mesh_net_poll_mode mode, uint32_t max_us)
{
	int ret;

	memset(w, 0, sizeof(*w));
	mesh_net_backoff_init(&w->b, mode, max_us);
	w->epfd = w->timer_fd = w->wake_fd = -1;
	if (mode != MESH_NET_POLL_EVENT)
		return 0;
	w->b.spin = EVENT_SPIN_POLLS;
	w->epfd = epoll_create1(EPOLL_CLOEXEC);
	w->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	w->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (w->epfd < 0 || w->timer_fd < 0 || w->wake_fd < 0) {
		ret = -errno;
		mesh_net_idle_fini(w);
		return ret;
	}
	ret = watch(w, w->timer_fd, SRC_TIMER, true);
	if (ret == 0)
		ret = watch(w, w->wake_fd, SRC_FD, true);
	if (ret < 0)
		mesh_net_idle_fini(w);
	return ret;
}

int
mesh_net_idle_add_fd(struct mesh_net_idle *w, int fd)
{
	if (w->b.mode != MESH_NET_POLL_EVENT || fd < 0)
		return 0;
	return watch(w, fd, SRC_FD, true);
}

/*
 * The kernel socket a socket PMD receives on: an AF_PACKET socket bound to the port's
 * interface (net_af_packet, one per queue pair) or an AF_XDP socket (net_af_xdp). Only
 * when exactly one matches, so a second port or queue never makes us wait on the wrong one.
 */
static int
pmd_socket(uint16_t port_id)
{
	struct rte_eth_dev_info info;
	struct dirent *e;
	int found = -1, n = 0, family;
	DIR *dir;

	if (rte_eth_dev_info_get(port_id, &info) != 0)
		return -1;
	if (strcmp(info.driver_name, "net_af_packet") == 0 && info.if_index != 0)
		family = AF_PACKET;
	else if (strcmp(info.driver_name, "net_af_xdp") == 0)
		family = AF_XDP;
	else
		return -1;
	dir = opendir("/proc/self/fd");
	if (dir == NULL)
		return -1;
	while ((e = readdir(dir)) != NULL) {
		int fd = atoi(e->d_name), dom = 0;
		socklen_t len = sizeof(dom);
		struct sockaddr_ll sll;

		if (e->d_name[0] < '0' || e->d_name[0] > '9' || fd == dirfd(dir) ||
		    getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &dom, &len) < 0 || dom != family)
			continue;
		if (family == AF_PACKET) {
			len = sizeof(sll);
			if (getsockname(fd, (struct sockaddr *)&sll, &len) < 0 ||
			    (unsigned)sll.sll_ifindex != info.if_index)
				continue;
		}
		found = fd;
		n++;
	}
	closedir(dir);
	return n == 1 ? found : -1;
}

/* whether queue 0 has an Rx interrupt; asking ethdev logs an error when it has none */
static bool
rx_intr_supported(uint16_t port_id)
{
	uint32_t level = rte_log_get_level(rte_eth_dev_logtype);
	int fd;

	rte_log_set_level(rte_eth_dev_logtype, RTE_LOG_CRIT);
	fd = rte_eth_dev_rx_intr_ctl_q_get_fd(port_id, 0);
	rte_log_set_level(rte_eth_dev_logtype, level);
	return fd >= 0;
}

enum mesh_net_rx_wake
mesh_net_idle_add_port(struct mesh_net_idle *w, uint16_t port_id)
{
	int fd;

	if (w->b.mode != MESH_NET_POLL_EVENT)
		return MESH_NET_RX_WAKE_NONE;
	w->rx_role = true;
	w->port_id = port_id;
	w->rx_wake = MESH_NET_RX_WAKE_NONE;
	if (rx_intr_supported(port_id) &&
	    rte_eth_dev_rx_intr_ctl_q(port_id, 0, w->epfd, RTE_INTR_EVENT_ADD,
				      (void *)(uintptr_t)SRC_RX) == 0) {
		w->rx_wake = MESH_NET_RX_WAKE_INTR;
	} else if ((fd = pmd_socket(port_id)) >= 0 && watch(w, fd, SRC_RX, false) == 0) {
		w->rx_wake = MESH_NET_RX_WAKE_SOCKET;
	}
	MESH_RTE_LOG(INFO, net, "port %u: an idle rx loop wakes on %s", port_id,
		     mesh_net_rx_wake_name(w->rx_wake));
	return w->rx_wake;
}

void
mesh_net_idle_wake(struct mesh_net_idle *w)
{
	static const uint64_t one = 1;

	/* pairs with the fence in arm(): our enqueue is visible before we read `sleeping` */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (__atomic_load_n(&w->sleeping, __ATOMIC_RELAXED) && write(w->wake_fd, &one, 8) < 0) {
		/* the counter saturates only when nobody drains it: the loop is gone */
	}
}

static void
arm(struct mesh_net_idle *w, bool on)
{
	w->armed = on;
	__atomic_store_n(&w->sleeping, on, __ATOMIC_RELAXED);
	if (on)
		__atomic_thread_fence(__ATOMIC_SEQ_CST); /* before the last poll reads the rings */
	if (w->rx_wake == MESH_NET_RX_WAKE_INTR) {
		/* net_tap has nothing to switch (-ENOTSUP): its queue fd is always armed */
		if (on)
			rte_eth_dev_rx_intr_enable(w->port_id, 0);
		else
			rte_eth_dev_rx_intr_disable(w->port_id, 0);
	}
}

bool
mesh_net_idle_account(struct mesh_net_idle *w, unsigned work)
{
	struct mesh_net_backoff *b = &w->b;

	b->polls++;
	if (work > 0) {
		b->busy_polls++;
		b->empty = 0;
		b->cur_us = b->min_us;
		if (w->armed)
			arm(w, false);
		return false;
	}
	if (b->mode == MESH_NET_POLL_BUSY || ++b->empty < b->spin)
		return false;
	if (b->mode == MESH_NET_POLL_EVENT && !w->armed) {
		arm(w, true); /* one more pass with the wake-ups armed */
		return false;
	}
	return true;
}

static void
event_sleep(struct mesh_net_idle *w, uint64_t now_ns, uint64_t deadline_ns)
{
	struct rte_epoll_event evs[MESH_NET_IDLE_FDS];
	struct itimerspec its = { 0 };
	uint64_t wait_ns = MAX_BLOCK_NS, woke;
	bool timed = false;
	int n;

	if (deadline_ns <= now_ns)
		goto out;
	if (deadline_ns - now_ns <= wait_ns) {
		wait_ns = deadline_ns - now_ns;
		timed = true;
	}
	if (w->rx_role && w->rx_wake == MESH_NET_RX_WAKE_NONE) {
		/* nothing tells us about frames: the back-off's timeout, growing while idle */
		if ((uint64_t)w->b.cur_us * 1000 < wait_ns) {
			wait_ns = (uint64_t)w->b.cur_us * 1000;
			timed = false;
		}
		if (w->b.cur_us < w->b.max_us)
			w->b.cur_us = MESH_MIN(w->b.cur_us * 2, w->b.max_us);
	}
	if (!timed || w->timer_at != deadline_ns) {
		its.it_value.tv_sec = (time_t)(wait_ns / MESH_NS_PER_SEC);
		its.it_value.tv_nsec = (long)(wait_ns % MESH_NS_PER_SEC);
		timerfd_settime(w->timer_fd, 0, &its, NULL);
		w->timer_at = timed ? deadline_ns : 0;
	}
	n = rte_epoll_wait_interruptible(w->epfd, evs, MESH_NET_IDLE_FDS, -1);
	woke = mesh_tsc_now_ns();
	__atomic_store_n(&w->blocks, w->blocks + 1, __ATOMIC_RELAXED);
	__atomic_store_n(&w->b.sleeps, w->b.sleeps + 1, __ATOMIC_RELAXED);
	__atomic_store_n(&w->b.slept_us, w->b.slept_us + (woke - now_ns) / 1000,
			 __ATOMIC_RELAXED);
	for (int i = 0; i < n; i++) {
		uintptr_t src = (uintptr_t)evs[i].epdata.data;
		uint64_t *c = src == SRC_RX ? &w->wake_rx : src == SRC_FD ? &w->wake_fd_events
									  : &w->wake_timer;

		__atomic_store_n(c, *c + 1, __ATOMIC_RELAXED);
		if (src == SRC_TIMER)
			w->timer_at = 0; /* fired (and drained) */
	}
	if (timed && woke >= deadline_ns)
		mesh_net_backoff_late(&w->b, deadline_ns, woke);
out:
	arm(w, false);
	w->b.empty = 0;
}

void
mesh_net_idle_sleep(struct mesh_net_idle *w, uint64_t now_ns, uint64_t deadline_ns)
{
	if (w->b.mode == MESH_NET_POLL_EVENT) {
		event_sleep(w, now_ns, deadline_ns);
		return;
	}
	mesh_net_backoff_sleep(&w->b, now_ns, deadline_ns);
}

void
mesh_net_idle_fini(struct mesh_net_idle *w)
{
	int *fds[] = { &w->epfd, &w->timer_fd, &w->wake_fd };

	if (w->rx_wake == MESH_NET_RX_WAKE_INTR)
		rte_eth_dev_rx_intr_ctl_q(w->port_id, 0, w->epfd, RTE_INTR_EVENT_DEL, NULL);
	w->rx_wake = MESH_NET_RX_WAKE_NONE;
	/* closing the epoll set drops the callers' descriptors from it; theirs stay open */
	for (unsigned i = 0; i < MESH_ARRAY_SIZE(fds); i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
	w->n_ev = 0;
}

const char *
mesh_net_rx_wake_name(enum mesh_net_rx_wake s)
{
	static const char *const names[] = { "timeout", "rx_interrupt", "pmd_socket" };

	return (unsigned)s < MESH_ARRAY_SIZE(names) ? names[s] : "?";
}

bool
mesh_net_arp_pending(const struct mesh_net_port *p)
{
	for (unsigned i = 0; i < MESH_NET_ARP_SLOTS; i++)
		if (p->neigh[i].ip != 0 && !p->neigh[i].resolved)
			return true;
	return false;
}
