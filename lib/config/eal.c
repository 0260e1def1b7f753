/*
 * eal.c: the EAL arguments and the device strings of a config, checked as
 * rte_eal_init would take them, so that `npgw --check` refuses what start
 * would refuse, with the file's line and column instead of the EAL's usage
 * text (issue 18).
 *
 * The option table is DPDK 22.11's (lib/eal/common/eal_options.h); the
 * options npgw derives itself (lcores, main lcore, devices) are refused
 * before this by config.c. Device arguments are key=value pairs
 * (rte_kvargs); the drivers npgw documents have their keys listed, so a
 * misspelled or smuggled key (net_ring0,--vdev=net_tap0) is refused here
 * rather than by the driver at start.
 */
#include <stdio.h>
#include <string.h>

#include "config_private.h"

enum { ARG_NONE, ARG_REQUIRED, ARG_OPTIONAL };

static const struct {
	const char *name;
	int arg;
} eal_long[] = {
	{"base-virtaddr", ARG_REQUIRED}, {"create-uio-dev", ARG_NONE},
	{"file-prefix", ARG_REQUIRED}, {"force-max-simd-bitwidth", ARG_REQUIRED},
	{"huge-dir", ARG_REQUIRED}, {"huge-unlink", ARG_OPTIONAL},
	{"huge-worker-stack", ARG_OPTIONAL}, {"in-memory", ARG_NONE},
	{"iova-mode", ARG_REQUIRED}, {"legacy-mem", ARG_NONE}, {"log-level", ARG_REQUIRED},
	{"match-allocations", ARG_NONE}, {"mbuf-pool-ops-name", ARG_REQUIRED},
	{"no-hpet", ARG_NONE}, {"no-huge", ARG_NONE}, {"no-pci", ARG_NONE},
	{"no-shconf", ARG_NONE}, {"no-telemetry", ARG_NONE}, {"proc-type", ARG_REQUIRED},
	{"single-file-segments", ARG_NONE}, {"socket-limit", ARG_REQUIRED},
	{"socket-mem", ARG_REQUIRED}, {"syslog", ARG_OPTIONAL}, {"telemetry", ARG_NONE},
	{"trace", ARG_REQUIRED}, {"trace-bufsz", ARG_REQUIRED}, {"trace-dir", ARG_REQUIRED},
	{"trace-mode", ARG_REQUIRED}, {"vfio-intr", ARG_REQUIRED},
	{"vfio-vf-token", ARG_REQUIRED}, {"vmware-tsc-map", ARG_NONE},
	{"block", ARG_REQUIRED},
};

/* Short options with a value: -b (block), -d (driver), -m, -n, -r, -s. */
static const char eal_short_arg[] = "bdmnrs";

/* Options that print and exit, or that npgw cannot run with. */
static const struct {
	const char *opt;
	const char *why;
} eal_refused[] = {
	{"--help", "it prints the EAL usage and exits"},
	{"-h", "it prints the EAL usage and exits"},
	{"-v", "it prints the DPDK version and exits"},
	{"--proc-type=secondary", "npgw is a primary process"},
};

static int long_index(const char *name, size_t len)
{
	for (size_t i = 0; i < NPGW_ARRAY_SIZE(eal_long); i++)
		if (strlen(eal_long[i].name) == len && strncmp(eal_long[i].name, name, len) == 0)
			return (int)i;
	return -1;
}

