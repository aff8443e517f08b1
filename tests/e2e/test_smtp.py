"""test_smtp.py - the SMTP server end to end: delivery, aliases, relay
control, limits, pipelining, smuggling, protocol errors, timeouts.

Every class starts its own small instance (random loopback port) in
setUpClass and checks in tearDownClass that no daemon produced a sanitizer
report or died on a signal.  Tests talk to smtpd with smtplib and with raw
sockets; a raw Conn keeps its own input buffer so that replies that arrive
together in one segment are never lost or merged.
"""
import os
import re
import select
import time
import unittest

import harness
from harness import Conn, find_message, qid_of, read_file, wait_for

DOMAIN = "example.com"


# --- helpers -------------------------------------------------------------

def user_addr(name):
    return "%s@%s" % (name, DOMAIN)


def wait_log(inst, pattern, timeout=15):
    """The maillog once it matches regex pattern; None on timeout."""
    rx = re.compile(pattern)

    def look():
        text = inst.log()
        return text if rx.search(text) else None
    return wait_for(look, timeout)


def dir_files(path):
    out = []
    for root, _dirs, files in os.walk(path):
        out += [os.path.join(root, f) for f in files]
    return out


def incoming_files(inst):
    return dir_files(os.path.join(inst.queue, "incoming"))


def counts(inst, users):
    return {u: len(inst.messages(user_addr(u))) for u in users}


class InstanceCase(harness.InstanceTestCase):
    """One instance per class, checked for sanitizer reports at the end."""

    MAIN = {}
    ALIASES = ""
    USERS = None

    @classmethod
    def setUpClass(cls):
        users = None if cls.USERS is None else \
            [user_addr(u) for u in cls.USERS]
        # a short stop timeout: a local process blocked in accept4() on
        # the shared (blocking) listener ignores SIGTERM until killed
        main = {"master_stop_timeout": "3s"}
        main.update(cls.MAIN)
        cls.inst = harness.Instance(main=main, aliases=cls.ALIASES,
                                    users=users)
        try:
            cls.inst.start()
        except Exception:
            cls.inst.cleanup()
            raise

    def conn(self, **kw):
        return Conn(self.inst.port, **kw)


# --- 1. delivery, bytes intact ---------------------------------------------

def _large_body():
    lines = []
    n = 0
    i = 0
    while n < 200 * 1024:
        if i % 37 == 0:
            line = b"." + b"dotted line %06d " % i + b"z" * 50
        else:
            line = b"%06d " % i + bytes(
                0x21 + ((i + k) % 94) for k in range(70))
        lines.append(line)
        n += len(line) + 2
        i += 1
    return b"\r\n".join(lines) + b"\r\n"


DELIVERY_CASES = [
    # name, recipient, MAIL options, content (CRLF lines)
    ("crlf_and_dots", "alice", [],
     b"From: sender@example.org\r\nTo: alice@example.com\r\n"
     b"Subject: dots and lines\r\n\r\n"
     b"first line\r\n"
     b".a line starting with a dot\r\n"
     b"..two dots\r\n"
     b".\r\n"
     b"...\r\n"
     b" . \r\n"
     b"\r\n"
     b"trailing spaces   \r\n"
     b"last line\r\n"),
    ("8bitmime", "bob", ["BODY=8BITMIME"],
     b"From: sender@example.org\r\nSubject: eight bit\r\n"
     b"Content-Type: text/plain; charset=iso-8859-1\r\n"
     b"Content-Transfer-Encoding: 8bit\r\n\r\n"
     + bytes(range(0x80, 0x100)) + b"\r\n"
     + "h\u00e9llo w\u00f6rld \u4f60\u597d".encode("utf-8") + b"\r\n"
     + b"\xff\xfe\xfd.\x80\r\n"),
    ("large_200k", "carol", [],
     b"From: sender@example.org\r\nSubject: large\r\n\r\n" + _large_body()),
]


