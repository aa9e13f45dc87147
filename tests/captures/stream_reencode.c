/* SPDX-License-Identifier: GPL-2.0-or-later */
/* stream_reencode FILE: decodes one direction of an HMTP stream (an HTTP
 * upgrade head, if any, is skipped) and writes every packet again with the
 * core writer; exits 0 when every packet comes out byte-identical. On a
 * stream recorded from Resin's own client, written by Caucho's
 * Hessian2Output, this checks that our writer makes Caucho's choices. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "framing.h"
#include "hmtp.h"

static uint8_t *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    hmtp_buf b;
    hmtp_buf_init(&b);
    uint8_t tmp[65536];
    size_t n;
    while ((n = fread(tmp, 1, sizeof tmp, f)) > 0)
        hmtp_buf_append(&b, tmp, n);
    fclose(f);
    *len = b.len;
    return b.data;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: stream_reencode FILE\n");
        return 2;
    }
    size_t len;
    uint8_t *data = read_all(argv[1], &len);
    if (!data) {
        fprintf(stderr, "stream_reencode: cannot read %s\n", argv[1]);
        return 2;
    }
    size_t start = 0;
    const uint8_t *head_end = memmem(data, len, "\r\n\r\n", 4);
    if (len >= 4 && (memcmp(data, "CONN", 4) == 0 || memcmp(data, "GET ", 4) == 0 || memcmp(data, "HTTP", 4) == 0))
        start = head_end ? (size_t)(head_end - data) + 4 : len;

    hmtp_reader *r = hmtp_reader_new(0);
    hessian_stream in;
    hessian_stream_init(&in, NULL);
    hmtp_buf out;
    hmtp_buf_init(&out);
    hessian_writer w;
    hessian_writer_init(&w, &out);
    int status = 0;
    unsigned packets = 0, identical = 0;
    size_t pos = start;
    while (pos < len) {
        size_t used;
        hmtp_frame f;
        hmtp_error err;
        int rc = hmtp_reader_push(r, data + pos, len - pos, &used, &f, &err);
        if (rc < 0) {
            fprintf(stderr, "stream_reencode: framing error at offset %zu: %s\n", err.offset, err.msg);
            status = 1;
            break;
        }
        if (rc == 1) {
            hmtp_packet p;
            hmtp_packet_init(&p);
            if (hmtp_packet_decode(&p, &in, hessian_stream_mark(&in), f.body, f.body_len, &err) != HMTP_OK) {
                fprintf(stderr, "stream_reencode: packet %u: %s\n", packets, err.msg);
                status = 1;
            }
            size_t before = out.len;
            hmtp_packet_write(&w, &p);
            /* The recorded packet starts at start + wire_offset. */
            const uint8_t *orig = data + start + f.wire_offset;
            bool same = out.len - before == f.wire_len && memcmp(out.data + before, orig, f.wire_len) == 0;
            printf("packet %u %s: %zu bytes, %zu chunks: %s\n", packets, hmtp_type_name(p.type), f.wire_len, f.chunks,
                   same ? "identical" : "DIFFERENT");
            identical += same;
            packets++;
            hmtp_packet_free(&p);
        }
        pos += used;
    }
    if (!hmtp_reader_at_boundary(r)) {
        fprintf(stderr, "stream_reencode: the stream ends inside a packet\n");
        status = 1;
    }
    printf("%u of %u packets re-encoded identically\n", identical, packets);
    if (packets == 0 || identical != packets)
        status = 1;
    hmtp_reader_free(r);
    hessian_stream_free(&in);
    hessian_writer_free(&w);
    hmtp_buf_free(&out);
    free(data);
    return status;
}
