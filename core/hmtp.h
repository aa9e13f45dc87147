/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The HMTP packet model (PROTOCOL.md section 3): 14 packet types, each a
 * sequence of top-level Hessian values: type, to, from, [id], value, [error]. */
#ifndef HMTP_HMTP_H
#define HMTP_HMTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "buf.h"
#include "error.h"
#include "hessian.h"
#include "value.h"
#include "writer.h"

typedef enum hmtp_type {
    HMTP_MESSAGE = 0,
    HMTP_MESSAGE_ERROR = 1,
    HMTP_QUERY_GET = 2,
    HMTP_QUERY_SET = 3,
    HMTP_QUERY_RESULT = 4,
    HMTP_QUERY_ERROR = 5,
    HMTP_PRESENCE = 6,
    HMTP_PRESENCE_UNAVAILABLE = 7,
    HMTP_PRESENCE_PROBE = 8,
    HMTP_PRESENCE_SUBSCRIBE = 9,
    HMTP_PRESENCE_SUBSCRIBED = 10,
    HMTP_PRESENCE_UNSUBSCRIBE = 11,
    HMTP_PRESENCE_UNSUBSCRIBED = 12,
    HMTP_PRESENCE_ERROR = 13,
} hmtp_type;

#define HMTP_TYPE_COUNT 14

const char *hmtp_type_name(int32_t type); /* "presenceSubscribe"; NULL if unknown */
int32_t hmtp_type_from_name(const char *name); /* -1 if unknown */
bool hmtp_type_valid(int32_t type);
bool hmtp_type_has_id(int32_t type);    /* queries 2..5 */
bool hmtp_type_has_error(int32_t type); /* 1, 5, 13 */
bool hmtp_type_is_presence(int32_t type); /* 6..13 */

/* The role of the index-th top-level value of a packet of the given type. */
typedef enum hmtp_field {
    HMTP_FIELD_TYPE,
    HMTP_FIELD_TO,
    HMTP_FIELD_FROM,
    HMTP_FIELD_ID,
    HMTP_FIELD_VALUE,
    HMTP_FIELD_ERROR,
    HMTP_FIELD_EXTRA, /* beyond the packet's grammar */
} hmtp_field;
hmtp_field hmtp_field_at(int32_t type, uint32_t index);
const char *hmtp_field_name(hmtp_field f); /* "type", "to", ... */

/* True when every byte is printable ASCII (0x20-0x7e), eight bytes a step:
 * every JID in practice, and always one hmtp_jid_check() accepts, so a
 * reader checks the rest only. */
bool hmtp_text_printable_ascii(const char *s, size_t len);

#define HMTP_BAM_ERROR_CLASS "com.caucho.bam.BamError"
#define HMTP_AUTH_QUERY_CLASS "com.caucho.bam.hmtp.AuthQuery"
#define HMTP_AUTH_RESULT_CLASS "com.caucho.bam.hmtp.AuthResult"
#define HMTP_GET_PUBLIC_KEY_QUERY_CLASS "com.caucho.bam.hmtp.GetPublicKeyQuery"
#define HMTP_ENCRYPTED_OBJECT_CLASS "com.caucho.bam.hmtp.EncryptedObject"

/* The strings below are C strings and exact: hmtp_packet_decode refuses
 * (HMTP_ERR_BAD_STRING, naming the field and offset) a to/from that holds
 * U+0000 or another character JIDs forbid (hmtp_jid_check) and a BamError
 * _type/_group/_text that holds U+0000, so none is ever a shortened view of
 * what was sent. Strings inside values keep their length (v.str.len); take
 * them as C text only through hessian_value_string(), which gives NULL for
 * text holding U+0000. */
typedef struct hmtp_bam_error {
    const char *type;  /* "cancel", ...; NULL when null or absent */
    const char *group; /* "item-not-found", ... */
    const char *text;
    const hessian_value *data;
    const hessian_value *extra;
} hmtp_bam_error;

typedef struct hmtp_packet {
    int32_t type;
    const char *to; /* NULL for a null JID */
    const char *from;
    bool has_id;
    int64_t id;
    hessian_value *value; /* never NULL after a successful decode (a NULL node for null) */
    hessian_value *error_value; /* error packets; NULL otherwise */
    hmtp_bam_error error;       /* fields of error_value when it is a BamError */
    hmtp_arena arena;           /* owns every node and string above */
} hmtp_packet;

void hmtp_packet_init(hmtp_packet *p);
void hmtp_packet_free(hmtp_packet *p);
/* Empties p for the next decode (every pointer into it becomes invalid)
 * but keeps its arena's block (hmtp_arena_reset), so a reader that decodes
 * packet after packet into one hmtp_packet stops calling malloc. */
void hmtp_packet_reset(hmtp_packet *p);

/* Decodes one packet body with the direction's state (sequential: mark =
 * hessian_stream_mark(s)). On error the packet holds what was decoded before
 * it (type, to, from may be set) and err names the problem and offset. */
hmtp_status hmtp_packet_decode(hmtp_packet *p, hessian_stream *s, hessian_mark at, const uint8_t *body,
                               size_t len, hmtp_error *err);

/* hmtp_packet_decode() on a decoder the caller keeps from packet to packet
 * (all-zero or hessian_decoder_init() at first, hessian_decoder_free() at
 * the end): its
 * stack and scratch memory are reused (hessian_decoder_restart). p should be
 * new or reset. */
hmtp_status hmtp_packet_decode_with(hmtp_packet *p, hessian_decoder *d, hessian_stream *s, hessian_mark at,
                                    const uint8_t *body, size_t len, hmtp_error *err);

/* Appends one framed packet to the writer's output. */
bool hmtp_packet_write(hessian_writer *w, const hmtp_packet *p);

/* Convenience for servers and clients: the Resin classes with their fields
 * in the order Caucho's JavaSerializer writes them (java.lang fields first,
 * then the others, each group in declaration order). */
/* BamError {_type, _group, _text, _data, _extra}; _data and _extra null */
hessian_value *hmtp_new_bam_error(hmtp_arena *a, const char *type, const char *group, const char *text);
/* AuthQuery {_uid, _resource, _credentials}; resource may be NULL */
hessian_value *hmtp_new_auth_query(hmtp_arena *a, const char *uid, const char *resource,
                                   hessian_value *credentials);
/* AuthResult {_jid} */
hessian_value *hmtp_new_auth_result(hmtp_arena *a, const char *jid);
/* GetPublicKeyQuery {_algorithm, _format, _encoded}; all null for the
 * client's question (pass NULLs), filled in the server's answer */
hessian_value *hmtp_new_public_key_query(hmtp_arena *a, const char *algorithm, const char *format,
                                         const uint8_t *encoded, size_t encoded_len);
/* EncryptedObject {_keyAlgorithm, _encKey, _encData} */
hessian_value *hmtp_new_encrypted_object(hmtp_arena *a, const char *key_algorithm, const uint8_t *enc_key,
                                         size_t enc_key_len, const uint8_t *enc_data, size_t enc_data_len);
/* Fills p->error from p->error_value (done by hmtp_packet_decode). */
void hmtp_packet_read_bam_error(hmtp_packet *p);

#endif