class DeliveryTest(InstanceCase):
    USERS = ["alice", "bob", "carol"]

    def test_delivery_bytes_intact(self):
        sender = "sender@example.org"
        for name, user, opts, content in DELIVERY_CASES:
            with self.subTest(case=name):
                rcpt = user_addr(user)
                old = set(self.inst.messages(rcpt))
                before = len(old)
                c = self.inst.smtp()
                try:
                    code, _ = c.ehlo("client.example.org")
                    self.assertEqual(code, 250)
                    code, resp = c.mail(sender, opts)
                    self.assertEqual(code, 250, resp)
                    code, resp = c.rcpt(rcpt)
                    self.assertEqual(code, 250, resp)
                    code, resp = c.data(content)
                    self.assertEqual(code, 250, resp)
                    self.assertRegex(resp, rb"^2\.0\.0 Ok: queued as \w+$")
                    qid = qid_of(resp)
                    c.quit()
                finally:
                    c.close()
                files = self.inst.wait_messages(rcpt, before + 1)
                self.assertEqual(len(files), before + 1, files)
                self.assertTrue(self.inst.wait_queue_empty(),
                                self.inst.queue_files())
                self.assertEqual(incoming_files(self.inst), [])
                new = [f for f in files if f not in old]
                self.assertEqual(len(new), 1, new)
                data = read_file(new[0])
                prefix = b"Return-Path: <%s>\nDelivered-To: %s\n" % (
                    sender.encode(), rcpt.encode())
                self.assertEqual(data[:len(prefix)], prefix)
                rest = data[len(prefix):]
                self.assertTrue(rest.startswith(b"Received: from "),
                                rest[:200])
                lines = rest.split(b"\n")
                k = 1
                while k < len(lines) and lines[k][:1] in (b" ", b"\t"):
                    k += 1
                received = b"\n".join(lines[:k])
                body = b"\n".join(lines[k:])
                self.assertIn(qid.encode(), received)
                self.assertNotIn(b"\r", received)
                expected = content.replace(b"\r\n", b"\n")
                self.assertEqual(len(body), len(expected))
                self.assertTrue(body == expected,
                                "delivered content differs at byte %d" %
                                next((j for j in range(len(body))
                                      if body[j] != expected[j]), -1))
                log = wait_log(self.inst, r"%s: removed" % qid)
                self.assertIsNotNone(log, self.inst.log())
                m = re.search(r"%s: from=<%s>, size=(\d+)" %
                              (qid, re.escape(sender)), log)
                self.assertIsNotNone(m, log)
                self.assertGreaterEqual(int(m.group(1)), len(content))
                self.assertRegex(log, r"%s: to=<%s>.*status=sent "
                                 r"\(delivered to maildir\)" %
                                 (qid, re.escape(rcpt)))

    def test_null_sender_delivered(self):
        token = b"null-sender-%d" % time.time_ns()
        with self.conn() as c:
            c.ehlo()
            r = c.cmd("MAIL FROM:<>")
            self.assertEqual(r.code, 250, r)
            r = c.cmd("RCPT TO:<alice@example.com>")
            self.assertEqual(r.code, 250, r)
            self.assertEqual(c.cmd("DATA").code, 354)
            c.send(b"Subject: " + token + b"\r\n\r\nbounce-like\r\n.\r\n")
            r = c.reply()
            self.assertEqual(r.code, 250, r)
            self.assertEqual(c.cmd("QUIT").code, 221)
        path = find_message(self.inst, "alice@example.com", token)
        self.assertIsNotNone(path)
        self.assertTrue(read_file(path).startswith(
            b"Return-Path: <>\nDelivered-To: alice@example.com\n"))


# --- 2. aliases --------------------------------------------------------------

class AliasTest(InstanceCase):
    USERS = ["alice", "bob"]
    ALIASES = "info: alice\nteam: alice, bob\npostmaster: alice\n"

    CASES = [
        # RCPT argument, expected new messages per user, orig_to in log
        ("<info@example.com>", {"alice": 1, "bob": 0}, "info@example.com"),
        ("<team@example.com>", {"alice": 1, "bob": 1}, "team@example.com"),
        ("<postmaster>", {"alice": 1, "bob": 0}, None),
        ("<postmaster@example.com>", {"alice": 1, "bob": 0},
         "postmaster@example.com"),
        # RFC 5321 4.5.1: "postmaster" is case-insensitive
        ("<Postmaster>", {"alice": 1, "bob": 0}, None),
        ("<alice@example.com>", {"alice": 1, "bob": 0}, None),
    ]

    def test_alias_delivery(self):
        for rcpt, expect, orig in self.CASES:
            with self.subTest(rcpt=rcpt):
                self.assertTrue(self.inst.wait_queue_empty())
                before = counts(self.inst, expect)
                token = b"alias-%d" % time.time_ns()
                with self.conn() as c:
                    c.ehlo()
                    self.assertEqual(
                        c.cmd("MAIL FROM:<s@example.org>").code, 250)
                    r = c.cmd("RCPT TO:" + rcpt)
                    self.assertEqual(r.code, 250, r)
                    self.assertEqual(c.cmd("DATA").code, 354)
                    c.send(b"Subject: " + token + b"\r\n\r\nhi\r\n.\r\n")
                    r = c.reply()
                    self.assertEqual(r.code, 250, r)
                    qid = qid_of(r.last)
                    c.cmd("QUIT")
                for u, n in expect.items():
                    if n:
                        self.inst.wait_messages(user_addr(u),
                                                before[u] + n)
                self.assertTrue(self.inst.wait_queue_empty(),
                                self.inst.queue_files())
                after = counts(self.inst, expect)
                got = {u: after[u] - before[u] for u in expect}
                self.assertEqual(got, expect, self.inst.log()[-3000:])
                for u, n in expect.items():
                    if n:
                        self.assertIsNotNone(find_message(
                            self.inst, user_addr(u), token, 1))
                log = wait_log(self.inst, r"%s: removed" % qid)
                self.assertIsNotNone(log)
                if orig is not None:
                    for u, n in expect.items():
                        if n:
                            self.assertRegex(
                                log, r"%s: to=<%s>, orig_to=<%s>.*"
                                r"status=sent" % (qid, user_addr(u),
                                                  re.escape(orig)))


# --- 3. unknown users and relay control ------------------------------------

