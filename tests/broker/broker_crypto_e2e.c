/* SPDX-License-Identifier: GPL-2.0-or-later */
/* End-to-end tests of the broker's encrypted login (PROTOCOL.md section 7):
 * the public key answer, logins with EncryptedObject credentials made by the
 * crypto module, --require-encrypted, --key/--write-key, and credentials
 * that are broken in every way a client can break them. Each case starts a
 * broker on an ephemeral loopback port.
 * Usage: broker_crypto_e2e BROKER_EXE CASE */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker_process.h"
#include "check.h"
#include "hmtp_crypto.h"
#include "wire_client.h"

#define TIMEOUT 5000
/* Distinctive, so that finding it in the broker's log means it leaked. */
#define PASSWORD "Pw-7f3kq!x"

static const char *broker_exe;

static const char *nz(const char *s)
{
    return s ? s : "(null)";
}

static bool is_class(const hessian_value *v, const char *cls)
{
    return v && v->kind == HESSIAN_OBJECT && v->v.object.cls && strcmp(v->v.object.cls, cls) == 0;
}

/* The whole broker log must not hold the password anywhere. */
static bool log_clean(broker_process *b)
{
    REQUIRE(broker_log_count(b, PASSWORD) == 0, "the password appears in the broker log");
    return true;
}

/* queryGet id to=null GetPublicKeyQuery{null...}: checks the answer's shape
 * (queryResult, same id, to the link = null before login, from null) and
 * appends its _encoded to spki. */
static bool fetch_key(wire_client *c, int64_t id, hmtp_buf *spki)
{
    hmtp_arena a;
    hmtp_arena_init(&a);
    hessian_value *q = hmtp_new_public_key_query(&a, NULL, NULL, NULL, 0);
    bool sent = q && wire_send(c, HMTP_QUERY_GET, NULL, NULL, id, q, NULL);
    hmtp_arena_free(&a);
    REQUIRE(sent, "sending the key query: %s", c->error);
    hmtp_packet p;
    REQUIRE(wire_recv(c, &p, TIMEOUT) == 1, "no answer to the key query: %s", c->error);
    const char *to_want = c->jid[0] ? c->jid : NULL;
    bool shape = p.type == HMTP_QUERY_RESULT && p.has_id && p.id == id && !p.from &&
                 ((!p.to && !to_want) || (p.to && to_want && strcmp(p.to, to_want) == 0));
    const hessian_value *alg = hessian_object_field(p.value, "_algorithm");
    const hessian_value *fmt = hessian_object_field(p.value, "_format");
    const hessian_value *enc = hessian_object_field(p.value, "_encoded");
    bool value = is_class(p.value, HMTP_GET_PUBLIC_KEY_QUERY_CLASS) &&
                 strcmp(nz(hessian_value_string(alg)), "RSA") == 0 &&
                 strcmp(nz(hessian_value_string(fmt)), "X.509") == 0 && enc &&
                 enc->kind == HESSIAN_BINARY && enc->v.bin.len > 100;
    bool ok = shape && value && hmtp_buf_append(spki, enc->v.bin.data, enc->v.bin.len);
    fprintf(ok ? stdout : stderr, "key answer: %s id=%lld to=%s from=%s\n", nz(hmtp_type_name(p.type)),
            (long long)p.id, nz(p.to), nz(p.from));
    hmtp_packet_free(&p);
    REQUIRE(shape, "the key answer is not a queryResult id=%lld to the link from null", (long long)id);
    REQUIRE(value, "the key answer is not GetPublicKeyQuery {RSA, X.509, SPKI bytes}");
    return true;
}

/* Key query (id), then AuthQuery (id + 1) with the password encrypted to
 * the broker's key, as Resin's late-January-2009 client does. */
