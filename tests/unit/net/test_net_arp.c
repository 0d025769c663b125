/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The ARP learning rule (mesh_net_arp_policy.c) on real packets built and parsed by
 * mesh_net_pkt: learn only from a reply to our outstanding request; requests, gratuitous
 * ARP, unsolicited and contradicting replies, claims on our address and bad senders are
 * ignored each under its own verdict; requests for our address are answered.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "mesh_net_arp_policy.h"
#include "mesh_net_pkt.h"

static const uint8_t mac_self[6] = { 0x02, 0, 0, 0, 0, 0x1 };
static const uint8_t mac_peer[6] = { 0x02, 0, 0, 0, 0, 0x2 };
static const uint8_t mac_evil[6] = { 0x02, 0, 0, 0, 0, 0xe };
static const uint8_t mac_bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uint8_t mac_zero[6];
#define IP_SELF 0x0a630001u
#define IP_PEER 0x0a630002u
#define IP_OTHER 0x0a630003u

static const struct mesh_net_addr self = {
	.mac = { 0x02, 0, 0, 0, 0, 0x1 }, .ip = IP_SELF, .port = 39527,
};

/* build and parse one ARP packet, as the tx stage sees it */
static struct mesh_net_pkt
arp(uint16_t op, const uint8_t *sha, uint32_t spa, uint32_t tpa)
{
	static uint8_t f[64];
	struct mesh_net_pkt p;

	mesh_net_pkt_build_arp(f, op, sha, op == MESH_NET_ARP_OP_REQUEST ? mac_bcast : mac_self,
			       sha, spa, NULL, tpa);
	assert_int_equal(mesh_net_pkt_parse(f, MESH_NET_ETH_HLEN + MESH_NET_ARP_LEN, &self, &p),
			 MESH_NET_PKT_OK);
	assert_int_equal(p.kind, MESH_NET_PKT_ARP);
	return p;
}

static enum mesh_net_arp_verdict
decide(const struct mesh_net_pkt *p, enum mesh_net_arp_entry e)
{
	return mesh_net_arp_decide(p, IP_SELF, e, e == MESH_NET_ARP_ENTRY_RESOLVED ? mac_peer
										   : NULL);
}

static void
test_reply_to_our_request_is_learned(void **state)
{
	struct mesh_net_pkt p = arp(MESH_NET_ARP_OP_REPLY, mac_peer, IP_PEER, IP_SELF);

	(void)state;
	assert_int_equal(decide(&p, MESH_NET_ARP_ENTRY_PENDING), MESH_NET_ARP_learn);
	assert_false(mesh_net_arp_answer(&p, IP_SELF));
}

static void
test_unsolicited_reply_is_ignored(void **state)
{
	struct mesh_net_pkt p = arp(MESH_NET_ARP_OP_REPLY, mac_evil, IP_PEER, IP_SELF);
	struct mesh_net_pkt other = arp(MESH_NET_ARP_OP_REPLY, mac_peer, IP_PEER, IP_OTHER);

	(void)state;
	/* no entry, or the same MAC again: nothing asked for it */
	assert_int_equal(decide(&p, MESH_NET_ARP_ENTRY_NONE), MESH_NET_ARP_unsolicited);
	p = arp(MESH_NET_ARP_OP_REPLY, mac_peer, IP_PEER, IP_SELF);
	assert_int_equal(decide(&p, MESH_NET_ARP_ENTRY_RESOLVED), MESH_NET_ARP_unsolicited);
	/* a reply addressed to another host teaches nothing, even while we resolve */
	assert_int_equal(decide(&other, MESH_NET_ARP_ENTRY_PENDING), MESH_NET_ARP_unsolicited);
}

static void
test_forged_reply_for_resolved_member_is_a_conflict(void **state)
{
	struct mesh_net_pkt p = arp(MESH_NET_ARP_OP_REPLY, mac_evil, IP_PEER, IP_SELF);

	(void)state;
	assert_int_equal(decide(&p, MESH_NET_ARP_ENTRY_RESOLVED), MESH_NET_ARP_conflict);
}

static void
test_requests_are_answered_never_learned(void **state)
{
	struct mesh_net_pkt for_us = arp(MESH_NET_ARP_OP_REQUEST, mac_peer, IP_PEER, IP_SELF);
	struct mesh_net_pkt for_other = arp(MESH_NET_ARP_OP_REQUEST, mac_peer, IP_PEER, IP_OTHER);

	(void)state;
	for (int e = MESH_NET_ARP_ENTRY_NONE; e <= MESH_NET_ARP_ENTRY_RESOLVED; e++) {
		assert_int_equal(decide(&for_us, e), MESH_NET_ARP_request);
		assert_int_equal(decide(&for_other, e), MESH_NET_ARP_request);
	}
	assert_true(mesh_net_arp_answer(&for_us, IP_SELF));
	assert_false(mesh_net_arp_answer(&for_other, IP_SELF));
}