class RelayTest(InstanceCase):
    """mynetworks is 127.0.0.2 only: 127.0.0.1 is an outside client."""
    MAIN = {"mynetworks": "127.0.0.2/32"}
    USERS = ["alice", "bob"]
    INSIDE = "127.0.0.2"

    OUTSIDE_REJECT = [
        # RCPT argument, required reply start (all must be 5xx)
        ("<someone@elsewhere.org>", "554 5.7.1"),
        ("<SomeOne@ElseWhere.ORG>", "554 5.7.1"),
        ("<nobody@example.com>", "550 5.1.1"),
        ("<nobody@localhost>", "550 5.1.1"),
        ("<user%elsewhere.org@example.com>", "5"),
        ("<alice%elsewhere.org@example.com>", "5"),
        ('<"user@elsewhere.org"@example.com>', "5"),
        ('<"alice@elsewhere.org"@example.com>', "5"),
        ('<"user%elsewhere.org"@example.com>', "5"),
        ("<elsewhere.org!user@example.com>", "5"),
        ("<@relay.example.com:someone@elsewhere.org>", "5"),
        ("<someone@[192.0.2.1]>", "5"),
    ]

    def test_outside_client_cannot_relay(self):
        logpos = len(self.inst.log())
        for rcpt, want in self.OUTSIDE_REJECT:
            with self.subTest(rcpt=rcpt):
                with self.conn() as c:
                    c.ehlo()
                    self.assertEqual(
                        c.cmd("MAIL FROM:<s@example.org>").code, 250)
                    r = c.cmd("RCPT TO:" + rcpt)
                    self.assertTrue(r.last.startswith(want), r)
                    self.assertTrue(500 <= r.code < 600, r)
                    if want.startswith("554 5.7.1"):
                        self.assertIn("Relay access denied", r.last)
                    # with no valid recipient there is nothing to send
                    self.assertEqual(c.cmd("DATA").code, 554)
                    c.cmd("QUIT")
        # nothing was queued by these sessions
        self.assertNotIn(": client=", self.inst.log()[logpos:])

    def test_source_route_is_not_routing(self):
        """<@host:alice@example.com> from outside: reject, or deliver
        locally to alice -- never relay to the route."""
        token = b"srcroute-%d" % time.time_ns()
        with self.conn() as c:
            c.ehlo()
            self.assertEqual(c.cmd("MAIL FROM:<s@example.org>").code, 250)
            r = c.cmd("RCPT TO:<@elsewhere.org:alice@example.com>")
            if r.code != 250:
                self.assertTrue(500 <= r.code < 600, r)
                return
            self.assertEqual(c.cmd("DATA").code, 354)
            c.send(b"Subject: " + token + b"\r\n\r\nx\r\n.\r\n")
            r = c.reply()
            self.assertEqual(r.code, 250, r)
            qid = qid_of(r.last)
        self.assertIsNotNone(find_message(self.inst, "alice@example.com",
                                          token))
        log = wait_log(self.inst, r"%s: removed" % qid)
        self.assertIsNotNone(log)
        self.assertNotRegex(log, r"%s: .*status=deferred" % qid)

    def test_outside_client_delivers_locally(self):
        token = b"outside-%d" % time.time_ns()
        with self.conn() as c:
            c.ehlo()
            self.assertEqual(c.cmd("MAIL FROM:<s@example.org>").code, 250)
            r = c.cmd("RCPT TO:<bob@example.com>")
            self.assertEqual(r.code, 250, r)
            self.assertEqual(c.cmd("DATA").code, 354)
            c.send(b"Subject: " + token + b"\r\n\r\nx\r\n.\r\n")
            self.assertEqual(c.reply().code, 250)
        self.assertIsNotNone(find_message(self.inst, "bob@example.com",
                                          token))

    def test_inside_client_may_relay(self):
        with self.conn(source=self.INSIDE) as c:
            c.ehlo()
            self.assertEqual(c.cmd("MAIL FROM:<s@example.com>").code, 250)
            r = c.cmd("RCPT TO:<someone@elsewhere.org>")
            self.assertEqual(r.code, 250, r)
            self.assertEqual(c.cmd("DATA").code, 354)
            c.send(b"Subject: relay\r\n\r\nout\r\n.\r\n")
            r = c.reply()
            self.assertEqual(r.code, 250, r)
            qid = qid_of(r.last)
            self.assertEqual(c.cmd("QUIT").code, 221)
        log = wait_log(self.inst, r"%s: to=<someone@elsewhere\.org>.*"
                       r"status=deferred" % qid)
        self.assertIsNotNone(log, self.inst.log())
        self.assertTrue(any(os.path.basename(p) == qid
                            for p in self.inst.queue_files()),
                        self.inst.queue_files())


# --- 4. and 5. SIZE and recipient limit -------------------------------------

