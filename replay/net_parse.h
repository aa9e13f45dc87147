/* SPDX-License-Identifier: GPL-2.0-or-later */
/* From one captured frame to the TCP segment inside it: link layer (Ethernet,
 * Linux cooked SLL/SLL2, BSD loopback/NULL, raw IP), VLAN tags, IPv4/IPv6,
 * TCP. Pure functions over bytes, so every layer is unit-testable without a
 * capture file. */
#ifndef REPLAY_NET_PARSE_H
#define REPLAY_NET_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

typedef struct replay_addr {
    uint8_t family; /* 4 or 6 */
    uint8_t bytes[16];
} replay_addr;

enum {
    TCP_FLAG_FIN = 0x01,
    TCP_FLAG_SYN = 0x02,
    TCP_FLAG_RST = 0x04,
    TCP_FLAG_ACK = 0x10,
};

typedef struct replay_segment {
    replay_addr src, dst;
    uint16_t sport, dport;
    uint32_t seq, ack;
    uint8_t flags;
    const uint8_t *payload; /* points into the frame */
    size_t len;             /* payload bytes present in the capture */
    size_t missing;         /* payload bytes the IP header announces but the
                               snapshot length cut off */
} replay_segment;

typedef enum replay_parse_result {
    REPLAY_PARSE_TCP,      /* seg filled */
    REPLAY_PARSE_OTHER,    /* a well-formed frame that carries no TCP (ARP, UDP, ...) */
    REPLAY_PARSE_MALFORMED /* why says what was wrong */
} replay_parse_result;

/* dlt is pcap_datalink()'s value. */
replay_parse_result replay_parse_frame(int dlt, const uint8_t *frame, size_t caplen, replay_segment *seg,
                                       hmtp_tool_error *why);

bool replay_dlt_supported(int dlt);

/* "192.0.2.1" or "[2001:db8::1]" followed by ":port". */
void replay_endpoint_format(const replay_addr *a, uint16_t port, char *out, size_t out_len);

#endif
