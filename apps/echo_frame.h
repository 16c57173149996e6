/*
 * What pollen-echo makes of a frame: an ARP request for its address or an ICMP echo
 * request to it is answered in place; anything else is dropped with a reason. Apart
 * from the tool so that the frames fuzzer (tests/fuzz) runs the same code.
 */
#ifndef PL_APPS_ECHO_FRAME_H
#define PL_APPS_ECHO_FRAME_H

#include <stdint.h>
#include <string.h>

#include "pktgen_frame.h"

/* Who answers: its IPv4 address (host order) and MAC. */
struct echo_addr {
	uint32_t ip;
	uint8_t mac[6];
};

/* Answered, and how; every other outcome is an enum echo_drop. */
#define ECHO_ARP_REPLY (-2)
#define ECHO_ICMP_REPLY (-1)

#define ECHO_ETH_HDR 14
#define ECHO_ETH_P_IP 0x0800
#define ECHO_ETH_P_ARP 0x0806
#define ECHO_ARP_LEN 28
#define ICMP_ECHO_REPLY 0
#define ICMP_ECHO 8

/* Why a frame got no answer: each one is counted under one of these. */
enum echo_drop {
	DROP_RUNT,		/* shorter than an Ethernet header */
	DROP_NOT_FOR_US,	/* another destination MAC (promiscuous peers) or IP */
	DROP_ETHERTYPE,		/* neither IPv4 nor ARP (IPv6, LLDP...) */
	DROP_ARP_BAD,		/* truncated, or not Ethernet/IPv4 */
	DROP_ARP_OTHER,		/* a reply, or a request for another address */
	DROP_IP_BAD,		/* header too short, wrong version, lengths past the frame */
	DROP_IP_CSUM,		/* IPv4 header checksum wrong */
	DROP_IP_FRAGMENT,	/* fragments are not reassembled */
	DROP_PROTO,		/* not ICMP */
	DROP_ICMP_BAD,		/* truncated or bad checksum */
	DROP_ICMP_OTHER,	/* not an echo request */
	DROP_TX_FULL,		/* the answer found the TX ring full */
	DROP_KINDS,
};

static const char *const echo_drop_names[DROP_KINDS] = {
	"runt", "not_for_us", "ethertype", "arp_malformed", "arp_other", "ip_malformed",
	"ip_checksum", "ip_fragment", "protocol", "icmp_malformed", "icmp_other", "tx_full",
};

/* The Internet checksum (RFC 1071) of @len bytes, folded, not yet inverted. */
static inline uint16_t echo_csum(const uint8_t *p, unsigned len)
{
	return pg_fold(pg_sum(0, p, len));
}

/* ARP (RFC 826): a request for our address becomes the reply, in place. */
static inline int echo_arp(uint8_t *f, unsigned len, const struct echo_addr *me,
			   unsigned *out_len)
{
	uint8_t *a = f + ECHO_ETH_HDR;

	if (len < ECHO_ETH_HDR + ECHO_ARP_LEN || pg_get16(a) != 1 || pg_get16(a + 2) != ECHO_ETH_P_IP ||
	    a[4] != 6 || a[5] != 4)
		return DROP_ARP_BAD;
	if (pg_get16(a + 6) != 1 || pg_get32(a + 24) != me->ip)
		return DROP_ARP_OTHER;
	/* Target becomes the asker; we answer as sender. */
	memcpy(a + 18, a + 8, 10);		/* THA, TPA <- SHA, SPA */
	memcpy(a + 8, me->mac, 6);			/* SHA */
	pg_put32(a + 14, me->ip);		/* SPA */
	pg_put16(a + 6, 2);			/* reply */
	memcpy(f, a + 18, 6);			/* to the asker's MAC */
	memcpy(f + 6, me->mac, 6);
	*out_len = ECHO_ETH_HDR + ECHO_ARP_LEN;
	return ECHO_ARP_REPLY;
}

/* IPv4 + ICMP echo (RFC 791, 792): a request to us becomes the reply, in place. */
static inline int echo_icmp(uint8_t *f, unsigned len, const struct echo_addr *me,
			    unsigned *out_len)
{
	uint8_t *ip = f + ECHO_ETH_HDR;

	if (len < ECHO_ETH_HDR + 20 || ip[0] >> 4 != 4)
		return DROP_IP_BAD;
	unsigned ihl = (ip[0] & 0xf) * 4u, total = pg_get16(ip + 2);
	if (ihl < 20 || total < ihl || ECHO_ETH_HDR + total > len)
		return DROP_IP_BAD;	/* what the header claims must lie inside the frame */
	if (echo_csum(ip, ihl) != 0xffff)
		return DROP_IP_CSUM;
	if (pg_get32(ip + 16) != me->ip)
		return DROP_NOT_FOR_US;
	if (pg_get16(ip + 6) & 0x3fff)	/* MF or a fragment offset */
		return DROP_IP_FRAGMENT;
	if (ip[9] != 1)
		return DROP_PROTO;
	uint8_t *icmp = ip + ihl;
	unsigned icmp_len = total - ihl;
	if (icmp_len < 8 || echo_csum(icmp, icmp_len) != 0xffff)
		return DROP_ICMP_BAD;
	if (icmp[0] != ICMP_ECHO || icmp[1] != 0)
		return DROP_ICMP_OTHER;

	/* The reply: same identifier, sequence and data; addresses swapped. */
	icmp[0] = ICMP_ECHO_REPLY;
	pg_put16(icmp + 2, 0);
	pg_put16(icmp + 2, (uint16_t)~echo_csum(icmp, icmp_len));
	uint8_t src[4];
	memcpy(src, ip + 12, 4);
	memcpy(ip + 16, src, 4);
	pg_put32(ip + 12, me->ip);
	ip[8] = 64;				/* TTL */
	pg_put16(ip + 10, 0);
	pg_put16(ip + 10, (uint16_t)~echo_csum(ip, ihl));
	memcpy(f, f + 6, 6);
	memcpy(f + 6, me->mac, 6);
	*out_len = ECHO_ETH_HDR + total;		/* without the padding a short request had */
	return ECHO_ICMP_REPLY;
}

/*
 * What to do with one frame of @len bytes: answered in place (ECHO_*_REPLY, *@out_len set
 * and never more than @len), else the reason it is dropped. Nothing past @len is read.
 */
static inline int echo_handle(uint8_t *f, unsigned len, const struct echo_addr *me,
			      unsigned *out_len)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

	if (len < ECHO_ETH_HDR)
		return DROP_RUNT;
	if (memcmp(f, me->mac, 6) && memcmp(f, bcast, 6))
		return DROP_NOT_FOR_US;
	switch (pg_get16(f + 12)) {
	case ECHO_ETH_P_ARP:
		return echo_arp(f, len, me, out_len);
	case ECHO_ETH_P_IP:
		if (!memcmp(f, bcast, 6))
			return DROP_NOT_FOR_US;	/* we answer unicast pings only */
		return echo_icmp(f, len, me, out_len);
	default:
		return DROP_ETHERTYPE;
	}
}


#endif
