/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Every display-filter field, subtree and expert id of the plugin, registered
 * in one place so the field list in the README can be checked against it. */
#include <epan/packet.h>
#include <epan/expert.h>

#include "hmtp.h"
#include "hmtp_plugin.h"

int proto_hmtp = -1;
int proto_hessian = -1;

int hf_hmtp_packet = -1, hf_hmtp_type = -1, hf_hmtp_to = -1, hf_hmtp_from = -1, hf_hmtp_id = -1;
int hf_hmtp_to_user = -1, hf_hmtp_to_domain = -1, hf_hmtp_to_resource = -1;
int hf_hmtp_from_user = -1, hf_hmtp_from_domain = -1, hf_hmtp_from_resource = -1;
int hf_hmtp_value = -1, hf_hmtp_error = -1, hf_hmtp_extra = -1;
int hf_hmtp_class = -1, hf_hmtp_error_type = -1, hf_hmtp_error_group = -1, hf_hmtp_error_text = -1;
int hf_hmtp_wire_length = -1, hf_hmtp_body_length = -1, hf_hmtp_chunks = -1;
int hf_hmtp_chunk = -1, hf_hmtp_chunk_length = -1, hf_hmtp_chunk_data = -1, hf_hmtp_end = -1;
int hf_hmtp_response_in = -1, hf_hmtp_request_in = -1, hf_hmtp_response_time = -1;
int hf_hmtp_skipped = -1, hf_hmtp_direction = -1;
int hf_hmtp_replay_result = -1, hf_hmtp_replay_diff = -1, hf_hmtp_replay_report = -1;
int hf_hmtp_auth = -1, hf_hmtp_auth_uid = -1, hf_hmtp_auth_resource = -1, hf_hmtp_auth_password = -1;
int hf_hmtp_auth_encrypted = -1, hf_hmtp_auth_key_algorithm = -1, hf_hmtp_auth_enc_key_length = -1;
int hf_hmtp_auth_enc_data_length = -1, hf_hmtp_auth_decrypted = -1, hf_hmtp_auth_key_file = -1;
int hf_hmtp_pubkey = -1, hf_hmtp_pubkey_algorithm = -1, hf_hmtp_pubkey_format = -1;
int hf_hmtp_pubkey_length = -1, hf_hmtp_pubkey_bits = -1;

int hf_hessian_string = -1, hf_hessian_int = -1, hf_hessian_long = -1, hf_hessian_double = -1;
int hf_hessian_bool = -1, hf_hessian_binary = -1, hf_hessian_date = -1, hf_hessian_null = -1;
int hf_hessian_list = -1, hf_hessian_map = -1, hf_hessian_object = -1, hf_hessian_field_name = -1;
int hf_hessian_ref = -1, hf_hessian_class_def = -1, hf_hessian_class_def_name = -1;
int hf_hessian_class_def_field = -1, hf_hessian_class_index = -1, hf_hessian_type = -1;
int hf_hessian_length = -1, hf_hessian_count = -1, hf_hessian_end = -1;

gint ett_hmtp = -1, ett_hmtp_packet = -1, ett_hmtp_chunks = -1, ett_hmtp_chunk = -1, ett_hmtp_jid = -1;
gint ett_hmtp_value = -1, ett_hmtp_error = -1, ett_hessian_value = -1, ett_hessian_class_def = -1;
gint ett_hmtp_auth = -1, ett_hmtp_auth_decrypted = -1;

expert_field ei_hmtp_malformed = EI_INIT, ei_hmtp_unknown_type = EI_INIT, ei_hmtp_class_not_seen = EI_INIT;
expert_field ei_hmtp_error_packet = EI_INIT, ei_hmtp_oversized = EI_INIT, ei_hmtp_no_response = EI_INIT;
expert_field ei_hmtp_no_request = EI_INIT, ei_hmtp_resync = EI_INIT;
expert_field ei_hmtp_auth_undecrypted = EI_INIT, ei_hmtp_pubkey_invalid = EI_INIT, ei_hmtp_tcp_trouble = EI_INIT;
expert_field ei_hmtp_replay_differs = EI_INIT, ei_hmtp_replay_report = EI_INIT;

