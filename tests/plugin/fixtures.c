/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hmtp-plugin-fixtures SCENARIO OUT: writes the HMTP byte streams of a
 * scripted session with the core writer, as records for make_pcap.py:
 * direction ('C' or 'S'), 4-byte big-endian length, the framed packet.
 * Scenarios:
 *   session  login, presence flow, messages with a NewsItem payload (class
 *            defined once, then by index), queries answered, refused, never
 *            answered, an answer with no request, a multi-chunk packet
 *   corrupt  the session with a body that is not valid Hessian in packet 5
 *            and a packet of unknown type 20 after it
 *   flood N  N client/server message pairs (for the benchmark)
 *   login SPKI [ENCKEY ENCDATA]
 *            the encrypted login of PROTOCOL.md section 7 against the server
 *            key whose SubjectPublicKeyInfo DER is in file SPKI (made by the
 *            test with the openssl command line). The EncryptedObject is
 *            made with hmtp_credentials_encrypt (password "secret"), or,
 *            given ENCKEY and ENCDATA, holds those files' bytes: the
 *            interop vector, wrapped and encrypted by `openssl pkeyutl` and
 *            `openssl enc` alone.
 * OUT is always the last argument. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hmtp.h"
#include "hmtp_crypto.h"
#include "writer.h"

#define CLIENT "ferg@hmtp.caucho.com"
#define CLIENT_FULL "ferg@hmtp.caucho.com/a"
#define SERVICE "news@cnn.com"

typedef struct session {
    FILE *out;
    hessian_writer writer[2]; /* [0] client->server, [1] server->client */
    hmtp_buf buf[2];
    unsigned packets;
    int corrupt_at; /* packet number (1-based) replaced by broken bytes; 0: none */
} session;

static int put_record(session *s, char dir, const uint8_t *data, size_t len)
{
    uint8_t hdr[5] = {(uint8_t)dir, (uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8),
                      (uint8_t)len};
    if (fwrite(hdr, 1, 5, s->out) != 5 || fwrite(data, 1, len, s->out) != len) {
        fprintf(stderr, "fixtures: write failed: %s\n", strerror(errno));
        return -1;
    }
    return 0;
}

/* A packet with valid framing whose body is not Hessian (0x40 is unused). */
static int put_broken(session *s, char dir)
{
    static const uint8_t broken[] = {0x05, 0x90, 0x4e, 0x4e, 0x40, 0x4e, 0x00};
    return put_record(s, dir, broken, sizeof broken);
}

static int emit(session *s, char dir, int32_t type, const char *to, const char *from, int64_t id,
                hessian_value *value, hessian_value *error, hmtp_arena *arena)
{
    int d = dir == 'C' ? 0 : 1;
    s->packets++;
    if (s->corrupt_at && (int)s->packets == s->corrupt_at)
        return put_broken(s, dir);
    hmtp_packet p;
    memset(&p, 0, sizeof p);
    p.type = type;
    p.to = to;
    p.from = from;
    p.has_id = hmtp_type_has_id(type);
    p.id = id;
    p.value = value ? value : hessian_new_null(arena);
    p.error_value = error ? error : (hmtp_type_has_error(type) ? hessian_new_null(arena) : NULL);
    hmtp_buf_reset(&s->buf[d]);
    if (!hmtp_packet_write(&s->writer[d], &p) || s->buf[d].failed) {
        fprintf(stderr, "fixtures: packet %u could not be written\n", s->packets);
        return -1;
    }
    return put_record(s, dir, s->buf[d].data, s->buf[d].len);
}

static hessian_value *str(hmtp_arena *a, const char *v)
{
    return hessian_new_string(a, v, v ? strlen(v) : 0);
}

static hessian_value *news_item(hmtp_arena *a, const char *title, double score, int64_t when_ms)
{
    static const char *const names[] = {"title", "score", "tags", "when", "views", "digest", "flags"};
    hessian_value *o = hessian_new_object(a, "example.NewsItem", 7, names);
    hessian_object_set(o, "title", str(a, title));
    hessian_object_set(o, "score", hessian_new_double(a, score));
    hessian_value *tags = hessian_new_map(a, NULL, 2);
    tags->v.map.keys[0] = str(a, "topic");
    tags->v.map.values[0] = str(a, "world");
    tags->v.map.keys[1] = str(a, "lang");
    tags->v.map.values[1] = str(a, "en");
    hessian_object_set(o, "tags", tags);
    hessian_object_set(o, "when", hessian_new_date(a, when_ms));
    hessian_object_set(o, "views", hessian_new_long(a, 1234567890123LL));
    static const uint8_t digest[4] = {0xde, 0xad, 0xbe, 0xef};
    hessian_object_set(o, "digest", hessian_new_binary(a, digest, sizeof digest));
    hessian_value *flags = hessian_new_list(a, NULL, false, 3);
    flags->v.list.items[0] = hessian_new_bool(a, true);
    flags->v.list.items[1] = hessian_new_bool(a, false);
    flags->v.list.items[2] = hessian_new_int(a, 42);
    hessian_object_set(o, "flags", flags);
    return o;
}

