/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "net_parse.h"

#include <arpa/inet.h>
#include <pcap/dlt.h>
#include <stdio.h>
#include <string.h>

#define ETHERTYPE_IP4 0x0800
#define ETHERTYPE_IP6 0x86dd
#define ETHERTYPE_VLAN 0x8100
#define ETHERTYPE_QINQ 0x88a8
#define ETHERTYPE_QINQ_OLD 0x9100
#define IPPROTO_NUM_TCP 6

#ifndef DLT_LINUX_SLL2
#define DLT_LINUX_SLL2 276
#endif
#ifndef DLT_IPV4
#define DLT_IPV4 228
#endif
#ifndef DLT_IPV6
#define DLT_IPV6 229
#endif
/* pcap maps LINKTYPE_RAW (101) to DLT_RAW, but OpenBSD's value may still
 * reach us from a foreign file. */
#define DLT_RAW_OTHER 14
#define DLT_RAW_LINKTYPE 101
#define DLT_LOOP_OPENBSD 108

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static replay_parse_result malformed(hmtp_tool_error *why, const char *what)
{
    hmtp_tool_fail(why, "%s", what);
    return REPLAY_PARSE_MALFORMED;
}

bool replay_dlt_supported(int dlt)
{
    switch (dlt) {
    case DLT_NULL:
    case DLT_EN10MB:
    case DLT_RAW:
    case DLT_RAW_OTHER:
    case DLT_RAW_LINKTYPE:
    case DLT_LOOP_OPENBSD:
    case DLT_LINUX_SLL:
    case DLT_LINUX_SLL2:
    case DLT_IPV4:
    case DLT_IPV6:
        return true;
    default:
        return false;
    }
}

static replay_parse_result parse_tcp(const uint8_t *p, size_t avail, size_t announced, replay_segment *seg,
                                     hmtp_tool_error *why)
{
    if (avail < 20)
        return malformed(why, "TCP header cut short");
    size_t hlen = (size_t)(p[12] >> 4) * 4;
    if (hlen < 20 || hlen > announced)
        return malformed(why, "TCP header length is invalid");
    if (hlen > avail)
        return malformed(why, "TCP options cut short by the snapshot length");
    seg->sport = rd16(p);
    seg->dport = rd16(p + 2);
    seg->seq = rd32(p + 4);
    seg->ack = rd32(p + 8);
    seg->flags = p[13];
    seg->payload = p + hlen;
    size_t want = announced - hlen;
    size_t have = avail - hlen;
    seg->len = have < want ? have : want; /* Ethernet padding stays out */
    seg->missing = want - seg->len;
    return REPLAY_PARSE_TCP;
}

/* avail: bytes captured from p on; the IP header's own length bounds the
 * packet so link-layer padding is never taken for payload. */
static replay_parse_result parse_ipv4(const uint8_t *p, size_t avail, replay_segment *seg, hmtp_tool_error *why)
{
    if (avail < 20)
        return malformed(why, "IPv4 header cut short");
    if (p[0] >> 4 != 4)
        return malformed(why, "IP version is not 4");
    size_t ihl = (size_t)(p[0] & 0x0f) * 4;
    size_t total = rd16(p + 2);
    if (ihl < 20 || total < ihl || ihl > avail)
        return malformed(why, "IPv4 header length is invalid");
    if (p[9] != IPPROTO_NUM_TCP)
        return REPLAY_PARSE_OTHER;
    uint16_t frag = rd16(p + 6);
    if ((frag & 0x1fff) != 0 || (frag & 0x2000) != 0)
        return malformed(why, "fragmented IPv4 packet (reassembly of IP fragments is not supported)");
    seg->src.family = seg->dst.family = 4;
    memset(seg->src.bytes, 0, 16);
    memset(seg->dst.bytes, 0, 16);
    memcpy(seg->src.bytes, p + 12, 4);
    memcpy(seg->dst.bytes, p + 16, 4);
    size_t have = avail < total ? avail : total;
    return parse_tcp(p + ihl, have - ihl, total - ihl, seg, why);
}

static replay_parse_result parse_ipv6(const uint8_t *p, size_t avail, replay_segment *seg, hmtp_tool_error *why)
{
    if (avail < 40)
        return malformed(why, "IPv6 header cut short");
    if (p[0] >> 4 != 6)
        return malformed(why, "IP version is not 6");
    size_t total = 40 + (size_t)rd16(p + 4);
    seg->src.family = seg->dst.family = 6;
    memcpy(seg->src.bytes, p + 8, 16);
    memcpy(seg->dst.bytes, p + 24, 16);
    uint8_t next = p[6];
    size_t off = 40;
    /* Extension headers that may precede TCP: hop-by-hop, routing, destination options. */
    while (next == 0 || next == 43 || next == 60) {
        if (off + 8 > avail || off + 8 > total)
            return malformed(why, "IPv6 extension header cut short");
        size_t elen = ((size_t)p[off + 1] + 1) * 8;
        next = p[off];
        off += elen;
    }
    if (next == 44)
        return malformed(why, "fragmented IPv6 packet (reassembly of IP fragments is not supported)");
    if (next != IPPROTO_NUM_TCP)
        return REPLAY_PARSE_OTHER;
    if (off > avail || off > total)
        return malformed(why, "IPv6 extension headers run past the packet");
    size_t have = avail < total ? avail : total;
    return parse_tcp(p + off, have - off, total - off, seg, why);
}

