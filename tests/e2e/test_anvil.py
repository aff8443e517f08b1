"""test_anvil.py - the per-client limits: anvil(8) counts, smtpd(8) refuses.

Real instances as root.  The harness puts 127.0.0.0/8 in mynetworks, the
default of smtpd_client_event_limit_exceptions, so each class here sets the
exceptions to one address of its own (or none).  Every test uses its own
client address of 127.0.0.40-49, so the counts of one test (anvil keeps
them per service and client address) never touch another's.

Which smtpd process holds a connection is read from /proc: the server side
socket's inode from /proc/net/tcp, then the fds of each smtpd.  To put
connections on chosen processes, the other smtpd processes are stopped
(SIGSTOP) meanwhile, so that only one can accept.
"""
import os
import pwd
import re
import signal
import socket
import struct
import time
import unittest

from harness import (Conn, Instance, InstanceTestCase, MAIL_OWNER,
                     wait_pid_gone)

HOST = "mx.example.com"


def too_many(addr):
    return "421 4.7.0 %s Error: too many connections from %s" % (HOST, addr)


def too_much(addr):
    return "450 4.7.1 Error: too much mail from %s" % addr


def tcp_hex(addr, port):
    """An IPv4 address and port as /proc/net/tcp prints them."""
    ip = struct.unpack("=I", socket.inet_aton(addr))[0]
    return "%08X:%04X" % (ip, port)


def server_inode(conn, port):
    """The inode of the server side socket of a client connection."""
    src, sport = conn.sock.getsockname()
    local, remote = tcp_hex("127.0.0.1", port), tcp_hex(src, sport)
    with open("/proc/net/tcp") as f:
        next(f)
        for line in f:
            w = line.split()
            if w[1] == local and w[2] == remote and w[9] != "0":
                return w[9]
    return None


def holder(inst, conn):
    """The pid of the smtpd that holds a connection, or None."""
    ino = server_inode(conn, inst.port)
    if ino is None:
        return None
    want = "socket:[%s]" % ino
    for pid in inst.pids("smtpd"):
        d = "/proc/%d/fd" % pid
        try:
            for fd in os.listdir(d):
                try:
                    if os.readlink(os.path.join(d, fd)) == want:
                        return pid
                except OSError:
                    continue
        except OSError:
            continue
    return None


def wait_for_count(inst, pattern, n, since, timeout):
    """Wait until pattern occurs n times in the maillog after offset
    since; True or None."""
    deadline = time.time() + timeout
    while True:
        if len(re.findall(pattern, inst.log_since(since))) >= n:
            return True
        if time.time() >= deadline:
            return None
        time.sleep(0.05)


def proc_status_field(pid, field):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return line.split(":", 1)[1].strip()
    return None


class AnvilTestCase(InstanceTestCase):
    """Helpers shared by the classes."""

    def setUp(self):
        self.conns = []

    def tearDown(self):
        for c in self.conns:
            c.close()

    def connect(self, addr):
        """A new connection from addr; its first reply is read."""
        c = Conn(self.inst.port, source=addr, greet=False)
        self.conns.append(c)
        c.first = c.reply()
        return c

    def greeted(self, addr):
        c = self.connect(addr)
        self.assertEqual(c.first.code, 220, c.first)
        return c

    def refused(self, addr):
        """The next connection from addr gets exactly the 421 line and is
        closed."""
        c = self.connect(addr)
        self.assertEqual(c.first.lines, [too_many(addr)])
        self.assertTrue(c.closed(), "not closed after the 421")
        return c

    def close_and_wait(self, c, addr):
        """Close a client connection and wait until smtpd has let it go
        (its disconnect goes to anvil right after the log line)."""
        off = self.inst.log_size()
        c.close()
        self.assertIsNotNone(self.inst.wait_log(
            r"disconnect from unknown\[%s\]" % addr.replace(".", r"\."),
            5, off))
        time.sleep(0.2)


