/*
 * fuzz_ct.c: libFuzzer target for lib/conntrack's ICMP-quote, fragment,
 * TCP window and SCTP association paths (the frames are given to the
 * lookup, so TCP headers and SCTP chunks are read from them), driven the
 * way a worker drives them (lib/dataplane/worker.c):
 * frames in bursts, parsed, looked up, committed or rechecked, fragments
 * through frag_later / frag_first, housekeeping with a clock that moves.
 * The pure helpers run on every frame as well: the ICMP quote parser, the
 * steering hash, the fragment payload locator and the RST builder.
 *
 * Input: records of [control byte][length, 2 bytes little endian][frame].
 * The control byte's bits: 0 the verdict allows; 1 the burst ends after
 * this frame; 2-3 the clock moves by 0, 1, 500 or 3000 ms before the
 * burst; 4 the live generation becomes 2 (flows of generation 1 are
 * rechecked); 5-6 the revoke mode. At the end every flow and held
 * fragment is flushed and the mbuf pool must be whole again: a fragment
 * the table loses or hands back twice is a leak or a double free.
 *
 * EAL starts once, in LLVMFuzzerInitialize: --no-huge, no PCI, no shared
 * files, so several runs may go at once.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "npgw_common.h"
#include "npgw_conntrack.h"
#include "npgw_pkt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define N_MBUFS 1023
#define BURST 8

static struct rte_mempool *mp;
static struct npgw_conntrack *ct;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	static char args[][24] = {"fuzz_ct", "--no-huge", "-m", "128", "--no-pci",
				  "--no-shconf", "--no-telemetry", "--log-level=error", "-l", "0"};
	static char *eal_argv[NPGW_ARRAY_SIZE(args) + 1];
	for (size_t i = 0; i < NPGW_ARRAY_SIZE(args); i++)
		eal_argv[i] = args[i];
	if (rte_eal_init((int)NPGW_ARRAY_SIZE(args), eal_argv) < 0) {
		fprintf(stderr, "fuzz_ct: cannot start EAL\n");
		exit(1);
	}
	mp = rte_pktmbuf_pool_create("fuzz_ct", N_MBUFS, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
				     SOCKET_ID_ANY);
	struct npgw_conntrack_config cfg;
	npgw_conntrack_config_defaults(&cfg);
	cfg.name = "fuzz_ct";
	cfg.socket_id = SOCKET_ID_ANY;
	cfg.hz = 1000;
	cfg.capacity = 64;
	cfg.frag_capacity = 16;
	cfg.frag_hold = 16;
	cfg.snapshot_max = 64;
	cfg.seed = 1;
	int err = 0;
	ct = mp != NULL ? npgw_conntrack_create(&cfg, &err) : NULL;
	if (ct == NULL) {
		fprintf(stderr, "fuzz_ct: cannot create the pool or the table (%d)\n", err);
		exit(1);
	}
	return 0;
}

static void free_out(const struct npgw_conntrack_frag_out *out, unsigned int n)
{
	for (unsigned int j = 0; j < n; j++)
		rte_pktmbuf_free(out[j].m);
}

/* The pure helpers on one parsed frame. */
static void pure(const uint8_t *f, uint32_t len, const struct npgw_pkt_info *info)
{
	struct npgw_conntrack_tuple t;
	uint8_t rst[NPGW_CONNTRACK_RST_MAX_LEN];
	uint32_t off, plen;

	int rc = npgw_conntrack_icmp_embedded(f, len, info, 3, &t);
	if (rc != 0 && rc != -ENOENT && rc != -EINVAL)
		abort();
	if (rc == 0 && t.family != info->family)
		abort();
	(void)npgw_conntrack_steer_hash(f, len, info, 3, false, 7);
	(void)npgw_conntrack_steer_hash(f, len, info, 3, true, 7);
	if (info->is_fragment && npgw_conntrack_frag_payload(f, len, info, &off, &plen) == 0 &&
	    (off > len || plen > len - off))
		abort();
	if (info->proto == NPGW_PROTO_TCP && !info->is_fragment) {
		for (int to = 0; to < 2; to++) {
			int n = npgw_conntrack_rst_build(f, len, info, to, rst, sizeof(rst));
			if (n > (int)sizeof(rst))
				abort();
		}
	}
}

static uint64_t now = 1000;

