"""test_system.py - youju as a system: privileges, the queue tree, mailctl,
restarts, reload, graceful stop, load, crash safety, failpoints and the
queue index.

Every test runs real daemons as root (master, then smtpd/qmgr/auth as
mail_owner in their chroots and local as root) and stops them by pid.
Crash tests kill processes with SIGKILL by pid and then check DESIGN rule 2
(commit before acknowledge): every message whose DATA got 250 is delivered,
at least once.  kill -9 leaves the page cache intact, so they cannot tell
whether a file or directory was fsynced: test_durability.py checks that.
"""
import collections
import os
import pwd
import re
import signal
import smtplib
import socket
import stat
import threading
import time
import unittest

from harness import (Instance, Load, MAIL_OWNER, TEST_USER, free_port,
                     make_message, pid_alive, raw_session, read_reply,
                     wait_pid_gone)

ALICE = "alice@example.com"
QID_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def owner_ids():
    pw = pwd.getpwnam(MAIL_OWNER)
    return pw.pw_uid, pw.pw_gid


def send(inst, mid, rcpt=ALICE, sender="sender@client.example"):
    """One message over smtplib; returns the queue id from the 250."""
    s = inst.smtp()
    try:
        s.ehlo("client.example")
        s.mail(sender)
        code, msg = s.rcpt(rcpt)
        if code != 250:
            raise AssertionError("RCPT %s: %d %r" % (rcpt, code, msg))
        code, msg = s.data(make_message(mid, sender=sender, rcpt=rcpt))
        if code != 250:
            raise AssertionError("DATA: %d %r" % (code, msg))
        m = re.search(rb"queued as (\w+)", msg)
        return m.group(1).decode() if m else None
    finally:
        try:
            s.quit()
        except (smtplib.SMTPException, OSError):
            s.close()


def status_of(path):
    st = os.stat(path)
    return st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)


def proc_status_field(pid, field):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return line.split(":", 1)[1].strip()
    return None


class SystemTest(unittest.TestCase):
    """Base: instances made with new() are stopped, checked for sanitizer
    reports and removed at teardown."""

    def new(self, **kw):
        inst = Instance(**kw)
        self.addCleanup(self._finish, inst)
        return inst

    def _finish(self, inst):
        try:
            inst.stop()
        finally:
            errs = inst.sanitizer_errors()
            log = inst.log()
            inst.cleanup()
        self.assertEqual(errs, [], "sanitizer reports; maillog:\n" +
                         log[-4000:])

    def deliver_ok(self, inst, mid, timeout=15):
        """Send one message to alice and wait until it is in her Maildir."""
        send(inst, mid)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if mid in inst.message_ids(ALICE):
                return
            time.sleep(0.05)
        self.fail("message %s not delivered within %ds; maillog:\n%s" %
                  (mid, timeout, inst.log()[-3000:]))

    def queue_remote(self, inst, mid="remote@t"):
        """A message for a remote domain from a mynetworks client: the
        harness's relayhost refuses connections, so it stays deferred."""
        qid = send(inst, mid, rcpt="carol@remote.example")
        self.assertIsNotNone(qid)
        m = inst.wait_log(r"%s: to=<carol@remote\.example>.*deferred" % qid,
                          10)
        self.assertIsNotNone(m, "no deferral logged:\n" + inst.log())
        return qid

    def ehlo_session(self, timeout=10):
        """A new instance, started and settled, and a raw session to it
        that has had its 250 to EHLO."""
        inst = self.new().start()
        inst.wait_settled()
        s = raw_session(inst.port, timeout=timeout)
        s.sendall(b"EHLO client.example\r\n")
        self.assertTrue(read_reply(s).startswith("250"))
        return inst, s

    def restart(self, inst, **kw):
        inst.stop()
        inst.start(**kw)
        inst.wait_settled()


