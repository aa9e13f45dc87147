#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""A scripted stand-in server for hmtp-client's wire tests.

It checks the exact bytes the client writes against bytes written out here
by hand from PROTOCOL.md (sections 1-4 and 7), independently of the C code
(strings, framing and the upgrade from tests/common/hmtp_bytes.py), and
answers with hand-made bytes. One connection per run; exit 0 when the
client sent what Resin's client would, 1 otherwise (with a hex diff).

Usage: fake_server.py MODE PORT_FILE
"""
import os
import socket
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
import hmtp_bytes as hb  # noqa: E402


def s(text):  # short Hessian string (< 32 UTF-16 units: one length byte)
    assert len(text) < 32
    return hb.string(text)


def packet(body):  # one chunk plus the terminating 0x00
    assert 0 < len(body) < 4094
    return hb.frame(body)


NULL = b"N"
# Resin's JavaSerializer writes the java.lang fields first: _uid, _resource,
# then _credentials (PROTOCOL.md section 7).
AUTH_QUERY_DEF = b"C" + s("com.caucho.bam.hmtp.AuthQuery") + b"\x93" + s("_uid") + s("_resource") + s("_credentials")
AUTH_RESULT_DEF = b"C" + s("com.caucho.bam.hmtp.AuthResult") + b"\x91" + s("_jid")


class Conn:
    def __init__(self, sock):
        self.sock = sock
        self.buf = b""
        self.ok = True

    def read_exact(self, n, what):
        while len(self.buf) < n:
            data = self.sock.recv(65536)
            if not data:
                break
            self.buf += data
        got, self.buf = self.buf[:n], self.buf[n:]
        return got

    def expect(self, want, what):
        got = self.read_exact(len(want), what)
        if got != want:
            self.ok = False
            print(f"fake_server: {what}: client sent\n  {got.hex(' ')}\nexpected\n  {want.hex(' ')}", file=sys.stderr)
        return got == want

    def read_request(self):
        while b"\r\n\r\n" not in self.buf:
            data = self.sock.recv(4096)
            if not data:
                return self.buf
            self.buf += data
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        return head + b"\r\n\r\n"

    def expect_request(self, want):
        got = self.read_request()
        if got != want:
            self.ok = False
            print(f"fake_server: upgrade request:\n{got!r}\nexpected\n{want!r}", file=sys.stderr)


def session(c, port):
    """Bare 101, plain login, message, query, auto-answered probe, close."""
    c.expect_request(hb.upgrade_request("CONNECT", "/hmtp", f"127.0.0.1:{port}"))
    c.sock.sendall(hb.upgrade_response())  # Resin's bare 101
    # login: querySet to=null from=null id=0 AuthQuery{alice, pw, null}
    c.expect(packet(b"\x93" + NULL + NULL + b"\xe0" + AUTH_QUERY_DEF + b"\x60" + s("alice") + NULL + s("pw")),
             "login querySet")
    c.sock.sendall(packet(b"\x94" + s("alice@localhost") + NULL + b"\xe0" + AUTH_RESULT_DEF + b"\x60" +
                          s("alice@localhost")))
    # message: from = null, as Resin's client writes it
    c.expect(packet(b"\x90" + s("bob@localhost") + NULL + s("hi")), "message")
    # queryGet: from = the JID of the login, id 1
    c.expect(packet(b"\x92" + s("svc@localhost") + s("alice@localhost") + b"\xe1" + NULL), "queryGet")
    c.sock.sendall(packet(b"\x94" + s("alice@localhost") + s("svc@localhost") + b"\xe1" + b"\x91"))
    # presenceProbe from news; the client answers with its capabilities
    c.sock.sendall(packet(b"\x98" + s("alice@localhost") + s("news@localhost") + NULL))
    # class definitions live for the whole direction: AuthQuery is class 0,
    # so Caps is class 1 (object code 0x61)
    c.expect(packet(b"\x96" + s("news@localhost") + NULL + b"C" + s("Caps") + b"\x91" + s("f") + b"\x61" + s("x")),
             "auto-answered presence")
    # a second object of the same class refers to the definition by index
    c.expect(packet(b"\x90" + s("news@localhost") + NULL + b"\x61" + s("y")), "message with known class")
    # half a packet: the client was told to send only 3 bytes of it
    c.expect(packet(b"\x90" + s("a@b") + NULL + NULL)[:3], "truncated packet")
    c.expect(bytes.fromhex("00ff10"), "raw bytes")


def get_upgrade(c, port):
    """GET with another path and Host; a 101 that does carry Upgrade."""
    c.expect_request(hb.upgrade_request("GET", "/other", "h.example:1"))
    c.sock.sendall(hb.upgrade_response(server=None, echo=True, content_length=False))


def refuse(c, port):
    c.read_request()
    c.sock.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 22\r\n\r\nno HMTP servlet here\r\n")


def garbage(c, port):
    c.read_request()
    # the upgrade answer and, in the same segment, a packet with 0x40 (unused)
    c.sock.sendall(b"HTTP/1.1 101 OK\r\n\r\n" + packet(b"\x90\x40"))
    c.read_exact(1, "wait for the client to close")


def main():
    mode, port_file = sys.argv[1], sys.argv[2]
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    srv.settimeout(30)
    port = srv.getsockname()[1]
    with open(port_file + ".tmp", "w") as f:
        f.write(f"{port}\n")
    os.rename(port_file + ".tmp", port_file)
    sock, _ = srv.accept()
    sock.settimeout(30)
    c = Conn(sock)
    {"session": session, "get": get_upgrade, "refuse": refuse, "garbage": garbage}[mode](c, port)
    sock.close()
    sys.exit(0 if c.ok else 1)


if __name__ == "__main__":
    main()
