// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target: the parsers of the rtnetlink replies cgfw reads
 * (lib/tc/netlink.c), each fed what one recv() would return: a link
 * (RTM_NEWLINK, `tc attach` and `tc sync`), an address dump (RTM_NEWADDR,
 * the ssh exception), a filter dump (RTM_NEWTFILTER, the clsact priorities)
 * and the acknowledgements of a batch of routes (NLMSG_ERROR, tproxy).
 * Every input goes through all four, as the kernel's reply to the request
 * each sends, through cgfw_nl_cb_run() (libmnl's mnl_cb_run()) as cgfw
 * runs it.
 *
 * Input: one byte, then the datagram. Bits 0-6 of the byte + 1: the number
 * of routes in the batch whose acks are read (sequence numbers from ACK_SEQ);
 * bit 7: the replies must carry the request's sequence number SEQ and port
 * id PORTID (else 0: libmnl checks neither).
 *
 * Invariants besides memory safety (nothing past a message or an attribute
 * is read): the link's name is terminated; every address has a family and
 * its full length, and comes from a message of the interface asked about;
 * a filter priority is listed once; the acks agree with a reading of the
 * datagram done here: each request takes the first ack of its sequence
 * number, no entry outside the batch is written.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>

#include "fuzz_common.h"
#include "internal.h" /* lib/tc's: the reply parsers */

#define SEQ	0x5eed0001u
#define PORTID	0x1d1du
#define ACK_SEQ 0x5eed0100u
#define IFINDEX 2
#define MAX_ACK 128

/* The messages of a datagram, walked here without libmnl. */
struct walk {
	const uint8_t *b;
	size_t len, off;
};

static const struct nlmsghdr *next_msg(struct walk *w)
{
	const struct nlmsghdr *h;

	if (w->len - w->off < sizeof(*h))
		return NULL;
	h = (const struct nlmsghdr *)(w->b + w->off);
	if (h->nlmsg_len < sizeof(*h) || h->nlmsg_len > w->len - w->off)
		return NULL;
	w->off += NLMSG_ALIGN(h->nlmsg_len) < w->len - w->off ? NLMSG_ALIGN(h->nlmsg_len) :
								w->len - w->off;
	return h;
}

static size_t count_msgs(const uint8_t *b, size_t len, uint16_t type)
{
	struct walk w = { b, len, 0 };
	const struct nlmsghdr *h;
	size_t n = 0;

	while ((h = next_msg(&w)))
		n += h->nlmsg_type == type;
	return n;
}

static void fuzz_link(const uint8_t *b, size_t len, unsigned seq, unsigned portid)
{
	struct cgfw_nl_link lk = {};
	int r;

	errno = 0;
	r = cgfw_nl_cb_run(b, len, seq, portid, cgfw_nl_link_cb, &lk);
	if (r < MNL_CB_ERROR || r > MNL_CB_OK)
		fuzz_fail("cgfw_nl_cb_run returned %d", r);
	if (lk.name[sizeof(lk.name) - 1])
		fuzz_fail("link name not terminated");
}

static void fuzz_addrs(const uint8_t *b, size_t len, unsigned seq, unsigned portid)
{
	struct cgfw_nl_addr_acc acc = { .ifindex = IFINDEX };
	size_t most = count_msgs(b, len, RTM_NEWADDR);

	cgfw_nl_cb_run(b, len, seq, portid, cgfw_nl_addr_cb, &acc);
	if (acc.err && acc.err != -ENOMEM)
		fuzz_fail("address dump: error %d", acc.err);
	if (acc.n > most || acc.n > acc.cap)
		fuzz_fail("%zu addresses from %zu messages (room for %zu)", acc.n, most, acc.cap);
	for (size_t i = 0; i < acc.n; i++) {
		const struct cgfw_prefix *p = &acc.v[i];

		fuzz_check_prefix(p, "address");
		if (p->len != (p->family == CGFW_FAMILY_INET ? 32 : 128))
			fuzz_fail("address of length %u", p->len);
	}
	free(acc.v);
}

static void fuzz_prios(const uint8_t *b, size_t len, unsigned seq, unsigned portid)
{
	struct cgfw_nl_prio_acc acc = {};
	size_t most = count_msgs(b, len, RTM_NEWTFILTER);

	cgfw_nl_cb_run(b, len, seq, portid, cgfw_nl_filter_cb, &acc);
	if (acc.err && acc.err != -ENOMEM)
		fuzz_fail("filter dump: error %d", acc.err);
	if (acc.n > most || acc.n > acc.cap)
		fuzz_fail("%zu priorities from %zu messages (room for %zu)", acc.n, most, acc.cap);
	for (size_t i = 0; i < acc.n; i++)
		for (size_t k = i + 1; k < acc.n; k++)
			if (acc.v[i] == acc.v[k])
				fuzz_fail("priority %u listed twice", acc.v[i]);
	free(acc.v);
}

static void fuzz_acks(const uint8_t *b, size_t len, size_t count)
{
	int errs[MAX_ACK + 2], want[MAX_ACK];
	struct walk w = { b, len, 0 };
	const struct nlmsghdr *h;
	size_t got, want_got = 0;

	/* Guards on both sides: nothing outside the batch may change. */
	for (size_t i = 0; i < count + 2; i++)
		errs[i] = 1;
	for (size_t i = 0; i < count; i++)
		want[i] = 1;
	while ((h = next_msg(&w))) {
		int e;
		uint32_t i;

		if (h->nlmsg_type != NLMSG_ERROR || h->nlmsg_len < NLMSG_HDRLEN + sizeof(int))
			continue;
		memcpy(&e, (const uint8_t *)h + NLMSG_HDRLEN, sizeof(e));
		i = h->nlmsg_seq - ACK_SEQ;
		if (i < count && want[i] == 1) {
			want[i] = e;
			want_got++;
		}
	}
	got = cgfw_nl_acks_parse(b, len, ACK_SEQ, count, errs + 1);
	if (errs[0] != 1 || errs[count + 1] != 1)
		fuzz_fail("acks written outside the batch of %zu", count);
	if (got != want_got || memcmp(errs + 1, want, count * sizeof(int)))
		fuzz_fail("%zu acks taken, %zu expected, or another error", got, want_got);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned seq = 0, portid = 0;
	size_t len, count;
	uint8_t *b;

	if (size < 1)
		return 0;
	count = (size_t)(data[0] & 0x7f) % MAX_ACK + 1;
	if (data[0] & 0x80) {
		seq = SEQ;
		portid = PORTID;
	}
	/* An exact, aligned copy as recv() leaves it: reading past its end is a finding. */
	len = size - 1;
	b = malloc(len ? len : 1);
	if (!b)
		abort();
	memcpy(b, data + 1, len);
	fuzz_link(b, len, seq, portid);
	fuzz_addrs(b, len, seq, portid);
	fuzz_prios(b, len, seq, portid);
	fuzz_acks(b, len, count);
	free(b);
	return 0;
}
