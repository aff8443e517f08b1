"""test_sendmail.py - local submission end to end (issue 12, item 1).

The real sendmail(1) program, run as an unprivileged local user (the
harness's youju-test system user) and as root, hands messages to a running
instance's pickup(8) over queue_directory/public/pickup.  Mail for a
local user lands in its Maildir; mail for remote.test goes to an aiosmtpd
peer (relayhost) that records the envelope.  Checked: the sender is the
user's own address (user@myorigin) whatever -f says unless root submits;
the "uid=N from=<...>" log line and the Received header; -t with To, Cc
and Bcc (Bcc not passed on); a message without From, Date, Message-Id
gets them; -bs (SMTP on stdin/stdout); the sysexits exit status of bad
command lines, bad addresses, bad content, a root-only mode run by a
user, and a mail system that is not running (75, nothing queued);
MAIL_CONFIG and -C; mailq and newaliases under their own names (argv[0]);
pickup_uid_message_rate_limit; pickup killed before it accepted a
connection (the next one serves it, once) and while it waited for the
DKIM broker (75, nothing queued); DKIM signatures on what a local user
sends out (verified by dkimpy against the class's dnsmasq, as in
test_dkim); make install: the three names as links, the man pages, no
set-id file, and SENDMAIL_NAMES=no.
"""
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

import harness
from harness import Instance, free_port, wait_for

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_outbound import Peer  # noqa: E402
import test_dkim as tdkim  # noqa: E402

EX_USAGE, EX_DATAERR, EX_NOUSER, EX_TEMPFAIL, EX_NOPERM = 64, 65, 67, 75, 77


def user_ids():
    pw = pwd.getpwnam(harness.TEST_USER)
    return pw.pw_uid, pw.pw_gid


def run_sendmail(args, input=b"", as_user=True, env=None, argv0=None,
                 timeout=60):
    """Run sendmail ARGS (as the test user unless as_user is False);
    argv0 names a link to it (mailq, newaliases).  Returns the
    CompletedProcess with bytes output."""
    prog = harness.sendmail_path()
    if argv0 is not None:
        d = tempfile.mkdtemp(prefix="youju-e2e-sm-")
        os.chmod(d, 0o755)
        link = os.path.join(d, argv0)
        os.symlink(prog, link)
        prog = link
    e = {"PATH": "/usr/bin:/bin", "ASAN_OPTIONS": "detect_leaks=0",
         "UBSAN_OPTIONS": "print_stacktrace=1"}
    e.update(env or {})
    kw = {}
    if as_user:
        uid, gid = user_ids()
        kw = {"user": uid, "group": gid, "extra_groups": []}
        e["HOME"] = "/nonexistent"
    try:
        return subprocess.run([prog] + list(args), input=input,
                              capture_output=True, timeout=timeout,
                              env=e, cwd="/", **kw)
    finally:
        if argv0 is not None:
            shutil.rmtree(os.path.dirname(prog), ignore_errors=True)


def sendmail_waiting(testcase, args, msg, as_user=True):
    """Start sendmail ARGS with msg on stdin; after a second it must still
    be waiting (for a pickup that the caller holds up).  The process,
    its stderr a pipe."""
    kw = {}
    if as_user:
        uid, gid = user_ids()
        kw = {"user": uid, "group": gid, "extra_groups": []}
    proc = subprocess.Popen(
        [harness.sendmail_path()] + list(args), stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd="/",
        env={"PATH": "/usr/bin:/bin", "ASAN_OPTIONS": "detect_leaks=0"},
        **kw)
    proc.stdin.write(msg)
    proc.stdin.close()
    time.sleep(1)
    testcase.assertIsNone(proc.poll())
    return proc


def sanitizer_clean(testcase, r):
    err = r.stderr.decode(errors="replace")
    testcase.assertNotIn("AddressSanitizer", err)
    testcase.assertNotIn("runtime error:", err)