/* Filled from the core's table at registration: the packet type names are
 * the core's knowledge, not restated here. */
static value_string hmtp_type_names[HMTP_TYPE_COUNT + 1];

static const value_string hmtp_direction_names[] = {
    {0, "client to server"},
    {1, "server to client"},
    {0, NULL},
};

#define HF(id, name, abbrev, type, display, strings, blurb) \
    { &id, { name, abbrev, type, display, strings, 0x0, blurb, HFILL } }

static hf_register_info hmtp_hf[] = {
    HF(hf_hmtp_packet, "HMTP packet", "hmtp.packet", FT_NONE, BASE_NONE, NULL, "One HMTP packet"),
    HF(hf_hmtp_type, "Type", "hmtp.type", FT_INT32, BASE_DEC, VALS(hmtp_type_names), "Packet type"),
    HF(hf_hmtp_to, "To", "hmtp.to", FT_STRING, BASE_NONE, NULL, "Recipient JID"),
    HF(hf_hmtp_to_user, "User", "hmtp.to.user", FT_STRING, BASE_NONE, NULL, NULL),
    HF(hf_hmtp_to_domain, "Domain", "hmtp.to.domain", FT_STRING, BASE_NONE, NULL, NULL),
    HF(hf_hmtp_to_resource, "Resource", "hmtp.to.resource", FT_STRING, BASE_NONE, NULL, NULL),
    HF(hf_hmtp_from, "From", "hmtp.from", FT_STRING, BASE_NONE, NULL, "Sender JID"),
    HF(hf_hmtp_from_user, "User", "hmtp.from.user", FT_STRING, BASE_NONE, NULL, NULL),
    HF(hf_hmtp_from_domain, "Domain", "hmtp.from.domain", FT_STRING, BASE_NONE, NULL, NULL),
    HF(hf_hmtp_from_resource, "Resource", "hmtp.from.resource", FT_STRING, BASE_NONE, NULL, NULL),
    HF(hf_hmtp_id, "Id", "hmtp.id", FT_INT64, BASE_DEC, NULL, "Query id"),
    HF(hf_hmtp_value, "Value", "hmtp.value", FT_NONE, BASE_NONE, NULL, "Packet payload"),
    HF(hf_hmtp_error, "Error", "hmtp.error", FT_NONE, BASE_NONE, NULL, "Error value (BamError)"),
    HF(hf_hmtp_extra, "Extra value", "hmtp.extra", FT_NONE, BASE_NONE, NULL,
       "Top-level value beyond the packet's grammar"),
    HF(hf_hmtp_class, "Class", "hmtp.class", FT_STRING, BASE_NONE, NULL,
       "Class name of an object in the packet"),
    HF(hf_hmtp_error_type, "Error type", "hmtp.error.type", FT_STRING, BASE_NONE, NULL,
       "BamError _type (auth, cancel, continue, modify, wait)"),
    HF(hf_hmtp_error_group, "Error group", "hmtp.error.group", FT_STRING, BASE_NONE, NULL,
       "BamError _group (stanza error condition)"),
    HF(hf_hmtp_error_text, "Error text", "hmtp.error.text", FT_STRING, BASE_NONE, NULL, "BamError _text"),
    HF(hf_hmtp_wire_length, "Wire length", "hmtp.length", FT_UINT32, BASE_DEC, NULL,
       "Bytes of the packet on the wire, chunk headers and end marker included"),
    HF(hf_hmtp_body_length, "Body length", "hmtp.body_length", FT_UINT32, BASE_DEC, NULL,
       "Bytes of the de-chunked body"),
    HF(hf_hmtp_chunks, "Chunks", "hmtp.chunks", FT_UINT32, BASE_DEC, NULL, "Number of data chunks"),
    HF(hf_hmtp_chunk, "Chunk", "hmtp.chunk", FT_NONE, BASE_NONE, NULL, NULL),
    HF(hf_hmtp_chunk_length, "Chunk length", "hmtp.chunk.length", FT_UINT32, BASE_DEC, NULL, NULL),
    HF(hf_hmtp_chunk_data, "Chunk data", "hmtp.chunk.data", FT_BYTES, BASE_NONE, NULL, NULL),
    HF(hf_hmtp_end, "End of packet", "hmtp.end", FT_NONE, BASE_NONE, NULL, "The empty chunk that ends a packet"),
    { &hf_hmtp_response_in, { "Response in", "hmtp.response_in", FT_FRAMENUM, BASE_NONE,
        FRAMENUM_TYPE(FT_FRAMENUM_RESPONSE), 0x0, "The answer to this request is in this frame", HFILL } },
    { &hf_hmtp_request_in, { "Request in", "hmtp.request_in", FT_FRAMENUM, BASE_NONE,
        FRAMENUM_TYPE(FT_FRAMENUM_REQUEST), 0x0, "The request this packet answers is in this frame", HFILL } },
    HF(hf_hmtp_response_time, "Response time", "hmtp.time", FT_RELATIVE_TIME, BASE_NONE, NULL,
       "Time between the request and this answer"),
    HF(hf_hmtp_skipped, "Skipped bytes", "hmtp.skipped", FT_BYTES, BASE_NONE, NULL,
       "Bytes before the first recognisable packet boundary (capture started mid-packet)"),
    HF(hf_hmtp_direction, "Direction", "hmtp.direction", FT_UINT8, BASE_DEC, VALS(hmtp_direction_names), NULL),
    /* from the replay report named by the hmtp.replay_report preference */
    HF(hf_hmtp_replay_result, "Replay result", "hmtp.replay.result", FT_STRING, BASE_NONE, NULL,
       "What hmtp-replay found for this recorded reply: matched, different, missing or reordered"),
    HF(hf_hmtp_replay_diff, "Replay difference", "hmtp.replay.diff", FT_STRING, BASE_NONE, NULL,
       "One difference between this recorded reply and the target's reply"),
    HF(hf_hmtp_replay_report, "Replay report problem", "hmtp.replay.report", FT_STRING, BASE_NONE, NULL,
       "Why the replay report named by the preference is not used"),
    HF(hf_hmtp_auth, "Login", "hmtp.auth", FT_NONE, BASE_NONE, NULL, "AuthQuery: the login of a client"),
    HF(hf_hmtp_auth_uid, "User id", "hmtp.auth.uid", FT_STRING, BASE_NONE, NULL, "AuthQuery._uid"),
    HF(hf_hmtp_auth_resource, "Resource", "hmtp.auth.resource", FT_STRING, BASE_NONE, NULL,
       "AuthQuery._resource"),
    HF(hf_hmtp_auth_password, "Password", "hmtp.auth.password", FT_STRING, BASE_NONE, NULL,
       "The password: AuthQuery._credentials as sent, or decrypted from an EncryptedObject"),
    HF(hf_hmtp_auth_encrypted, "Encrypted credentials", "hmtp.auth.encrypted", FT_BOOLEAN, BASE_NONE, NULL,
       "Whether _credentials is an EncryptedObject"),
    HF(hf_hmtp_auth_key_algorithm, "Key algorithm", "hmtp.auth.key_algorithm", FT_STRING, BASE_NONE, NULL,
       "EncryptedObject._keyAlgorithm (the symmetric cipher: AES)"),
    HF(hf_hmtp_auth_enc_key_length, "Wrapped key length", "hmtp.auth.enc_key_length", FT_UINT32, BASE_DEC, NULL,
       "Bytes of EncryptedObject._encKey (as long as the RSA modulus)"),
    HF(hf_hmtp_auth_enc_data_length, "Encrypted data length", "hmtp.auth.enc_data_length", FT_UINT32, BASE_DEC,
       NULL, "Bytes of EncryptedObject._encData"),
    HF(hf_hmtp_auth_decrypted, "Decrypted credentials", "hmtp.auth.decrypted", FT_NONE, BASE_NONE, NULL,
       "The EncryptedObject's plaintext, decrypted with a key of the RSA keys list"),
    HF(hf_hmtp_auth_key_file, "Key file", "hmtp.auth.key_file", FT_STRING, BASE_NONE, NULL,
       "The RSA keys list entry that decrypted the credentials"),
    HF(hf_hmtp_pubkey, "Public key", "hmtp.pubkey", FT_NONE, BASE_NONE, NULL, "GetPublicKeyQuery"),
    HF(hf_hmtp_pubkey_algorithm, "Algorithm", "hmtp.pubkey.algorithm", FT_STRING, BASE_NONE, NULL,
       "GetPublicKeyQuery._algorithm"),
    HF(hf_hmtp_pubkey_format, "Format", "hmtp.pubkey.format", FT_STRING, BASE_NONE, NULL,
       "GetPublicKeyQuery._format"),
    HF(hf_hmtp_pubkey_length, "Encoded length", "hmtp.pubkey.length", FT_UINT32, BASE_DEC, NULL,
       "Bytes of GetPublicKeyQuery._encoded (X.509 SubjectPublicKeyInfo DER)"),
    HF(hf_hmtp_pubkey_bits, "Key size (bits)", "hmtp.pubkey.bits", FT_UINT32, BASE_DEC, NULL,
       "RSA modulus size of the server's key"),
};

