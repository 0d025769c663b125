/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Replacing the cluster keys of a running node (a reload), while the lcores seal and open
 * frames without a lock. Two keyrings: the lcores read the one the frame security's
 * pointer (sec->keyring) points at; a reload fills the other and swaps the pointer
 * (release), so a reader sees one whole keyring. A keyring is rewritten only a second
 * after it was swapped out (a frame's seal or open takes microseconds): a reload sooner
 * than that waits. One thread reloads (not an lcore). The keyring's migration mode
 * (keyless frames accepted; keys that open but do not seal) is kept from the one in use.
 */
#include <errno.h>
#include <stdio.h>
#include <time.h>

#include "mesh_common_dpdk.h"
#include "mesh_net.h"

#define SWAP_GRACE_NS (1000 * MESH_NS_PER_MS)

void
mesh_net_keyswap_init(struct mesh_net_keyswap *ks, struct mesh_wire_sec *sec,
		      struct mesh_wire_keyring *first)
{
	ks->sec = sec;
	ks->first = first;
	ks->swapped_ns = 0;
	mesh_wire_keyring_init(&ks->spare);
}

int
mesh_net_keyswap_load(struct mesh_net_keyswap *ks, const char *path, char *err,
		      size_t err_len)
{
	const struct mesh_wire_keyring *cur = __atomic_load_n(&ks->sec->keyring, __ATOMIC_ACQUIRE);
	struct mesh_wire_keyring *next = cur == &ks->spare ? ks->first : &ks->spare;
	uint64_t since = mesh_tsc_now_ns() - ks->swapped_ns;
	bool accept_plaintext = cur != NULL && cur->accept_plaintext;
	bool no_seal = cur != NULL && cur->n_keys > 0 && cur->primary < 0;

	if (ks->swapped_ns != 0 && since < SWAP_GRACE_NS) {
		struct timespec ts = { 0, (long)(SWAP_GRACE_NS - since) };

		nanosleep(&ts, NULL); /* readers of @next may still be in a seal or open */
	}
	mesh_wire_keyring_fini(next);
	if (mesh_wire_keyring_load(path, next, err, err_len) < 0)
		return -EINVAL;
	if (next->n_keys == 0)
		return mesh_errf(err, err_len, "%s: no keys", path);
	/* the migration mode of the start (accept_plaintext, send_plaintext) carries over */
	next->accept_plaintext = accept_plaintext;
	if (no_seal)
		next->primary = -1;
	__atomic_store_n(&ks->sec->keyring, next, __ATOMIC_RELEASE);
	ks->swapped_ns = mesh_tsc_now_ns();
	return 0;
}

void
mesh_net_keyswap_fini(struct mesh_net_keyswap *ks)
{
	if (ks->sec != NULL && ks->sec->keyring == &ks->spare)
		ks->sec->keyring = ks->first; /* its owner wipes it */
	mesh_wire_keyring_fini(&ks->spare);
}
