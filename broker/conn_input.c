/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "conn_input.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "broker.h"
#include "conn.h"
#include "dispatch.h"
#include "hmtp.h"
#include "http_upgrade.h"
#include "log.h"

/* Small enough that the replies one read can provoke stay far below the
 * smallest output limit (reading pauses above half of it). */
#define READ_SIZE 16384

static void handle_frame(conn *c, const hmtp_frame *f)
{
    hmtp_packet p;
    hmtp_packet_init(&p);
    hmtp_error err;
    hmtp_error_clear(&err);
    hmtp_status st = hmtp_packet_decode(&p, &c->in_stream, hessian_stream_mark(&c->in_stream),
                                        f->body, f->body_len, &err);
    c->packets_in++;
    if (st != HMTP_OK) {
        /* The class table of this direction may now be wrong: every later
         * packet could decode to garbage, so the link ends here. */
        conn_close(c, "bad packet %llu at HMTP stream offset %llu: %s: %s",
                   (unsigned long long)c->packets_in, (unsigned long long)f->wire_offset,
                   hmtp_status_name(err.code), err.msg);
        hmtp_packet_free(&p);
        return;
    }
    bool taken = false;
    dispatch_packet(c, &p, &taken);
    if (!taken)
        hmtp_packet_free(&p);
}

static void hmtp_input(conn *c, const uint8_t *data, size_t len)
{
    size_t off = 0;
    while (off < len && !c->closing && !c->close_after_flush) {
        size_t consumed = 0;
        hmtp_frame f;
        hmtp_error err;
        hmtp_error_clear(&err);
        int rc = hmtp_reader_push(c->reader, data + off, len - off, &consumed, &f, &err);
        off += consumed;
        if (rc < 0) {
            conn_close(c, "framing error at HMTP stream offset %zu: %s", err.offset, err.msg);
            return;
        }
        if (rc == 0)
            return;
        handle_frame(c, &f);
        if (consumed == 0)
            return; /* cannot happen for a well-behaved reader; never spin */
        if (c->hold_timer && !c->closing && off < len) {
            /* a refused login holds the rest: guesses sent in one burst wait too */
            if (!hmtp_buf_append(&c->held_input, data + off, len - off))
                conn_close(c, "out of memory holding input");
            return;
        }
    }
}

static void http_input(conn *c, const uint8_t *data, size_t len)
{
    broker *b = c->b;
    if (!hmtp_buf_append(&c->http_in, data, len)) {
        conn_close(c, "out of memory reading the HTTP request");
        return;
    }
    hmtp_upgrade_head req;
    hmtp_error err;
    int r = hmtp_upgrade_head_parse(c->http_in.data, c->http_in.len, &req, &err);
    if (r == 0)
        return;
    const char *why = err.msg;
    int status = r < 0 ? req.refusal : hmtp_upgrade_request_refusal(&req, &why);
    if (status) {
        broker_log("conn %llu rejected: HTTP %d %s (%s)", (unsigned long long)c->id, status,
                   hmtp_upgrade_status_reason(status), why);
        hmtp_upgrade_write_error(&c->out, status, why, b->cfg->server_header, b->date);
        conn_close_after_flush(c, "HTTP error answered");
        return;
    }
    hmtp_upgrade_write_switching(&c->out, b->cfg->server_header, b->date, b->cfg->upgrade_header);
    conn_mark_dirty(c);
    c->phase = CONN_HMTP;
    c->reader = hmtp_reader_new(b->cfg->max_packet);
    if (!c->reader) {
        conn_close(c, "out of memory creating the packet reader");
        return;
    }
    broker_log("conn %llu upgraded (%s)", (unsigned long long)c->id, req.method);
    /* A client may send its login right behind the request, in the same
     * segment: those bytes are already HMTP. */
    size_t rest = c->http_in.len - req.head_len;
    if (rest > 0) {
        uint8_t *copy = g_memdup2(c->http_in.data + req.head_len, rest);
        hmtp_buf_free(&c->http_in);
        hmtp_input(c, copy, rest);
        g_free(copy);
    } else {
        hmtp_buf_free(&c->http_in);
    }
}

void conn_input(conn *c, const uint8_t *data, size_t len)
{
    if (c->hold_timer) {
        if (!hmtp_buf_append(&c->held_input, data, len))
            conn_close(c, "out of memory holding input");
    } else if (c->phase == CONN_HTTP) {
        http_input(c, data, len);
    } else {
        hmtp_input(c, data, len);
    }
    conn_arm_deadline(c); /* an upgrade or a login changes which deadline applies */
}

bool conn_receive(conn *c)
{
    uint8_t buf[READ_SIZE];
    ssize_t n;
    do
        n = recv(c->fd, buf, sizeof buf, 0);
    while (n < 0 && errno == EINTR);
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return false;
        conn_close(c, "receive failed: %s", g_strerror(errno));
    } else if (n == 0 && c->draining) {
        conn_close(c, "%s", c->close_after_flush);
    } else if (n == 0) {
        if (c->phase == CONN_HMTP && c->reader && !hmtp_reader_at_boundary(c->reader))
            conn_close(c, "peer closed inside a packet (HMTP stream offset %llu)",
                       (unsigned long long)hmtp_reader_offset(c->reader));
        else if (c->phase == CONN_HTTP && c->http_in.len > 0)
            conn_close(c, "peer closed before ending its HTTP request (%zu bytes)",
                       c->http_in.len);
        else
            conn_close(c, "peer closed");
    } else {
        c->bytes_in += (uint64_t)n;
        c->active_ms = hmtp_loop_now_ms();
        if (!c->draining) /* the answer is out: what follows is discarded */
            conn_input(c, buf, (size_t)n);
    }
    conn_account(c);
    return true;
}