/* One burst of m[0..n) with their control bytes. */
static void burst(struct rte_mbuf **m, const uint8_t *ctl, unsigned int n)
{
	struct npgw_pkt_info info[BURST];
	struct rte_mbuf *ipm[BURST];
	uint8_t ipctl[BURST];
	struct npgw_conntrack_result res[BURST];
	struct npgw_conntrack_frag_out out[NPGW_CONNTRACK_FRAG_MAX_OUT];
	unsigned int nip = 0, n_out;
	uint64_t gen = 1;

	for (unsigned int i = 0; i < n; i++) {
		enum npgw_drop_reason why;
		const uint8_t *f = rte_pktmbuf_mtod(m[i], const uint8_t *);
		uint32_t len = rte_pktmbuf_data_len(m[i]);
		if (ctl[i] & 0x10)
			gen = 2;
		if (npgw_pkt_parse(f, len, &info[nip], &why) != NPGW_PKT_IP) {
			rte_pktmbuf_free(m[i]);
			continue;
		}
		pure(f, len, &info[nip]);
		ipm[nip] = m[i];
		ipctl[nip] = ctl[i];
		nip++;
	}
	if (nip == 0)
		return;
	npgw_conntrack_lookup_burst(ct, ipm, info, nip, 3, now, gen, res);
	/* a denied flow's entry is read before the burst's first commit,
	 * which may evict denied entries (as the worker's after_lookup) */
	for (unsigned int k = 0; k < nip; k++) {
		if (res[k].kind != NPGW_CONNTRACK_DENIED)
			continue;
		const struct npgw_conntrack_entry *e = npgw_conntrack_entry(ct, res[k].entry);
		if (!(e->flags & NPGW_CONNTRACK_E_IN_USE) || !(e->flags & NPGW_CONNTRACK_E_DENIED))
			abort();
	}
	for (unsigned int k = 0; k < nip; k++) {
		struct npgw_ruleset_verdict v = {.allowed = ipctl[k] & 1};
		struct npgw_ruleset_tuple t;
		enum npgw_conntrack_action a = NPGW_CONNTRACK_PASS;
		uint8_t why = NPGW_DROP_NONE;
		bool held = false;

		npgw_conntrack_orig_tuple(ct, k, &res[k], &t);
		switch (res[k].kind) {
		case NPGW_CONNTRACK_HIT:
		case NPGW_CONNTRACK_RELATED:
			if (res[k].flags & NPGW_CONNTRACK_F_STALE)
				a = npgw_conntrack_recheck(ct, k, gen, &v, (ipctl[k] >> 5) % 3,
							   &res[k]);
			if (a == NPGW_CONNTRACK_RESET) {
				struct rte_mbuf *r[2];
				if (npgw_conntrack_rst_mbufs(mp, ipm[k], &info[k], r) == 2) {
					rte_pktmbuf_free(r[0]);
					rte_pktmbuf_free(r[1]);
				}
			}
			why = a == NPGW_CONNTRACK_PASS ? NPGW_DROP_NONE : NPGW_DROP_CT_REVOKED;
			break;
		case NPGW_CONNTRACK_MISS:
			a = npgw_conntrack_commit(ct, k, now, gen, &v, &res[k]);
			why = a == NPGW_CONNTRACK_PASS ? NPGW_DROP_NONE : NPGW_DROP_POLICY_INGRESS;
			break;
		case NPGW_CONNTRACK_UNTRACKED:
			why = v.allowed ? NPGW_DROP_NONE : NPGW_DROP_POLICY_INGRESS;
			break;
		case NPGW_CONNTRACK_FRAGMENT: {
			enum npgw_conntrack_frag_verdict fv = npgw_conntrack_frag_later(
				ct, ipm[k], &info[k], 3, 0, now, &why, out, &n_out);
			free_out(out, n_out);
			held = fv == NPGW_CONNTRACK_FRAG_HELD;
			if (fv == NPGW_CONNTRACK_FRAG_PASS)
				why = NPGW_DROP_NONE;
			break;
		}
		case NPGW_CONNTRACK_DROP:
			why = res[k].reason;
			break;
		case NPGW_CONNTRACK_DENIED:
			why = NPGW_DROP_POLICY_INGRESS;
			break;
		default:
			abort();
		}
		if (held)
			continue;
		if (info[k].is_first_fragment) {
			uint8_t fr;
			npgw_conntrack_frag_first(ct, ipm[k], &info[k], 3, now,
						  why == NPGW_DROP_NONE, why, &fr, out, &n_out);
			free_out(out, n_out);
		}
		rte_pktmbuf_free(ipm[k]);
	}
	n_out = npgw_conntrack_housekeep(ct, now, out);
	free_out(out, n_out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint64_t steps[4] = {0, 1, 500, 3000};
	struct rte_mbuf *m[BURST];
	uint8_t ctl[BURST];
	unsigned int n = 0;
	size_t off = 0;

	while (off + 3 <= size) {
		uint8_t c = data[off];
		size_t len = (size_t)data[off + 1] | (size_t)data[off + 2] << 8;
		off += 3;
		if (len > size - off)
			len = size - off;
		if (n == 0)
			now += steps[(c >> 2) & 3];
		struct rte_mbuf *b = rte_pktmbuf_alloc(mp);
		if (b == NULL)
			abort(); /* the table holds at most frag_hold of them */
		if (len > rte_pktmbuf_tailroom(b))
			len = rte_pktmbuf_tailroom(b);
		uint8_t *p = (uint8_t *)rte_pktmbuf_append(b, (uint16_t)len);
		if (len > 0)
			memcpy(p, data + off, len);
		off += len;
		m[n] = b;
		ctl[n++] = c;
		if (n == BURST || (c & 2)) {
			burst(m, ctl, n);
			n = 0;
		}
	}
	if (n > 0)
		burst(m, ctl, n);
	struct npgw_conntrack_frag_out out[NPGW_CONNTRACK_FRAG_MAX_OUT];
	unsigned int n_out = npgw_conntrack_flush_now(ct, out);
	free_out(out, n_out);
	n_out = npgw_conntrack_housekeep(ct, now, out);
	free_out(out, n_out);
	if (rte_mempool_avail_count(mp) != N_MBUFS) {
		fprintf(stderr, "fuzz_ct: %u of %u mbufs are missing\n",
			N_MBUFS - rte_mempool_avail_count(mp), N_MBUFS);
		abort();
	}
	return 0;
}
