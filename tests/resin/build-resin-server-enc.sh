#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Builds Resin's own HMTP server side at the 2009-01-23 revision, the one
# with the encrypted login (ServerLinkManager: GetPublicKeyQuery, an RSA key
# pair per server, EncryptedObject), the same way resin-server.sh builds the
# 2009-01-18 one: Caucho's files unchanged, extracted from the Resin source
# mirror into OUT (never into a git work tree, never into this repository),
# plus stubs of ours for the servlet container.
#
#   build-resin-server-enc.sh [MIRROR_GIT_DIR [RESIN_SERVER_DIR [OUT]]]
#     MIRROR_GIT_DIR    github:mdaniel/svn-caucho-com-resin (the path fetch returns)
#     RESIN_SERVER_DIR  the output of resin-server.sh (default /tmp/resin-server):
#                       its 11 stubs and its ResinHmtpServer.java are reused
#     OUT               default /tmp/resin-server-enc; writes OUT/resin-hmtp-server
#
# Revision: 0f392d7 "build issues" (2009-01-23), the commit right after
# c29c0eb "hmtp queue perf" (the revision of caucho-client.sh --encrypted),
# which does not compile as committed: HempConnectionAgentStream tests the
# void HempConnectionImpl.onQueryResult/onQueryError as booleans and
# HempBroker passes a BamStream where MemoryQueueServiceFilter wants a
# BamBroker. 0f392d7 fixes exactly those two files; the login code is the
# same. Against the 2009-01-18 set it needs two more stubs: HempBroker now
# imports com.caucho.security.* and WebBeansContainer for an authenticator
# that its login() never reaches (it returns before the check), and the real
# AdminAuthenticator and WebBeansContainer pull in the whole servlet
# container (2,400 files). With them javac parses 142 files.
#
# Known limit: at this revision the broker queues packets between links
# (MemoryQueueServiceFilter, "non-lock queuing") for a thread pool the
# standalone main does not run, so a query or message to another JID gets no
# answer; the login, which the link service answers itself, works.
set -euo pipefail
COMMIT=0f392d7dd10686ed9014d9bcd8085a7630190406
die() { echo "build-resin-server-enc.sh: $*" >&2; exit 1; }
G=${1:-$(find / -maxdepth 4 -type d -name '*svn-caucho-com-resin*' 2>/dev/null | head -1)/repo}
BASE=${2:-/tmp/resin-server}
OUT=${3:-/tmp/resin-server-enc}
command -v javac >/dev/null || die "javac not found (apt-get install default-jdk-headless)"
git --git-dir="$G" cat-file -e "$COMMIT^{commit}" 2>/dev/null || die "$G does not hold $COMMIT"
[ -d "$BASE/stubs" ] && [ -f "$BASE/ResinHmtpServer.java" ] || die "$BASE: run resin-server.sh first"
if env -u GIT_DIR -u GIT_WORK_TREE git -C "$(dirname "$OUT")" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  die "$OUT is inside a git work tree"
fi
rm -rf "$OUT" && mkdir -p "$OUT/tree" "$OUT/classes" "$OUT/main"
git --git-dir="$G" archive "$COMMIT" modules | tar -x -C "$OUT/tree"
cp -r "$BASE/stubs" "$OUT/stubs"
mkdir -p "$OUT/stubs/com/caucho/security" "$OUT/stubs/com/caucho/webbeans/manager"
cat > "$OUT/stubs/com/caucho/security/AdminAuthenticator.java" <<'EOF'
// STUB by build-resin-server-enc.sh, not Caucho code: type name only (HempBroker.getAuthenticator, never reached)
package com.caucho.security;
public abstract class AdminAuthenticator implements Authenticator { }
EOF
cat > "$OUT/stubs/com/caucho/webbeans/manager/WebBeansContainer.java" <<'EOF'
// STUB by build-resin-server-enc.sh, not Caucho code: what HempBroker.getAuthenticator names (never reached)
package com.caucho.webbeans.manager;
public class WebBeansContainer {
  public static WebBeansContainer getCurrent() { return null; }
  public <T> T getInstanceByType(Class<T> type, java.lang.annotation.Annotation... bindings) { return null; }
}
EOF
SP=$(ls -d "$OUT"/tree/modules/*/src | tr '\n' ':')
R=$OUT/tree/modules/resin/src/com/caucho
# --release 7 for com.caucho.util.Base64 (see resin-server.sh); the hessian
# io package whole, as its serializers are looked up by name
javac -nowarn -Xlint:-options --release 7 -proc:none -encoding UTF-8 -implicit:class \
  -sourcepath "$OUT/stubs:$SP" -d "$OUT/classes" \
  "$OUT"/tree/modules/hessian/src/com/caucho/hessian/io/*.java \
  "$R/hemp/servlet/ServerFromLinkStream.java" "$R/hemp/servlet/ServerLinkManager.java" \
  "$R/hemp/broker/HempBroker.java" "$R/hemp/broker/HempBrokerManager.java" \
  "$R/hemp/pubsub/memory/MemoryPubSub.java" 2>&1 | grep -v '^Note: ' >&2 || true
[ -f "$OUT/classes/com/caucho/hemp/servlet/ServerLinkManager.class" ] || die "javac failed"
# resin-server.sh's main, wired as HmtpServlet wires this revision: one
# ServerLinkManager (the key pair) per server, the peer's address per link
python3 - "$BASE/ResinHmtpServer.java" "$OUT/ResinHmtpServer.java" <<'EOF'
import sys
s = open(sys.argv[1]).read()
edits = [
    ('import com.caucho.hemp.servlet.ServerFromLinkStream;',
     'import com.caucho.hemp.servlet.ServerFromLinkStream;\nimport com.caucho.hemp.servlet.ServerLinkManager;'),
    ('    Link(BamBroker broker, InputStream is, OutputStream os)\n    {\n      super(broker, is, os);\n    }',
     '    Link(HempBroker broker, ServerLinkManager linkManager, InputStream is, OutputStream os, String address)\n'
     '    {\n      super(broker, linkManager, is, os, address);\n    }'),
    ('public BamConnection getConnection(String uid, String password)\n',
     'public BamConnection getConnection(String uid, String password, String resource, String address)\n'),
    ('return super.getConnection(uid, password);', 'return super.getConnection(uid, password, resource, address);'),
    ('Link link = new Link(broker, is, os);',
     'Link link = new Link(broker, LINK_MANAGER, is, os, s.getInetAddress().getHostAddress());'),
    ('  private static final Logger CAUCHO_LOG',
     '  static final ServerLinkManager LINK_MANAGER = new ServerLinkManager();\n\n  private static final Logger CAUCHO_LOG'),
    ('Resin/4.0.s090118', 'Resin/4.0.s090123'),
]
for old, new in edits:
    if old not in s:
        sys.exit('build-resin-server-enc.sh: ResinHmtpServer.java has changed: cannot find %r' % old)
    s = s.replace(old, new)
open(sys.argv[2], 'w').write(s)
EOF
javac -nowarn -encoding UTF-8 -cp "$OUT/classes" -d "$OUT/main" "$OUT/ResinHmtpServer.java"
rm -rf "$OUT/tree"
cat > "$OUT/resin-hmtp-server" <<EOF
#!/bin/sh
# usage: resin-hmtp-server [--pubsub JID|none] [--users U:P,...] [--log LEVEL] PORT   (2009-01-23, encrypted login)
exec java --add-opens java.base/java.lang=ALL-UNNAMED --add-opens java.base/java.util=ALL-UNNAMED --add-opens java.base/java.math=ALL-UNNAMED --add-opens java.base/java.security=ALL-UNNAMED -cp "$OUT/classes:$OUT/main" ResinHmtpServer "\$@"
EOF
chmod +x "$OUT/resin-hmtp-server"
echo "built Resin's server side at $COMMIT in $OUT: $OUT/resin-hmtp-server"