static int login_encrypted(wire_client *c, const char *uid, const char *password, int64_t id,
                           char *group, size_t cap)
{
    hmtp_buf spki;
    hmtp_buf_init(&spki);
    int type = -1;
    if (fetch_key(c, id, &spki)) {
        hmtp_arena a;
        hmtp_arena_init(&a);
        hmtp_tool_error err = {0};
        hessian_value *cred = hmtp_credentials_encrypt(&a, spki.data, spki.len, password, &err);
        if (!cred)
            fprintf(stderr, "cannot encrypt: %s\n", err.msg);
        else
            type = wire_login_value(c, uid, NULL, cred, id + 1, group, cap);
        hmtp_arena_free(&a);
    }
    hmtp_buf_free(&spki);
    return type;
}


/* ---- cases ---- */

static bool case_encrypted_login(broker_process *b)
{
    wire_client c;
    char group[64] = "";
    REQUIRE(wire_connect(&c, b->port) && wire_upgrade(&c), "%s", c.error);
    /* the key is the same for every query of the process, and is a real
     * 1024-bit RSA SubjectPublicKeyInfo */
    hmtp_buf k1, k2;
    hmtp_buf_init(&k1);
    hmtp_buf_init(&k2);
    bool keys = fetch_key(&c, 1, &k1) && fetch_key(&c, 2, &k2) && k1.len == k2.len &&
                memcmp(k1.data, k2.data, k1.len) == 0;
    hmtp_tool_error err = {0};
    hmtp_rsa *pub = keys ? hmtp_rsa_from_spki(k1.data, k1.len, &err) : NULL;
    unsigned bits = pub ? hmtp_rsa_bits(pub) : 0;
    hmtp_rsa_free(pub);
    hmtp_buf_free(&k1);
    hmtp_buf_free(&k2);
    REQUIRE(keys, "two key queries on one link gave different keys");
    REQUIRE(bits == HMTP_RSA_DEFAULT_BITS, "the key is not a %u-bit RSA key: %u bits %s",
            HMTP_RSA_DEFAULT_BITS, bits, err.msg);
    wire_close(&c);
    /* Resin's numbering: key query id 1, login id 2 */
    REQUIRE(wire_connect(&c, b->port) && wire_upgrade(&c), "%s", c.error);
    int t = login_encrypted(&c, "ferg", PASSWORD, 1, group, sizeof group);
    REQUIRE(t == HMTP_QUERY_RESULT && strcmp(c.jid, "ferg@localhost/hmtp-2") == 0,
            "encrypted login: type %d group %s jid %s", t, group, c.jid);
    /* after login the key query is still answered, now to the link's JID */
    hmtp_buf k3;
    hmtp_buf_init(&k3);
    bool again = fetch_key(&c, 3, &k3);
    hmtp_buf_free(&k3);
    wire_close(&c);
    REQUIRE(again, "key query after login");
    REQUIRE(broker_log_has(b, "conn 2 logged in as ferg@localhost/hmtp-2", TIMEOUT), "no login line");
    /* a wrong password and an unknown user: auth/forbidden */
    REQUIRE(wire_connect(&c, b->port) && wire_upgrade(&c), "%s", c.error);
    t = login_encrypted(&c, "ferg", "not-the-password", 1, group, sizeof group);
    REQUIRE(t == HMTP_QUERY_ERROR && strcmp(group, "forbidden") == 0, "wrong password: %d %s", t, group);
    t = login_encrypted(&c, "nobody", PASSWORD, 3, group, sizeof group);
    REQUIRE(t == HMTP_QUERY_ERROR && strcmp(group, "forbidden") == 0, "unknown user: %d %s", t, group);
    /* and the right one on the same link */
    t = login_encrypted(&c, "ferg", PASSWORD, 5, group, sizeof group);
    wire_close(&c);
    REQUIRE(t == HMTP_QUERY_RESULT, "right password after wrong ones: %d %s", t, group);
    REQUIRE(broker_log_has(b, "conn 3 login refused for 'ferg': unknown user or wrong password", TIMEOUT),
            "no refusal line");
    /* plain logins still work without --require-encrypted */
    REQUIRE(wire_open(&c, b->port, "ferg", PASSWORD, "plain"), "plain login: %s", c.error);
    wire_close(&c);
    return log_clean(b);
}