static hf_register_info hessian_hf[] = {
    HF(hf_hessian_string, "String", "hessian.string", FT_STRING, BASE_NONE, NULL, NULL),
    HF(hf_hessian_int, "Int", "hessian.int", FT_INT32, BASE_DEC, NULL, NULL),
    HF(hf_hessian_long, "Long", "hessian.long", FT_INT64, BASE_DEC, NULL, NULL),
    HF(hf_hessian_double, "Double", "hessian.double", FT_DOUBLE, BASE_NONE, NULL, NULL),
    HF(hf_hessian_bool, "Boolean", "hessian.bool", FT_BOOLEAN, BASE_NONE, NULL, NULL),
    HF(hf_hessian_binary, "Binary", "hessian.binary", FT_BYTES, BASE_NONE, NULL, NULL),
    HF(hf_hessian_date, "Date", "hessian.date", FT_ABSOLUTE_TIME, ABSOLUTE_TIME_UTC, NULL, NULL),
    HF(hf_hessian_null, "Null", "hessian.null", FT_NONE, BASE_NONE, NULL, NULL),
    HF(hf_hessian_list, "List", "hessian.list", FT_NONE, BASE_NONE, NULL, NULL),
    HF(hf_hessian_map, "Map", "hessian.map", FT_NONE, BASE_NONE, NULL, NULL),
    HF(hf_hessian_object, "Object", "hessian.object", FT_NONE, BASE_NONE, NULL, NULL),
    HF(hf_hessian_field_name, "Field name", "hessian.field_name", FT_STRING, BASE_NONE, NULL, NULL),
    HF(hf_hessian_ref, "Reference", "hessian.ref", FT_UINT32, BASE_DEC, NULL,
       "Reference to the n-th list, map or object of this packet"),
    HF(hf_hessian_class_def, "Class definition", "hessian.class_def", FT_NONE, BASE_NONE, NULL, NULL),
    HF(hf_hessian_class_def_name, "Class name", "hessian.class_def.name", FT_STRING, BASE_NONE, NULL, NULL),
    HF(hf_hessian_class_def_field, "Field", "hessian.class_def.field", FT_STRING, BASE_NONE, NULL, NULL),
    HF(hf_hessian_class_index, "Class index", "hessian.class_index", FT_INT32, BASE_DEC, NULL, NULL),
    HF(hf_hessian_type, "Type name", "hessian.type", FT_STRING, BASE_NONE, NULL, "Type of a list or map"),
    HF(hf_hessian_length, "Length", "hessian.length", FT_UINT32, BASE_DEC, NULL,
       "String length in UTF-16 code units, or binary length in bytes"),
    HF(hf_hessian_count, "Count", "hessian.count", FT_UINT32, BASE_DEC, NULL,
       "Elements of a list, entries of a map or fields of an object"),
    HF(hf_hessian_end, "End", "hessian.end", FT_NONE, BASE_NONE, NULL, "End of a list or map"),
};

