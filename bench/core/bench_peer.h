/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The benchmark's peer: the same packets as MessagePack, read by msgpack-c
 * (Debian's libmsgpack-dev). Built only when CMake finds the library
 * (HMTP_BENCH_PEER defined); bench-core then prints both side by side. */
#ifndef HMTP_BENCH_PEER_H
#define HMTP_BENCH_PEER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "hmtp.h"

/* Appends p as one MessagePack array [type, to, from, (id), value, (error)]
 * to the hmtp_buf ctx: objects become maps from field name to value, lists
 * arrays, dates ints (ms), binaries bin, strings str. A bench_mix_each. */
bool bench_peer_encode(const hmtp_packet *p, void *ctx);

typedef enum bench_peer_level {
    PEER_UNPACK,   /* msgpack_unpacker_next() builds each packet's tree */
    PEER_VALIDATE, /* plus a walk that validates every string as UTF-8 */
} bench_peer_level;

/* Feeds the stream to a msgpack_unpacker in `piece`-byte reads and unpacks
 * every packet. Returns the packets read; *ok false when one failed to
 * unpack, was not a packet, or held a string that is not UTF-8. */
size_t bench_peer_read(const hmtp_buf *stream, size_t piece, bench_peer_level level, bool *ok);

const char *bench_peer_version(void); /* msgpack-c's version string */

/* Strict UTF-8 (no overlong forms, no surrogates, at most U+10FFFF). */
bool bench_peer_utf8_valid(const uint8_t *p, size_t n);

#endif