class LimitsTest(InstanceCase):
    MAIN = {"message_size_limit": "10000", "smtpd_recipient_limit": "3"}
    USERS = ["alice", "bob", "carol", "dave"]

    def test_ehlo_advertises_size(self):
        with self.conn() as c:
            r = c.ehlo()
            self.assertIn("250-SIZE 10000", r.lines)

    SIZE_PARAMS = [
        ("SIZE=10001", "552 5.3.4"),
        ("SIZE=99999999999", "552 5.3.4"),
        ("SIZE=99999999999999999999999999", "5"),
        ("SIZE=-1", "5"),
        ("SIZE=abc", "5"),
        ("SIZE=10000", "250"),
        ("SIZE=0", "250"),
        ("size=9999", "250"),
    ]

    def test_mail_size_parameter(self):
        for param, want in self.SIZE_PARAMS:
            with self.subTest(param=param):
                with self.conn() as c:
                    c.ehlo()
                    r = c.cmd("MAIL FROM:<a@example.org> " + param)
                    self.assertTrue(r.last.startswith(want), r)
                    # a rejected MAIL leaves no transaction behind
                    if r.code != 250:
                        self.assertEqual(c.cmd("RCPT TO:<alice@example.com>"
                                               ).code, 503)
                        self.assertEqual(
                            c.cmd("MAIL FROM:<a@example.org>").code, 250)

    def test_oversized_content_rejected_after_dot(self):
        big = b"Subject: big\r\n\r\n" + (b"x" * 98 + b"\r\n") * 205
        self.assertGreater(len(big), 20000)
        token = b"small-%d" % time.time_ns()
        before = counts(self.inst, ["alice"])["alice"]
        with self.conn() as c:
            c.ehlo()
            self.open_txn(c, "a@example.org", ["alice@example.com"])
            c.send(big + b".\r\n")
            r = c.reply()
            self.assertTrue(r.last.startswith("552 5.3.4"), r)
            self.assertEqual(self.inst.queue_files(), [])
            self.assertEqual(incoming_files(self.inst), [])
            # the session is still in step: a small message goes through
            self.open_txn(c, "a@example.org", ["alice@example.com"])
            c.send(b"Subject: " + token + b"\r\n\r\nsmall\r\n.\r\n")
            r = c.reply()
            self.assertEqual(r.code, 250, r)
            self.assertEqual(c.cmd("QUIT").code, 221)
        self.assertIsNotNone(find_message(self.inst, "alice@example.com",
                                          token))
        self.assertTrue(self.inst.wait_queue_empty())
        self.assertEqual(counts(self.inst, ["alice"])["alice"], before + 1)
        for p in self.inst.messages("alice@example.com"):
            self.assertNotIn(b"x" * 98, read_file(p))

    def test_recipient_limit(self):
        users = ["alice", "bob", "carol", "dave"]
        self.assertTrue(self.inst.wait_queue_empty())
        before = counts(self.inst, users)
        token = b"rcptlimit-%d" % time.time_ns()
        with self.conn() as c:
            c.ehlo()
            self.assertEqual(c.cmd("MAIL FROM:<a@example.org>").code, 250)
            got = [c.cmd("RCPT TO:<%s>" % user_addr(u)) for u in users]
            self.assertEqual([r.code for r in got[:3]], [250, 250, 250])
            self.assertTrue(got[3].last.startswith("452 4.5.3"), got[3])
            self.assertEqual(c.cmd("DATA").code, 354)
            c.send(b"Subject: " + token + b"\r\n\r\nthree\r\n.\r\n")
            r = c.reply()
            self.assertEqual(r.code, 250, r)
        for u in users[:3]:
            self.assertIsNotNone(find_message(self.inst, user_addr(u),
                                              token), u)
        self.assertTrue(self.inst.wait_queue_empty())
        after = counts(self.inst, users)
        self.assertEqual({u: after[u] - before[u] for u in users},
                         {"alice": 1, "bob": 1, "carol": 1, "dave": 0})


class MailboxLimitTest(InstanceCase):
    """mailbox_size_limit is the largest file local writes per delivery
    (issue 8, item 14): a message that smtpd took in at exactly
    message_size_limit bytes becomes a larger file once local adds
    Return-Path and Delivered-To; that delivery fails permanently (5.2.2,
    as in Postfix's local) and the sender gets a bounce at once, instead
    of a deferral for maximal_queue_lifetime."""

    LIMIT = 20000
    MAIN = {"message_size_limit": str(LIMIT),
            "mailbox_size_limit": str(LIMIT)}
    USERS = ["alice", "bob"]

    def send(self, c, subject, body):
        self.open_txn(c, "bob@example.com", ["alice@example.com"])
        c.send(b"Subject: " + subject + b"\r\n\r\n" + body + b".\r\n")
        return c.reply()

    def test_over_limit_bounces_at_once(self):
        probe = b"probe-%d" % time.time_ns()
        big = b"large-%d" % time.time_ns()
        self.assertEqual(len(big), len(probe))
        with self.conn() as c:
            c.ehlo()
            r = self.send(c, probe, b"small\r\n")
            self.assertEqual(r.code, 250, r)
            path = find_message(self.inst, "alice@example.com", probe)
            self.assertIsNotNone(path, self.inst.log()[-2000:])
            data = read_file(path)
            # what smtpd stored: the file without local's two lines, CRLF
            stored = data.split(b"\n", 2)[2]
            stored_len = len(stored) + stored.count(b"\n")
            # the same with a body that fills message_size_limit exactly
            # (the Received: line has the same length: fixed-width date,
            # same queue id length, same client and recipient)
            fill = self.LIMIT - (stored_len - len(b"small\r\n")) - 2
            body = b"x" * fill + b"\r\n"
            # one byte more and smtpd refuses it: this is the largest
            r = self.send(c, big, b"x" + body)
            self.assertTrue(r.last.startswith("552 5.3.4"), r)
            r = self.send(c, big, body)
            self.assertEqual(r.code, 250, r)
            qid = qid_of(r.last)
            self.assertEqual(c.cmd("QUIT").code, 221)
        line = wait_log(self.inst, r"%s: to=<alice@example\.com>.*"
                        r"status=bounced" % qid)
        self.assertIsNotNone(line, self.inst.log()[-3000:])
        self.assertRegex(self.inst.log(), r"%s: to=<alice@example\.com>, "
                         r"relay=local, .*dsn=5\.2\.2, status=bounced "
                         r"\(maildir delivery failed: message is larger "
                         r"than mailbox_size_limit \(%d bytes\)\)" %
                         (qid, self.LIMIT))
        self.assertNotRegex(self.inst.log(), r"%s: .*status=deferred" % qid)
        # the bounce reaches the sender; nothing is left in the queue
        report = find_message(self.inst, "bob@example.com", qid.encode())
        self.assertIsNotNone(report, self.inst.log()[-3000:])
        self.assertIn(b"Status: 5.2.2", read_file(report))
        self.assertTrue(self.inst.wait_queue_empty())
        self.assertIsNone(find_message(self.inst, "alice@example.com", big,
                                       timeout=0))
        # and no partial file is left in alice's Maildir/tmp
        tmp = os.path.join(self.inst.maildir("alice@example.com"), "tmp")
        self.assertEqual(os.listdir(tmp), [])