# ---------------------------------------------------------------- 1 --
class TestPrivileges(SystemTest):

    def test_process_privileges_from_proc(self):
        inst = self.new().start()
        ps = inst.wait_settled()
        uid, gid = owner_ids()
        master = inst.master_pid()
        self.assertEqual(proc_status_field(master, "Uid").split(),
                         ["0"] * 4)
        names = collections.Counter(p["name"] for p in ps)
        self.assertGreaterEqual(names["smtpd"], 1, ps)
        self.assertEqual(names["qmgr"], 1, ps)
        self.assertEqual(names["auth"], 1, ps)
        self.assertEqual(names["anvil"], 1, ps)
        self.assertEqual(names["pickup"], 1, ps)
        self.assertGreaterEqual(names["local"], 1, ps)
        self.assertGreaterEqual(names["smtp"], 1, ps)
        roots = {"smtpd": inst.queue, "qmgr": inst.queue,
                 "smtp": inst.queue, "pickup": inst.queue,
                 "auth": os.path.join(inst.queue, "empty"),
                 "anvil": os.path.join(inst.queue, "empty")}
        for p in ps:
            if p["name"] in roots:
                self.assertEqual(p["uids"], [uid] * 4, p)
                self.assertEqual(p["gids"], [gid] * 4, p)
                self.assertEqual(p["groups"], [gid], p)
                self.assertEqual(p["root"], roots[p["name"]], p)
                self.assertEqual(proc_status_field(p["pid"], "NoNewPrivs"),
                                 "1", p)
            elif p["name"] == "local":
                self.assertEqual(p["uids"], [0] * 4, p)
                self.assertEqual(p["root"], "/", p)
            else:
                self.fail("unexpected child of master: %r" % p)

        # delivery happens with the recipient's ids
        self.deliver_ok(inst, "priv@t")
        tuid, tgid = pwd.getpwnam(TEST_USER).pw_uid, \
            pwd.getpwnam(TEST_USER).pw_gid
        self.assertEqual((inst.uid, inst.gid), (tuid, tgid))
        files = inst.messages(ALICE)
        self.assertEqual(len(files), 1)
        for path in files + [inst.maildir(ALICE)] + [
                os.path.join(inst.maildir(ALICE), d)
                for d in ("tmp", "new", "cur")]:
            st = os.stat(path)
            self.assertEqual((st.st_uid, st.st_gid), (tuid, tgid), path)
        self.assertEqual(stat.S_IMODE(os.stat(files[0]).st_mode) & 0o077, 0,
                         "delivered file readable by others")
        # local went back to root after the delivery (not stuck as the
        # user, not fully dropped)
        for p in inst.procs():
            if p["name"] == "local":
                self.assertEqual(p["uids"], [0] * 4, p)


# ---------------------------------------------------------------- 2 --
class TestQueueTree(SystemTest):

    def check_tree(self, inst):
        uid, gid = owner_ids()
        self.assertEqual(status_of(inst.queue), (0, 0, 0o755))
        for d in ("incoming", "queue", "corrupt", "index", "private"):
            self.assertEqual(status_of(os.path.join(inst.queue, d)),
                             (uid, gid, 0o700), d)
        self.assertEqual(status_of(os.path.join(inst.queue, "pid")),
                         (0, 0, 0o755))
        self.assertEqual(status_of(os.path.join(inst.queue, "empty")),
                         (0, 0, 0o555))
        self.assertEqual(os.listdir(os.path.join(inst.queue, "empty")), [])

    def test_tree_after_start(self):
        inst = self.new().start()
        inst.wait_settled()
        self.check_tree(inst)

    def test_wrong_owner_repaired(self):
        inst = self.new().start()
        inst.wait_settled()
        qid = self.queue_remote(inst)
        inst.stop()
        q = os.path.join(inst.queue, "queue")
        files = inst.queue_files()
        self.assertEqual(len(files), 1)
        # an admin's "cp -r" or a restore as root
        for root, dirs, fs in os.walk(q):
            for n in dirs + fs:
                os.chown(os.path.join(root, n), 0, 0)
        os.chown(q, 0, 0)
        os.chmod(q, 0o755)
        os.chmod(os.path.join(inst.queue, "incoming"), 0o777)
        off = inst.log_size()
        inst.start()
        inst.wait_settled()
        self.check_tree(inst)
        uid, gid = owner_ids()
        st = os.stat(files[0])
        self.assertEqual((st.st_uid, st.st_gid), (uid, gid),
                         "queue file owner not repaired")
        log = inst.log_since(off)
        self.assertIn("fixed the owner of %s" % q, log)
        self.assertIn("fixed the mode of %s" %
                      os.path.join(inst.queue, "incoming"), log)
        # the repaired queue works: the old message is still known, new
        # mail is accepted and delivered
        self.assertIsNotNone(
            inst.wait_log(r"started: 1 messages in the queue", 5, off),
            inst.log_since(off))
        self.assertEqual(inst.queue_files(), files)
        self.deliver_ok(inst, "after-repair@t")
        self.assertIn(qid, files[0])

    def test_leftover_incoming_removed(self):
        inst = self.new().start()
        inst.wait_settled()
        inst.stop()
        uid, gid = owner_ids()
        left = os.path.join(inst.queue, "incoming", "1K19AZFBAWNK4CSE")
        with open(left, "wb") as f:
            f.write(b"V\x00\x00\x00\x011half a message")
        os.chown(left, uid, gid)
        off = inst.log_size()
        inst.start()
        inst.wait_settled()
        self.assertEqual(inst.incoming_files(), [])
        self.assertIn("removed uncommitted file incoming/1K19AZFBAWNK4CSE",
                      inst.log_since(off))
        self.assertEqual(inst.queue_files(), [])
        self.assertEqual(os.listdir(os.path.join(inst.queue, "corrupt")),
                         [])


