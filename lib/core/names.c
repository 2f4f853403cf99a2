// SPDX-License-Identifier: GPL-2.0-only
/* Names of the ABI's codes, as listings, events and metrics show them. */
#include <cgfw/core.h>
#include <cgfw/meta_map.h>
#include <cgfw/tc_meta_map.h>
#include <cgfw/tc_rule_map.h>

const char *cgfw_dir_name(int dir)
{
	return dir == CGFW_DIR_INGRESS ? "ingress" : "egress";
}

const char *cgfw_dirs_name(uint8_t dirs)
{
	if (dirs == CGFW_DIR_BOTH)
		return "both";
	return dirs == CGFW_DIR_BIT(CGFW_DIR_INGRESS) ? "ingress" : "egress";
}

const char *cgfw_verdict_name(uint8_t verdict)
{
	return verdict == CGFW_VERDICT_DENY ? "deny" : "allow";
}

const char *cgfw_reason_name(int reason)
{
	static const char *const names[] = {
		[CGFW_R_ALLOW_DEFAULT] = "allow_default", [CGFW_R_ALLOW_RULE] = "allow_rule",
		[CGFW_R_ALLOW_REPLY] = "allow_reply",	  [CGFW_R_DROP_RULE] = "drop_rule",
		[CGFW_R_DROP_DEFAULT] = "drop_default",	  [CGFW_R_UNPARSED] = "unparsed",
		[CGFW_R_AUDIT_RULE] = "audit_rule",	  [CGFW_R_AUDIT_DEFAULT] = "audit_default",
	};

	return reason >= 0 && reason < CGFW_R_COUNT ? names[reason] : "?";
}

const char *cgfw_tc_reason_name(int reason)
{
	static const char *const names[CGFW_TC_R_COUNT] = {
		[CGFW_TC_R_PASS_NOMATCH] = "pass_nomatch",
		[CGFW_TC_R_PASS_NOT_IP] = "pass_not_ip",
		[CGFW_TC_R_PASS_MALFORMED] = "pass_malformed",
		[CGFW_TC_R_PASS_FRAGMENT] = "pass_fragment",
		[CGFW_TC_R_PASS_ESTABLISHED] = "pass_established",
		[CGFW_TC_R_PASS_UDP_REPLY] = "pass_udp_reply",
		[CGFW_TC_R_PASS_INBOUND] = "pass_inbound",
		[CGFW_TC_R_PASS_SSH] = "pass_ssh",
		[CGFW_TC_R_PASS_DHCP] = "pass_dhcp",
		[CGFW_TC_R_PASS_ICMP] = "pass_icmp",
		[CGFW_TC_R_PASS_OTHER] = "pass_other_proto",
		[CGFW_TC_R_INTERCEPT] = "intercept",
		[CGFW_TC_R_REDIRECT] = "redirect",
		[CGFW_TC_R_RESTORE] = "restore",
		[CGFW_TC_R_DROP_NO_LISTENER] = "drop_no_listener",
		[CGFW_TC_R_DROP_ASSIGN] = "drop_assign",
		[CGFW_TC_R_DROP_UNSOLICITED] = "drop_unsolicited",
		[CGFW_TC_R_DROP_MALFORMED] = "drop_malformed",
		[CGFW_TC_R_DROP_FRAGMENT] = "drop_fragment",
		[CGFW_TC_R_DROP_ICMP] = "drop_icmp_echo",
	};

	return reason >= 0 && reason < CGFW_TC_R_COUNT ? names[reason] : "?";
}

const char *cgfw_tc_kind_name(uint8_t kind)
{
	switch (kind) {
	case CGFW_TC_TPROXY:
		return "tproxy";
	case CGFW_TC_REDIRECT:
		return "redirect";
	case CGFW_TC_INBOUND:
		return "inbound";
	default:
		return "?";
	}
}