static replay_parse_result parse_ethertype(uint16_t type, const uint8_t *p, size_t avail, replay_segment *seg,
                                           hmtp_tool_error *why)
{
    /* Any depth of 802.1Q / 802.1ad tags. */
    while (type == ETHERTYPE_VLAN || type == ETHERTYPE_QINQ || type == ETHERTYPE_QINQ_OLD) {
        if (avail < 4)
            return malformed(why, "VLAN tag cut short");
        type = rd16(p + 2);
        p += 4;
        avail -= 4;
    }
    if (type == ETHERTYPE_IP4)
        return parse_ipv4(p, avail, seg, why);
    if (type == ETHERTYPE_IP6)
        return parse_ipv6(p, avail, seg, why);
    return REPLAY_PARSE_OTHER;
}

static replay_parse_result parse_by_version(const uint8_t *p, size_t avail, replay_segment *seg, hmtp_tool_error *why)
{
    if (avail < 1)
        return malformed(why, "empty IP packet");
    if (p[0] >> 4 == 4)
        return parse_ipv4(p, avail, seg, why);
    if (p[0] >> 4 == 6)
        return parse_ipv6(p, avail, seg, why);
    return malformed(why, "raw IP packet with an unknown IP version");
}

static replay_parse_result parse_null_family(uint32_t family, const uint8_t *p, size_t avail,
                                             replay_segment *seg, hmtp_tool_error *why)
{
    if (family == 2)
        return parse_ipv4(p, avail, seg, why);
    /* AF_INET6 differs between BSDs (24, 28, 30) and Linux (10). */
    if (family == 24 || family == 28 || family == 30 || family == 10)
        return parse_ipv6(p, avail, seg, why);
    return REPLAY_PARSE_OTHER;
}

replay_parse_result replay_parse_frame(int dlt, const uint8_t *f, size_t caplen, replay_segment *seg, hmtp_tool_error *why)
{
    memset(seg, 0, sizeof *seg);
    switch (dlt) {
    case DLT_EN10MB:
        if (caplen < 14)
            return malformed(why, "Ethernet header cut short");
        return parse_ethertype(rd16(f + 12), f + 14, caplen - 14, seg, why);
    case DLT_LINUX_SLL:
        if (caplen < 16)
            return malformed(why, "Linux cooked (SLL) header cut short");
        return parse_ethertype(rd16(f + 14), f + 16, caplen - 16, seg, why);
    case DLT_LINUX_SLL2:
        if (caplen < 20)
            return malformed(why, "Linux cooked (SLL2) header cut short");
        return parse_ethertype(rd16(f), f + 20, caplen - 20, seg, why);
    case DLT_NULL: {
        if (caplen < 4)
            return malformed(why, "loopback header cut short");
        /* Host byte order of the machine that wrote the file: accept either. */
        uint32_t le = (uint32_t)f[0] | (uint32_t)f[1] << 8 | (uint32_t)f[2] << 16 | (uint32_t)f[3] << 24;
        uint32_t family = le < 0x10000 ? le : rd32(f);
        return parse_null_family(family, f + 4, caplen - 4, seg, why);
    }
    case DLT_LOOP_OPENBSD:
        if (caplen < 4)
            return malformed(why, "loopback header cut short");
        return parse_null_family(rd32(f), f + 4, caplen - 4, seg, why);
    case DLT_RAW:
    case DLT_RAW_OTHER:
    case DLT_RAW_LINKTYPE:
        return parse_by_version(f, caplen, seg, why);
    case DLT_IPV4:
        return parse_ipv4(f, caplen, seg, why);
    case DLT_IPV6:
        return parse_ipv6(f, caplen, seg, why);
    default:
        return malformed(why, "unsupported link type");
    }
}

void replay_endpoint_format(const replay_addr *a, uint16_t port, char *out, size_t out_len)
{
    char text[INET6_ADDRSTRLEN] = "?";
    if (a->family == 4) {
        inet_ntop(AF_INET, a->bytes, text, sizeof text);
        snprintf(out, out_len, "%s:%u", text, port);
    } else {
        inet_ntop(AF_INET6, a->bytes, text, sizeof text);
        snprintf(out, out_len, "[%s]:%u", text, port);
    }
}