static hessian_value *one_field(hmtp_arena *a, const char *cls, const char *field, hessian_value *v)
{
    const char *names[] = {field};
    hessian_value *o = hessian_new_object(a, cls, 1, names);
    hessian_object_set(o, field, v);
    return o;
}

static int run_session(session *s)
{
    hmtp_arena a;
    hmtp_arena_init(&a);
    static const char *const auth_names[] = {"_uid", "_credentials", "_resource"};
    hessian_value *auth = hessian_new_object(&a, HMTP_AUTH_QUERY_CLASS, 3, auth_names);
    hessian_object_set(auth, "_uid", str(&a, "ferg"));
    hessian_object_set(auth, "_credentials", str(&a, "secret"));
    char *big = calloc(1, 10001);
    if (!big)
        return -1;
    memset(big, 'x', 10000);
    int rc = 0;
    rc |= emit(s, 'C', HMTP_QUERY_SET, NULL, NULL, 0, auth, NULL, &a);                               /* 1 */
    rc |= emit(s, 'S', HMTP_QUERY_RESULT, NULL, NULL, 0,
               one_field(&a, HMTP_AUTH_RESULT_CLASS, "_jid", str(&a, CLIENT_FULL)), NULL, &a);     /* 2 */
    rc |= emit(s, 'C', HMTP_PRESENCE_SUBSCRIBE, SERVICE, CLIENT, 0, NULL, NULL, &a);               /* 3 */
    rc |= emit(s, 'S', HMTP_PRESENCE_SUBSCRIBED, CLIENT, SERVICE, 0, NULL, NULL, &a);              /* 4 */
    rc |= emit(s, 'S', HMTP_MESSAGE, CLIENT_FULL, SERVICE, 0,
               news_item(&a, "breaking: comet seen over Lisbon", 0.5, 1232445600000LL), NULL, &a); /* 5 */
    rc |= emit(s, 'S', HMTP_MESSAGE, CLIENT_FULL, SERVICE, 0,
               news_item(&a, "markets calm", 0.25, 1232445660000LL), NULL, &a);                    /* 6 */
    rc |= emit(s, 'C', HMTP_QUERY_GET, SERVICE, CLIENT_FULL, 1,
               one_field(&a, "example.StatusQuery", "detail", hessian_new_bool(&a, true)), NULL, &a); /* 7 */
    rc |= emit(s, 'S', HMTP_QUERY_ERROR, CLIENT_FULL, SERVICE, 1,
               one_field(&a, "example.StatusQuery", "detail", hessian_new_bool(&a, true)),
               hmtp_new_bam_error(&a, "cancel", "feature-not-implemented", "no status here"), &a); /* 8 */
    rc |= emit(s, 'S', HMTP_PRESENCE_PROBE, CLIENT_FULL, SERVICE, 0, NULL, NULL, &a);              /* 9 */
    rc |= emit(s, 'C', HMTP_PRESENCE, SERVICE, NULL, 0, NULL, NULL, &a);                           /* 10 */
    rc |= emit(s, 'C', HMTP_QUERY_GET, SERVICE, CLIENT_FULL, 2, NULL, NULL, &a);                   /* 11 never answered */
    rc |= emit(s, 'S', HMTP_QUERY_RESULT, CLIENT_FULL, SERVICE, 99, NULL, NULL, &a);               /* 12 no request */
    rc |= emit(s, 'S', HMTP_MESSAGE, CLIENT_FULL, SERVICE, 0, str(&a, big), NULL, &a);             /* 13 multi-chunk */
    rc |= emit(s, 'C', HMTP_PRESENCE_UNSUBSCRIBE, SERVICE, NULL, 0, NULL, NULL, &a);               /* 14 */
    rc |= emit(s, 'S', HMTP_PRESENCE_UNSUBSCRIBED, CLIENT_FULL, SERVICE, 0, NULL, NULL, &a);       /* 15 */
    if (s->corrupt_at) {
        /* an unknown packet type with otherwise valid fields */
        static const uint8_t unknown[] = {0x04, 0xa4, 0x4e, 0x4e, 0x4e, 0x00};
        rc |= put_record(s, 'C', unknown, sizeof unknown);
    }
    rc |= emit(s, 'C', HMTP_PRESENCE_UNAVAILABLE, NULL, NULL, 0, NULL, NULL, &a);                  /* 16 */
    free(big);
    hmtp_arena_free(&a);
    return rc ? -1 : 0;
}

static int run_flood(session *s, long n)
{
    for (long i = 0; i < n; i++) {
        hmtp_arena a;
        hmtp_arena_init(&a);
        int rc = emit(s, 'S', HMTP_MESSAGE, CLIENT_FULL, SERVICE, 0,
                      news_item(&a, i % 10 == 0 ? "Markets close higher" : "flood item", (double)i / 8.0,
                                      1232445600000LL + i), NULL, &a);
        rc |= emit(s, 'C', HMTP_QUERY_GET, SERVICE, CLIENT_FULL, i, NULL, NULL, &a);
        rc |= emit(s, 'S', HMTP_QUERY_RESULT, CLIENT_FULL, SERVICE, i, str(&a, "ok"), NULL, &a);
        hmtp_arena_free(&a);
        if (rc)
            return -1;
    }
    return 0;
}