# --- 6., 8., 9. protocol -----------------------------------------------------

COMMAND_CASES = [
    # name, [(command line, expected reply start)], EHLO first
    ("noop", [(b"NOOP", "250")], True),
    ("noop_lowercase", [(b"noop", "250")], True),
    ("rset", [(b"MAIL FROM:<a@example.org>", "250"), (b"RSET", "250"),
              (b"MAIL FROM:<a@example.org>", "250")], True),
    ("help", [(b"HELP", "214")], True),
    ("vrfy_default_252", [(b"VRFY alice", "252")], True),
    ("unknown_command", [(b"FOOBAR", "502 5.5.2")], True),
    ("unknown_four_letters", [(b"XYZW hello", "502 5.5.2")], True),
    ("long_line", [(b"X" * 3000, "500 5.5.2"), (b"NOOP", "250")], True),
    ("long_mail_line", [(b"MAIL FROM:<" + b"a" * 3000 + b"@example.org>",
                         "500 5.5.2"),
                        (b"MAIL FROM:<a@example.org>", "250"),
                        (b"RCPT TO:<alice@example.com>", "250")], True),
    ("data_before_mail", [(b"DATA", "503")], True),
    ("rcpt_before_mail", [(b"RCPT TO:<alice@example.com>", "503")], True),
    ("mail_twice", [(b"MAIL FROM:<a@example.org>", "250"),
                    (b"MAIL FROM:<b@example.org>", "503")], True),
    ("data_without_valid_rcpt", [(b"MAIL FROM:<a@example.org>", "250"),
                                 (b"RCPT TO:<nobody@example.com>",
                                  "550 5.1.1"),
                                 (b"DATA", "554")], True),
    ("null_sender", [(b"MAIL FROM:<>", "250"),
                     (b"RCPT TO:<alice@example.com>", "250")], True),
    ("rcpt_space_in_address", [(b"MAIL FROM:<a@example.org>", "250"),
                               (b"RCPT TO:<a b@example.com>", "501")], True),
    ("rcpt_missing_brackets", [(b"MAIL FROM:<a@example.org>", "250"),
                               (b"RCPT TO:alice@example.com", "501")], True),
    ("mail_missing_brackets", [(b"MAIL FROM:a@example.org", "501")], True),
    ("mail_missing_from", [(b"MAIL <a@example.org>", "501")], True),
    ("rcpt_missing_to", [(b"MAIL FROM:<a@example.org>", "250"),
                         (b"RCPT <alice@example.com>", "501")], True),
    ("mail_unsupported_param", [(b"MAIL FROM:<a@example.org> FOO=bar",
                                 "555")], True),
    ("mail_unclosed_bracket", [(b"MAIL FROM:<a@example.org", "501")], True),
    ("helo_without_name", [(b"HELO", "501")], False),
    ("ehlo_without_name", [(b"EHLO", "501")], False),
    ("helo_not_required", [(b"MAIL FROM:<a@example.org>", "250")], False),
    ("data_with_argument", [(b"MAIL FROM:<a@example.org>", "250"),
                            (b"RCPT TO:<alice@example.com>", "250"),
                            (b"DATA now", "501")], True),
    ("nul_in_command", [(b"NOOP\x00", "500"), (b"NOOP", "250")], True),
    ("nul_in_address", [(b"MAIL FROM:<a\x00b@example.org>", "500"),
                        (b"MAIL FROM:<a@example.org>", "250")], True),
]


