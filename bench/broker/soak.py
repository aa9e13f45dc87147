#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Bounded soak of hmtp-broker against mixed good and hostile peers (issue 15).

soak.py BROKER_EXE [SECONDS [SEED]]        mixed attack, default 120 s, seed 15
soak.py BROKER_EXE --withheld N             RSS with N links each withholding
                                             the last byte of a ~1 MiB packet

Hostile peers: slow HTTP heads (a byte a second), links that log in and
withhold the last byte of a packet just under 1 MiB, idle floods (upgrade,
then nothing), password guessing, forged query answers. Meanwhile a fresh
client connects, logs in and pings in a loop; its latency is recorded.
Prints connections served, attacks survived, peak broker RSS (VmHWM) and
the fresh client's latency. The broker runs with its defaults and four
users (alice, whose password is guessed; good, the fresh client; w and
forger, attackers that log in); loopback only.
"""
import os, random, re, socket, subprocess, sys, tempfile, threading, time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "common"))
import hmtp_bytes as hb  # noqa: E402

UPGRADE = hb.UPGRADE_REQUEST


def hstr(s):
    assert len(s.encode()) < 32
    return hb.string(s)


def frame(body):
    return hb.frame(body, chunk=4000)


def login_packet(uid, pw, pid=0, defined=False):
    cls = b"" if defined else (b"C" + hstr("com.caucho.bam.hmtp.AuthQuery") + b"\x93" +
                               hstr("_uid") + hstr("_resource") + hstr("_credentials"))
    return frame(b"\x93NN" + bytes([0xe0 + pid]) + cls + b"\x60" + hstr(uid) + b"N" + hstr(pw))


def ping_packet(pid, defined_index):
    cls = b"" if defined_index is not None else (b"C" + hstr("hmtp.PingQuery") + b"\x91" + hstr("_payload"))
    idx = 0x60 + (defined_index if defined_index is not None else 1)
    return frame(b"\x92" + hstr("service@localhost") + b"N" + bytes([0xe0 + pid]) + cls + bytes([idx]) + hstr("p"))


def connect(port, timeout=5):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.settimeout(timeout)
    return s


def upgrade(s):
    s.sendall(UPGRADE)
    buf = b""
    while b"\r\n\r\n" not in buf:
        d = s.recv(4096)
        if not d:
            raise OSError("closed during upgrade")
        buf += d
    if not buf.startswith(b"HTTP/1.1 101"):
        raise OSError("no 101: %r" % buf[:40])
    return buf.split(b"\r\n\r\n", 1)[1]


def wait_packet(s, have, type_byte):
    """Reads until a packet body starting with type_byte has arrived (crude:
    good enough for the broker's small answers)."""
    buf = have
    while True:
        # first chunk: a 1- or 2-byte length, then the body's first byte
        if len(buf) >= 3 and (buf[1] == type_byte or buf[2] == type_byte):
            return buf
        d = s.recv(65536)
        if not d:
            raise OSError("closed")
        buf += d


def fresh_client(port, uid):
    """Logs in, pings, and stays a moment so forgers can try; returns the
    latency of login + ping and whether a forged answer arrived."""
    t0 = time.monotonic()
    s = connect(port)
    try:
        rest = upgrade(s)
        s.sendall(login_packet(uid, "pw"))
        got = wait_packet(s, rest, 0x94)
        s.sendall(ping_packet(1, None))
        got += s.recv(65536)
        took = time.monotonic() - t0
        s.settimeout(0.2)
        try:
            got += s.recv(65536)
        except socket.timeout:
            pass
    finally:
        s.close()
    return took, b"forged" in got


def rss(pid, key):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(key):
                return int(line.split()[1])
    return 0


def start_broker(exe, extra):
    d = tempfile.mkdtemp(prefix="hmtp-soak-")
    log = open(os.path.join(d, "log"), "w")
    pf = os.path.join(d, "port")
    p = subprocess.Popen([exe, "--listen", "127.0.0.1:0", "--port-file", pf] + extra, stderr=log)
    for _ in range(200):
        if os.path.exists(pf):
            return p, int(open(pf).read()), os.path.join(d, "log")
        time.sleep(0.05)
    raise SystemExit("broker did not start")


def withheld(exe, n):
    p, port, log = start_broker(exe, ["--allow-any-user", "--login-timeout", "0"])
    time.sleep(0.5)
    before = rss(p.pid, "VmRSS:")
    body = 1000000
    head = bytes([0x80 | (body >> 14) & 0x7f, 0x80 | (body >> 7) & 0x7f, body & 0x7f])
    data = head + b"\x00" * (body - 1)
    socks = []
    for i in range(n):
        s = connect(port)
        upgrade(s)
        try:
            s.sendall(data)
        except OSError:
            pass
        socks.append(s)
    time.sleep(1.5)
    after = rss(p.pid, "VmRSS:")
    hwm = rss(p.pid, "VmHWM:")
    budget = sum(1 for l in open(log) if "memory budget" in l)
    for s in socks:
        s.close()
    p.terminate()
    p.wait()
    print("withheld %d x ~1 MiB: RSS %d -> %d kB (%.0f kB per link), peak %d kB, %d links closed by the budget"
          % (n, before, after, (after - before) / n, hwm, budget))


def soak(exe, seconds, seed):
    rng = random.Random(seed)
    p, port, log = start_broker(exe, ["--user", "alice:secret", "--user", "good:pw", "--user", "w:pw",
                                      "--user", "forger:pw"])
    stop = time.monotonic() + seconds
    stats = {"fresh": [], "fresh_fail": 0, "attacks": 0, "forged_seen": 0}
    lock = threading.Lock()

    def attack(kind):
        while time.monotonic() < stop:
            try:
                s = connect(port, timeout=15)
                if kind == "slow":
                    for b in UPGRADE[:12]:
                        s.send(bytes([b]))
                        time.sleep(1)
                elif kind == "withheld":
                    upgrade(s)
                    s.sendall(login_packet("w", "pw"))
                    body = 1000000 - rng.randrange(100)
                    s.sendall(bytes([0x80 | (body >> 14) & 0x7f, 0x80 | (body >> 7) & 0x7f, body & 0x7f]) +
                              b"\x00" * (body - 1))
                    time.sleep(rng.uniform(1, 5))
                elif kind == "idle":
                    upgrade(s)
                    s.recv(1)  # until the broker closes it
                elif kind == "guess":
                    rest = upgrade(s)
                    for i in range(20):
                        s.sendall(login_packet("alice", "guess%d" % rng.randrange(10**6), i % 16, i > 0))
                    while s.recv(65536):
                        pass
                elif kind == "forge":
                    rest = upgrade(s)
                    s.sendall(login_packet("forger", "pw"))
                    wait_packet(s, rest, 0x94)
                    for i in range(50):
                        to = "good@localhost"  # the fresh client of the moment (bare JID)
                        s.sendall(frame(b"\x94" + hstr(to) + b"N" + bytes([0xe0 + i % 16]) + hstr("forged")))
                        time.sleep(0.01)
                    time.sleep(0.5)
                s.close()
            except OSError:
                pass
            with lock:
                stats["attacks"] += 1

    threads = []
    # 80 withheld packets (~80 MiB) exceed the default 64 MiB budget
    plan = [("slow", 40), ("withheld", 80), ("idle", 50), ("guess", 8), ("forge", 4)]
    for kind, n in plan:
        for _ in range(n):
            t = threading.Thread(target=attack, args=(kind,), daemon=True)
            t.start()
            threads.append(t)
    i = 0
    peak = 0
    while time.monotonic() < stop:
        i += 1
        try:
            took, forged = fresh_client(port, "good")
            stats["fresh"].append(took)
            stats["forged_seen"] += forged
        except OSError:
            stats["fresh_fail"] += 1
        peak = max(peak, rss(p.pid, "VmRSS:"))
        time.sleep(0.2)
    for t in threads:
        t.join(timeout=20)
    alive = p.poll() is None
    hwm = rss(p.pid, "VmHWM:") if alive else 0
    p.terminate()
    rc = p.wait()
    text = open(log).read()
    lat = sorted(stats["fresh"])
    reasons = {}
    for m in re.finditer(r"closed: (.*) \(in \d+ bytes", text):
        key = re.sub(r"[0-9]+", "N", m.group(1))
        key = re.sub(r": holds.*", "", key)
        key = re.sub(r"(receive failed|send failed): .*", r"\1", key)
        reasons[key] = reasons.get(key, 0) + 1
    print("soak %d s, seed %d: broker alive to the end: %s, exit %d" % (seconds, seed, alive, rc))
    print("connections accepted %d, refused 503 %d, logins %d" % (
        text.count("accepted from"), text.count("refused a connection"), text.count("logged in as")))
    print("attack rounds finished %d; closes by reason:" % stats["attacks"])
    for k, v in sorted(reasons.items(), key=lambda kv: -kv[1]):
        print("  %6d  %s" % (v, k))
    print("logins refused %d; forged answers that reached a fresh client: %d" % (
        text.count("login refused for"), stats["forged_seen"]))
    print("fresh client: %d served, %d failed; latency ms median %.1f p95 %.1f max %.1f" % (
        len(lat), stats["fresh_fail"], 1000 * lat[len(lat) // 2], 1000 * lat[int(len(lat) * 0.95)], 1000 * lat[-1]))
    print("broker RSS peak (VmHWM) %d kB, highest sampled VmRSS %d kB" % (hwm, peak))
    print("sanitizer reports in the log: %d" % text.count("ERROR: AddressSanitizer"))
    return 0 if alive and rc == 0 and stats["fresh_fail"] == 0 and stats["forged_seen"] == 0 else 1


if __name__ == "__main__":
    exe = sys.argv[1]
    if len(sys.argv) > 2 and sys.argv[2] == "--withheld":
        withheld(exe, int(sys.argv[3]))
    else:
        sys.exit(soak(exe, int(sys.argv[2]) if len(sys.argv) > 2 else 120, int(sys.argv[3]) if len(sys.argv) > 3 else 15))