static void
test_gratuitous_is_ignored(void **state)
{
	struct mesh_net_pkt req = arp(MESH_NET_ARP_OP_REQUEST, mac_evil, IP_PEER, IP_PEER);
	struct mesh_net_pkt rep = arp(MESH_NET_ARP_OP_REPLY, mac_evil, IP_PEER, IP_PEER);

	(void)state;
	for (int e = MESH_NET_ARP_ENTRY_NONE; e <= MESH_NET_ARP_ENTRY_RESOLVED; e++) {
		assert_int_equal(decide(&req, e), MESH_NET_ARP_gratuitous);
		assert_int_equal(decide(&rep, e), MESH_NET_ARP_gratuitous);
	}
	assert_false(mesh_net_arp_answer(&req, IP_SELF));
}

static void
test_claims_on_our_address_and_bad_senders(void **state)
{
	struct mesh_net_pkt p = arp(MESH_NET_ARP_OP_REPLY, mac_evil, IP_SELF, IP_SELF);

	(void)state;
	assert_int_equal(decide(&p, MESH_NET_ARP_ENTRY_NONE), MESH_NET_ARP_claims_self);
	p = arp(MESH_NET_ARP_OP_REQUEST, mac_evil, IP_SELF, IP_SELF);
	assert_false(mesh_net_arp_answer(&p, IP_SELF));
	p = arp(MESH_NET_ARP_OP_REPLY, mac_bcast, IP_PEER, IP_SELF);
	assert_int_equal(decide(&p, MESH_NET_ARP_ENTRY_PENDING), MESH_NET_ARP_invalid);
	p = arp(MESH_NET_ARP_OP_REPLY, mac_zero, IP_PEER, IP_SELF);
	assert_int_equal(decide(&p, MESH_NET_ARP_ENTRY_PENDING), MESH_NET_ARP_invalid);
	p = arp(MESH_NET_ARP_OP_REPLY, mac_peer, 0, IP_SELF);
	assert_int_equal(decide(&p, MESH_NET_ARP_ENTRY_PENDING), MESH_NET_ARP_invalid);
	/* an RFC 5227 probe for our address (sender 0.0.0.0) is answered, not learned */
	p = arp(MESH_NET_ARP_OP_REQUEST, mac_peer, 0, IP_SELF);
	assert_int_equal(decide(&p, MESH_NET_ARP_ENTRY_NONE), MESH_NET_ARP_invalid);
	assert_true(mesh_net_arp_answer(&p, IP_SELF));
	assert_string_equal(mesh_net_arp_verdict_name(MESH_NET_ARP_conflict), "conflict");
	assert_string_equal(mesh_net_arp_verdict_name(MESH_NET_ARP_VERDICT_MAX), "?");
}

/* A UDP frame from a resolved neighbour's IP at another MAC is dropped; others are not
 * judged by the neighbour table (today's rule). */
static void
test_frame_from_resolved_ip_other_mac_is_dropped(void **state)
{
	(void)state;
	assert_true(mesh_net_neigh_mac_mismatch(MESH_NET_ARP_ENTRY_RESOLVED, mac_peer,
						mac_evil));
	assert_false(mesh_net_neigh_mac_mismatch(MESH_NET_ARP_ENTRY_RESOLVED, mac_peer,
						 mac_peer));
	assert_false(mesh_net_neigh_mac_mismatch(MESH_NET_ARP_ENTRY_PENDING, mac_zero,
						 mac_evil));
	assert_false(mesh_net_neigh_mac_mismatch(MESH_NET_ARP_ENTRY_NONE, NULL, mac_evil));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reply_to_our_request_is_learned),
		cmocka_unit_test(test_unsolicited_reply_is_ignored),
		cmocka_unit_test(test_forged_reply_for_resolved_member_is_a_conflict),
		cmocka_unit_test(test_requests_are_answered_never_learned),
		cmocka_unit_test(test_gratuitous_is_ignored),
		cmocka_unit_test(test_claims_on_our_address_and_bad_senders),
		cmocka_unit_test(test_frame_from_resolved_ip_other_mac_is_dropped),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