class ProtocolTest(InstanceCase):
    USERS = ["alice", "bob", "nul"]

    def test_commands(self):
        for name, steps, ehlo in COMMAND_CASES:
            with self.subTest(case=name):
                with self.conn() as c:
                    if ehlo:
                        c.ehlo()
                    for line, want in steps:
                        r = c.cmd(line)
                        self.assertTrue(r.last.startswith(want),
                                        (line[:60], want, r))
                    r = c.cmd("QUIT")
                    self.assertEqual(r.code, 221, r)

    def test_long_line_in_two_segments(self):
        """A 3000-byte line that arrives in two parts: one 500 reply,
        the tail is not taken as a command, the session stays in step."""
        with self.conn() as c:
            c.ehlo()
            c.send(b"NOOP " + b"X" * 2495)
            time.sleep(0.3)
            c.send(b"Y" * 500 + b"\r\nNOOP\r\n")
            r = c.reply()
            self.assertTrue(r.last.startswith("500 5.5.2"), r)
            r = c.reply()
            self.assertTrue(r.last.startswith("250"), r)
            r = c.cmd("RSET")
            self.assertTrue(r.last.startswith("250"), r)
            self.assertEqual(c.buf, b"")
            self.assertEqual(c.cmd("QUIT").code, 221)

    def test_quit_closes(self):
        with self.conn() as c:
            r = c.cmd("QUIT")
            self.assertTrue(r.last.startswith("221"), r)
            self.assertTrue(c.closed(), "connection still open after QUIT")

    def test_ehlo_extensions(self):
        with self.conn() as c:
            r = c.ehlo()
            self.assertTrue(r.lines[0].startswith("250-mx.example.com"), r)
            kw = [l[4:] for l in r.lines[1:]]
            for ext in ("PIPELINING", "SIZE 10240000", "8BITMIME",
                        "ENHANCEDSTATUSCODES"):
                self.assertIn(ext, kw)
            # HELO: plain 250, no extension list
            r = c.cmd("HELO client.example.org")
            self.assertEqual(len(r.lines), 1, r)
            self.assertEqual(r.code, 250)

    def test_pipelining(self):
        with self.conn() as c:
            r = c.ehlo()
            self.assertIn("250-PIPELINING", r.lines)
            c.send(b"MAIL FROM:<p@example.org>\r\n"
                   b"RCPT TO:<alice@example.com>\r\n"
                   b"RCPT TO:<nobody@example.com>\r\n"
                   b"DATA\r\n")
            self.assertEqual(c.buf, b"")
            got = harness.read_replies(c.sock, 4)
            self.assertEqual([g[:3] for g in got],
                             ["250", "250", "550", "354"], got)
            token = b"pipe-%d" % time.time_ns()
            c.send(b"Subject: " + token + b"\r\n\r\npipelined\r\n"
                   b".\r\nQUIT\r\n")
            got = harness.read_replies(c.sock, 2)
            self.assertEqual(len(got), 2, got)
            self.assertTrue(got[0].startswith("250 2.0.0 Ok: queued as "),
                            got)
            self.assertTrue(got[1].startswith("221"), got)
            self.assertTrue(c.closed())
        self.assertIsNotNone(find_message(self.inst, "alice@example.com",
                                          token))

    def test_pipelining_two_transactions(self):
        t1 = b"pipe1-%d" % time.time_ns()
        t2 = b"pipe2-%d" % time.time_ns()
        with self.conn() as c:
            c.ehlo()
            c.send(b"MAIL FROM:<p@example.org>\r\n"
                   b"RCPT TO:<alice@example.com>\r\nDATA\r\n")
            self.assertEqual([c.reply().code for _ in range(3)],
                             [250, 250, 354])
            c.send(b"Subject: " + t1 + b"\r\n\r\none\r\n.\r\n"
                   b"MAIL FROM:<p@example.org>\r\n"
                   b"RCPT TO:<bob@example.com>\r\nDATA\r\n")
            got = [c.reply() for _ in range(4)]
            self.assertEqual([r.code for r in got], [250, 250, 250, 354],
                             got)
            self.assertIn("queued as", got[0].last)
            c.send(b"Subject: " + t2 + b"\r\n\r\ntwo\r\n.\r\nQUIT\r\n")
            got = [c.reply() for _ in range(2)]
            self.assertEqual([r.code for r in got], [250, 221], got)
        self.assertIsNotNone(find_message(self.inst, "alice@example.com",
                                          t1))
        self.assertIsNotNone(find_message(self.inst, "bob@example.com", t2))
        self.assertIsNone(find_message(self.inst, "alice@example.com", t2,
                                       0))

    NUL_CONTENT = [
        ("in_body", b"Subject: nul\r\n\r\nab\x00cd\r\n"),
        ("in_header", b"Subject: n\x00ul\r\n\r\nbody\r\n"),
        ("alone_on_line", b"Subject: nul\r\n\r\n\x00\r\nmore\r\n"),
        ("after_dot", b"Subject: nul\r\n\r\n.\x00\r\n"),
    ]

    def test_nul_in_content_rejected(self):
        rcpt = "nul@example.com"
        for name, content in self.NUL_CONTENT:
            with self.subTest(case=name):
                self.assertTrue(self.inst.wait_queue_empty())
                before = len(self.inst.messages(rcpt))
                token = b"after-nul-%d" % time.time_ns()
                with self.conn() as c:
                    c.ehlo()
                    self.open_txn(c, "a@example.org", [rcpt])
                    c.send(content + b".\r\n")
                    r = c.reply()
                    self.assertTrue(r.last.startswith("550 5.6.0"), r)
                    self.assertEqual(self.inst.queue_files(), [])
                    # still in step: a clean message is accepted after it
                    self.open_txn(c, "a@example.org", [rcpt])
                    c.send(b"Subject: " + token + b"\r\n\r\nok\r\n.\r\n")
                    r = c.reply()
                    self.assertEqual(r.code, 250, r)
                self.assertIsNotNone(find_message(self.inst, rcpt, token))
                self.assertTrue(self.inst.wait_queue_empty())
                files = self.inst.messages(rcpt)
                self.assertEqual(len(files), before + 1)
                for p in files:
                    self.assertNotIn(b"\x00", read_file(p))


