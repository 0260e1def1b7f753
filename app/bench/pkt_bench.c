/*
 * pkt_bench.c: how long lib/pkt takes per frame. Parses 10M frames from a
 * mix (IPv4 TCP/UDP/ICMP, VLAN-tagged, IPv4 options, IPv6 TCP/UDP, IPv6
 * with an extension chain, ARP) and prints ns/frame. Not a test: numbers
 * depend on the machine. Usage: pkt_bench [frames [kinds]], kinds being how
 * many entries of the mix to use (1: IPv4 TCP only, the best case for the
 * branch predictor).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "npgw_pkt.h"

#define N_FRAMES 64
#define FRAME_LEN 128

static uint8_t frames[N_FRAMES][FRAME_LEN];
static uint32_t lens[N_FRAMES];

/* Write a frame: Ethernet (n_vlan tags), then IPv4 or IPv6 with n_ext
 * 8-byte destination options headers (IPv6) or opt_words of options
 * (IPv4), then a 20-byte L4 header area. Returns its length. */
static uint32_t make(uint8_t *b, int family, int n_vlan, int extra, uint8_t proto)
{
	uint32_t o = 12, l3, l4;

	for (int i = 0; i < n_vlan; i++) {
		b[o] = 0x81;
		b[o + 2] = 0;
		b[o + 3] = (uint8_t)(10 + i);
		o += 4;
	}
	if (family == 0) {
		b[o] = 0x08;
		b[o + 1] = 0x06;
		return o + 2 + 28;
	}
	b[o] = family == 4 ? 0x08 : 0x86;
	b[o + 1] = family == 4 ? 0x00 : 0xdd;
	o += 2;
	l3 = o;
	if (family == 4) {
		b[o] = (uint8_t)(0x45 + extra);
		b[o + 9] = proto;
		b[o + 12] = 10;
		b[o + 15] = 1;
		b[o + 16] = 10;
		b[o + 19] = 2;
		o += 20 + 4 * extra;
	} else {
		b[o] = 0x60;
		b[o + 6] = extra ? 60 : proto;
		b[o + 8] = 0xfd;
		b[o + 24] = 0xfd;
		o += 40;
		for (int i = 0; i < extra; i++) {
			b[o] = i + 1 < extra ? 60 : proto;
			o += 8;
		}
	}
	l4 = o;
	b[l4] = 0x9c;
	b[l4 + 1] = 0x40;
	b[l4 + 3] = 80;
	b[l4 + 4] = 0;
	b[l4 + 5] = 20; /* UDP length */
	b[l4 + 12] = 0x50;
	b[l4 + 13] = 0x02;
	o += 20;
	if (family == 4) {
		b[l3 + 2] = (uint8_t)((o - l3) >> 8);
		b[l3 + 3] = (uint8_t)(o - l3);
	} else {
		b[l3 + 4] = (uint8_t)((o - l3 - 40) >> 8);
		b[l3 + 5] = (uint8_t)(o - l3 - 40);
	}
	return o < 60 ? 60 : o;
}

int main(int argc, char **argv)
{
	static const struct {
		int family, n_vlan, extra;
		uint8_t proto;
	} mix[] = {
		{4, 0, 0, 6}, {4, 0, 0, 6}, {4, 0, 0, 17}, {4, 1, 0, 6}, {4, 0, 2, 6},
		{4, 0, 0, 1}, {6, 0, 0, 6}, {6, 0, 0, 17}, {6, 2, 0, 6}, {6, 0, 3, 6},
		{0, 0, 0, 0}, {4, 2, 0, 132},
	};
	const unsigned int n_mix = sizeof(mix) / sizeof(mix[0]);
	unsigned long n = argc > 1 ? strtoul(argv[1], NULL, 0) : 10000000UL;
	unsigned int kinds_used = argc > 2 ? (unsigned int)strtoul(argv[2], NULL, 0) : n_mix;
	struct npgw_pkt_info info;
	enum npgw_drop_reason r;
	struct timespec t0, t1;
	unsigned long kinds[3] = {0};
	uint32_t sink = 0;
	double ns;

	for (unsigned int i = 0; i < N_FRAMES; i++) {
		unsigned int m = i % (kinds_used >= 1 && kinds_used <= n_mix ? kinds_used : n_mix);

		lens[i] = make(frames[i], mix[m].family, mix[m].n_vlan, mix[m].extra, mix[m].proto);
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (unsigned long i = 0; i < n; i++) {
		unsigned int f = i % N_FRAMES;
		enum npgw_pkt_kind k = npgw_pkt_parse(frames[f], lens[f], &info, &r);

		kinds[k]++;
		sink += info.dport + info.proto;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ns = (double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec);
	printf("%lu frames: %.2f ns/frame (ip %lu, non-ip %lu, drop %lu; sink %u)\n", n, ns / n,
	       kinds[NPGW_PKT_IP], kinds[NPGW_PKT_NON_IP], kinds[NPGW_PKT_DROP], sink);
	return kinds[NPGW_PKT_DROP] != 0;
}