static bool case_require_encrypted(broker_process *b)
{
    wire_client c;
    char group[64] = "";
    REQUIRE(wire_connect(&c, b->port) && wire_upgrade(&c), "%s", c.error);
    /* the right password, in the clear: refused as Resin does */
    hmtp_arena a;
    hmtp_arena_init(&a);
    hessian_value *q = hmtp_new_auth_query(&a, "ferg", NULL, hessian_new_string(&a, PASSWORD, strlen(PASSWORD)));
    bool sent = q && wire_send(&c, HMTP_QUERY_SET, NULL, NULL, 0, q, NULL);
    hmtp_arena_free(&a);
    REQUIRE(sent, "%s", c.error);
    hmtp_packet p;
    REQUIRE(wire_recv(&c, &p, TIMEOUT) == 1, "no answer to the plain login: %s", c.error);
    bool refused = p.type == HMTP_QUERY_ERROR && p.id == 0 && strcmp(nz(p.error.type), "auth") == 0 &&
                   strcmp(nz(p.error.group), "forbidden") == 0 &&
                   strcmp(nz(p.error.text), "passwords must be encrypted") == 0 &&
                   is_class(p.value, HMTP_AUTH_QUERY_CLASS);
    fprintf(stderr, "plain login answered %s %s/%s \"%s\"\n", nz(hmtp_type_name(p.type)), nz(p.error.type),
            nz(p.error.group), nz(p.error.text));
    hmtp_packet_free(&p);
    REQUIRE(refused, "a plain password was not refused with auth/forbidden \"passwords must be encrypted\"");
    /* no credentials at all is not encrypted either */
    int t = wire_login_value(&c, "ferg", NULL, NULL, 1, group, sizeof group);
    REQUIRE(t == HMTP_QUERY_ERROR && strcmp(group, "forbidden") == 0, "null credentials: %d %s", t, group);
    /* the encrypted login on the same link works */
    t = login_encrypted(&c, "ferg", PASSWORD, 2, group, sizeof group);
    wire_close(&c);
    REQUIRE(t == HMTP_QUERY_RESULT, "encrypted login refused: %d %s", t, group);
    REQUIRE(broker_log_has(b, "conn 1 login refused for 'ferg': passwords must be encrypted", TIMEOUT),
            "no refusal line");
    return log_clean(b);
}

/* ---- broken credentials ---- */

typedef enum breakage {
    WRONG_RSA_KEY,     /* the AES key wrapped with another RSA key */
    TRUNCATED_ENC_KEY, /* _encKey 10 bytes short */
    GARBAGE_ENC_DATA,  /* 32 random bytes */
    ODD_ENC_DATA,      /* 7 bytes: not whole AES blocks */
    BAD_PADDING,       /* one block whose last byte is no PKCS#5 padding */
    INT_PAYLOAD,       /* decrypts to a Hessian int, not a string */
    DES_ALGORITHM,     /* _keyAlgorithm "DES" */
    NULL_ENC_KEY,      /* _encKey null */
    BREAKAGES
} breakage;

static const char *const breakage_name[BREAKAGES] = {
    "wrong RSA key", "truncated _encKey", "garbage _encData", "odd-length _encData",
    "bad padding", "int payload", "DES algorithm", "null _encKey"};

/* The log's reason for each (a fragment of the crypto module's text); NULL
 * where it depends on how the RSA padding check fails. */
static const char *const breakage_reason[BREAKAGES] = {
    NULL, "wrapped key is", "bad padding", "not a positive multiple of 16",
    "bad padding", "not a single Hessian string", "unsupported key algorithm 'DES'", "_encKey is"};

/* Builds EncryptedObject credentials for the broker key spki, broken as
 * asked, from the crypto module's primitives. */