class StrictTest(InstanceCase):
    MAIN = {"smtpd_helo_required": "yes", "disable_vrfy_command": "yes"}

    def test_helo_required(self):
        with self.conn() as c:
            r = c.cmd("MAIL FROM:<a@example.org>")
            self.assertTrue(r.last.startswith("503"), r)
            r = c.cmd("RCPT TO:<alice@example.com>")
            self.assertTrue(r.last.startswith("503"), r)
            r = c.cmd("HELO client.example.org")
            self.assertEqual(r.code, 250, r)
            r = c.cmd("MAIL FROM:<a@example.org>")
            self.assertEqual(r.code, 250, r)

    def test_vrfy_disabled(self):
        with self.conn() as c:
            r = c.ehlo()
            self.assertNotIn("250-VRFY", r.lines)
            self.assertNotIn("250 VRFY", r.lines)
            for arg in ("alice", "<alice@example.com>", "nobody"):
                r = c.cmd("VRFY " + arg)
                self.assertTrue(r.last.startswith("502"), (arg, r))


# --- 7. SMTP smuggling -------------------------------------------------------

SMUGGLE_VARIANTS = [
    # fake end of data; the reply under smtpd_forbid_bare_newline = reject
    # when it has a bare LF or a bare CR (None: no reject, it is content)
    (b"\n.\n", "550 5.5.2"),
    (b"\n.\r\n", "550 5.5.2"),
    (b"\r\n.\n", "550 5.5.2"),
    (b"\r.\r", "550 5.6.2"),
    (b"\r\n.\r", "550 5.6.2"),
    (b".\r\n", None),       # "body.\r\n" is not "\r\n.\r\n" either
]

SMUGGLED = (b"MAIL FROM:<evil@x.org>\r\nRCPT TO:<bob@example.com>\r\n"
            b"DATA\r\n\r\nsmuggled\r\n")


class SmugglingMixin:
    """The smuggling table; mixed into one class per bare-LF policy."""
    USERS = ["alice", "bob"]
    REJECT = False

    def run_variant(self, variant, token):
        with self.conn() as c:
            c.ehlo()
            self.open_txn(c, "sender@example.org", ["alice@example.com"])
            c.send(b"Subject: a\r\nX-Token: " + token + b"\r\n\r\nbody" +
                   variant + SMUGGLED + b".\r\n")
            c.send(b"QUIT\r\n")
            return c.rest_until_close()

    def test_smuggling(self):
        for variant, reject in SMUGGLE_VARIANTS:
            with self.subTest(variant=variant):
                self.assertTrue(self.inst.wait_queue_empty())
                before = counts(self.inst, ["alice", "bob"])
                logpos = len(self.inst.log())
                token = b"smuggle-%d" % time.time_ns()
                lines = self.run_variant(variant, token)
                finals = [l for l in lines if l[3:4] == " "]
                queued = [l for l in lines
                          if l.startswith("250 2.0.0 Ok: queued")]
                if self.REJECT and reject is not None:
                    # 550 for the message, 221 for QUIT, nothing else
                    self.assertEqual(queued, [], lines)
                    self.assertEqual(len(finals), 2, lines)
                    self.assertTrue(finals[0].startswith(reject), lines)
                    want = {"alice": 0, "bob": 0}
                else:
                    # exactly one 250 for the whole DATA, then 221
                    self.assertEqual(len(queued), 1, lines)
                    self.assertEqual(len(finals), 2, lines)
                    want = {"alice": 1, "bob": 0}
                    self.inst.wait_messages("alice@example.com",
                                            before["alice"] + 1)
                self.assertTrue(finals[-1].startswith("221"), lines)
                self.assertNotIn("354", [l[:3] for l in lines], lines)
                self.assertTrue(self.inst.wait_queue_empty(),
                                self.inst.queue_files())
                if not want["alice"]:
                    time.sleep(0.3)
                after = counts(self.inst, ["alice", "bob"])
                self.assertEqual({u: after[u] - before[u] for u in after},
                                 want)
                if want["alice"]:
                    path = find_message(self.inst, "alice@example.com",
                                        token)
                    self.assertIsNotNone(path)
                    data = read_file(path)
                    # the would-be commands are content of the one message
                    self.assertIn(b"MAIL FROM:<evil@x.org>", data)
                    self.assertIn(b"\nsmuggled\n", data)
                newlog = self.inst.log()[logpos:]
                evil = [l for l in newlog.splitlines() if "evil@x.org" in l]
                self.assertEqual(evil, [], lines)


