/*
 * fuzz_pkt.c: libFuzzer target for lib/pkt: one Ethernet frame per input.
 * Besides what ASan and UBSan catch, it checks the parser's promises
 * (npgw_pkt.h): every offset and length it reports stays inside the frame,
 * a drop names a parser reason, non-IP leaves the IP fields zero, and a
 * non-first fragment carries no ports.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "npgw_drop.h"
#include "npgw_pkt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t zero16[16];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct npgw_pkt_info info;
	enum npgw_drop_reason reason;
	uint32_t len = size > UINT32_MAX ? UINT32_MAX : (uint32_t)size;
	memset(&info, 0xa5, sizeof(info)); /* the parser must set every field */
	enum npgw_pkt_kind k = npgw_pkt_parse(size ? data : NULL, len, &info, &reason);
	uint32_t end = len > 65535 ? 65535 : len;
	if (info.n_vlan > NPGW_PKT_MAX_VLAN)
		abort();
	switch (k) {
	case NPGW_PKT_IP:
		if (reason != NPGW_DROP_NONE || (info.family != 4 && info.family != 6))
			abort();
		if ((uint32_t)info.l3_off + info.l3_len > end || info.l4_off > end)
			abort();
		if (info.l4_off != 0 && info.l4_off < info.l3_off)
			abort();
		if (info.is_fragment && !info.is_first_fragment &&
		    (info.sport != 0 || info.dport != 0 || info.l4_off != 0))
			abort();
		if (info.is_first_fragment && !info.is_fragment)
			abort();
		if (info.family == 4 && (memcmp(info.src + 4, zero16, 12) != 0 ||
					 memcmp(info.dst + 4, zero16, 12) != 0))
			abort();
		break;
	case NPGW_PKT_NON_IP:
		if (reason != NPGW_DROP_NONE || info.family != 0 || info.l4_off != 0 ||
		    memcmp(info.src, zero16, 16) != 0)
			abort();
		break;
	case NPGW_PKT_DROP:
		if (reason == NPGW_DROP_NONE)
			abort();
		break;
	default:
		abort();
	}
	(void)npgw_pkt_kind_name(k);
	return 0;
}