void cfg_check_eal_args(struct cfg_ctx *x, const struct npgw_doc_node *n, const char *path)
{
	char p[NPGW_DOC_PATH_MAX];
	bool no_huge = false;
	const struct npgw_doc_node *in_memory = NULL;

	for (size_t i = 0; i < n->n; i++) {
		const struct npgw_doc_node *a = &n->kids[i];
		const char *s = a->text;
		bool refused = false;

		npgw_doc_path_index(p, path, i);
		if (a->type != NPGW_DOC_STR || s == NULL)
			continue; /* reported by config.c */
		for (size_t k = 0; k < NPGW_ARRAY_SIZE(eal_refused); k++)
			if (strcmp(s, eal_refused[k].opt) == 0) {
				npgw_doc_err(&x->rd, a, p, "\"%s\" is not allowed here: %s", s,
					     eal_refused[k].why);
				refused = true;
			}
		if (refused)
			continue;
		if (strncmp(s, "--", 2) == 0) {
			const char *eq = strchr(s, '=');
			size_t len = eq ? (size_t)(eq - s - 2) : strlen(s + 2);
			int k = long_index(s + 2, len);

			if (k < 0) {
				/* the owned options were reported by config.c */
				if (strncmp(s, "--vdev", 6) && strncmp(s, "--allow", 7) &&
				    strncmp(s, "--lcores", 8) && strncmp(s, "--main-lcore", 12) &&
				    strncmp(s, "--master-lcore", 14))
					npgw_doc_err(&x->rd, a, p,
						     "unknown EAL option \"%.64s\" (DPDK 22.11)", s);
				else if (eq == NULL)
					i++; /* its value */
				continue;
			}
			if (!strcmp(eal_long[k].name, "no-huge"))
				no_huge = true;
			if (!strcmp(eal_long[k].name, "in-memory"))
				in_memory = a;
			if (eq != NULL && eal_long[k].arg == ARG_NONE) {
				npgw_doc_err(&x->rd, a, p, "EAL option --%s takes no value",
					     eal_long[k].name);
			} else if (eq == NULL && eal_long[k].arg == ARG_REQUIRED) {
				if (i + 1 == n->n)
					npgw_doc_err(&x->rd, a, p, "EAL option --%s needs a value",
						     eal_long[k].name);
				i++; /* the value */
			}
		} else if (s[0] == '-' && s[1] != '\0') {
			if (strchr(eal_short_arg, s[1]) == NULL) {
				/* -l, -c, -a: reported by config.c */
				if (!strchr("lca", s[1]))
					npgw_doc_err(&x->rd, a, p,
						     "unknown EAL option \"%.64s\" (DPDK 22.11)", s);
				else if (s[2] == '\0')
					i++; /* its value */
				continue;
			}
			if (s[2] == '\0') {
				if (i + 1 == n->n)
					npgw_doc_err(&x->rd, a, p, "EAL option -%c needs a value",
						     s[1]);
				i++;
			}
		} else {
			npgw_doc_err(&x->rd, a, p,
				     "\"%.64s\" is not an EAL option, nor the value of one "
				     "(write a value right after its option)", s);
		}
	}
	if (no_huge && in_memory != NULL)
		npgw_doc_err(&x->rd, in_memory, path,
			     "--in-memory cannot go with --no-huge (the EAL refuses both; "
			     "--no-shconf gives what --in-memory would)");
}

/* The arguments each driver npgw documents takes (rte_kvargs keys). */
static const struct {
	const char *driver; /* prefix of the device name: net_ring0 is net_ring */
	const char *keys[12];
} driver_keys[] = {
	{"net_af_packet", {"iface", "qpairs", "blocksz", "framesz", "framecnt", "qdisc_bypass",
			   "fanout_mode"}},
	{"net_pcap", {"rx_pcap", "tx_pcap", "rx_iface", "rx_iface_in", "tx_iface", "iface",
		      "phy_mac", "infinite_rx"}},
	{"net_ring", {"nodeaction"}},
	{"net_null", {"size", "copy", "no-rx"}},
	{"net_memif", {"id", "role", "bsize", "rsize", "socket", "socket-abstract", "owner-uid",
		       "owner-gid", "mac", "zero-copy", "secret"}},
	{"net_tap", {"iface", "mac", "remote", "persist"}},
	{"net_tun", {"iface"}},
};

const char *cfg_check_device_args(const char *dev, char *why, size_t len)
{
	size_t n = strcspn(dev, ",");
	size_t d = n;
	int drv = -1;

	while (d > 0 && dev[d - 1] >= '0' && dev[d - 1] <= '9')
		d--; /* net_ring0 -> net_ring */
	for (size_t i = 0; i < NPGW_ARRAY_SIZE(driver_keys); i++)
		if (strlen(driver_keys[i].driver) == d && strncmp(dev, driver_keys[i].driver, d) == 0)
			drv = (int)i;
	for (const char *a = dev + n; *a == ','; ) {
		const char *arg = a + 1;
		size_t alen = strcspn(arg, ","), klen = strcspn(arg, "=,");
		bool ok = klen > 0 && ((arg[0] >= 'a' && arg[0] <= 'z') ||
				       (arg[0] >= 'A' && arg[0] <= 'Z'));

		for (size_t i = 1; ok && i < klen; i++)
			ok = (arg[i] >= 'a' && arg[i] <= 'z') || (arg[i] >= 'A' && arg[i] <= 'Z') ||
			     (arg[i] >= '0' && arg[i] <= '9') || arg[i] == '_' || arg[i] == '-';
		if (!ok) {
			snprintf(why, len,
				 "the argument \"%.*s\" is not key=value with a key of letters, "
				 "digits, '_' and '-'",
				 (int)(alen > 64 ? 64 : alen), arg);
			return why;
		}
		if (drv >= 0) {
			bool known = false;
			char list[160] = "";

			for (size_t k = 0; k < 12 && driver_keys[drv].keys[k]; k++) {
				const char *key = driver_keys[drv].keys[k];

				known |= strlen(key) == klen && strncmp(arg, key, klen) == 0;
				snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s",
					 k ? ", " : "", key);
			}
			if (!known) {
				snprintf(why, len, "%s takes no argument \"%.*s\" (it takes %s)",
					 driver_keys[drv].driver, (int)(klen > 64 ? 64 : klen), arg, list);
				return why;
			}
		}
		a = arg + alen;
	}
	return NULL;
}