class SendmailTest(harness.InstanceTestCase):
    """One instance with a recording peer as relayhost."""

    EXPECTED_KILLS = ("pickup",)

    @classmethod
    def setUpClass(cls):
        cls.peer = Peer("127.0.0.1", free_port())
        cls.inst = Instance(main={
            "relayhost": "[127.0.0.1]:%d" % cls.peer.ctl.port,
            "pickup_uid_message_rate_limit": "0"})
        try:
            cls.inst.start()
            cls.inst.wait_settled()
        except Exception:
            cls.inst.cleanup()
            cls.peer.stop()
            raise
        cls.uid = user_ids()[0]
        cls.login = harness.TEST_USER

    @classmethod
    def tearDownClass(cls):
        cls.peer.stop()
        super().tearDownClass()

    def send(self, args, msg, **kw):
        return run_sendmail(["-C", self.inst.dir] + list(args),
                            input=msg.encode() if isinstance(msg, str)
                            else msg, **kw)

    def delivered(self, user, token, timeout=20):
        p = harness.find_message(self.inst, user, token.encode(),
                                 timeout=timeout)
        self.assertIsNotNone(p, "no message with %s for %s" % (token, user))
        return harness.read_text(p)

    def remote(self, token, timeout=20):
        self.assertTrue(wait_for(lambda: self.peer.rec.with_token(token),
                                 timeout), "the peer got no %s" % token)
        return self.peer.rec.with_token(token)[0]

    # --- delivery ------------------------------------------------------
    def test_t_local_and_remote(self):
        """-t as an unprivileged user: To and Cc delivered, Bcc too but
        not shown, the sender the user's own address, the uid= line."""
        off = self.inst.log_size()
        msg = ("To: Alice <alice@example.com>, someone@remote.test\n"
               "Cc: bob@example.com\nBcc: hidden@remote.test\n"
               "Subject: tok-t1\n\nbody tok-t1\n")
        r = self.send(["-t"], msg)
        sanitizer_clean(self, r)
        self.assertEqual((r.returncode, r.stderr), (0, b""))
        own = "%s@example.com" % self.login
        for user in ("alice@example.com", "bob@example.com"):
            text = self.delivered(user, "tok-t1")
            self.assertIn("Return-Path: <%s>" % own, text)
            self.assertRegex(text, r"From: .*<%s>" % re.escape(own))
            self.assertRegex(text, r"Received: by mx\.example\.com "
                             r"\(youju, from userid %d\)" % self.uid)
            self.assertRegex(text, r"(?m)^Date: ")
            self.assertRegex(text, r"(?m)^Message-Id: <")
            self.assertNotIn("hidden@remote.test", text)
            self.assertNotIn("Bcc:", text)
        got = self.remote("tok-t1")
        self.assertEqual(got["mail_from"], own)
        rcpts = {a for m in self.peer.rec.with_token("tok-t1")
                 for a in m["rcpt_tos"]}
        self.assertEqual(rcpts, {"someone@remote.test",
                                 "hidden@remote.test"})
        log = self.inst.log_since(off)
        self.assertRegex(log, r"[0-9A-Za-z]+: uid=%d from=<%s>" %
                         (self.uid, re.escape(own)))

    def test_recipients_on_the_command_line(self):
        """Recipients as arguments; a bare name gets @myorigin; a "."
        line ends the input without -i and is kept with -i."""
        r = self.send(["alice"], "Subject: tok-cl1\n\nline\n.\nafter\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        text = self.delivered("alice@example.com", "tok-cl1")
        self.assertNotIn("after", text)
        self.assertRegex(text, r"Delivered-To: alice@example.com|"
                         r"alice@example.com")
        r = self.send(["-i", "alice@example.com"],
                      "Subject: tok-cl2\n\nline\n.\nafter-tok\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        text = self.delivered("alice@example.com", "tok-cl2")
        self.assertIn("after-tok", text)

    def test_from_header_kept_and_fullname(self):
        """A From line the message has is kept; -F names the sender in the
        From pickup adds (8-bit as an RFC 2047 word)."""
        r = self.send(["-F", "Zo\u00eb Tester", "alice@example.com"],
                      "Subject: tok-fn1\n\nx\n".encode())
        self.assertEqual(r.returncode, 0, r.stderr)
        text = self.delivered("alice@example.com", "tok-fn1")
        self.assertIn("From: =?UTF-8?B?Wm/DqyBUZXN0ZXI=?= <%s@example.com>"
                      % self.login, text)
        r = self.send(["alice@example.com"],
                      "From: Someone <list@example.com>\nSubject: tok-fn2"
                      "\n\nx\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        text = self.delivered("alice@example.com", "tok-fn2")
        self.assertIn("From: Someone <list@example.com>", text)
        self.assertIn("Return-Path: <%s@example.com>" % self.login, text)

    def test_f_only_for_root(self):
        """-f for another address: replaced (and said) for a user, kept for
        root; -f <> from root gives the null sender."""
        r = self.send(["-f", "bob@example.com", "someone@remote.test"],
                      "Subject: tok-f1\n\nx\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(b"-f bob@example.com ignored", r.stderr)
        self.assertEqual(self.remote("tok-f1")["mail_from"],
                         "%s@example.com" % self.login)
        r = self.send(["-f", "bob@example.com", "someone@remote.test"],
                      "Subject: tok-f2\n\nx\n", as_user=False)
        self.assertEqual((r.returncode, r.stderr), (0, b""))
        self.assertEqual(self.remote("tok-f2")["mail_from"],
                         "bob@example.com")
        r = self.send(["-f", "", "someone@remote.test"],
                      "Subject: tok-f3\n\nx\n", as_user=False)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(self.remote("tok-f3")["mail_from"], ("", "<>"))
        # a user's -f for its own address is no warning
        r = self.send(["-f", self.login, "someone@remote.test"],
                      "Subject: tok-f4\n\nx\n")
        self.assertEqual((r.returncode, r.stderr), (0, b""))

    # --- refusals and exit codes ----------------------------------------
    def test_exit_codes_bad_input(self):
        cases = [
            (["-y", "alice"], b"x\n", EX_USAGE, b"unknown option"),
            (["-bd"], b"", EX_USAGE, b"not supported"),
            ([], b"Subject: x\n\nx\n", EX_USAGE, b"no recipients"),
            (["<alice@example.com"], b"x\n", EX_USAGE,
             b"bad recipient address"),
            (["c@"], b"x\n", EX_NOUSER, b"not sent"),
            (["-t"], b"Subject: no rcpt\n\nx\n", EX_USAGE,
             b"no recipients"),
            (["-t"], b"To: \"broken\n\nx\n", EX_DATAERR, b"malformed"),
            (["alice"], b"Subject: x\n\nNUL \x00 here\n", EX_DATAERR,
             b"NUL"),
            (["-f", "a b@", "alice"], b"x\n", EX_NOUSER, b"not sent"),
        ]
        before = set(self.inst.queue_files())
        for args, data, code, text in cases:
            r = self.send(args, data)
            sanitizer_clean(self, r)
            self.assertEqual(r.returncode, code, (args, r.stderr))
            self.assertIn(text, r.stderr, args)
        # nothing was queued by any of them
        time.sleep(0.3)
        self.assertEqual(set(self.inst.queue_files()) - before, set())

    def test_root_only_modes(self):
        """mailq, -q and newaliases are the administrator's."""
        for args, argv0 in ((["-bp"], None), ([], "mailq"),
                            (["-q"], None), ([], "newaliases")):
            r = run_sendmail(["-C", self.inst.dir] + args, argv0=argv0)
            self.assertEqual(r.returncode, EX_NOPERM, (args, argv0))
            self.assertIn(b"only root may", r.stderr)

    def test_mailq_and_flush(self):
        """mailq (as root) lists a deferred message with its sender and
        recipient; sendmail -q flushes."""
        self.peer.rec.rcpt_reply = lambda a, n: \
            "451 4.3.0 later" if a == "later@remote.test" else None
        try:
            r = self.send(["later@remote.test"], "Subject: tok-q1\n\nx\n")
            self.assertEqual(r.returncode, 0, r.stderr)
            qid = re.search(rb"queued as ([0-9A-Za-z]+)", run_sendmail(
                ["-C", self.inst.dir, "-v", "alice"], input=b"x\n")
                .stderr)
            self.assertIsNotNone(qid)
            self.assertTrue(wait_for(lambda: b"later@remote.test" in
                                     run_sendmail(["-C", self.inst.dir],
                                                  argv0="mailq",
                                                  as_user=False).stdout,
                                     20))
            r = run_sendmail(["-C", self.inst.dir], argv0="mailq",
                             as_user=False)
            self.assertEqual(r.returncode, 0, r.stderr)
            out = r.stdout.decode()
            self.assertIn("%s@example.com" % self.login, out)
            self.assertIn("later@remote.test", out)
            r = run_sendmail(["-C", self.inst.dir, "-bp"], as_user=False)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn(b"later@remote.test", r.stdout)
            r = run_sendmail(["-C", self.inst.dir, "-q"], as_user=False)
            self.assertEqual(r.returncode, 0, r.stderr)
        finally:
            self.peer.rec.rcpt_reply = None
        # accepted now: the flush (or the next retry) delivers it
        self.remote("tok-q1", timeout=30)

    def test_newaliases(self):
        """newaliases as root checks the aliases and reloads; a broken
        aliases file is reported and nothing is reloaded."""
        path = os.path.join(self.inst.dir, "aliases")
        with open(path) as f:
            old = f.read()
        try:
            with open(path, "w") as f:
                f.write(old + "team: alice@example.com, bob@example.com\n")
            off = self.inst.log_size()
            r = run_sendmail(["-C", self.inst.dir], argv0="newaliases",
                             as_user=False)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn(b"reloaded", r.stdout)
            self.inst.wait_log(r"reload", since=off)
            self.inst.wait_settled()
            r = self.send(["team"], "Subject: tok-al1\n\nx\n")
            self.assertEqual(r.returncode, 0, r.stderr)
            self.delivered("bob@example.com", "tok-al1")
            # a line it skips is a warning; a file it cannot read an error
            with open(path, "w") as f:
                f.write(old + "broken line without a colon\n")
            r = run_sendmail(["-C", self.inst.dir, "-bi"], as_user=False)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn(b"no ':' after the alias name", r.stderr)
            os.rename(path, path + ".saved")
            os.mkdir(path)
            try:
                r = run_sendmail(["-C", self.inst.dir, "-bi"],
                                 as_user=False)
            finally:
                os.rmdir(path)
                os.rename(path + ".saved", path)
            self.assertEqual(r.returncode, EX_DATAERR, r.stderr)
            self.assertIn(b"not a regular file", r.stderr)
        finally:
            with open(path, "w") as f:
                f.write(old)
            self.inst.wait_settled()

    def test_bs_session(self):
        """sendmail -bs: an SMTP session on stdin/stdout; the reply to the
        dot is pickup's queue id; a user's MAIL FROM is replaced."""
        s = ("EHLO me\r\nMAIL FROM:<bob@example.com>\r\n"
             "RCPT TO:<alice@example.com>\r\nRCPT TO:<someone@remote.test>"
             "\r\nDATA\r\nSubject: tok-bs1\r\n\r\n..dot line\r\n.\r\n"
             "NOOP\r\nFOO\r\nRCPT TO:<x@example.com>\r\nQUIT\r\n")
        r = self.send(["-bs"], s)
        sanitizer_clean(self, r)
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = r.stdout.decode().split("\r\n")
        codes = [l[:4] for l in lines if l]
        self.assertTrue(lines[0].startswith("220 mx.example.com ESMTP"),
                        lines)
        self.assertIn("250-PIPELINING", lines)
        self.assertEqual([c for c in codes if not c.startswith("250-")],
                         ["220 ", "250 ", "250 ", "250 ", "250 ", "354 ",
                          "250 ", "250 ", "502 ", "503 ", "221 "], lines)
        self.assertTrue(any("queued as" in l and "sent as <%s@example.com>"
                            % self.login in l for l in lines), lines)
        text = self.delivered("alice@example.com", "tok-bs1")
        self.assertIn("\n.dot line", text)
        self.assertIn("Return-Path: <%s@example.com>" % self.login, text)
        # root's MAIL FROM is kept
        s = ("HELO me\r\nMAIL FROM:<bob@example.com>\r\n"
             "RCPT TO:<someone@remote.test>\r\nDATA\r\nSubject: tok-bs2"
             "\r\n\r\nx\r\n.\r\nQUIT\r\n")
        r = self.send(["-bs"], s, as_user=False)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout.decode(), r"250 2\.0\.0 Ok: queued as "
                         r"[0-9A-Za-z]+\r\n221")
        self.assertEqual(self.remote("tok-bs2")["mail_from"],
                         "bob@example.com")

    def test_mail_config_and_C(self):
        """The instance from MAIL_CONFIG, and -C DIR/main.cf (Sendmail's
        file form); a missing one is EX_CONFIG (78)."""
        r = run_sendmail(["alice"], input=b"Subject: tok-mc1\n\nx\n",
                         env={"MAIL_CONFIG": self.inst.dir})
        self.assertEqual(r.returncode, 0, r.stderr)
        self.delivered("alice@example.com", "tok-mc1")
        r = run_sendmail(["-C", os.path.join(self.inst.dir, "main.cf"),
                          "alice"], input=b"Subject: tok-mc2\n\nx\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.delivered("alice@example.com", "tok-mc2")
        r = run_sendmail(["-C", "/nonexistent-youju", "alice"],
                         input=b"x\n")
        self.assertEqual(r.returncode, 78, r.stderr)
        self.assertIn(b"no main.cf in /nonexistent-youju: name the mail "
                      b"system's configuration directory with -C DIR or "
                      b"MAIL_CONFIG", r.stderr)

    def test_pickup_socket_and_process(self):
        """public/ is root's 0711, the socket 0666 root's; pickup runs as
        mail_owner chrooted to the queue."""
        st = os.stat(os.path.join(self.inst.queue, "public"))
        self.assertEqual((st.st_uid, st.st_mode & 0o7777), (0, 0o711))
        st = os.stat(os.path.join(self.inst.queue, "public", "pickup"))
        self.assertEqual((st.st_uid, st.st_mode & 0o777), (0, 0o666))
        owner = pwd.getpwnam(harness.MAIL_OWNER).pw_uid
        p = [p for p in self.inst.procs() if p["name"] == "pickup"]
        self.assertEqual(len(p), 1)
        self.assertEqual(p[0]["uids"][0], owner)
        self.assertEqual(os.readlink("/proc/%d/root" % p[0]["pid"]),
                         os.path.realpath(self.inst.queue))

    def test_pickup_killed_before_accept(self):
        """A connection made while pickup is stopped waits in master's
        listening socket: pickup is killed, master starts a new one, and
        that one serves it; the message is queued once."""
        old = self.inst.pids("pickup")
        for p in old:
            os.kill(p, signal.SIGSTOP)
        proc = sendmail_waiting(self, ["-C", self.inst.dir, "alice"],
                                b"Subject: tok-kill1\n\nx\n")
        for p in old:
            os.kill(p, signal.SIGKILL)
            os.kill(p, signal.SIGCONT)
        self.assertEqual(proc.wait(30), 0)
        proc.stderr.close()
        self.assertIsNotNone(self.inst.wait_new_pid("pickup", old, 5))
        self.delivered("alice@example.com", "tok-kill1")
        time.sleep(1)
        self.assertEqual(len([m for m in self.inst.messages(
            "alice@example.com") if b"tok-kill1" in harness.read_file(m)]),
            1)

    def test_pickup_protocol_abuse(self):
        """A user who talks to the socket directly: a wrong role, frames
        out of order and garbage each get a refusal or a close, and
        pickup goes on serving."""
        path = os.path.join(self.inst.queue, "public", "pickup")
        pid = self.inst.pids("pickup")
        for data in (b"\x00" * 64, b"GET / HTTP/1.0\r\n\r\n",
                     os.urandom(512)):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
            s.settimeout(5)
            s.connect(path)
            try:
                s.send(data)
                while s.recv(4096):
                    pass
            except OSError:
                pass
            s.close()
        self.assertEqual(self.inst.pids("pickup"), pid)
        r = self.send(["alice"], "Subject: tok-ab1\n\nx\n")
        self.assertEqual(r.returncode, 0, r.stderr)


class SendmailDkimTest(tdkim.DkimCase):
    """What a local user sends out is signed like authenticated mail:
    both keys of example.com, valid for dkimpy, on the From pickup adds
    and on a From the message has; a stopped broker is a 4xx (75) and
    nothing is queued; pickup killed during the signing is 75 too."""

    EXPECTED_KILLS = ("pickup",)

    def sendmail(self, msg, as_user=True):
        return run_sendmail(["-C", self.inst.dir, tdkim.REMOTE],
                            input=msg, as_user=as_user)

    def test_signed(self):
        off = self.inst.log_size()
        r = self.sendmail(b"Subject: sm-dkim1\n\nfrom cron\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        data = self.received("sm-dkim1")
        self.assertIn(b"From: <%s@example.com>" %
                      harness.TEST_USER.encode(), data)
        self.assertSigned(data, algs=["ed25519-sha256", "rsa-sha256"])
        self.assertEqual(len(re.findall(
            r"DKIM-Signature added: d=example\.com",
            self.inst.log_since(off))), 2)
        r = self.sendmail(b"From: Alice <alice@example.com>\n"
                          b"Subject: sm-dkim2\n\nhello\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertSigned(self.received("sm-dkim2"))

    def test_killed_while_signing(self):
        """(before test_signed and test_stopped_broker, with a fresh
        pickup) pickup killed while it waits for the broker, after the
        whole message came: sendmail exits 75 and nothing is queued, so
        nothing acknowledged is lost and nothing is sent twice."""
        auth = self.inst.pids("auth")
        old = self.inst.pids("pickup")
        before = set(self.inst.queue_files())
        for p in auth:
            os.kill(p, signal.SIGSTOP)
        try:
            proc = sendmail_waiting(self, ["-C", self.inst.dir,
                                           tdkim.REMOTE],
                                    b"Subject: sm-kill\n\nx\n",
                                    as_user=False)
            for p in old:
                os.kill(p, signal.SIGKILL)
            self.assertEqual(proc.wait(30), EX_TEMPFAIL)
            self.assertIn(b"was not sent", proc.stderr.read())
            proc.stderr.close()
        finally:
            for p in auth:
                os.kill(p, signal.SIGCONT)
        self.assertIsNotNone(self.inst.wait_new_pid("pickup", old, 5))
        self.assertEqual(set(self.inst.queue_files()) - before, set())

    def test_stopped_broker(self):
        """(after test_signed: the pause after a failure refuses more)"""
        pids = self.inst.pids("auth")
        self.assertTrue(pids)
        before = set(self.inst.queue_files())
        for p in pids:
            os.kill(p, signal.SIGSTOP)
        try:
            t0 = time.time()
            r = self.sendmail(b"Subject: sm-dkim3\n\nx\n")
            self.assertLess(time.time() - t0, 40)
        finally:
            for p in pids:
                os.kill(p, signal.SIGCONT)
        self.assertEqual(r.returncode, EX_TEMPFAIL, r.stderr)
        self.assertIn(b"cannot DKIM-sign the message now", r.stderr)
        self.assertEqual(set(self.inst.queue_files()) - before, set())


class RateLimitTest(harness.InstanceTestCase):
    """pickup_uid_message_rate_limit: a user's third message in the
    window is refused with EX_TEMPFAIL; root is not limited."""

    @classmethod
    def setUpClass(cls):
        cls.inst = Instance(main={"pickup_uid_message_rate_limit": "2",
                                  "anvil_rate_time_unit": "1h"})
        cls.inst.start()
        cls.inst.wait_settled()

    def test_rate(self):
        off = self.inst.log_size()
        for i in range(2):
            r = run_sendmail(["-C", self.inst.dir, "alice"],
                             input=b"Subject: rate\n\nx\n")
            self.assertEqual(r.returncode, 0, r.stderr)
        r = run_sendmail(["-C", self.inst.dir, "alice"],
                         input=b"Subject: rate\n\nx\n")
        self.assertEqual(r.returncode, EX_TEMPFAIL, r.stderr)
        self.assertIn(b"too many messages", r.stderr)
        self.inst.wait_log(r"uid=%d: message refused: more than "
                           r"pickup_uid_message_rate_limit" % user_ids()[0],
                           since=off)
        for i in range(3):
            r = run_sendmail(["-C", self.inst.dir, "alice"],
                             input=b"Subject: rate\n\nx\n", as_user=False)
            self.assertEqual(r.returncode, 0, r.stderr)


class StoppedTest(unittest.TestCase):
    """youju not running: sendmail refuses with EX_TEMPFAIL and a clear
    message, and keeps nothing (there is no maildrop)."""

    def setUp(self):
        self.inst = Instance()

    def tearDown(self):
        self.inst.cleanup()

    def test_not_running(self):
        os.makedirs(os.path.join(self.inst.queue, "public"), mode=0o711)
        for args in (["alice"], ["-t"]):
            r = run_sendmail(["-C", self.inst.dir] + args,
                             input=b"To: alice@example.com\n\nx\n")
            sanitizer_clean(self, r)
            self.assertEqual(r.returncode, EX_TEMPFAIL, r.stderr)
            self.assertIn(b"the mail system is not running", r.stderr)
            self.assertIn(b"was not sent", r.stderr)
        r = run_sendmail(["-C", self.inst.dir, "-bs"],
                         input=b"HELO x\r\nMAIL FROM:<>\r\nRCPT TO:<alice>"
                         b"\r\nDATA\r\nx\r\n.\r\nQUIT\r\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(b"451 4.3.0 Error: the mail system is not running",
                      r.stdout)
        files = [os.path.join(d, f) for d, _, fs in
                 os.walk(self.inst.queue) for f in fs]
        self.assertEqual(files, [])
        # newaliases with the system stopped: checked, nothing to reload
        r = run_sendmail(["-C", self.inst.dir], argv0="newaliases",
                         as_user=False)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(b"not running", r.stdout)


class InstallNamesTest(unittest.TestCase):
    """make install: sendmail, mailq, newaliases in sbindir as links to
    libexecdir/youju/sendmail, sendmail(1) with mailq(1) and
    newaliases(1); no set-id file; SENDMAIL_NAMES=no leaves the names."""

    def install(self, *extra):
        dest = tempfile.mkdtemp(prefix="youju-e2e-install-")
        self.addCleanup(shutil.rmtree, dest, True)
        r = subprocess.run(["make", "-s", "-C", harness.BUILD, "install",
                            "DESTDIR=" + dest] + list(extra),
                           capture_output=True, text=True, timeout=600)
        self.assertEqual(r.returncode, 0, r.stderr[-3000:])
        return dest

    def setid(self, dest):
        r = subprocess.run(["find", dest, "-perm", "/6000"],
                           capture_output=True, text=True, check=True)
        return r.stdout

    def test_names(self):
        dest = self.install()
        sbin = os.path.join(dest, "usr/local/sbin")
        for n in ("sendmail", "mailq", "newaliases"):
            self.assertEqual(os.readlink(os.path.join(sbin, n)),
                             "/usr/local/libexec/youju/sendmail")
        man1 = os.path.join(dest, "usr/local/share/man/man1")
        self.assertTrue(os.path.isfile(os.path.join(man1, "sendmail.1")))
        for n in ("mailq.1", "newaliases.1"):
            self.assertEqual(os.readlink(os.path.join(man1, n)),
                             "sendmail.1")
        self.assertTrue(os.path.isfile(os.path.join(
            dest, "usr/local/share/man/man8/pickup.8")))
        self.assertTrue(os.access(os.path.join(
            dest, "usr/local/libexec/youju/pickup"), os.X_OK))
        self.assertEqual(self.setid(dest), "")

    def test_no_names(self):
        dest = self.install("SENDMAIL_NAMES=no")
        sbin = os.path.join(dest, "usr/local/sbin")
        for n in ("sendmail", "mailq", "newaliases"):
            self.assertFalse(os.path.lexists(os.path.join(sbin, n)), n)
        man1 = os.path.join(dest, "usr/local/share/man/man1")
        self.assertFalse(os.path.lexists(os.path.join(man1, "sendmail.1")))
        self.assertTrue(os.path.isfile(os.path.join(
            man1, "youju-sendmail.1")))
        self.assertTrue(os.access(os.path.join(
            dest, "usr/local/libexec/youju/sendmail"), os.X_OK))
        self.assertEqual(self.setid(dest), "")


if __name__ == "__main__":
    unittest.main()