static hessian_value *broken_credentials(hmtp_arena *a, const hmtp_buf *spki, breakage how)
{
    hmtp_tool_error err = {0};
    /* a fixed AES key for the garbage, so that what it decrypts to is the
     * same on every run (a random key would give valid padding 1 time in
     * ~256) */
    uint8_t aes[16] = {0};
    if (how != GARBAGE_ENC_DATA)
        hmtp_random_bytes(aes, sizeof aes);
    hmtp_rsa *pub = hmtp_rsa_from_spki(spki->data, spki->len, &err);
    hmtp_rsa *other = how == WRONG_RSA_KEY ? hmtp_rsa_generate(HMTP_RSA_DEFAULT_BITS, &err) : NULL;
    hmtp_buf key, data;
    hmtp_buf_init(&key);
    hmtp_buf_init(&data);
    /* Hessian "S" compact string of the password, as Resin's client writes it */
    uint8_t plain[64];
    size_t plen = strlen(PASSWORD);
    plain[0] = (uint8_t)plen;
    memcpy(plain + 1, PASSWORD, plen);
    plen++;
    hessian_value *v = NULL;
    bool ok = pub && hmtp_rsa_wrap(other ? other : pub, aes, sizeof aes, &key, &err);
    if (ok) {
        switch (how) {
        case INT_PAYLOAD: {
            const uint8_t five[] = {0x95}; /* int 5 */
            ok = hmtp_aes_encrypt(aes, five, sizeof five, &data, &err);
            break;
        }
        case GARBAGE_ENC_DATA:
            ok = hmtp_buf_append(&data, "0123456789abcdef0123456789abcdef", 32);
            break;
        case ODD_ENC_DATA:
            ok = hmtp_buf_append(&data, "1234567", 7);
            break;
        case BAD_PADDING: {
            /* 16 bytes of 'A' encrypt to two blocks; the first alone decrypts
             * to a block ending in 0x41, which is no padding */
            uint8_t as[16];
            memset(as, 'A', sizeof as);
            ok = hmtp_aes_encrypt(aes, as, sizeof as, &data, &err);
            data.len = 16;
            break;
        }
        default:
            ok = hmtp_aes_encrypt(aes, plain, plen, &data, &err);
        }
    }
    if (ok && how == TRUNCATED_ENC_KEY)
        key.len -= 10;
    if (ok && how == NULL_ENC_KEY) {
        const char *fields[] = {"_keyAlgorithm", "_encKey", "_encData"};
        v = hessian_new_object(a, HMTP_ENCRYPTED_OBJECT_CLASS, 3, fields);
        if (v) {
            hessian_object_set(v, "_keyAlgorithm", hessian_new_string(a, "AES", 3));
            hessian_object_set(v, "_encKey", hessian_new_null(a));
            hessian_object_set(v, "_encData", hessian_new_binary(a, data.data, data.len));
        }
    } else if (ok) {
        v = hmtp_new_encrypted_object(a, how == DES_ALGORITHM ? "DES" : "AES", key.data, key.len,
                                      data.data, data.len);
    }
    if (!v)
        fprintf(stderr, "cannot build the %s credentials: %s\n", breakage_name[how], err.msg);
    hmtp_buf_free(&key);
    hmtp_buf_free(&data);
    hmtp_rsa_free(pub);
    hmtp_rsa_free(other);
    return v;
}

