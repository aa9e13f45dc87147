/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Shared registration ids of the HMTP plugin: protocol, field, subtree and
 * expert ids are filled in by hmtp_fields.c at registration time and read by
 * every other file of the plugin. */
#ifndef HMTP_PLUGIN_H
#define HMTP_PLUGIN_H

#include <epan/packet.h>
#include <epan/expert.h>

#include "hmtp_ws_compat.h"

extern int proto_hmtp;
extern int proto_hessian;

/* hmtp.* */
extern int hf_hmtp_packet, hf_hmtp_type, hf_hmtp_to, hf_hmtp_from, hf_hmtp_id;
extern int hf_hmtp_to_user, hf_hmtp_to_domain, hf_hmtp_to_resource;
extern int hf_hmtp_from_user, hf_hmtp_from_domain, hf_hmtp_from_resource;
extern int hf_hmtp_value, hf_hmtp_error, hf_hmtp_extra;
extern int hf_hmtp_class, hf_hmtp_error_type, hf_hmtp_error_group, hf_hmtp_error_text;
extern int hf_hmtp_wire_length, hf_hmtp_body_length, hf_hmtp_chunks;
extern int hf_hmtp_chunk, hf_hmtp_chunk_length, hf_hmtp_chunk_data, hf_hmtp_end;
extern int hf_hmtp_response_in, hf_hmtp_request_in, hf_hmtp_response_time;
extern int hf_hmtp_skipped, hf_hmtp_direction;
/* hmtp.replay.* (hmtp_replay_report.c) */
extern int hf_hmtp_replay_result, hf_hmtp_replay_diff, hf_hmtp_replay_report;
/* hmtp.auth.*, hmtp.pubkey.* (hmtp_auth.c) */
extern int hf_hmtp_auth, hf_hmtp_auth_uid, hf_hmtp_auth_resource, hf_hmtp_auth_password;
extern int hf_hmtp_auth_encrypted, hf_hmtp_auth_key_algorithm, hf_hmtp_auth_enc_key_length;
extern int hf_hmtp_auth_enc_data_length, hf_hmtp_auth_decrypted, hf_hmtp_auth_key_file;
extern int hf_hmtp_pubkey, hf_hmtp_pubkey_algorithm, hf_hmtp_pubkey_format;
extern int hf_hmtp_pubkey_length, hf_hmtp_pubkey_bits;

/* hessian.* */
extern int hf_hessian_string, hf_hessian_int, hf_hessian_long, hf_hessian_double;
extern int hf_hessian_bool, hf_hessian_binary, hf_hessian_date, hf_hessian_null;
extern int hf_hessian_list, hf_hessian_map, hf_hessian_object, hf_hessian_field_name;
extern int hf_hessian_ref, hf_hessian_class_def, hf_hessian_class_def_name;
extern int hf_hessian_class_def_field, hf_hessian_class_index, hf_hessian_type;
extern int hf_hessian_length, hf_hessian_count, hf_hessian_end;

extern gint ett_hmtp, ett_hmtp_packet, ett_hmtp_chunks, ett_hmtp_chunk, ett_hmtp_jid;
extern gint ett_hmtp_value, ett_hmtp_error, ett_hessian_value, ett_hessian_class_def;
extern gint ett_hmtp_auth, ett_hmtp_auth_decrypted;

extern expert_field ei_hmtp_malformed, ei_hmtp_unknown_type, ei_hmtp_class_not_seen;
extern expert_field ei_hmtp_error_packet, ei_hmtp_oversized, ei_hmtp_no_response;
extern expert_field ei_hmtp_no_request, ei_hmtp_resync;
extern expert_field ei_hmtp_auth_undecrypted, ei_hmtp_pubkey_invalid, ei_hmtp_tcp_trouble;
extern expert_field ei_hmtp_replay_differs, ei_hmtp_replay_report;

/* Preferences (defined and registered in packet-hmtp.c). */
extern guint hmtp_pref_max_packet;   /* body bytes; larger packets are flagged and not decoded */
extern hmtp_ws_bool hmtp_pref_desegment; /* reassemble packets spanning segments */

void hmtp_register_fields(void);

/* Handles other files hand the stream to. */
extern dissector_handle_t hmtp_tcp_handle;

#endif