static gint *ett[] = {
    &ett_hmtp, &ett_hmtp_packet, &ett_hmtp_chunks, &ett_hmtp_chunk, &ett_hmtp_jid,
    &ett_hmtp_value, &ett_hmtp_error, &ett_hessian_value, &ett_hessian_class_def,
    &ett_hmtp_auth, &ett_hmtp_auth_decrypted,
};

static ei_register_info hmtp_ei[] = {
    { &ei_hmtp_malformed, { "hmtp.malformed", PI_MALFORMED, PI_ERROR,
        "Malformed HMTP packet", EXPFILL } },
    { &ei_hmtp_unknown_type, { "hmtp.unknown_type", PI_PROTOCOL, PI_WARN,
        "Unknown HMTP packet type", EXPFILL } },
    { &ei_hmtp_class_not_seen, { "hmtp.class_not_seen", PI_UNDECODED, PI_NOTE,
        "Class definition not captured", EXPFILL } },
    { &ei_hmtp_error_packet, { "hmtp.error_packet", PI_RESPONSE_CODE, PI_NOTE,
        "HMTP error packet", EXPFILL } },
    { &ei_hmtp_oversized, { "hmtp.oversized", PI_MALFORMED, PI_ERROR,
        "HMTP packet larger than the configured maximum", EXPFILL } },
    { &ei_hmtp_no_response, { "hmtp.no_response", PI_SEQUENCE, PI_WARN,
        "Request never answered in this capture", EXPFILL } },
    { &ei_hmtp_no_request, { "hmtp.no_request", PI_SEQUENCE, PI_WARN,
        "Answer with no matching request in this capture", EXPFILL } },
    { &ei_hmtp_resync, { "hmtp.resync", PI_SEQUENCE, PI_NOTE,
        "Capture started inside a packet: bytes skipped to the next packet boundary", EXPFILL } },
    { &ei_hmtp_auth_undecrypted, { "hmtp.auth.undecrypted", PI_DECRYPTION, PI_WARN,
        "Login credentials could not be decrypted", EXPFILL } },
    /* The packet decoded; only the key inside it is unusable. */
    { &ei_hmtp_pubkey_invalid, { "hmtp.pubkey.invalid", PI_PROTOCOL, PI_WARN,
        "Server public key is not a valid RSA SubjectPublicKeyInfo", EXPFILL } },
    { &ei_hmtp_tcp_trouble, { "hmtp.tcp_trouble", PI_REASSEMBLE, PI_WARN,
        "HMTP stream broken after TCP retransmissions or out-of-order segments", EXPFILL } },
    { &ei_hmtp_replay_differs, { "hmtp.replay.differs", PI_SEQUENCE, PI_WARN,
        "Replay: the target's reply differs from this recorded reply", EXPFILL } },
    { &ei_hmtp_replay_report, { "hmtp.replay.report_unusable", PI_UNDECODED, PI_WARN,
        "Replay report not used", EXPFILL } },
};

void hmtp_register_fields(void)
{
    for (int32_t t = 0; t < HMTP_TYPE_COUNT; t++)
        hmtp_type_names[t] = (value_string){(guint32)t, hmtp_type_name(t)};
    hmtp_type_names[HMTP_TYPE_COUNT] = (value_string){0, NULL};
    proto_hmtp = proto_register_protocol("Hessian Message Transport Protocol", "HMTP", "hmtp");
    proto_hessian = proto_register_protocol("Hessian 2.0 serialization", "Hessian", "hessian");
    proto_register_field_array(proto_hmtp, hmtp_hf, array_length(hmtp_hf));
    proto_register_field_array(proto_hessian, hessian_hf, array_length(hessian_hf));
    proto_register_subtree_array(ett, array_length(ett));
    expert_module_t *expert = expert_register_protocol(proto_hmtp);
    expert_register_field_array(expert, hmtp_ei, array_length(hmtp_ei));
}