static bool one_breakage(broker_process *b, breakage how)
{
    wire_client c;
    char group[64] = "";
    REQUIRE(wire_connect(&c, b->port) && wire_upgrade(&c), "%s", c.error);
    hmtp_buf spki;
    hmtp_buf_init(&spki);
    bool got_key = fetch_key(&c, 1, &spki);
    hmtp_arena a;
    hmtp_arena_init(&a);
    hessian_value *cred = got_key ? broken_credentials(&a, &spki, how) : NULL;
    int t = cred ? wire_login_value(&c, "ferg", NULL, cred, 2, group, sizeof group) : -1;
    hmtp_arena_free(&a);
    hmtp_buf_free(&spki);
    wire_close(&c);
    REQUIRE(t == HMTP_QUERY_ERROR && strcmp(group, "forbidden") == 0, "%s: answer %d %s",
            breakage_name[how], t, group);
    char line[96];
    snprintf(line, sizeof line, "conn %u login refused for 'ferg': bad encrypted credentials: ",
             (unsigned)how + 2);
    REQUIRE(broker_log_has(b, line, TIMEOUT), "%s: no log line '%s'", breakage_name[how], line);
    REQUIRE(broker_log_count(b, line) == 1, "%s: more than one refusal line", breakage_name[how]);
    if (breakage_reason[how]) {
        REQUIRE(broker_log_count(b, breakage_reason[how]) >= 1, "%s: the log does not say '%s'",
                breakage_name[how], breakage_reason[how]);
    }
    printf("%s: refused auth/forbidden, logged\n", breakage_name[how]);
    return true;
}

static bool case_bad_credentials(broker_process *b)
{
    /* a client logged in before the bad ones must be served after them */
    wire_client first;
    char group[64] = "";
    REQUIRE(wire_connect(&first, b->port) && wire_upgrade(&first), "%s", first.error);
    int t = login_encrypted(&first, "ferg", PASSWORD, 1, group, sizeof group);
    REQUIRE(t == HMTP_QUERY_RESULT, "first login: %d %s", t, group);
    for (int how = 0; how < BREAKAGES; how++)
        if (!one_breakage(b, (breakage)how))
            return false;
    hmtp_buf spki;
    hmtp_buf_init(&spki);
    bool served = fetch_key(&first, 3, &spki);
    hmtp_buf_free(&spki);
    wire_close(&first);
    REQUIRE(served, "the first client is no longer served");
    wire_client next;
    REQUIRE(wire_connect(&next, b->port) && wire_upgrade(&next), "%s", next.error);
    t = login_encrypted(&next, "ferg", PASSWORD, 1, group, sizeof group);
    wire_close(&next);
    REQUIRE(t == HMTP_QUERY_RESULT, "a new client after the bad ones: %d %s", t, group);
    return log_clean(b);
}

/* ---- key files ---- */

/* The broker's key answer bytes (the whole raw stream of one key query). */
static bool key_session(broker_process *b, hmtp_buf *raw, hmtp_buf *spki)
{
    wire_client c;
    REQUIRE(wire_connect(&c, b->port) && wire_upgrade(&c), "%s", c.error);
    bool ok = fetch_key(&c, 1, spki) && hmtp_buf_append(raw, c.raw.data, c.raw.len);
    wire_close(&c);
    return ok;
}

