// SPDX-License-Identifier: GPL-2.0-only
/* Encoding of rules into the cgfw_rules / cgfw_prules map keys and values. */
#include <errno.h>
#include <string.h>

#include <cgfw/rule_map.h>

#include <cgfw/cgroup.h>

void cgfw_rule_key(const struct cgfw_rule *r, struct cgfw_rule_key *ret)
{
	memset(ret, 0, sizeof(*ret));
	ret->scope = r->scope;
	ret->family = r->pfx.family;
	ret->prefixlen = r->pfx.len;
	ret->proto = r->proto;
	cgfw_mask(r->pfx.family, r->pfx.len, r->pfx.addr, ret->addr);
}

static uint8_t rule_bit(const struct cgfw_rule *r)
{
	return r->action == CGFW_DENY ? CGFW_ACT_DENY_BIT(r->origin) :
					CGFW_ACT_ALLOW_BIT(r->origin);
}

bool cgfw_rule_val_apply(struct cgfw_rule_val *v, const struct cgfw_rule *r, bool add)
{
	uint8_t bit = rule_bit(r);
	bool changed = false;

	for (int d = 0; d < CGFW_DIR_COUNT; d++) {
		uint8_t old = v->act[d];

		if (!(r->dirs & CGFW_DIR_BIT(d)))
			continue;
		v->act[d] = add ? (uint8_t)(old | bit) : (uint8_t)(old & ~bit);
		changed |= v->act[d] != old;
	}
	return changed;
}

int cgfw_port_val_apply(struct cgfw_port_rule_val *v, const struct cgfw_rule *r, bool add,
			bool *ret_changed)
{
	uint16_t lo = r->port_lo, hi = r->port_hi;
	struct cgfw_port_entry *slot = NULL, *free_slot = NULL;
	uint8_t bit = rule_bit(r);
	bool changed = false;

	if (r->proto == CGFW_PROTO_ICMP || (!lo && !hi)) {
		lo = 0;
		hi = 65535;
	}
	for (int i = 0; i < CGFW_PORT_ENTRIES; i++) {
		struct cgfw_port_entry *e = &v->e[i];
		bool used = e->act[0] || e->act[1];

		if (used && e->lo == lo && e->hi == hi)
			slot = e;
		else if (!used && !free_slot)
			free_slot = e;
	}
	if (!slot) {
		if (!add) {
			*ret_changed = false;
			return 0;
		}
		if (!free_slot)
			return -ENOSPC;
		slot = free_slot;
		memset(slot, 0, sizeof(*slot));
		slot->lo = lo;
		slot->hi = hi;
	}
	for (int d = 0; d < CGFW_DIR_COUNT; d++) {
		uint8_t old = slot->act[d];

		if (!(r->dirs & CGFW_DIR_BIT(d)))
			continue;
		slot->act[d] = add ? (uint8_t)(old | bit) : (uint8_t)(old & ~bit);
		changed |= slot->act[d] != old;
	}
	if (!slot->act[0] && !slot->act[1])
		memset(slot, 0, sizeof(*slot));
	*ret_changed = changed;
	return 0;
}

bool cgfw_rule_val_empty(const struct cgfw_rule_val *v)
{
	return !v->act[0] && !v->act[1];
}

bool cgfw_port_val_empty(const struct cgfw_port_rule_val *v)
{
	for (int i = 0; i < CGFW_PORT_ENTRIES; i++)
		if (v->e[i].act[0] || v->e[i].act[1])
			return false;
	return true;
}