/* A whole small file (a key or a vector), malloc-owned by *out. */
static int slurp(const char *path, hmtp_buf *out)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "fixtures: cannot open %s: %s\n", path, strerror(errno));
        return -1;
    }
    uint8_t chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        hmtp_buf_append(out, chunk, n);
    int rc = ferror(f) || out->failed ? -1 : 0;
    fclose(f);
    if (rc)
        fprintf(stderr, "fixtures: cannot read %s\n", path);
    return rc;
}

static int run_login(session *s, char **files, int nfiles)
{
    hmtp_arena a;
    hmtp_arena_init(&a);
    hmtp_buf spki, enc_key, enc_data;
    hmtp_buf_init(&spki);
    hmtp_buf_init(&enc_key);
    hmtp_buf_init(&enc_data);
    int rc = slurp(files[0], &spki);
    hessian_value *credentials = NULL;
    if (rc == 0 && nfiles == 3) {
        rc = slurp(files[1], &enc_key) | slurp(files[2], &enc_data);
        if (rc == 0)
            credentials = hmtp_new_encrypted_object(&a, "AES", enc_key.data, enc_key.len, enc_data.data,
                                                    enc_data.len);
    } else if (rc == 0) {
        hmtp_tool_error err = {0};
        credentials = hmtp_credentials_encrypt(&a, spki.data, spki.len, "secret", &err);
        if (!credentials)
            fprintf(stderr, "fixtures: cannot encrypt the credentials: %s\n", err.msg);
    }
    if (rc == 0 && credentials) {
        rc |= emit(s, 'C', HMTP_QUERY_GET, NULL, NULL, 1, hmtp_new_public_key_query(&a, NULL, NULL, NULL, 0),
                   NULL, &a);
        rc |= emit(s, 'S', HMTP_QUERY_RESULT, NULL, NULL, 1,
                   hmtp_new_public_key_query(&a, "RSA", "X.509", spki.data, spki.len), NULL, &a);
        rc |= emit(s, 'C', HMTP_QUERY_SET, NULL, NULL, 2,
                   hmtp_new_auth_query(&a, "ferg", "laptop", credentials), NULL, &a);
        rc |= emit(s, 'S', HMTP_QUERY_RESULT, NULL, NULL, 2, hmtp_new_auth_result(&a, CLIENT_FULL), NULL, &a);
        rc |= emit(s, 'C', HMTP_PRESENCE, NULL, NULL, 0, NULL, NULL, &a);
    } else {
        rc = -1;
    }
    hmtp_buf_free(&spki);
    hmtp_buf_free(&enc_key);
    hmtp_buf_free(&enc_data);
    hmtp_arena_free(&a);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s session|corrupt|flood N|login SPKI [ENCKEY ENCDATA] OUT\n", argv[0]);
        return 2;
    }
    const char *scenario = argv[1];
    long flood = 0;
    const char *path = argv[2];
    if (strcmp(scenario, "flood") == 0) {
        if (argc < 4 || (flood = strtol(argv[2], NULL, 10)) <= 0) {
            fprintf(stderr, "fixtures: flood needs a positive count\n");
            return 2;
        }
        path = argv[3];
    } else if (strcmp(scenario, "login") == 0) {
        if (argc != 4 && argc != 6) {
            fprintf(stderr, "usage: %s login SPKI_DER [ENCKEY ENCDATA] OUT\n", argv[0]);
            return 2;
        }
        path = argv[argc - 1];
    } else if (strcmp(scenario, "session") != 0 && strcmp(scenario, "corrupt") != 0) {
        fprintf(stderr, "fixtures: unknown scenario %s\n", scenario);
        return 2;
    }
    session s;
    memset(&s, 0, sizeof s);
    s.out = fopen(path, "wb");
    if (!s.out) {
        fprintf(stderr, "fixtures: cannot open %s: %s\n", path, strerror(errno));
        return 1;
    }
    for (int d = 0; d < 2; d++) {
        hmtp_buf_init(&s.buf[d]);
        hessian_writer_init(&s.writer[d], &s.buf[d]);
    }
    s.corrupt_at = strcmp(scenario, "corrupt") == 0 ? 5 : 0;
    int rc = flood                               ? run_flood(&s, flood)
             : strcmp(scenario, "login") == 0 ? run_login(&s, argv + 2, argc - 3)
                                              : run_session(&s);
    for (int d = 0; d < 2; d++) {
        hessian_writer_free(&s.writer[d]);
        hmtp_buf_free(&s.buf[d]);
    }
    if (fclose(s.out) != 0)
        rc = -1;
    return rc ? 1 : 0;
}
