#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Interop of the encrypted login's crypto with the openssl command line, an
# implementation independent of ours: vectors openssl makes, we must open;
# what we make, openssl must open. Also the failure cases.
set -euo pipefail
tool=$(readlink -f "$1")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
fail() { echo "FAIL: $*" >&2; exit 1; }

openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -out server.pem 2>/dev/null
openssl pkey -in server.pem -pubout -outform DER -out server.spki 2>/dev/null
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -out other.pem 2>/dev/null

# openssl -> us: a known AES key wrapped with PKCS#1 v1.5, the Hessian string
# "secret" (06 73 65 63 72 65 74) under AES-128-ECB with PKCS#5 padding.
aes=000102030405060708090a0b0c0d0e0f
printf '%s' "$aes" | xxd -r -p > aes.key
openssl pkeyutl -encrypt -pubin -inkey server.spki -keyform DER -pkeyopt rsa_padding_mode:pkcs1 \
  -in aes.key -out enc.key
printf '\x06secret' | openssl enc -aes-128-ecb -K "$aes" -out enc.data
[ "$(stat -c %s enc.data)" = 16 ] || fail "openssl AES output should be one block"
got=$("$tool" decrypt server.pem enc.key enc.data)
[ "$got" = secret ] || fail "decrypting openssl's vector gave '$got'"

# A non-ASCII password, two AES blocks.
pw='pässwörd-日本-🔑'
python3 -c 'import sys; s=sys.argv[1]; u=s.encode("utf-16-be"); units=len(u)//2
b=b"".join((c.encode("utf-8") if ord(c)<0x10000 else
  b"".join(chr(int.from_bytes(u2,"big")).encode("utf-8","surrogatepass") for u2 in [c.encode("utf-16-be")[0:2], c.encode("utf-16-be")[2:4]])) for c in s)
sys.stdout.buffer.write(bytes([units]) + b)' "$pw" > pw.hessian
openssl enc -aes-128-ecb -K "$aes" -in pw.hessian -out enc2.data
got=$("$tool" decrypt server.pem enc.key enc2.data)
[ "$got" = "$pw" ] || fail "decrypting the non-ASCII vector gave '$got'"

# us -> openssl: unwrap our key and decrypt our data with openssl.
"$tool" encrypt server.spki 'hunter2' ours
[ "$(stat -c %s ours.key)" = 128 ] || fail "wrapped key must be as long as the 1024-bit modulus"
openssl pkeyutl -decrypt -inkey server.pem -pkeyopt rsa_padding_mode:pkcs1 -in ours.key -out ours.aes
[ "$(stat -c %s ours.aes)" = 16 ] || fail "our wrapped AES key is not 16 bytes"
key_hex=$(xxd -p ours.aes | tr -d '\n')
plain=$(openssl enc -d -aes-128-ecb -K "$key_hex" -in ours.data | xxd -p | tr -d '\n')
[ "$plain" = "0768756e74657232" ] || fail "openssl decrypted our data to $plain, want 07 'hunter2'"

# Failures name the reason and never print the password.
if out=$("$tool" decrypt other.pem enc.key enc.data 2>&1); then fail "wrong key accepted"; fi
grep -q 'RSA PKCS#1 v1.5 decryption failed' <<<"$out" || fail "wrong key: unexpected message: $out"
head -c 100 enc.key > short.key
if out=$("$tool" decrypt server.pem short.key enc.data 2>&1); then fail "truncated key accepted"; fi
grep -q 'wrapped key is 100 bytes' <<<"$out" || fail "truncated key: unexpected message: $out"
head -c 15 enc.data > short.data
if out=$("$tool" decrypt server.pem enc.key short.data 2>&1); then fail "truncated data accepted"; fi
grep -q 'not a positive multiple of 16' <<<"$out" || fail "truncated data: unexpected message: $out"
openssl enc -aes-128-ecb -K 0f0e0d0c0b0a09080706050403020100 -in pw.hessian -out wrongaes.data
if out=$("$tool" decrypt server.pem enc.key wrongaes.data 2>&1); then fail "data under another AES key accepted"; fi
grep -q -e 'bad padding' -e 'not a single Hessian string' <<<"$out" || fail "wrong AES key: unexpected message: $out"
printf '\x91' | openssl enc -aes-128-ecb -K "$aes" -out notstring.data
if out=$("$tool" decrypt server.pem enc.key notstring.data 2>&1); then fail "an int accepted as password"; fi
grep -q 'not a single Hessian string' <<<"$out" || fail "non-string: unexpected message: $out"
! grep -q secret <<<"$out" || fail "a message contains the password"
echo "crypto interop: all checks passed"