/* Its own brokers: one per key option. */
static bool case_key_files(broker_process *unused)
{
    (void)unused;
    char dir[] = "/tmp/hmtp-broker-keys-XXXXXX";
    REQUIRE(mkdtemp(dir), "mkdtemp");
    char given[300], written[300], bad[300];
    snprintf(given, sizeof given, "%s/given.pem", dir);
    snprintf(written, sizeof written, "%s/written.pem", dir);
    snprintf(bad, sizeof bad, "%s/bad.pem", dir);
    hmtp_tool_error err = {0};
    hmtp_rsa *k = hmtp_rsa_generate(HMTP_RSA_DEFAULT_BITS, &err);
    bool ok = k && hmtp_rsa_save_private_pem(k, given, &err);
    hmtp_buf want;
    hmtp_buf_init(&want);
    ok = ok && hmtp_rsa_spki(k, &want);
    hmtp_rsa_free(k);
    FILE *f = fopen(bad, "w");
    if (f) {
        fputs("-----BEGIN PRIVATE KEY-----\nnot base64 at all\n-----END PRIVATE KEY-----\n", f);
        fclose(f);
    }
    hmtp_buf raw[2], spki[2];
    for (int i = 0; i < 2; i++) {
        hmtp_buf_init(&raw[i]);
        hmtp_buf_init(&spki[i]);
    }
    /* --key: the broker answers with that key, and two runs send the same bytes */
    const char *with_key[] = {"--allow-any-user", "--key", given, NULL};
    for (int run = 0; ok && run < 2; run++) {
        broker_process b;
        ok = broker_start(&b, broker_exe, with_key) && key_session(&b, &raw[run], &spki[run]);
        if (!ok)
            fprintf(stderr, "--key run %d: %s\n", run, b.error);
        ok = broker_stop(&b) == 0 && ok;
    }
    bool same_key = ok && spki[0].len == want.len && memcmp(spki[0].data, want.data, want.len) == 0;
    bool same_bytes = ok && raw[0].len == raw[1].len && memcmp(raw[0].data, raw[1].data, raw[0].len) == 0;
    /* --write-key: the file holds the private half of the key handed out */
    hmtp_buf wraw, wspki, fspki;
    hmtp_buf_init(&wraw);
    hmtp_buf_init(&wspki);
    hmtp_buf_init(&fspki);
    const char *write_key[] = {"--allow-any-user", "--write-key", written, NULL};
    broker_process b;
    bool wrote = ok && broker_start(&b, broker_exe, write_key) && key_session(&b, &wraw, &wspki);
    if (ok)
        wrote = broker_stop(&b) == 0 && wrote;
    hmtp_rsa *w = wrote ? hmtp_rsa_load_private_pem(written, &err) : NULL;
    bool matches = w && hmtp_rsa_spki(w, &fspki) && fspki.len == wspki.len &&
                   memcmp(fspki.data, wspki.data, wspki.len) == 0;
    hmtp_rsa_free(w);
    /* a bad --key file: the broker says which file and why, and does not start */
    const char *bad_key[] = {"--allow-any-user", "--key", bad, NULL};
    bool refused = false;
    if (broker_start(&b, broker_exe, bad_key)) {
        fprintf(stderr, "the broker started with a bad --key file\n");
    } else {
        char needle[400];
        snprintf(needle, sizeof needle, "hmtp-broker: --key '%s': ", bad);
        refused = broker_log_has(&b, needle, 0);
    }
    broker_stop(&b);
    for (int i = 0; i < 2; i++) {
        hmtp_buf_free(&raw[i]);
        hmtp_buf_free(&spki[i]);
    }
    hmtp_buf_free(&want);
    hmtp_buf_free(&wraw);
    hmtp_buf_free(&wspki);
    hmtp_buf_free(&fspki);
    unlink(given);
    unlink(written);
    unlink(bad);
    rmdir(dir);
    REQUIRE(ok, "runs with --key failed: %s", err.msg);
    REQUIRE(same_key, "the key answer does not hold the --key file's public key");
    REQUIRE(same_bytes, "two runs with the same --key sent different bytes");
    REQUIRE(wrote, "the run with --write-key failed");
    REQUIRE(matches, "the --write-key file does not hold the key the broker handed out: %s", err.msg);
    REQUIRE(refused, "no message naming the bad --key file");
    return true;
}

static const char *const users[] = {"--user", "ferg:" PASSWORD, NULL};
static const char *const users_required[] = {"--user", "ferg:" PASSWORD, "--require-encrypted", "-v",
                                             NULL};
/* a dozen refusals of one uid are this case's subject, not guessing: no
 * growing delay (login_guessing tests that) */
static const char *const users_verbose[] = {"--user", "ferg:" PASSWORD, "-v", "--login-delay", "0", NULL};

static const broker_case cases[] = {
    {"encrypted_login", users, case_encrypted_login},
    {"require_encrypted", users_required, case_require_encrypted},
    {"bad_credentials", users_verbose, case_bad_credentials},
    {"key_files", NULL, case_key_files},
};

int main(int argc, char **argv)
{
    return check_status(broker_cases_main(argc, argv, cases, sizeof cases / sizeof cases[0], &broker_exe, NULL));
}
