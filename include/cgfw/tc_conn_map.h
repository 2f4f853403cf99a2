/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * cgfw_tc_conn (BPF_MAP_TYPE_LRU_HASH): redirected flows. Ingress rewrites a
 * packet's destination and records the original here, keyed by the flow as
 * the local service sees it (client address and port, new destination address
 * and port); egress finds the service's replies by the same key and restores
 * their source, so the client sees the address and port it dialled.
 *
 * cgfw_tc_udpflow (BPF_MAP_TYPE_LRU_HASH): UDP flows this host sent out of a
 * stateful interface, so that their replies pass even when the sending socket
 * is not connected.
 */
#ifndef CGFW_TC_CONN_MAP_H
#define CGFW_TC_CONN_MAP_H

#include "abi.h"

#define CGFW_TC_CONN_PIN    "cgfw_tc_conn"
#define CGFW_TC_UDPFLOW_PIN "cgfw_tc_udpflow"
#define CGFW_TC_CONN_MAX    262144
#define CGFW_TC_UDPFLOW_MAX 65536

/* A UDP reply is admitted this long after the last datagram sent. */
#define CGFW_TC_UDP_TIMEOUT_MS 120000

struct cgfw_tc_conn_key {
	__u8 family;
	__u8 proto;
	__u8 pad[2];
	__u16 cport;	/* client port, network byte order */
	__u16 tport;	/* new destination port, network byte order */
	__u8 caddr[16]; /* client address */
	__u8 taddr[16]; /* new destination address */
};
CGFW_ABI_ASSERT_SIZE(struct cgfw_tc_conn_key, 40);

struct cgfw_tc_conn_val {
	__u8 oaddr[16]; /* original destination address */
	__u16 oport;	/* original destination port, network byte order */
	__u16 pad;
	__u32 rule_id;
	__u64 last_ns; /* when the flow was recorded (CLOCK_MONOTONIC, tick resolution) */
};
CGFW_ABI_ASSERT_SIZE(struct cgfw_tc_conn_val, 32);

struct cgfw_tc_udpflow_key {
	__u8 family;
	__u8 pad[3];
	__u16 lport; /* local port, network byte order */
	__u16 rport; /* remote port, network byte order */
	__u8 laddr[16];
	__u8 raddr[16];
};
CGFW_ABI_ASSERT_SIZE(struct cgfw_tc_udpflow_key, 40);

struct cgfw_tc_udpflow_val {
	__u64 last_ns; /* last datagram sent (CLOCK_MONOTONIC, tick resolution) */
};
CGFW_ABI_ASSERT_SIZE(struct cgfw_tc_udpflow_val, 8);

#endif /* CGFW_TC_CONN_MAP_H */
