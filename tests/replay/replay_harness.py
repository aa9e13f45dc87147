# SPDX-License-Identifier: GPL-2.0-or-later
"""What every end-to-end script of tests/replay does around its cases: the
command line (HMTP_REPLAY HMTP_BROKER WORKDIR CASE), a work folder per case,
failures collected rather than raised, brokers on ephemeral loopback ports
killed however the script ends, and the one-line verdict."""

import atexit
import os
import signal
import socket
import subprocess
import sys
import threading
import time

# The repository's sample captures (captures/), which several scripts replay.
CAPTURES = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), 'captures')


class Harness:
    def __init__(self, argv):
        self.replay, self.broker_bin, work, self.case = argv[1:5]
        self.work = os.path.join(work, os.path.basename(self.case).replace(':', '-'))
        os.makedirs(self.work, exist_ok=True)
        self.failures = []
        self.children = []
        atexit.register(self.cleanup)
        signal.signal(signal.SIGTERM, lambda *a: sys.exit(1))

    def cleanup(self, *_):
        for p in self.children:
            if p.poll() is None:
                p.kill()
                p.wait()

    def check(self, cond, what):
        """Records what when cond is false; returns cond."""
        if not cond:
            self.failures.append(what)
        return cond

    def broker(self, *options):
        """Starts hmtp-broker on an ephemeral port; returns (port, process)."""
        port_file = os.path.join(self.work, 'port-%d' % len(self.children))
        if os.path.exists(port_file):
            os.unlink(port_file)
        log = open(os.path.join(self.work, 'broker-%d.log' % len(self.children)), 'w')
        p = subprocess.Popen([self.broker_bin, '--listen', '127.0.0.1:0', '--port-file', port_file,
                              '--domain', 'localhost'] + list(options), stdout=log, stderr=log)
        self.children.append(p)
        deadline = time.time() + 10
        while time.time() < deadline:
            if os.path.exists(port_file) and open(port_file).read().strip():
                return int(open(port_file).read().strip()), p
            if p.poll() is not None:
                break
            time.sleep(0.02)
        raise SystemExit('FAIL %s: hmtp-broker did not start' % self.case)

    def finish(self):
        """Stops what was started and exits with the verdict."""
        self.cleanup()
        if self.failures:
            print('FAIL %s:\n  ' % self.case + '\n  '.join(self.failures))
            sys.exit(1)
        print('ok %s' % self.case)


def fake_server(handler, rcvbuf=None, accepted=None):
    """A TCP server on 127.0.0.1:0 running handler(conn, index) per connection;
    rcvbuf: its receive buffer size; accepted: a list that gets the time of
    every accept."""
    srv = socket.socket()
    if rcvbuf:
        srv.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    srv.bind(('127.0.0.1', 0))
    srv.listen(16)
    count = [0]
    def loop():
        while True:
            try:
                c, _ = srv.accept()
            except OSError:
                return
            if accepted is not None:
                accepted.append(time.time())
            threading.Thread(target=handler, args=(c, count[0]), daemon=True).start()
            count[0] += 1
    threading.Thread(target=loop, daemon=True).start()
    return srv.getsockname()[1], srv