# ---------------------------------------------------------------- 3 --
class TestMailctl(SystemTest):

    def test_start_status_stop(self):
        inst = self.new()
        r = inst.mailctl_start()
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("started", r.stdout)
        pid = inst.pidfile_pid()
        self.assertIsNotNone(pid)
        self.assertTrue(pid_alive(pid))
        self.assertIn(str(pid), r.stdout)
        # master is detached: not a child of this test, in its own session
        self.assertEqual(os.getsid(pid), pid)
        ps = inst.wait_settled()
        self.assertTrue(inst.children_ready(), ps)
        self.assertTrue(inst.listening())

        r = inst.mailctl("status", check=False)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("master pid %d" % pid, r.stdout)
        rows = {}
        for line in r.stdout.splitlines():
            f = line.split()
            if len(f) >= 5 and f[2].isdigit():
                rows[int(f[2])] = (f[1], int(f[3]))
        ps = inst.procs()
        self.assertEqual(set(rows), {p["pid"] for p in ps}, r.stdout)
        for p in ps:
            self.assertEqual(rows[p["pid"]], (p["name"], p["uids"][0]),
                             r.stdout)

        r = inst.mailctl("start", check=False)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("already running", r.stdout + r.stderr)
        self.assertEqual(inst.pidfile_pid(), pid)

        r = inst.mailctl("check", check=False)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

        self.deliver_ok(inst, "mailctl@t")

        children = [p["pid"] for p in ps]
        r = inst.mailctl("stop", check=False)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertFalse(pid_alive(pid), "master still running after stop")
        for c in children:
            self.assertTrue(wait_pid_gone(c, 5), "child %d survived" % c)
        self.assertFalse(os.path.exists(
            os.path.join(inst.queue, "pid", "master.pid")))
        self.assertFalse(inst.listening())

        r = inst.mailctl("stop", check=False)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("not running", r.stdout + r.stderr)
        r = inst.mailctl("status", check=False)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)

    def start_fails(self, inst):
        r = inst.mailctl_start()
        self.assertNotEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIsNone(inst.master_pid())
        self.assertFalse(inst.listening())
        return r.stdout + r.stderr

    def test_bad_value(self):
        inst = self.new()
        inst.set_main(message_size_limit="abc")
        out = self.start_fails(inst)
        self.assertIn("message_size_limit", out)
        r = inst.mailctl("check", check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("message_size_limit", r.stdout + r.stderr)

    def test_missing_mail_owner(self):
        with self.assertRaises(KeyError):
            pwd.getpwnam("nosuchuser")
        inst = self.new()
        inst.set_main(mail_owner="nosuchuser")
        out = self.start_fails(inst)
        self.assertIn("useradd", out)
        self.assertIn("nosuchuser", out)

    def test_check_bad_service_option(self):
        # a bad "-o name=value" in master.cf: "mailctl check" must say so
        # (else the service just crash-loops after a successful start)
        port2 = free_port()
        inst = self.new(master_extra="127.0.0.1:%d inet n - y - - smtpd "
                        "-o message_size_limit=abc\n" % port2)
        r = inst.mailctl("check", check=False)
        self.assertNotEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("message_size_limit", r.stdout + r.stderr)
        out = self.start_fails(inst)
        self.assertIn("message_size_limit", out)

    def test_check_bad_network_lists(self):
        # smtpd parses these at start and stops on a bad entry: "mailctl
        # check" must find them, in main.cf and in a service's -o
        inst = self.new()
        inst.set_main(mynetworks="127.0.0.0/8, 10.0.0.0/99")
        r = inst.mailctl("check", check=False)
        self.assertNotEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn('mynetworks: bad network "10.0.0.0/99"', r.stderr)
        port2 = free_port()
        inst = self.new(master_extra="127.0.0.1:%d inet n - y - - smtpd "
                        "-o smtpd_client_event_limit_exceptions=nonsense\n"
                        % port2)
        r = inst.mailctl("check", check=False)
        self.assertNotEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("smtpd_client_event_limit_exceptions: bad network "
                      '"nonsense"', r.stderr)
        self.assertIn("service 127.0.0.1:%d" % port2, r.stderr)

    def test_root_mail_owner(self):
        inst = self.new()
        inst.set_main(mail_owner="root")
        out = self.start_fails(inst)
        self.assertIn("mail_owner", out)
        self.assertIn("root", out)


# ---------------------------------------------------------------- 4 --
class TestRestart(SystemTest):

    def test_killed_children_restart(self):
        inst = self.new().start()
        inst.wait_settled()
        uid, _ = owner_ids()
        for name in ("smtpd", "qmgr", "auth", "local", "anvil", "pickup"):
            with self.subTest(service=name):
                old = inst.pids(name)
                self.assertTrue(old)
                off = inst.log_size()
                t0 = time.time()
                for pid in old:
                    os.kill(pid, signal.SIGKILL)
                new = inst.wait_new_pid(name, old, 3)
                self.assertIsNotNone(new, "no new %s within 3 s" % name)
                self.assertLess(time.time() - t0, 3.0)
                for pid in old:
                    self.assertTrue(wait_pid_gone(pid, 3))
                    self.assertIsNotNone(inst.wait_log(
                        r"pid %d killed by signal 9" % pid, 3, off),
                        inst.log_since(off))
                # back to full strength, privileges dropped again
                ps = inst.wait_procs(
                    lambda ps: len([p for p in ps if p["name"] == name])
                    >= len(old), 5)
                ps = inst.wait_settled()
                for p in ps:
                    if p["name"] == name and name != "local":
                        self.assertEqual(p["uids"], [uid] * 4, p)
                self.deliver_ok(inst, "after-kill-%s@t" % name)

    def test_master_killed_children_exit(self):
        # master killed -9 (OOM killer, an admin's mistake): its children
        # must not live on as orphans holding the port and the queue,
        # else the mail system cannot be started again
        inst = self.new().start()
        inst.wait_settled()
        kids = [p["pid"] for p in inst.procs()]

        def reap():
            for k in kids:
                try:
                    os.kill(k, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        self.addCleanup(reap)
        os.kill(inst.proc.pid, signal.SIGKILL)
        inst.proc.wait(5)
        inst.proc = None
        deadline = time.time() + 5
        while time.time() < deadline and any(pid_alive(k) for k in kids):
            time.sleep(0.05)
        alive = [k for k in kids if pid_alive(k)]
        self.assertEqual(alive, [], "children still running 5 s after "
                         "master died")
        inst.start()
        inst.wait_settled()
        self.deliver_ok(inst, "after-master-kill@t")

    def test_crashing_child_throttled(self):
        # a service whose program exits at once, every time (a stand-in
        # for a daemon that crashes at start): master must back off, and
        # the other services must be unaffected
        inst = self.new(master_extra="crash unix - - n - 1 crasher\n")
        crasher = os.path.join(inst.bin, "crasher")
        with open(crasher, "w") as f:
            f.write("#!/bin/sh\nexit 3\n")
        os.chmod(crasher, 0o755)
        inst.start()
        self.assertIsNotNone(inst.wait_log(r"crash/unix: .*throttling", 5),
                             inst.log())
        time.sleep(3)
        log = inst.log()
        exits = re.findall(r"crasher pid \d+ exit status 3", log)
        # without back-off this would be hundreds of restarts
        self.assertGreaterEqual(len(exits), 3, log)
        self.assertLessEqual(len(exits), 8, log)
        delays = [int(x) for x in re.findall(
            r"crash/unix: process keeps exiting -- throttling, next start "
            r"in (\d+) ms", log)]
        self.assertEqual(delays, sorted(delays), log)
        self.assertGreater(delays[-1], delays[0], log)
        self.deliver_ok(inst, "throttle@t")

    def test_child_startup_error_reaches_maillog(self):
        """The admin reads maillog_file (stderr is /dev/null under
        "mailctl start"): why a child exits must be written there.  A
        second smtp service gets a password map that does not exist,
        which only smtp itself finds out (master and mailctl check do
        not open the file), so that smtp exits at every start.  Should
        master ever refuse this up front, pick another error only the
        child can see: this test needs a child that fails."""
        missing = "/nonexistent/youju-e2e-passwords"
        inst = self.new(master_extra="smtp2 unix - - y - 1 smtp "
                        "-o smtp_sasl_password_maps=texthash:%s\n" %
                        missing)
        inst.start()
        m = inst.wait_log(r"smtp\[(\d+)\]: fatal: smtp_sasl_password_maps: "
                          r"%s: No such file or directory" %
                          re.escape(missing), 5)
        self.assertIsNotNone(m, "the reason is not in the maillog:\n" +
                             inst.log())
        self.assertIsNotNone(
            inst.wait_log(r"master\[\d+\]: warning: process \S+/smtp pid "
                          r"%s exit status 1" % m.group(1), 5), inst.log())


# ---------------------------------------------------------------- 5 --
class Pinger(threading.Thread):
    """Connect and read the 220 greeting, then QUIT - continuously.  A
    failure is a refused connection or no 220 (a 421 to the QUIT of a
    session that an old smtpd accepted is not counted here: see
    test_reload_keeps_open_sessions)."""

    def __init__(self, port):
        super().__init__(daemon=True)
        self.port = port
        self.ok = 0
        self.failures = []
        self.halt = threading.Event()

    def run(self):
        while not self.halt.is_set():
            try:
                s = raw_session_greeting(self.port)
                s.sendall(b"QUIT\r\n")
                read_reply(s)
                s.close()
                self.ok += 1
            except (AssertionError, OSError) as e:
                self.failures.append(repr(e))
            time.sleep(0.01)

    def stop(self):
        self.halt.set()
        self.join(15)


def raw_session_greeting(port):
    s = socket.create_connection(("127.0.0.1", port), 10)
    s.settimeout(10)
    greeting = read_reply(s)
    if not greeting.startswith("220"):
        s.close()
        raise AssertionError("greeting %r" % greeting)
    return s


class TestReload(SystemTest):

    def wait_replaced(self, inst, name, old, timeout=10):
        """Every old process of `name` gone and new ones running."""
        def ok(ps):
            cur = [p["pid"] for p in ps if p["name"] == name]
            return cur and not set(cur) & set(old)
        ps = inst.wait_procs(ok, timeout)
        cur = [p["pid"] for p in ps if p["name"] == name]
        self.assertTrue(cur, "no %s after reload" % name)
        self.assertFalse(set(cur) & set(old), "old %s still running" % name)
        return cur

    def test_reload(self):
        inst = self.new().start()
        inst.wait_settled()
        qid = self.queue_remote(inst)
        files = inst.queue_files()
        self.assertEqual(len(files), 1)
        ping = Pinger(inst.port)
        ping.start()
        self.addCleanup(ping.stop)
        time.sleep(0.3)

        # 1. mailctl reload
        old = inst.pids("smtpd") + inst.pids("qmgr")
        off = inst.log_size()
        r = inst.mailctl("reload", check=False)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.wait_replaced(inst, "smtpd", old)
        self.wait_replaced(inst, "qmgr", old)
        self.assertIn("reload", inst.log_since(off))
        inst.wait_settled()
        self.deliver_ok(inst, "after-reload@t")

        # 2. SIGHUP with a new message_size_limit
        inst.set_main(message_size_limit="20000")
        old = inst.pids("smtpd")
        os.kill(inst.master_pid(), signal.SIGHUP)
        self.wait_replaced(inst, "smtpd", old)
        inst.wait_settled()
        time.sleep(0.3)
        ping.stop()
        self.assertEqual(ping.failures, [], "connections failed during "
                         "reload")
        self.assertGreater(ping.ok, 10)

        s = inst.smtp()
        code, msg = s.ehlo("client.example")
        self.assertEqual(code, 250)
        self.assertIn(b"SIZE 20000", msg)
        s.mail("sender@client.example")
        s.rcpt(ALICE)
        code, msg = s.data(make_message("big@t", body="x" * 100 +
                                        "\r\n" + ("y" * 998 + "\r\n") * 30))
        self.assertEqual(code, 552, msg)
        s.quit()
        self.deliver_ok(inst, "small@t")

        # the deferred message survived both reloads
        self.assertEqual(inst.queue_files(), files)
        self.assertIn(qid, files[0])
        self.assertEqual(inst.master_pid(), inst.proc.pid)
        self.assertIsNone(inst.proc.poll())

        # and a reloaded master still stops cleanly
        inst.proc.send_signal(signal.SIGTERM)
        rc = inst.proc.wait(15)
        self.assertEqual(rc, 0, "master after reload+stop: status %d\n%s" %
                         (rc, "\n".join(inst.stderr().splitlines()[:12])))
        self.assertFalse(os.path.exists(
            os.path.join(inst.queue, "pid", "master.pid")))
        self.assertFalse(os.path.exists(
            os.path.join(inst.queue, "pid", "master.sock")))

    def test_reload_keeps_open_sessions(self):
        """A reload is not a stop: a client connected at the time (between
        two messages) is served to its end by the old smtpd, which retires
        (new smtpds take the new connections) and exits after it."""
        inst, s = self.ehlo_session()
        old = inst.pids("smtpd")
        self.assertTrue(old)
        off = inst.log_size()
        r = inst.mailctl("reload", check=False)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIsNotNone(inst.wait_log(r"reload -- configuration", 5,
                                           off), inst.log_since(off))
        ps = inst.wait_procs(lambda ps: any(p["name"] == "smtpd" and
                                            p["pid"] not in old
                                            for p in ps), 5)
        new = [p["pid"] for p in ps if p["name"] == "smtpd" and
               p["pid"] not in old]
        self.assertTrue(new, "no new smtpd after the reload")
        time.sleep(0.5)
        # the old smtpd that holds the session is still there
        alive = [pid for pid in old if pid_alive(pid)]
        self.assertTrue(alive, "every old smtpd exited with a session open")
        s.sendall(b"MAIL FROM:<sender@client.example>\r\n")
        reply = read_reply(s)
        self.assertTrue(reply.startswith("250"),
                        "idle session after reload got %r" % reply)
        s.sendall(b"RCPT TO:<%s>\r\n" % ALICE.encode())
        self.assertTrue(read_reply(s).startswith("250"))
        s.sendall(b"QUIT\r\n")
        self.assertTrue(read_reply(s).startswith("221"))
        s.close()
        # with its last session gone, the retired smtpd exits
        for pid in alive:
            self.assertTrue(wait_pid_gone(pid, 10), "old smtpd %d still "
                            "running after its session ended" % pid)
        self.assertEqual(set(inst.pids("smtpd")) & set(old), set())

    def test_bad_reload_keeps_running(self):
        inst = self.new().start()
        inst.wait_settled()
        old = sorted(p["pid"] for p in inst.procs())
        inst.set_main(message_size_limit="abc")
        # mailctl reads main.cf itself and refuses
        r = inst.mailctl("reload", check=False)
        self.assertNotEqual(r.returncode, 0, r.stdout)
        self.assertIn("message_size_limit", r.stdout + r.stderr)
        # master refuses too and keeps the old configuration
        off = inst.log_size()
        os.kill(inst.master_pid(), signal.SIGHUP)
        self.assertIsNotNone(inst.wait_log(
            r"reload failed, old configuration kept: .*message_size_limit",
            5, off), inst.log_since(off))
        time.sleep(0.5)
        self.assertEqual(sorted(p["pid"] for p in inst.procs()), old,
                         inst.log())
        self.assertIsNone(inst.proc.poll())
        self.deliver_ok(inst, "bad-reload@t")


# ---------------------------------------------------------------- 6 --
class TestGracefulStop(SystemTest):

    def test_transaction_finishes(self):
        inst, s = self.ehlo_session(timeout=20)
        s.sendall(b"MAIL FROM:<sender@client.example>\r\n")
        self.assertTrue(read_reply(s).startswith("250"))
        s.sendall(b"RCPT TO:<alice@example.com>\r\n")
        self.assertTrue(read_reply(s).startswith("250"))
        s.sendall(b"DATA\r\n")
        self.assertTrue(read_reply(s).startswith("354"))
        msg = make_message("graceful@t").encode()
        s.sendall(msg[:40])
        time.sleep(0.2)
        t0 = time.time()
        inst.proc.send_signal(signal.SIGTERM)
        time.sleep(1.0)
        self.assertIsNone(inst.proc.poll(),
                          "master did not wait for the transaction")
        s.sendall(msg[40:] + b"\r\n.\r\n")
        reply = read_reply(s)
        self.assertTrue(reply.startswith("250"), reply)
        # then the stopping server closes the now idle session
        rest = read_reply(s)
        self.assertTrue(rest == "" or rest.startswith("421"), rest)
        s.close()
        timeout = 10  # master_stop_timeout of the harness
        inst.proc.wait(timeout + 2)
        self.assertLess(time.time() - t0, timeout)
        self.assertNotIn("killing them", inst.log())
        delivered = "graceful@t" in inst.message_ids(ALICE)
        if not delivered:
            self.assertEqual(len(inst.queue_files()), 1,
                             "acknowledged message neither delivered nor "
                             "queued")
        inst.stop()
        inst.start()
        self.assertTrue(inst.wait_queue_empty(15), inst.log())
        self.assertEqual(inst.message_ids(ALICE).count("graceful@t"), 1)

    def test_idle_session_gets_421(self):
        inst, s = self.ehlo_session()
        t0 = time.time()
        inst.proc.send_signal(signal.SIGTERM)
        reply = read_reply(s)
        self.assertTrue(reply.startswith("421"), reply)
        self.assertEqual(s.recv(100), b"")
        s.close()
        inst.proc.wait(10)
        self.assertLess(time.time() - t0, 5)
        self.assertEqual(inst.proc.returncode, 0)


# ---------------------------------------------------------------- 7 --
class TestLoad(SystemTest):

    def test_200_messages_10_connections(self):
        inst = self.new().start()
        inst.wait_settled()
        t0 = time.time()
        ld = Load(inst, 200, 10).start()
        self.assertTrue(ld.wait(90), ld.errors[:5])
        self.assertEqual(ld.retries, 0, ld.errors[:5])
        deadline = time.time() + 60
        while time.time() < deadline:
            if len(inst.messages(ALICE)) >= 200 and not inst.queue_files():
                break
            time.sleep(0.1)
        ids = collections.Counter(inst.message_ids(ALICE))
        print("\nload: 200 messages delivered in %.1fs" % (time.time() - t0))
        self.assertEqual(set(ids), set(ld.ids))
        self.assertEqual([m for m, c in ids.items() if c != 1], [])
        self.assertEqual(len(inst.messages(ALICE)), 200)
        self.assertTrue(inst.wait_queue_empty(5))
        self.assertEqual(inst.incoming_files(), [])


# ---------------------------------------------------------------- 8 --
class TestCrashSafety(SystemTest):

    def crash_during_load(self, victim):
        inst = self.new().start()
        inst.wait_settled()
        ld = Load(inst, 200, 10, deadline=90).start()
        deadline = time.time() + 30
        while ld.n_acked() < 50 and time.time() < deadline:
            time.sleep(0.002)
        old = inst.pids(victim)
        self.assertTrue(old)
        off = inst.log_size()
        for pid in old:
            os.kill(pid, signal.SIGKILL)
        at_kill = ld.n_acked()
        self.assertIsNotNone(inst.wait_new_pid(victim, old, 5),
                             "%s not restarted" % victim)
        self.assertTrue(ld.wait(90), "clients could not finish: %s" %
                        ld.errors[:5])
        acked = set(ld.acked)
        deadline = time.time() + 60
        while time.time() < deadline:
            got = set(inst.message_ids(ALICE))
            if acked <= got and not inst.queue_files():
                break
            time.sleep(0.2)
        ids = collections.Counter(inst.message_ids(ALICE))
        missing = acked - set(ids)
        dups = sum(c - 1 for c in ids.values())
        print("\ncrash %s: killed %d process(es) at %d acked; %d retries; "
              "%d delivered files, %d duplicates, %d missing" %
              (victim, len(old), at_kill, ld.retries,
               sum(ids.values()), dups, len(missing)))
        for pid in old:
            self.assertIn("pid %d killed by signal 9" % pid,
                          inst.log_since(off))
        self.assertEqual(missing, set(), "acknowledged mail lost")
        self.assertEqual(set(ids) - set(ld.ids), set())
        self.assertLessEqual(dups, 10)
        self.assertEqual(inst.queue_files(), [],
                         "queue did not drain:\n" + inst.log()[-3000:])
        # a killed smtpd may leave unfinished files in incoming/: never
        # acknowledged, never delivered, removed at the next start
        left = inst.incoming_files()
        if left:
            print("crash %s: %d unfinished file(s) left in incoming/" %
                  (victim, len(left)))
        off = inst.log_size()
        self.restart(inst)
        self.assertEqual(inst.incoming_files(), [])
        for name in left:
            self.assertIn("removed uncommitted file incoming/%s" % name,
                          inst.log_since(off))
        time.sleep(1.5)
        self.assertEqual(collections.Counter(inst.message_ids(ALICE)), ids)
        self.assertEqual(inst.queue_files(), [])

    def test_crash_smtpd(self):
        self.crash_during_load("smtpd")

    def test_crash_qmgr(self):
        self.crash_during_load("qmgr")

    def test_crash_local(self):
        self.crash_during_load("local")


# ---------------------------------------------------------------- 9 --
class TestFailpoints(SystemTest):

    def test_commit_failure_gives_451_and_no_file(self):
        for point in ("qfile-before-fsync", "qfile-before-rename",
                      "qfile-after-rename"):
            with self.subTest(failpoint=point):
                inst = self.new(env={"YOUJU_FAILPOINT": point + ":fail"})
                inst.start()
                inst.wait_settled()
                s = inst.smtp()
                s.ehlo("client.example")
                for i in range(2):
                    s.mail("sender@client.example")
                    s.rcpt(ALICE)
                    code, msg = s.data(make_message("fp%d@t" % i))
                    self.assertEqual(code, 451, msg)
                    self.assertEqual(inst.queue_files(), [])
                    self.assertEqual(inst.incoming_files(), [])
                s.quit()
                self.assertIn("cannot commit queue file", inst.log())
                time.sleep(1.5)  # one queue run: nothing to deliver
                self.assertEqual(inst.messages(ALICE), [])
                self.assertEqual(inst.queue_files(), [])
                inst.stop()

    def crash_in_data(self, inst, mid):
        """Send message mid to alice over smtplib while a crash failpoint
        is armed: the client is cut off in DATA, master logs the kill."""
        s = inst.smtp()
        s.ehlo("client.example")
        s.mail("sender@client.example")
        s.rcpt(ALICE)
        with self.assertRaises(smtplib.SMTPServerDisconnected):
            s.data(make_message(mid))
        s.close()
        self.assertIsNotNone(inst.wait_log(r"killed by signal 9", 3))

    def test_crash_after_rename(self):
        inst = self.new(env={"YOUJU_FAILPOINT": "qfile-after-rename:crash"})
        inst.start()
        inst.wait_settled()
        old = inst.pids("smtpd")
        self.crash_in_data(inst, "after-rename@t")
        self.assertIsNotNone(inst.wait_new_pid("smtpd", old, 3))
        # committed but never acknowledged: may be delivered, at most once
        time.sleep(2)
        inst.stop()
        inst.env = {}
        inst.start()
        inst.wait_settled()
        self.assertEqual(inst.incoming_files(), [])
        self.assertTrue(inst.wait_queue_empty(10), inst.log())
        self.assertLessEqual(
            inst.message_ids(ALICE).count("after-rename@t"), 1)
        self.deliver_ok(inst, "after-crash@t")

    def test_crash_before_fsync_removed_at_start(self):
        """A crash before the queue file's fsync (a failpoint): the client
        gets no reply, the unfinished file stays in incoming/, the next
        start removes it and it is never delivered.  It cannot show that
        no 250 went out before the commit (a reply queued before the crash
        dies in smtpd's buffer): test_durability.py checks that order."""
        inst = self.new(env={"YOUJU_FAILPOINT": "qfile-before-fsync:crash"})
        inst.start()
        inst.wait_settled()
        self.crash_in_data(inst, "before-fsync@t")
        left = inst.incoming_files()
        self.assertEqual(len(left), 1, "the crash left no file in "
                         "incoming/ (is the failpoint where it should be?)")
        self.assertEqual(inst.queue_files(), [])
        inst.stop()
        inst.env = {}
        off = inst.log_size()
        inst.start()
        inst.wait_settled()
        self.assertEqual(inst.incoming_files(), [])
        self.assertIn("removed uncommitted file incoming/%s" % left[0],
                      inst.log_since(off))
        self.deliver_ok(inst, "after-fsync-crash@t")
        self.assertNotIn("before-fsync@t", inst.message_ids(ALICE))


# --------------------------------------------------------------- 10 --
class TestQueueIndex(SystemTest):

    def test_index_rebuilt_from_files(self):
        inst = self.new().start()
        inst.wait_settled()
        # one message with a local (delivered) and a remote (deferred)
        # recipient: the done record must survive the loss of the index
        s = inst.smtp()
        s.ehlo("client.example")
        s.sendmail("sender@client.example",
                   [ALICE, "carol@remote.example"],
                   make_message("index@t"))
        s.quit()
        self.assertIsNotNone(inst.wait_log(r"to=<carol@remote\.example>.*"
                                           r"deferred", 10), inst.log())
        self.assertEqual(inst.wait_messages(ALICE, 1, 10) and
                         inst.message_ids(ALICE), ["index@t"])
        time.sleep(1.5)  # index sync happens once a second
        files = inst.queue_files()
        self.assertEqual(len(files), 1)
        inst.stop()
        db = os.path.join(inst.queue, "index", "queue.db")
        self.assertTrue(os.path.exists(db))
        os.unlink(db)
        off = inst.log_size()
        inst.start()
        inst.wait_settled()
        self.assertIsNotNone(inst.wait_log(
            r"started: 1 messages in the queue", 5, off),
            inst.log_since(off))
        self.assertTrue(os.path.exists(db))
        time.sleep(2.5)  # a few queue runs
        self.assertEqual(inst.queue_files(), files)
        self.assertEqual(inst.message_ids(ALICE), ["index@t"],
                         "finished recipient delivered again")

    def test_garbage_file_moved_to_corrupt(self):
        inst = self.new().start()
        inst.wait_settled()
        uid, gid = owner_ids()
        qid = "1K19B0000000" + "7QXZ"
        self.assertTrue(len(qid) == 16 and
                        all(c in QID_ALPHABET for c in qid))
        d = os.path.join(inst.queue, "queue", qid[-2], qid[-1])
        os.makedirs(d, exist_ok=True)
        os.chown(os.path.dirname(d), uid, gid)
        os.chown(d, uid, gid)
        path = os.path.join(d, qid)
        with open(path + ".tmp", "wb") as f:
            f.write(b"this is not a queue file\n" * 10)
        os.chown(path + ".tmp", uid, gid)
        os.chmod(path + ".tmp", 0o600)
        os.rename(path + ".tmp", path)
        dst = os.path.join(inst.queue, "corrupt", qid)
        deadline = time.time() + 5
        while time.time() < deadline and not os.path.exists(dst):
            time.sleep(0.05)
        self.assertTrue(os.path.exists(dst), inst.log())
        self.assertFalse(os.path.exists(path))
        self.assertIsNotNone(inst.wait_log(
            r"%s: damaged queue file moved to corrupt/" % qid, 2),
            inst.log())
        with open(dst, "rb") as f:
            self.assertEqual(f.read(), b"this is not a queue file\n" * 10)
        # the queue goes on working
        self.deliver_ok(inst, "after-corrupt@t")
        self.assertTrue(inst.wait_queue_empty(5))


if __name__ == "__main__":
    unittest.main()