# ---------------------------------------------------------------------
class TestConnectionCount(AnvilTestCase):
    """smtpd_client_connection_count_limit = 2; 127.0.0.49 is exempt."""

    EXPECTED_KILLS = ("smtpd", "anvil")

    @classmethod
    def setUpClass(cls):
        cls.inst = Instance(main={
            "smtpd_client_connection_count_limit": "2",
            "smtpd_client_event_limit_exceptions": "127.0.0.49/32",
        }).start()
        cls.inst.wait_settled()

    def test_count_limit(self):
        a = "127.0.0.40"
        off = self.inst.log_size()
        c1 = self.greeted(a)
        self.greeted(a)
        self.refused(a)
        self.assertIsNotNone(self.inst.wait_log(
            r"warning: Connection concurrency limit exceeded: 3 from "
            r"unknown\[127\.0\.0\.40\] for service \S+", 5, off),
            self.inst.log_since(off))
        # the refused one is let go too: one closes, one more fits
        self.close_and_wait(c1, a)
        c3 = self.greeted(a)
        self.assertEqual(c3.cmd("NOOP").code, 250)
        self.refused(a)
        # another client address counts on its own
        b = "127.0.0.41"
        self.greeted(b)
        self.greeted(b)
        self.refused(b)

    def test_exempt_client_not_limited(self):
        a = "127.0.0.49"
        off = self.inst.log_size()
        for _ in range(5):
            c = self.greeted(a)
        self.assertEqual(c.cmd("EHLO client.example").code, 250)
        self.assertNotIn("too many connections", self.inst.log_since(off))

    def test_count_is_host_wide(self):
        inst = self.inst
        a = "127.0.0.42"
        pids = inst.pids("smtpd")
        if len(pids) < 2:
            self.skipTest("one CPU: master runs a single smtpd")
        p, q = pids[0], pids[1]
        others = [x for x in pids if x not in (p, q)]
        # connection 1 on p: everything else stopped meanwhile
        held = []
        try:
            for x in [q] + others:
                os.kill(x, signal.SIGSTOP)
            c1 = self.greeted(a)
            held.append(holder(inst, c1))
            for x in [q] + others:
                os.kill(x, signal.SIGCONT)
            # connection 2, then 3, on q
            for x in [p] + others:
                os.kill(x, signal.SIGSTOP)
            c2 = self.greeted(a)
            held.append(holder(inst, c2))
            self.refused(a)
        finally:
            for x in pids:
                os.kill(x, signal.SIGCONT)
        self.assertEqual(held, [p, q])
        self.assertGreaterEqual(len(inst.pids("smtpd")), 2)
        # and back, the other way round: q lets one go, p takes it
        self.close_and_wait(c2, a)
        try:
            for x in [q] + others:
                os.kill(x, signal.SIGSTOP)
            c4 = self.greeted(a)
            self.assertEqual(holder(inst, c4), p)
            self.refused(a)
        finally:
            for x in pids:
                os.kill(x, signal.SIGCONT)

    def test_killed_smtpd_releases(self):
        inst = self.inst
        a = "127.0.0.43"
        c1 = self.greeted(a)
        c2 = self.greeted(a)
        self.refused(a)
        old = inst.pids("smtpd")
        dead = {holder(inst, c1), holder(inst, c2)}
        self.assertNotIn(None, dead)
        off = inst.log_size()
        for pid in dead:
            os.kill(pid, signal.SIGKILL)
        for pid in dead:
            self.assertTrue(wait_pid_gone(pid, 3))
            self.assertIsNotNone(inst.wait_log(
                r"pid %d killed by signal 9" % pid, 3, off))
        self.assertTrue(c1.closed() and c2.closed())
        self.assertIsNotNone(inst.wait_new_pid("smtpd", old, 3),
                             "smtpd not restarted")
        inst.wait_procs(lambda ps: len([x for x in ps if x["name"] ==
                                        "smtpd"]) >= len(old), 5)
        inst.wait_settled()
        # the counts of the killed process are gone: two fit again
        self.greeted(a)
        self.greeted(a)
        self.refused(a)

    def test_killed_anvil_fails_open_and_restarts(self):
        inst = self.inst
        a = "127.0.0.44"
        self.greeted(a)
        self.greeted(a)
        self.refused(a)
        # anvil away: its socket renamed while it is killed, so that the
        # restarted anvil cannot be reached until the name is back
        sock = os.path.join(inst.queue, "private", "anvil")
        old = inst.pids("anvil")
        self.assertEqual(len(old), 1)
        off = inst.log_size()
        os.rename(sock, sock + ".away")
        try:
            os.kill(old[0], signal.SIGKILL)
            self.assertTrue(wait_pid_gone(old[0], 3))
            self.assertIsNotNone(inst.wait_log(
                r"pid %d killed by signal 9" % old[0], 3, off))
            t0 = time.time()
            # fail open: over the limit, but greeted at once
            self.greeted(a)
            self.greeted(a)
            self.assertLess(time.time() - t0, 1.5)
            self.assertIsNotNone(inst.wait_log(
                r"warning: anvil: cannot reach private/anvil: .*; the "
                r"client limits are not applied", 3, off),
                inst.log_since(off))
        finally:
            os.rename(sock + ".away", sock)
        new = inst.wait_new_pid("anvil", old, 3)
        self.assertIsNotNone(new, "anvil not restarted")
        inst.wait_settled()
        # a new anvil counts again (from zero: 127.0.0.44's connections
        # from before are not known to it)
        b = "127.0.0.45"
        self.greeted(b)
        self.greeted(b)
        self.refused(b)

    def test_silent_anvil_fails_open(self):
        inst = self.inst
        a = "127.0.0.46"
        pid = inst.pids("anvil")[0]
        off = inst.log_size()
        os.kill(pid, signal.SIGSTOP)
        try:
            t0 = time.time()
            c1 = Conn(inst.port, source=a, greet=False, timeout=10)
            self.conns.append(c1)
            r = c1.reply()
            waited = time.time() - t0
        finally:
            os.kill(pid, signal.SIGCONT)
        self.assertEqual(r.code, 220, r)
        self.assertGreaterEqual(waited, 1.9)
        self.assertLess(waited, 4.5)
        self.assertIsNotNone(inst.wait_log(
            r"warning: anvil: no answer within 2000 ms; the client limits "
            r"are not applied to unknown\[127\.0\.0\.46\]", 3, off))
        # anvil, woken up, counted the late request: with it, the limit
        # holds again
        time.sleep(0.2)
        self.greeted(a)
        self.refused(a)
        self.assertEqual(inst.pids("anvil"), [pid])

    def test_client_gone_before_answer(self):
        # a client that leaves while smtpd waits for anvil's count is
        # released as well (connect and disconnect reach anvil in order)
        inst = self.inst
        a = "127.0.0.47"
        pid = inst.pids("anvil")[0]
        off = inst.log_size()
        os.kill(pid, signal.SIGSTOP)
        try:
            for _ in range(2):
                c = Conn(inst.port, source=a, greet=False)
                c.close()
            self.assertIsNotNone(wait_for_count(
                inst, r"disconnect from unknown\[127\.0\.0\.47\]", 2, off,
                1.5), inst.log_since(off))
        finally:
            os.kill(pid, signal.SIGCONT)
        time.sleep(0.2)
        self.assertNotIn("no answer within", inst.log_since(off))
        self.greeted(a)
        self.greeted(a)
        self.refused(a)

    def test_anvil_privileges(self):
        ps = self.inst.wait_settled()
        pw = pwd.getpwnam(MAIL_OWNER)
        anvils = [p for p in ps if p["name"] == "anvil"]
        self.assertEqual(len(anvils), 1, ps)
        p = anvils[0]
        self.assertEqual(p["uids"], [pw.pw_uid] * 4, p)
        self.assertEqual(p["gids"], [pw.pw_gid] * 4, p)
        self.assertEqual(p["groups"], [pw.pw_gid], p)
        self.assertEqual(p["root"], os.path.join(self.inst.queue, "empty"))
        self.assertEqual(proc_status_field(p["pid"], "NoNewPrivs"), "1")
        self.assertEqual(os.listdir(os.path.join(self.inst.queue, "empty")),
                         [])