class SmugglingNormalizeTest(SmugglingMixin, InstanceCase):
    MAIN = {}
    REJECT = False


class SmugglingRejectTest(SmugglingMixin, InstanceCase):
    MAIN = {"smtpd_forbid_bare_newline": "reject"}
    REJECT = True


# --- 10. timeouts ------------------------------------------------------------

class TimeoutTest(InstanceCase):
    MAIN = {"smtpd_timeout": "2s"}

    def expect_timeout(self, c, t0, lo=1.5, hi=3.5):
        c.sock.settimeout(hi + 2)
        r = c.reply()
        dt = time.time() - t0
        self.assertTrue(r.last.startswith("421 4.4.2"), r)
        self.assertGreaterEqual(dt, lo)
        self.assertLessEqual(dt, hi)
        self.assertTrue(c.closed(3), "not closed after 421")

    IDLE = [
        ("after_greeting", []),
        ("after_ehlo", [b"EHLO client.example.org"]),
        ("in_data", [b"EHLO client.example.org", b"MAIL FROM:<a@example.org>",
                     b"RCPT TO:<alice@example.com>", b"DATA"]),
    ]

    def test_idle(self):
        for name, setup in self.IDLE:
            with self.subTest(case=name):
                c = self.conn()
                try:
                    t0 = time.time()
                    for line in setup:
                        r = c.cmd(line)
                        self.assertIn(r.code, (250, 354), r)
                        t0 = time.time()
                    self.expect_timeout(c, t0)
                finally:
                    c.close()
        self.assertEqual(self.inst.queue_files(), [])
        self.assertEqual(incoming_files(self.inst), [])

    TRICKLE = [
        ("command_line", [b"EHLO client.example.org"],
         b"NOOP and some more words to trickle"),
        ("content_line", [b"EHLO client.example.org",
                          b"MAIL FROM:<a@example.org>",
                          b"RCPT TO:<alice@example.com>", b"DATA"],
         b"Subject: a content line that never ends"),
    ]

    def test_trickle(self):
        for name, setup, payload in self.TRICKLE:
            with self.subTest(case=name):
                c = self.conn()
                try:
                    for line in setup:
                        r = c.cmd(line)
                        self.assertIn(r.code, (250, 354), r)
                    t0 = time.time()
                    got = b""
                    for i in range(len(payload)):
                        try:
                            c.send(payload[i:i + 1])
                        except OSError:
                            break
                        rl, _, _ = select.select([c.sock], [], [], 1.0)
                        if rl:
                            try:
                                got = c.sock.recv(4096)
                            except OSError:
                                got = b""
                            break
                        if time.time() - t0 > 8:
                            break
                    dt = time.time() - t0
                    self.assertTrue(got.startswith(b"421 4.4.2"),
                                    (got, dt))
                    self.assertLessEqual(dt, 3.5)
                    self.assertGreaterEqual(dt, 1.5)
                    self.assertTrue(c.closed(3))
                finally:
                    c.close()
        self.assertEqual(self.inst.queue_files(), [])


# --- 11. hard error limit ----------------------------------------------------

class HardErrorLimitTest(InstanceCase):
    MAIN = {"smtpd_hard_error_limit": "3"}

    CASES = [
        # name, commands before (each reply start), the three errors
        ("unknown_commands", [], [(b"FOO", "502"), (b"BAR", "502"),
                                  (b"BAZ", "502")]),
        ("sequence_errors", [], [(b"RCPT TO:<alice@example.com>", "503"),
                                 (b"DATA", "503"),
                                 (b"MAIL FROM:bad", "501")]),
        ("bad_recipients", [(b"MAIL FROM:<a@example.org>", "250")],
         [(b"RCPT TO:<nobody@example.com>", "550"),
          (b"RCPT TO:<nobody2@example.com>", "550"),
          (b"RCPT TO:<a b@example.com>", "501")]),
        ("good_commands_between", [(b"NOOP", "250")],
         [(b"FOO", "502"), (b"NOOP", "250"), (b"BAR", "502"),
          (b"RSET", "250"), (b"HELO client.example.org", "250"),
          (b"BAZ", "502")]),
    ]

    def test_hard_error_limit(self):
        for name, before, steps in self.CASES:
            with self.subTest(case=name):
                with self.conn() as c:
                    c.ehlo()
                    for line, want in before + steps[:-1]:
                        r = c.cmd(line)
                        self.assertTrue(r.last.startswith(want),
                                        (line, want, r))
                    line, want = steps[-1]
                    c.send(line + b"\r\n")
                    rest = c.rest_until_close(5)
                    self.assertEqual(len(rest), 2, rest)
                    self.assertTrue(rest[0].startswith(want), rest)
                    self.assertTrue(rest[1].startswith("421 4.7.0"), rest)

    def test_two_errors_keep_session(self):
        with self.conn() as c:
            c.ehlo()
            self.assertEqual(c.cmd("FOO").code, 502)
            self.assertEqual(c.cmd("BAR").code, 502)
            for _ in range(5):
                self.assertEqual(c.cmd("NOOP").code, 250)
            self.assertEqual(c.cmd("MAIL FROM:<a@example.org>").code, 250)
            self.assertEqual(c.cmd("QUIT").code, 221)


if __name__ == "__main__":
    unittest.main()