# ---------------------------------------------------------------------
class TestRates(AnvilTestCase):
    """3 connections and 2 messages per client per 3 s window; no client
    is exempt."""

    UNIT = 3

    @classmethod
    def setUpClass(cls):
        cls.inst = Instance(main={
            "anvil_rate_time_unit": "%ds" % cls.UNIT,
            "smtpd_client_connection_rate_limit": "3",
            "smtpd_client_message_rate_limit": "2",
            "smtpd_client_event_limit_exceptions": "",
        }).start()
        cls.inst.wait_settled()

    def wait_window(self, t1):
        """Sleep until the window that started by t1 has surely ended
        (anvil's windows start at a whole second, the first event's)."""
        left = t1 + self.UNIT + 0.1 - time.time()
        if left > 0:
            time.sleep(left)

    def test_connection_rate(self):
        a = "127.0.0.47"
        off = self.inst.log_size()
        t1 = None
        for _ in range(3):
            c = self.greeted(a)
            if t1 is None:
                t1 = time.time()
            self.assertEqual(c.cmd("QUIT").code, 221)
            self.assertTrue(c.closed())
        # none open, but the fourth in the window is too many
        self.refused(a)
        self.assertIsNotNone(self.inst.wait_log(
            r"warning: Connection rate limit exceeded: 4 from "
            r"unknown\[127\.0\.0\.47\] for service ", 5, off),
            self.inst.log_since(off))
        self.assertLess(time.time() - t1, self.UNIT - 1,
                        "too slow for the window")
        self.wait_window(t1)
        c = self.greeted(a)
        self.assertEqual(c.cmd("EHLO client.example").code, 250)

    def test_message_rate(self):
        a = "127.0.0.48"
        off = self.inst.log_size()
        c1 = self.greeted(a)
        t1 = time.time()
        c1.ehlo()
        self.assertEqual(c1.cmd("MAIL FROM:<a@client.example>").code, 250)
        self.assertEqual(c1.cmd("RSET").code, 250)
        self.assertEqual(c1.cmd("QUIT").code, 221)
        # a second connection counts on with the first one's message
        c2 = self.greeted(a)
        c2.ehlo()
        self.assertEqual(c2.cmd("MAIL FROM:<b@client.example>").code, 250)
        self.assertEqual(c2.cmd("RSET").code, 250)
        r = c2.cmd("MAIL FROM:<c@client.example>")
        self.assertEqual(r.lines, [too_much(a)])
        self.assertIsNotNone(self.inst.wait_log(
            r"warning: Message delivery request rate limit exceeded: 3 "
            r"from unknown\[127\.0\.0\.48\] for service ", 5, off),
            self.inst.log_since(off))
        self.assertIsNotNone(self.inst.wait_log(
            r"reject: MAIL from unknown\[127\.0\.0\.48\]: 450 4\.7\.1 "
            r"Error: too much mail from 127\.0\.0\.48", 5, off),
            self.inst.log_since(off))
        # the session goes on; no transaction was opened
        self.assertEqual(c2.cmd("RCPT TO:<alice@example.com>").code, 503)
        self.assertEqual(c2.cmd("RSET").code, 250)
        self.assertEqual(c2.cmd("NOOP").code, 250)
        self.assertEqual(c2.cmd("MAIL FROM:<d@client.example>").lines,
                         [too_much(a)])
        self.assertLess(time.time() - t1, self.UNIT - 1,
                        "too slow for the window")
        # a new window: mail goes through again
        self.wait_window(t1)
        self.assertEqual(c2.cmd("MAIL FROM:<e@client.example>").code, 250)
        self.assertEqual(c2.cmd("RCPT TO:<alice@example.com>").code, 250)
        self.assertEqual(c2.cmd("DATA").code, 354)
        r = c2.cmd("Subject: anvil\r\n\r\nafter the window\r\n.")
        self.assertEqual(r.code, 250, r)
        self.assertEqual(c2.cmd("QUIT").code, 221)

    def test_message_rate_pipelined(self):
        # the commands after a MAIL that waits for anvil wait with it:
        # each reply in order, RCPT after the refused MAIL gets 503
        a = "127.0.0.40"
        c = self.greeted(a)
        c.ehlo()
        rcpt = "RCPT TO:<alice@example.com>\r\n"
        c.send("MAIL FROM:<a@client.example>\r\n" + rcpt + "RSET\r\n" +
               "MAIL FROM:<b@client.example>\r\n" + rcpt + "RSET\r\n" +
               "MAIL FROM:<c@client.example>\r\n" + rcpt + "NOOP\r\n")
        got = [c.reply() for _ in range(9)]
        self.assertEqual([r.code for r in got],
                         [250, 250, 250, 250, 250, 250, 450, 503, 250], got)
        self.assertEqual(got[6].lines, [too_much(a)])


if __name__ == "__main__":
    unittest.main()
