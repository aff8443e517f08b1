"""test_submission.py - authenticated submission end to end (issue 3).

A submission-like instance as in the seed article: port "587" with
smtpd_tls_security_level=encrypt, SMTP AUTH and
permit_sasl_authenticated,reject plus reject_sender_login_mismatch, and
port "465" in TLS wrapper mode; both with a self-signed certificate made
per class with openssl in the instance directory.  Covered: AUTH only
under TLS and 530 before STARTTLS, PLAIN and LOGIN (right, wrong, initial
response, "*", bad base64, unknown mechanism, authzid), relay and sender
ownership, the STARTTLS reset (nothing pipelined after STARTTLS is run),
implicit TLS with smtplib, openssl s_client and swaks, TLS versions,
certificate reload without dropping sessions, a killed and a stopped auth
broker (fail closed), brute-force throttling, and Dovecot reading the
same users file and the delivered Maildir over IMAP.

Failed logins are counted per client address by the auth broker, so every
test that fails logins connects from its own loopback source address
(127.0.0.N) and the tests do not slow each other down.

Every class checks in tearDownClass that no daemon produced a sanitizer
report or died on a signal it was not sent by the test.  The one slow test
(a stopped broker: lookups are answered 451 after smtpd's 10 s, logins 454
after its 30 s; about 31 s) has "slow" in its name and is skipped with
YOUJU_E2E_FAST=1.  Dovecot and swaks with STARTTLS need the Debian
packages dovecot-imapd and libnet-ssleay-perl.
"""
import base64
import email
import email.policy
import glob
import hashlib
import imaplib
import itertools
import os
import pwd
import re
import shutil
import signal
import smtplib
import socket
import ssl
import subprocess
import tempfile
import threading
import time
import unittest

import harness
from harness import (Instance, find_message, free_port, make_cert, qid_of,
                     read_file, read_text, wait_for)

DOMAIN = "example.com"
ALICE = "alice@example.com"
BOB = "bob@example.com"
PW = harness.PASSWORD
REMOTE = "carol@remote.example"

slow = unittest.skipIf(os.environ.get("YOUJU_E2E_FAST"),
                       "slow test (YOUJU_E2E_FAST is set)")


# --- helpers -------------------------------------------------------------

def b64(data):
    if isinstance(data, str):
        data = data.encode("utf-8")
    return base64.b64encode(data).decode("ascii")


def plain_ir(user, password, authzid=""):
    """The PLAIN message (RFC 4616) base64-encoded."""
    return b64("%s\0%s\0%s" % (authzid, user, password))


def cert_der(crt):
    with open(crt) as f:
        return ssl.PEM_cert_to_DER_cert(f.read())


def fingerprint(der):
    return hashlib.sha256(der).hexdigest()


def client_ctx(minimum=None, maximum=None, old=False):
    """A client context that accepts the self-signed certificate (the
    tests compare its fingerprint instead).  old: also allow TLS 1.0/1.1
    (OpenSSL 3 needs security level 0 for them)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if old:
        ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
    if minimum is not None:
        ctx.minimum_version = minimum
    if maximum is not None:
        ctx.maximum_version = maximum
    return ctx


def wait_listening(port, timeout=20):
    def up():
        try:
            socket.create_connection(("127.0.0.1", port), 0.5).close()
            return True
        except OSError:
            return False
    return wait_for(up, timeout)


def dot_stuff(content):
    """DATA transparency (RFC 5321 4.5.2): a leading dot is doubled."""
    return re.sub(rb"(?m)^\.", b"..", content)


def header_block(data):
    head = data.split(b"\n\n", 1)[0].replace(b"\r\n", b"\n")
    # unfold
    return re.sub(rb"\n[ \t]+", b" ", head).decode("latin-1")


def first_received(data):
    """The first Received header (ours), unfolded."""
    for line in header_block(data).split("\n"):
        if line.lower().startswith("received:"):
            return line
    return None


class Conn(harness.Conn):
    """harness.Conn with TCP_NODELAY, optionally implicit TLS, and
    STARTTLS."""

    def __init__(self, port, source=None, tls=False, ctx=None, timeout=15,
                 greet=True):
        self.tls_ctx = (ctx or client_ctx()) if tls else None
        super().__init__(port, source, timeout, greet)

    def prepare(self):
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self.tls_ctx is not None:
            self.sock = self.tls_ctx.wrap_socket(self.sock)

    def tls_handshake(self, ctx=None):
        """Wrap the socket in TLS (after a 220 to STARTTLS)."""
        if self.buf:
            raise AssertionError("bytes after the 220 before the "
                                 "handshake: %r" % self.buf)
        self.sock = (ctx or client_ctx()).wrap_socket(self.sock)

    def starttls(self, ctx=None):
        r = self.cmd("STARTTLS")
        if r.code != 220:
            raise AssertionError("STARTTLS: %r" % r)
        self.tls_handshake(ctx)
        return r

    def quiet(self, wait=0.5):
        """True when the server sends nothing more within wait seconds."""
        if self.buf:
            return False
        self.sock.settimeout(wait)
        try:
            data = self.sock.recv(65536)
        except (socket.timeout, ssl.SSLWantReadError):
            return True
        finally:
            self.sock.settimeout(15)
        self.buf += data
        return False

    def peer_der(self):
        return self.sock.getpeercert(binary_form=True)


# --- the instance -------------------------------------------------------

def distinct_ports(n):
    ports = set()
    while len(ports) < n:
        ports.add(free_port())
    return sorted(ports)


class SubmissionCase(harness.InstanceTestCase):
    """One submission instance per class: p587 (STARTTLS required, AUTH),
    p465 (wrapper mode, AUTH) and pmay (STARTTLS optional, no AUTH,
    127.0.0.0/8 may relay to local users), with cert.crt/cert.key made in
    the instance directory."""

    USERS = ["alice", "bob", "carol"]
    ALIASES = "info: alice\nsales: bob\n"
    MAIN = {}

    @classmethod
    def setUpClass(cls):
        cls.p587, cls.p465, cls.pmay, p25 = distinct_ports(4)
        sub = ("-o smtpd_sasl_auth_enable=yes "
               "-o smtpd_recipient_restrictions="
               "permit_sasl_authenticated,reject ")
        extra = (
            "127.0.0.1:%d inet n - y - - smtpd "
            "-o smtpd_tls_security_level=encrypt " % cls.p587 + sub +
            "-o smtpd_sender_restrictions=reject_sender_login_mismatch "
            "-o mynetworks=\n"
            "127.0.0.1:%d inet n - y - - smtpd "
            "-o smtpd_tls_wrappermode=yes " % cls.p465 + sub +
            "-o mynetworks=\n"
            "127.0.0.1:%d inet n - y - - smtpd "
            "-o smtpd_tls_security_level=may\n" % cls.pmay)
        main = {"master_stop_timeout": "3s"}
        main.update(cls.MAIN)
        cls.inst = Instance(main=main, master_extra=extra, port=p25,
                            users=["%s@%s" % (u, DOMAIN) for u in cls.USERS],
                            aliases=cls.ALIASES)
        try:
            cls.crt, cls.key = make_cert(cls.inst.dir, "cert")
            cls.inst.set_main(smtpd_tls_cert_file=cls.crt,
                              smtpd_tls_key_file=cls.key)
            cls.inst.start()
            for p in (cls.p587, cls.p465, cls.pmay):
                if not wait_listening(p):
                    raise RuntimeError("port %d not listening: %s" %
                                       (p, cls.inst.stderr()))
            cls.inst.wait_settled()
        except Exception:
            cls.inst.cleanup()
            raise
        cls._ips = itertools.count(10)

    # -- connections --
    def ip(self):
        """A loopback source address of its own (failed logins are
        throttled per client address)."""
        return "127.0.0.%d" % next(self._ips)

    def conn(self, port=None, **kw):
        c = Conn(port or self.p587, **kw)
        self.addCleanup(c.close)
        self.assertEqual(c.greeting.code, 220, c.greeting)
        return c

    def tls_conn(self, source=None, ctx=None):
        """587 after STARTTLS and a new EHLO."""
        c = self.conn(source=source)
        c.ehlo()
        c.starttls(ctx)
        c.ehlo()
        return c

    def login(self, c, user=ALICE, password=PW):
        r = c.cmd("AUTH PLAIN " + plain_ir(user, password))
        self.assertEqual(r.code, 235, r)
        self.assertTrue(r.last.startswith("235 2.7.0"), r)
        return r

    def answer_challenge(self, c, mech, answer):
        """AUTH mech without an initial response (334), then answer; the
        reply to the answer."""
        r = c.cmd("AUTH " + mech)
        self.assertEqual(r.code, 334, r)
        return c.cmd(answer)

    def smtp_tls(self, source=None):
        """smtplib on 587 after STARTTLS."""
        s = smtplib.SMTP("127.0.0.1", self.p587, timeout=20,
                         source_address=(source, 0) if source else None)
        self.addCleanup(self._smtp_close, s)
        s.ehlo("client.example.org")
        s.starttls(context=client_ctx())
        s.ehlo("client.example.org")
        return s

    @staticmethod
    def _smtp_close(s):
        try:
            s.quit()
        except (smtplib.SMTPException, OSError):
            s.close()

    def send_data(self, c, sender, rcpts, content):
        """MAIL, RCPT (all 250), DATA; returns the queue id."""
        self.open_txn(c, sender, rcpts)
        if isinstance(content, str):
            content = content.encode("utf-8")
        c.send(dot_stuff(content) + b".\r\n")
        r = c.reply()
        self.assertEqual(r.code, 250, r)
        return qid_of(r.last)

    def delivered(self, user, token, timeout=15):
        path = find_message(self.inst, user, token.encode(), timeout)
        self.assertIsNotNone(path, "message %s for %s not delivered; "
                             "maillog:\n%s" % (token, user,
                                               self.inst.log()[-3000:]))
        return read_file(path)

    def wait_log(self, pattern, timeout=10, since=0):
        m = self.inst.wait_log(pattern, timeout, since)
        self.assertIsNotNone(m, "no %r in the maillog:\n%s" %
                             (pattern, self.inst.log()[since:][-4000:]))
        return m


def message(token, sender=ALICE, rcpt=BOB, body=None):
    return ("From: <%s>\r\nTo: <%s>\r\nSubject: %s\r\n"
            "Message-ID: <%s@client.example>\r\n\r\n%s" %
            (sender, rcpt, token, token, body or ("body of %s\r\n" % token)))


# ============================================================ 1, 2, 3 ====
class SubmissionTest(SubmissionCase):
    """STARTTLS required, AUTH mechanisms and replies, relay and sender
    checks, the STARTTLS reset, implicit TLS and the clients."""

    # -- 1. before TLS --
    def test_before_starttls_no_auth_and_530(self):
        ip = self.ip()
        start = self.inst.log_size()
        c = self.conn(source=ip)
        r = c.ehlo()
        self.assertIn("STARTTLS", r.ext(), r)
        self.assertFalse([k for k in r.ext() if k.startswith("AUTH")],
                         "AUTH offered before TLS: %r" % r)
        r = c.cmd("MAIL FROM:<%s>" % ALICE)
        self.assertEqual(r.code, 530, r)
        self.assertIn("5.7.0 Must issue a STARTTLS command first", r.last)
        r = c.cmd("AUTH PLAIN " + plain_ir(ALICE, PW))
        self.assertEqual(r.code, 530, r)
        self.assertIn("5.7.0", r.last)
        r = c.cmd("AUTH LOGIN")
        self.assertEqual(r.code, 530, r)
        r = c.cmd("RCPT TO:<%s>" % BOB)
        self.assertGreaterEqual(r.code, 500, r)
        r = c.cmd("DATA")
        self.assertGreaterEqual(r.code, 500, r)
        # no credentials were checked in clear
        log = self.inst.log_since(start)
        self.assertNotIn("from client %s" % ip, log)
        self.assertNotIn("unknown[%s]: sasl_method" % ip, log)
        # the session goes on normally with TLS
        c.starttls()
        r = c.ehlo()
        self.assertIn("AUTH PLAIN LOGIN", r.ext(), r)
        self.assertNotIn("STARTTLS", r.ext(), r)
        r = c.cmd("STARTTLS")
        self.assertGreaterEqual(r.code, 500, r)
        self.login(c)

    def test_465_speaks_tls_first(self):
        """No plaintext greeting on the wrapper-mode port: plaintext gets
        nothing or a TLS alert, never an SMTP reply, and a TLS handshake
        comes first, with the 220 greeting after it."""
        c = Conn(self.p465, greet=False, timeout=5)
        self.addCleanup(c.close)
        c.send(b"EHLO client.example.org\r\n")
        data = b""
        try:
            while len(data) < 4096:
                chunk = c.sock.recv(4096)
                if not chunk:
                    break
                data += chunk
        except (ConnectionResetError, socket.timeout):
            pass
        # a TLS record: content type 21 (alert), version 3.x
        self.assertTrue(data == b"" or data[:2] == b"\x15\x03", data)
        t = Conn(self.p465, tls=True, timeout=10)
        self.addCleanup(t.close)
        self.assertTrue(t.sock.version().startswith("TLSv1."), t.sock)
        self.assertEqual(t.greeting.code, 220, t.greeting)
        r = t.ehlo()
        self.assertNotIn("STARTTLS", r.ext())

    def test_port25_has_no_tls_and_no_auth(self):
        c = self.conn(port=self.inst.port)
        r = c.ehlo()
        self.assertFalse([k for k in r.ext() if k.startswith("AUTH") or
                          k == "STARTTLS"], r)

    # -- 2. mechanisms --
    def test_auth_plain(self):
        c = self.tls_conn(source=self.ip())
        r = c.cmd("AUTH PLAIN " + plain_ir(ALICE, "wrong-password"))
        self.assertEqual(r.code, 535, r)
        self.assertIn("5.7.8", r.last)
        # without an initial response: "334 " (empty challenge) first
        r = c.cmd("AUTH PLAIN")
        self.assertEqual(r.code, 334, r)
        self.assertEqual(r.last.strip(), "334", r)
        r = c.cmd(plain_ir(ALICE, PW))
        self.assertEqual(r.code, 235, r)
        self.assertTrue(r.last.startswith("235 2.7.0"), r)
        r = c.cmd("AUTH PLAIN " + plain_ir(ALICE, PW))
        self.assertEqual(r.code, 503, r)
        r = c.cmd("AUTH LOGIN")
        self.assertEqual(r.code, 503, r)

        c = self.tls_conn(source=self.ip())
        r = c.cmd("AUTH PLAIN")
        self.assertEqual(r.code, 334, r)
        r = c.cmd(plain_ir(BOB, "wrong-password"))
        self.assertEqual(r.code, 535, r)
        # initial response, right; lower-case mechanism name
        r = c.cmd("AUTH plain " + plain_ir(BOB, PW))
        self.assertEqual(r.code, 235, r)

    def test_auth_plain_authzid(self):
        start = self.inst.log_size()
        # an authorization identity equal to the login is harmless
        c = self.tls_conn(source=self.ip())
        r = c.cmd("AUTH PLAIN " + plain_ir(ALICE, PW, authzid=ALICE))
        self.assertEqual(r.code, 235, r)
        # acting as another user is never granted, even with the right
        # password of the authcid
        ip = self.ip()
        c = self.tls_conn(source=ip)
        r = c.cmd("AUTH PLAIN " + plain_ir(ALICE, PW, authzid=BOB))
        self.assertIn(r.code, (501, 535), r)
        r = c.cmd("AUTH PLAIN")
        self.assertEqual(r.code, 334, r)
        r = c.cmd(plain_ir(BOB, PW, authzid=ALICE))
        self.assertIn(r.code, (501, 535), r)
        # not logged in: relaying is still refused
        r = c.cmd("MAIL FROM:<>")
        self.assertEqual(r.code, 250, r)
        r = c.cmd("RCPT TO:<%s>" % REMOTE)
        self.assertGreaterEqual(r.code, 500, r)
        log = self.inst.log_since(start)
        self.assertNotIn("unknown[%s]: sasl_method" % ip, log)
        self.assertNotIn("login ok: user %s from client %s" % (BOB, ip),
                         log)

    def test_auth_login(self):
        c = self.tls_conn(source=self.ip())
        r = c.cmd("AUTH LOGIN")
        self.assertEqual(r.last, "334 VXNlcm5hbWU6", r)
        r = c.cmd(b64(ALICE))
        self.assertEqual(r.last, "334 UGFzc3dvcmQ6", r)
        r = c.cmd(b64("wrong-password"))
        self.assertEqual(r.code, 535, r)
        self.assertIn("5.7.8", r.last)
        r = c.cmd("AUTH LOGIN")
        self.assertEqual(r.last, "334 VXNlcm5hbWU6", r)
        r = c.cmd(b64(ALICE))
        self.assertEqual(r.last, "334 UGFzc3dvcmQ6", r)
        r = c.cmd(b64(PW))
        self.assertEqual(r.code, 235, r)
        self.assertTrue(r.last.startswith("235 2.7.0"), r)
        r = c.cmd("AUTH LOGIN")
        self.assertEqual(r.code, 503, r)
        # the user name as initial response
        c = self.tls_conn(source=self.ip())
        r = c.cmd("AUTH LOGIN " + b64(BOB))
        self.assertEqual(r.last, "334 UGFzc3dvcmQ6", r)
        r = c.cmd(b64(PW))
        self.assertEqual(r.code, 235, r)

    def test_auth_cancel_bad_base64_unknown_mechanism(self):
        start = self.inst.log_size()
        c = self.tls_conn(source=self.ip())
        for mech in ("PLAIN", "LOGIN"):
            r = self.answer_challenge(c, mech, "*")
            self.assertEqual(r.code, 501, r)
            self.assertIn("5.7.0", r.last)
        r = c.cmd("AUTH LOGIN")
        r = c.cmd(b64(ALICE))
        self.assertEqual(r.last, "334 UGFzc3dvcmQ6", r)
        r = c.cmd("*")
        self.assertEqual(r.code, 501, r)
        self.assertIn("5.7.0", r.last)
        # the exchange really ended: a command is a command again
        r = c.cmd("NOOP")
        self.assertEqual(r.code, 250, r)
        self.login(c)

        c = self.tls_conn(source=self.ip())
        for bad in ("!!!!", "YWxpY2U", "YQ==YQ==", "a" * 5):
            r = c.cmd("AUTH PLAIN " + bad)
            self.assertEqual(r.code, 501, (bad, r))
            self.assertIn("5.5.2", r.last, bad)
        for mech, answer in (("PLAIN", "%%%%"), ("LOGIN", "@@@@")):
            r = self.answer_challenge(c, mech, answer)
            self.assertEqual(r.code, 501, r)
            self.assertIn("5.5.2", r.last)
        self.login(c)

        c = self.tls_conn(source=self.ip())
        for mech in ("CRAM-MD5", "XOAUTH2 dXNlcj1h", "GSSAPI", "ANONYMOUS"):
            r = c.cmd("AUTH " + mech)
            self.assertEqual(r.code, 504, (mech, r))
            self.assertIn("5.5.4", r.last, mech)
        self.login(c)
        # none of this was a failed password (nothing for the broker)
        log = self.inst.log_since(start)
        self.assertNotIn("authentication failed", log)
        self.assertNotIn("authentication failures", log)

    def test_unknown_user_same_reply_as_wrong_password(self):
        replies = {}
        times = {"wrong": [], "unknown": []}
        for i in range(2):
            for kind, user in (("wrong", BOB),
                               ("unknown", "nosuch%d@example.com" % i)):
                c = self.tls_conn(source=self.ip())
                t0 = time.monotonic()
                r = c.cmd("AUTH PLAIN " + plain_ir(user, "not-the-pw"))
                times[kind].append(time.monotonic() - t0)
                replies.setdefault(kind, set()).add(r.last)
                r2 = c.cmd("AUTH LOGIN")
                c.cmd(b64(user))
                r2 = c.cmd(b64("not-the-pw"))
                replies.setdefault(kind + "-login", set()).add(r2.last)
        self.assertEqual(len(replies["wrong"]), 1, replies)
        self.assertEqual(replies["wrong"], replies["unknown"], replies)
        self.assertEqual(replies["wrong-login"], replies["unknown-login"],
                         replies)
        self.assertTrue(list(replies["wrong"])[0].startswith("535 5.7.8"),
                        replies)
        diff = abs(min(times["wrong"]) - min(times["unknown"]))
        self.assertLess(diff, 0.1, times)
        # bob is not locked out by failures from many addresses
        c = self.tls_conn(source=self.ip())
        self.login(c, BOB)

    # -- 2. mail --
    def test_authenticated_remote_mail_is_queued(self):
        token = "remote-%x" % int(time.time() * 1000)
        c = self.tls_conn()
        self.login(c)
        qid = self.send_data(c, ALICE, [REMOTE],
                             message(token, rcpt=REMOTE))
        self.wait_log(r"%s: client=unknown\[127\.0\.0\.1\], "
                      r"sasl_method=PLAIN, sasl_username=alice@example\.com"
                      % qid)
        self.wait_log(r"%s: to=<carol@remote\.example>.*status=deferred"
                      % qid, timeout=15)
        files = [p for p in self.inst.queue_files()
                 if os.path.basename(p) == qid]
        self.assertEqual(len(files), 1, self.inst.queue_files())
        data = read_file(files[0])
        self.assertIn(ALICE.encode(), data)
        self.assertIn(b"sasl_username", data)
        self.assertIn(b"sasl_method", data)
        self.assertIn(token.encode(), data)

    def test_authenticated_local_delivery_received_header(self):
        token = "local-%x" % int(time.time() * 1000)
        s = self.smtp_tls()
        s.login(ALICE, PW)
        s.mail(ALICE)
        code, msg = s.rcpt(BOB)
        self.assertEqual(code, 250, msg)
        code, msg = s.data(message(token))
        self.assertEqual(code, 250, msg)
        qid = qid_of(msg)
        data = self.delivered(BOB, token)
        rec = first_received(data)
        self.assertIsNotNone(rec, data[:2000])
        self.assertRegex(rec, r"\(using TLSv1\.[23] with cipher \S+")
        self.assertIn("with ESMTPSA", rec)
        self.assertIn("by mx.example.com", rec)
        self.assertIn("%s: client=unknown[127.0.0.1], sasl_method=PLAIN, "
                      "sasl_username=alice@example.com" % qid,
                      self.inst.log())
        # LOGIN is recorded as such
        token2 = token + "-login"
        c = self.tls_conn()
        r = c.cmd("AUTH LOGIN " + b64(ALICE))
        self.assertEqual(r.code, 334, r)
        r = c.cmd(b64(PW))
        self.assertEqual(r.code, 235, r)
        qid2 = self.send_data(c, ALICE, [BOB], message(token2))
        data = self.delivered(BOB, token2)
        self.assertIn("with ESMTPSA", first_received(data))
        self.assertIn("%s: client=unknown[127.0.0.1], sasl_method=LOGIN, "
                      "sasl_username=alice@example.com" % qid2,
                      self.inst.log())

    def test_unauthenticated_relay_denied_after_starttls(self):
        c = self.tls_conn(source=self.ip())
        r = c.cmd("MAIL FROM:<stranger@client.example>")
        self.assertEqual(r.code, 250, r)
        r = c.cmd("RCPT TO:<%s>" % REMOTE)
        self.assertEqual(r.lines, ["554 5.7.1 <%s>: Relay access denied"
                                   % REMOTE], r)
        # "reject" ends the list: local users are refused too on 587
        r = c.cmd("RCPT TO:<%s>" % BOB)
        self.assertGreaterEqual(r.code, 500, r)
        r = c.cmd("DATA")
        self.assertGreaterEqual(r.code, 500, r)
        r = c.cmd("RSET")
        self.assertEqual(r.code, 250, r)
        # a sender with an owner needs a login
        r = c.cmd("MAIL FROM:<%s>" % ALICE)
        if r.code == 250:
            r = c.cmd("RCPT TO:<%s>" % BOB)
        self.assertGreaterEqual(r.code, 500, r)
        self.assertEqual(self.inst.incoming_files(), [])

    # -- 3. sender ownership --
    def test_sender_login_mismatch(self):
        c = self.tls_conn(source=self.ip())
        self.login(c)
        for other in (BOB, "sales@example.com", "stranger@client.example"):
            r = c.cmd("MAIL FROM:<%s>" % other)
            if r.code == 250:
                r = c.cmd("RCPT TO:<%s>" % BOB)
            self.assertEqual(r.code, 553, (other, r))
            self.assertIn("5.7.1", r.last)
            self.assertIn(other, r.last)
            c.cmd("RSET")
        token = "alias-%x" % int(time.time() * 1000)
        qid = self.send_data(c, "info@example.com", [BOB],
                             message(token, sender="info@example.com"))
        self.delivered(BOB, token)
        for own in (ALICE, "ALICE@Example.COM", "Info@example.com"):
            r = c.cmd("MAIL FROM:<%s>" % own)
            if r.code == 250:
                r = c.cmd("RCPT TO:<%s>" % BOB)
            self.assertEqual(r.code, 250, (own, r))
            c.cmd("RSET")
        self.assertIn("%s: client=unknown[" % qid, self.inst.log())

    # -- 4. the STARTTLS reset --
    def test_starttls_injection(self):
        c = self.conn(source=self.ip())
        c.ehlo()
        c.send(b"STARTTLS\r\nRSET\r\n")
        r = c.reply()
        self.assertEqual(r.code, 220, r)
        c.tls_handshake()
        r = c.cmd("EHLO client.example.org")
        self.assertEqual(r.code, 250, r)
        self.assertTrue(r.lines[0].startswith("250-mx.example.com"),
                        "first reply after the handshake is not the "
                        "EHLO's: %r" % r)
        self.assertIn("AUTH PLAIN LOGIN", r.ext())
        r = c.cmd("NOOP")
        self.assertEqual(r.last[:3], "250", r)
        self.assertTrue(c.quiet(), "an extra reply: %r" % c.buf)
        self.login(c)

    def test_commands_pipelined_after_starttls_are_not_run(self):
        # may-port: MAIL and RCPT would work without TLS and AUTH there
        c = self.conn(port=self.pmay, source=self.ip())
        c.ehlo()
        c.send(b"STARTTLS\r\nMAIL FROM:<evil@client.example>\r\n"
               b"RCPT TO:<alice@example.com>\r\n")
        r = c.reply()
        self.assertEqual(r.code, 220, r)
        c.tls_handshake()
        r = c.cmd("EHLO client.example.org")
        self.assertTrue(r.lines[0].startswith("250-mx.example.com"), r)
        r = c.cmd("RCPT TO:<alice@example.com>")
        self.assertEqual(r.code, 503, "MAIL sent before the handshake "
                         "was run: %r" % r)
        r = c.cmd("DATA")
        self.assertEqual(r.code, 503, r)
        self.assertTrue(c.quiet())
        # an injected QUIT is not run either
        c = self.conn(port=self.pmay, source=self.ip())
        c.ehlo()
        c.send(b"STARTTLS\r\nQUIT\r\n")
        self.assertEqual(c.reply().code, 220)
        c.tls_handshake()
        r = c.cmd("EHLO client.example.org")
        self.assertEqual(r.code, 250, r)
        self.assertTrue(c.quiet())

    def test_starttls_forgets_transaction(self):
        c = self.conn(port=self.pmay, source=self.ip())
        c.ehlo()
        r = c.cmd("MAIL FROM:<sender@client.example>")
        self.assertEqual(r.code, 250, r)
        r = c.cmd("RCPT TO:<%s>" % ALICE)
        self.assertEqual(r.code, 250, r)
        c.starttls()
        c.ehlo()
        r = c.cmd("DATA")
        self.assertEqual(r.code, 503, r)
        r = c.cmd("RCPT TO:<%s>" % ALICE)
        self.assertEqual(r.code, 503, r)

    # -- 5. implicit TLS and real clients --
    def test_implicit_tls_smtplib(self):
        token = "smtps-%x" % int(time.time() * 1000)
        s = smtplib.SMTP_SSL("127.0.0.1", self.p465, timeout=20,
                             context=client_ctx())
        self.addCleanup(self._smtp_close, s)
        self.assertEqual(fingerprint(s.sock.getpeercert(binary_form=True)),
                         fingerprint(cert_der(self.crt)))
        code, _ = s.ehlo("client.example.org")
        self.assertEqual(code, 250)
        self.assertIn("auth", s.esmtp_features)
        self.assertIn("PLAIN", s.esmtp_features["auth"].upper())
        self.assertNotIn("starttls", s.esmtp_features)
        # not logged in: no relay, not even to a local user
        s.mail("stranger@client.example")
        code, msg = s.rcpt(BOB)
        self.assertGreaterEqual(code, 500, msg)
        s.rset()
        s.login(ALICE, PW)
        s.sendmail(ALICE, [BOB], message(token))
        data = self.delivered(BOB, token)
        self.assertRegex(first_received(data),
                         r"using TLSv1\.[23] with cipher .*with ESMTPSA")
        bad = smtplib.SMTP_SSL("127.0.0.1", self.p465, timeout=20,
                               context=client_ctx(),
                               source_address=(self.ip(), 0))
        self.addCleanup(self._smtp_close, bad)
        with self.assertRaises(smtplib.SMTPAuthenticationError) as cm:
            bad.login(ALICE, "wrong-password")
        self.assertEqual(cm.exception.smtp_code, 535)

    def s_client(self, args, stdin, timeout=30):
        r = subprocess.run(["openssl", "s_client"] + args,
                           input=stdin, capture_output=True, timeout=timeout)
        return r.returncode, r.stdout.decode("latin-1"), \
            r.stderr.decode("latin-1")

    def test_openssl_s_client_465(self):
        # s_client sends its input right after the handshake, before the
        # greeting has been read; a few times, as a race is involved
        for i in range(5):
            rc, out, err = self.s_client(
                ["-connect", "127.0.0.1:%d" % self.p465, "-quiet"],
                b"EHLO example.com\r\nQUIT\r\n")
            self.assertIn("220 mx.example.com", out, (out, err))
            self.assertRegex(out, r"250-mx\.example\.com\r?\n",
                             "attempt %d: %r" % (i, out))
            self.assertIn("250-AUTH PLAIN LOGIN", out, out)
            self.assertIn("221", out, out)

    @staticmethod
    def read_to_eof(t, timeout=5):
        """Every byte until the server closes (or timeout); reply codes of
        the complete replies."""
        t.settimeout(timeout)
        out = b""
        try:
            while True:
                d = t.recv(65536)
                if not d:
                    break
                out += d
        except (socket.timeout, OSError):
            pass
        return [l[:3].decode("latin-1") for l in out.split(b"\r\n")
                if len(l) >= 4 and l[3:4] == b" "]

    def test_pipelined_right_after_handshake(self):
        """Commands ending in QUIT sent at once after the handshake (before
        the 220 of wrapper mode was read; or after STARTTLS, with an AUTH
        in between) are all answered, as s_client and scripts expect."""
        results = []
        pl = plain_ir(ALICE, PW).encode()
        for i in range(8):
            for data in (b"EHLO x\r\nQUIT\r\n", b"NOOP\r\nQUIT\r\n"):
                s = socket.create_connection(("127.0.0.1", self.p465), 10)
                t = client_ctx().wrap_socket(s)
                t.sendall(data)
                results.append(("465", data, self.read_to_eof(t),
                                ["220", "250", "221"]))
                t.close()
            c = self.conn()
            c.ehlo()
            r = c.cmd("STARTTLS")
            self.assertEqual(r.code, 220, r)
            c.tls_handshake()
            data = b"EHLO x\r\nAUTH PLAIN " + pl + b"\r\nQUIT\r\n"
            c.sock.sendall(data)
            results.append(("587", data, self.read_to_eof(c.sock),
                            ["250", "235", "221"]))
        bad = [r for r in results if r[2] != r[3]]
        self.assertEqual(bad, [], "%d of %d pipelined sessions lost "
                         "replies (got, wanted)" % (len(bad), len(results)))

    def test_openssl_s_client_starttls(self):
        # one command at a time (the race of pipelining right after the
        # handshake is test_pipelined_right_after_handshake's)
        p = subprocess.Popen(["openssl", "s_client", "-connect",
                              "127.0.0.1:%d" % self.p587, "-starttls",
                              "smtp", "-quiet"],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
        try:
            for line in (b"EHLO example.com", b"AUTH PLAIN " +
                         plain_ir(ALICE, PW).encode(), b"QUIT"):
                time.sleep(0.7)
                p.stdin.write(line + b"\r\n")
                p.stdin.flush()
            out, err = p.communicate(timeout=20)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        out = out.decode("latin-1")
        self.assertRegex(out, r"250-mx\.example\.com\r?\n", (out, err))
        self.assertIn("250-AUTH PLAIN LOGIN", out, out)
        self.assertNotIn("STARTTLS", out, out)
        self.assertIn("235 2.7.0", out, out)
        self.assertIn("221", out, out)
        # the full s_client report names the certificate we made
        rc, out, err = self.s_client(
            ["-connect", "127.0.0.1:%d" % self.p587, "-starttls", "smtp"],
            b"QUIT\r\n")
        self.assertIn("CN = mx.example.com", out + err)
        self.assertRegex(out, r"New, TLSv1\.[23], Cipher is \S+")

    def test_swaks(self):
        token = "swaks-%x" % int(time.time() * 1000)
        r = subprocess.run(
            ["swaks", "--server", "127.0.0.1:%d" % self.p587, "--tls",
             "--auth", "PLAIN", "--auth-user", ALICE, "--auth-password", PW,
             "--from", ALICE, "--to", ALICE,
             "--header", "Subject: %s" % token,
             "--body", "swaks body %s" % token],
            capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, "swaks (STARTTLS needs Perl's "
                         "Net::SSLeay, Debian libnet-ssleay-perl): " +
                         r.stdout + r.stderr)
        self.assertIn("235 2.7.0", r.stdout)
        data = self.delivered(ALICE, token)
        self.assertIn(("swaks body %s" % token).encode(), data)
        self.assertIn("with ESMTPSA", first_received(data))
        # swaks with a wrong password fails (and says so)
        r = subprocess.run(
            ["swaks", "--server", "127.0.0.1:%d" % self.p587, "--tls",
             "--auth", "LOGIN", "--auth-user", ALICE,
             "--auth-password", "nope", "--from", ALICE, "--to", ALICE],
            capture_output=True, text=True, timeout=60)
        self.assertNotEqual(r.returncode, 0, r.stdout)
        self.assertIn("535", r.stdout)

    # -- 9. throttling --
    def test_throttling_after_failures(self):
        ip = self.ip()
        user = "carol@example.com"
        start = self.inst.log_size()
        c = self.tls_conn(source=ip)
        times = []
        for i in range(6):
            if i == 3:      # a new session does not reset the count
                c = self.tls_conn(source=ip)
            t0 = time.monotonic()
            r = c.cmd("AUTH PLAIN " + plain_ir(user, "wrong%d" % i))
            times.append(time.monotonic() - t0)
            self.assertEqual(r.code, 535, (i, r))
        self.wait_log(r"authentication failures: \d+ from client %s, \d+ "
                      r"for user %s; answers are delayed" %
                      (re.escape(ip), re.escape(user)), since=start)
        self.assertGreaterEqual(times[4] - times[0], 0.2, times)
        self.assertGreaterEqual(times[5] - times[0], 0.2, times)
        self.assertGreater(times[5], times[4], times)
        # no lockout: the right password still works (later)
        t0 = time.monotonic()
        r = c.cmd("AUTH PLAIN " + plain_ir(user, PW))
        self.assertEqual(r.code, 235, (r, time.monotonic() - t0))
        # another client and the user's own count: carol logs in at once
        c = self.tls_conn(source=self.ip())
        t0 = time.monotonic()
        self.login(c, user)
        self.assertLess(time.monotonic() - t0, 0.2)


# ================================================================ 6 ====
class TLSVersionTest(SubmissionCase):
    """TLS 1.2 and 1.3 only."""

    def tls11_client_works(self):
        """Positive control: can this client do TLS 1.1 at all?  A local
        Python server that allows 1.1, with the same certificate."""
        sctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        sctx.set_ciphers("DEFAULT:@SECLEVEL=0")
        sctx.minimum_version = ssl.TLSVersion.TLSv1
        sctx.load_cert_chain(self.crt, self.key)
        lsock = socket.socket()
        lsock.bind(("127.0.0.1", 0))
        lsock.listen(1)
        port = lsock.getsockname()[1]
        out = {}

        def serve():
            try:
                conn, _ = lsock.accept()
                conn.settimeout(10)
                with sctx.wrap_socket(conn, server_side=True) as t:
                    out["server"] = t.version()
            except Exception as e:
                out["server_error"] = repr(e)

        th = threading.Thread(target=serve, daemon=True)
        th.start()
        try:
            with socket.create_connection(("127.0.0.1", port), 10) as s:
                with client_ctx(maximum=ssl.TLSVersion.TLSv1_1,
                                old=True).wrap_socket(s) as t:
                    out["client"] = t.version()
        except (ssl.SSLError, OSError, ValueError) as e:
            out["client_error"] = repr(e)
        th.join(10)
        lsock.close()
        return out.get("client") == "TLSv1.1", out

    def test_tls11_refused(self):
        works, detail = self.tls11_client_works()
        start = self.inst.log_size()
        if works:
            # implicit TLS
            with socket.create_connection(("127.0.0.1", self.p465),
                                          10) as s:
                with self.assertRaises((ssl.SSLError, OSError)):
                    t = client_ctx(maximum=ssl.TLSVersion.TLSv1_1,
                                   old=True).wrap_socket(s)
                    t.close()
            # STARTTLS
            c = self.conn(source=self.ip())
            c.ehlo()
            r = c.cmd("STARTTLS")
            self.assertEqual(r.code, 220, r)
            with self.assertRaises((ssl.SSLError, OSError)):
                c.tls_handshake(client_ctx(maximum=ssl.TLSVersion.TLSv1_1,
                                           old=True))
            self.wait_log(r"SSL_accept error from unknown\[127\.0\.0\.1\]",
                          since=start)
        # openssl s_client -tls1_1 fails too (whatever the reason)
        r = subprocess.run(["openssl", "s_client", "-connect",
                            "127.0.0.1:%d" % self.p465, "-tls1_1",
                            "-cipher", "DEFAULT:@SECLEVEL=0"],
                           input=b"QUIT\r\n", capture_output=True,
                           timeout=30)
        out = (r.stdout + r.stderr).decode("latin-1")
        self.assertNotEqual(r.returncode, 0, out)
        self.assertNotIn("220 mx.example.com", out)
        self.assertIn("Cipher is (NONE)", out)
        self.assertIn("alert protocol version", out)
        self.assertTrue(works, "control: this client cannot speak TLS 1.1 "
                        "even to a server that allows it: %r" % (detail,))

    def test_tls12_and_tls13_work(self):
        for ver, name in ((ssl.TLSVersion.TLSv1_2, "TLSv1.2"),
                          (ssl.TLSVersion.TLSv1_3, "TLSv1.3")):
            with self.subTest(version=name):
                ctx = client_ctx(minimum=ver, maximum=ver)
                t = Conn(self.p465, tls=True, ctx=ctx)
                self.addCleanup(t.close)
                self.assertEqual(t.greeting.code, 220)
                self.assertEqual(t.sock.version(), name)
                c = self.conn(source=self.ip())
                c.ehlo()
                c.starttls(ctx)
                self.assertEqual(c.sock.version(), name)
                cipher = c.sock.cipher()[0]
                if name == "TLSv1.2":
                    # forward secrecy and AEAD only
                    self.assertRegex(cipher, r"^(ECDHE|DHE)-.*(GCM|CHACHA)",
                                     cipher)
                c.ehlo()
                self.login(c)
                token = "v%s-%x" % (name, int(time.time() * 1000))
                self.send_data(c, ALICE, [BOB], message(token))
                data = self.delivered(BOB, token)
                self.assertIn("(using %s with cipher %s" % (name, cipher),
                              first_received(data))

    def test_tls12_weak_ciphers_refused(self):
        for cipher in ("AES128-SHA", "AES256-GCM-SHA384",
                       "ECDHE-RSA-AES128-SHA"):
            with self.subTest(cipher=cipher):
                ctx = client_ctx(maximum=ssl.TLSVersion.TLSv1_2)
                ctx.set_ciphers(cipher)
                with socket.create_connection(("127.0.0.1", self.p465),
                                              10) as s:
                    with self.assertRaises((ssl.SSLError, OSError)):
                        ctx.wrap_socket(s).close()


# ================================================================ 7 ====
class CertReloadTest(SubmissionCase):

    def test_certificate_reload(self):
        old_fp = fingerprint(cert_der(self.crt))
        # a session before the reload, in the middle of a transaction
        c = self.tls_conn()
        self.assertEqual(fingerprint(c.peer_der()), old_fp)
        self.login(c)
        r = c.cmd("MAIL FROM:<%s>" % ALICE)
        self.assertEqual(r.code, 250, r)
        r = c.cmd("RCPT TO:<%s>" % BOB)
        self.assertEqual(r.code, 250, r)
        t = Conn(self.p465, tls=True)
        self.addCleanup(t.close)
        self.assertEqual(fingerprint(t.peer_der()), old_fp)

        # renewal: new files written, then moved over the old names
        ncrt, nkey = make_cert(self.inst.dir, "renewed",
                               cn="mx2.example.com")
        new_fp = fingerprint(cert_der(ncrt))
        self.assertNotEqual(new_fp, old_fp)
        os.replace(nkey, self.key)
        os.replace(ncrt, self.crt)
        old_smtpd = set(self.inst.pids("smtpd"))
        self.inst.mailctl("reload")

        def seen(port, tls):
            try:
                if tls:
                    x = Conn(port, tls=True, timeout=5)
                else:
                    x = Conn(port, timeout=5)
                    x.ehlo()
                    x.starttls()
                try:
                    return fingerprint(x.peer_der())
                finally:
                    x.close()
            except (OSError, EOFError, ssl.SSLError, AssertionError):
                return None
        for port, tls in ((self.p587, False), (self.p465, True)):
            got = wait_for(lambda: seen(port, tls) == new_fp, timeout=15,
                           step=0.2)
            self.assertTrue(got, "port %d still shows the old "
                            "certificate after the reload" % port)
            for _ in range(3):
                self.assertEqual(seen(port, tls), new_fp, port)
        self.assertTrue([p for p in self.inst.pids("smtpd")
                         if p not in old_smtpd])
        # the old sessions go on, with the old certificate
        self.assertEqual(fingerprint(c.peer_der()), old_fp)
        token = "reload-%x" % int(time.time() * 1000)
        r = c.cmd("DATA")
        self.assertEqual(r.code, 354, r)
        c.send(message(token).encode() + b".\r\n")
        r = c.reply()
        self.assertEqual(r.code, 250, r)
        self.delivered(BOB, token)
        r = t.cmd("EHLO client.example.org")
        self.assertEqual(r.code, 250, r)
        self.assertEqual(t.cmd("QUIT").code, 221)
        self.assertEqual(c.cmd("QUIT").code, 221)


# ================================================================ 8 ====
class BrokerFailureTest(SubmissionCase):
    EXPECTED_KILLS = ("auth",)

    def auth_until_ok(self, timeout=15):
        """AUTH with the right password until 235; the replies seen."""
        seen = []
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                c = self.tls_conn()
                r = c.cmd("AUTH PLAIN " + plain_ir(ALICE, PW))
                c.close()
            except (OSError, EOFError, ssl.SSLError) as e:
                seen.append(repr(e))
                time.sleep(0.2)
                continue
            seen.append(r.last)
            if r.code == 235:
                return seen
            self.assertEqual(r.code, 454, seen)
            time.sleep(0.2)
        self.fail("no 235 within %ds: %r" % (timeout, seen))

    def test_broker_killed(self):
        self.auth_until_ok()
        good = self.tls_conn()
        bad = self.tls_conn(source=self.ip())
        bad2 = self.tls_conn(source=self.ip())
        old = self.inst.pids("auth")
        self.assertEqual(len(old), 1, self.inst.procs())
        start = self.inst.log_size()
        os.kill(old[0], signal.SIGKILL)
        r = bad.cmd("AUTH PLAIN " + plain_ir(ALICE, "wrong-password"))
        self.assertIn(r.code, (454, 535), r)
        if r.code == 454:
            self.assertIn("4.7.0", r.last)
        r = good.cmd("AUTH PLAIN " + plain_ir(ALICE, PW))
        self.assertIn(r.code, (454, 235), r)
        if r.code == 454:
            self.assertIn("4.7.0", r.last)
            # a 454 does not end the session: once auth is back, it works
            self.assertIsNotNone(self.inst.wait_new_pid("auth", old, 10))
            r = wait_for(lambda: good.cmd("AUTH PLAIN " +
                                          plain_ir(ALICE, PW)).code == 235,
                         timeout=10, step=0.3)
            self.assertTrue(r, "the session never authenticated")
        r = bad2.cmd("AUTH LOGIN")
        r = bad2.cmd(b64(ALICE))
        r = bad2.cmd(b64("wrong-password"))
        self.assertIn(r.code, (454, 535), r)
        self.assertIsNotNone(self.inst.wait_new_pid("auth", old, 10),
                             self.inst.procs())
        seen = self.auth_until_ok()
        self.assertTrue(seen[-1].startswith("235"), seen)
        # the wrong passwords never logged anyone in
        self.assertNotIn("user alice@example.com from client %s" %
                         bad.sock.getsockname()[0],
                         self.inst.log_since(start))

    @slow
    def test_slow_broker_stopped_454(self):
        """A stopped (hanging) broker: address lookups get 451 after 10 s,
        logins 454 after 30 s (smtpd(8): the broker may hold login answers
        back up to 8 s), never 235; late answers log no one in."""
        self.auth_until_ok()
        pid = self.inst.pids("auth")
        self.assertEqual(len(pid), 1)
        pid = pid[0]
        good = Conn(self.p587, timeout=45)
        self.addCleanup(good.close)
        good.ehlo()
        good.starttls()
        good.ehlo()
        bad = Conn(self.p587, source=self.ip(), timeout=45)
        self.addCleanup(bad.close)
        bad.ehlo()
        bad.starttls()
        bad.ehlo()
        look = Conn(self.pmay, timeout=45)
        self.addCleanup(look.close)
        look.ehlo()
        self.assertEqual(look.cmd("MAIL FROM:<x@client.example>").code, 250)
        start = self.inst.log_size()
        os.kill(pid, signal.SIGSTOP)
        try:
            t0 = time.monotonic()
            look.send("RCPT TO:<%s>\r\n" % BOB)
            good.send("AUTH PLAIN %s\r\n" % plain_ir(ALICE, PW))
            bad.send("AUTH PLAIN %s\r\n" % plain_ir(ALICE, "wrong"))
            r = look.reply()
            dt_look = time.monotonic() - t0
            self.assertEqual(r.code, 451, (r, dt_look))
            self.assertIn("4.3.0", r.last)
            r = good.reply()
            dt = time.monotonic() - t0
            r2 = bad.reply()
        finally:
            os.kill(pid, signal.SIGCONT)
        self.assertTrue(8.0 < dt_look < 13.0, dt_look)
        self.assertEqual(r.code, 454, (r, dt))
        self.assertTrue(r.last.startswith("454 4.7.0"), r)
        self.assertEqual(r2.code, 454, r2)
        self.assertTrue(25.0 < dt < 34.0, dt)
        self.wait_log(r"no answer within", timeout=2, since=start)
        # the broker resumes and answers the old requests (one of them
        # "ok"): the session that got 454 is still not logged in
        self.wait_log(r"login ok: user alice@example\.com from client "
                      r"127\.0\.0\.1", timeout=10, since=start)
        time.sleep(0.3)
        r = good.cmd("MAIL FROM:<>")
        self.assertEqual(r.code, 250, r)
        r = good.cmd("RCPT TO:<%s>" % REMOTE)
        self.assertGreaterEqual(r.code, 500, "a late broker answer logged "
                                "the session in: %r" % r)
        good.cmd("RSET")
        self.assertNotIn("unknown[127.0.0.1]: sasl_method",
                         self.inst.log_since(start))
        # and a new attempt in the same session gets a fresh verdict
        r = good.cmd("AUTH PLAIN " + plain_ir(ALICE, PW))
        self.assertEqual(r.code, 235, r)
        r = bad.cmd("AUTH PLAIN " + plain_ir(ALICE, "wrong"))
        self.assertEqual(r.code, 535, r)
        self.assertEqual(self.inst.pids("auth"), [pid])


# =============================================================== 10 ====
class IMAP(imaplib.IMAP4):
    """imaplib from a source address of its own: Dovecot holds back the
    logins from an address that failed before (its auth penalty)."""

    def __init__(self, port, source):
        self.source = source
        super().__init__("127.0.0.1", port, timeout=20)

    def _create_socket(self, timeout):
        return socket.create_connection((self.host, self.port), timeout,
                                        source_address=(self.source, 0))


DOVECOT_CONF = """\
base_dir = {d}/run
state_dir = {d}/state
log_path = {d}/log
listen = 127.0.0.1
protocols = imap
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_verbose = yes
auth_failure_delay = 0
default_login_user = dovenull
default_internal_user = dovecot
first_valid_uid = 100
first_valid_gid = 100
passdb {{
  driver = passwd-file
  args = scheme=CRYPT username_format=%u {users}
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {users}
  default_fields = uid={vuser} gid={vuser} home={vbase}/%d/%n \
    mail=maildir:~/Maildir
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service auth {{
  user = root
}}
"""


@unittest.skipIf(shutil.which("dovecot") is None, "dovecot not installed")
class DovecotTest(SubmissionCase):
    """Dovecot reads youju's users file and the Maildir youju delivered."""

    dovecot = None

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        try:
            cls.start_dovecot()
        except Exception:
            cls.stop_dovecot()
            super().tearDownClass()
            raise

    @classmethod
    def start_dovecot(cls):
        d = os.path.join(cls.inst.dir, "dovecot")
        os.makedirs(d)
        cls.dport = free_port()
        cls.dconf = os.path.join(d, "dovecot.conf")
        cls.dlog = os.path.join(d, "log")
        with open(cls.dconf, "w") as f:
            # virtual users (no uid, gid, home in their line): the same
            # account and directory as youju's mailbox_owner and
            # mailbox_base, as youju-users(5) says
            f.write(DOVECOT_CONF.format(
                d=d, port=cls.dport,
                users=os.path.join(cls.inst.dir, "users"),
                vuser=harness.MAIL_OWNER,
                vbase=os.path.join(cls.inst.dir, "vmail")))
        cls.dovecot = subprocess.Popen(["dovecot", "-F", "-c", cls.dconf],
                                       stdin=subprocess.DEVNULL,
                                       stdout=subprocess.PIPE,
                                       stderr=subprocess.STDOUT)
        if not wait_listening(cls.dport, 15):
            raise RuntimeError("dovecot did not start: %s" % cls.dovecot_log())

    @classmethod
    def dovecot_log(cls):
        return read_text(cls.dlog)[-4000:]

    @classmethod
    def stop_dovecot(cls):
        p = cls.dovecot
        cls.dovecot = None
        if p is None or p.poll() is not None:
            return
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(15)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(5)

    @classmethod
    def tearDownClass(cls):
        try:
            cls.stop_dovecot()
        finally:
            super().tearDownClass()

    def imap(self, user, password, timeout=5):
        """An IMAP session logged in as user.  Dovecot notices a changed
        users file by its mtime and size, so a login right after a change
        is retried for a few seconds."""
        deadline = time.time() + timeout
        while True:
            m = IMAP(self.dport, self.ip())
            self.addCleanup(self._imap_close, m)
            try:
                typ, _ = m.login(user, password)
                break
            except imaplib.IMAP4.error as e:
                if time.time() >= deadline:
                    self.fail("IMAP login %s: %s; dovecot log:\n%s" %
                              (user, e, self.dovecot_log()))
                time.sleep(0.3)
        self.assertEqual(typ, "OK")
        return m

    @staticmethod
    def _imap_close(m):
        try:
            m.logout()
        except Exception:
            pass

    def imap_refused(self, user, password):
        m = IMAP(self.dport, self.ip())
        self.addCleanup(self._imap_close, m)
        with self.assertRaises(imaplib.IMAP4.error):
            m.login(user, password)

    def submit(self, user, password, rcpt, token, body):
        c = self.tls_conn()
        self.login(c, user, password)
        return self.send_data(c, user, [rcpt],
                              message(token, user, rcpt, body))

    def test_imap_reads_delivered_message(self):
        token = "imap-%x" % int(time.time() * 1000)
        body = "Hello Alice,\r\nthis came through youju.\r\n.dot line\r\n"
        self.submit(ALICE, PW, ALICE, token, body)
        self.delivered(ALICE, token)
        m = self.imap(ALICE, PW)
        typ, data = m.select("INBOX")
        self.assertEqual(typ, "OK", data)
        typ, data = m.search(None, "SUBJECT", token)
        self.assertEqual(typ, "OK")
        nums = data[0].split()
        self.assertEqual(len(nums), 1, data)
        typ, data = m.fetch(nums[0], "(RFC822)")
        self.assertEqual(typ, "OK")
        msg = email.message_from_bytes(data[0][1], policy=email.policy.SMTP)
        self.assertEqual(msg["Subject"], token)
        self.assertEqual(msg.get_payload().replace("\r\n", "\n"),
                         body.replace("\r\n", "\n"))
        self.assertIn("ESMTPSA", msg.get_all("Received")[0])
        # Dovecot checks the password too
        self.imap_refused(ALICE, "wrong-password")

    def new_user_line(self, name, hashed):
        home = self.inst.home(name)
        return "%s:%s:%d:%d::%s::\n" % (name, hashed, self.inst.uid,
                                        self.inst.gid, home)

    def test_doveadm_line_and_mailctl_user(self):
        carol = "carol2@example.com"
        r = subprocess.run(["doveadm", "-c", self.dconf, "pw", "-s",
                            "SHA512-CRYPT", "-p", "pw2"],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        hashed = r.stdout.strip()
        self.assertTrue(hashed.startswith("{SHA512-CRYPT}$6$"), hashed)
        users = os.path.join(self.inst.dir, "users")
        with open(users, "a") as f:
            f.write(self.new_user_line(carol, hashed))
        old_auth = self.inst.pids("auth")
        self.inst.mailctl("reload")
        self.assertIsNotNone(self.inst.wait_new_pid("auth", old_auth, 10))

        def auth_ok(user, pw):
            c = self.tls_conn()
            r = c.cmd("AUTH PLAIN " + plain_ir(user, pw))
            c.close()
            return r.code == 235
        self.assertTrue(wait_for(lambda: auth_ok(carol, "pw2"), 10, 0.2),
                        self.inst.log()[-3000:])
        self.assertFalse(auth_ok(carol, PW))
        self.imap(carol, "pw2")
        self.imap_refused(carol, PW)
        # carol is a local recipient now; she reads her mail over IMAP
        token = "carol-%x" % int(time.time() * 1000)
        self.submit(carol, "pw2", carol, token, "to myself\r\n")
        self.delivered(carol, token)
        m = self.imap(carol, "pw2")
        m.select("INBOX")
        typ, data = m.search(None, "SUBJECT", token)
        self.assertEqual(len(data[0].split()), 1, data)

        # mailctl user add, default scheme ARGON2ID
        dave = "dave@example.com"
        old_auth = self.inst.pids("auth")
        self.inst.mailctl("user", "add", dave, "--password-stdin",
                          "--uid", str(self.inst.uid),
                          "--gid", str(self.inst.gid),
                          "--home", self.inst.home(dave), input="pw3\n")
        with open(users) as f:
            lines = [l for l in f if l.startswith(dave + ":")]
        self.assertEqual(len(lines), 1)
        self.assertRegex(lines[0], r"^dave@example\.com:\{ARGON2ID\}"
                         r"\$argon2id\$v=19\$m=\d+,t=\d+,p=\d+\$")
        self.assertIsNotNone(self.inst.wait_new_pid("auth", old_auth, 10),
                             "mailctl user add did not reload auth")
        self.assertTrue(wait_for(lambda: auth_ok(dave, "pw3"), 10, 0.2),
                        self.inst.log()[-3000:])
        self.assertFalse(auth_ok(dave, "pw3\n"))
        self.imap(dave, "pw3")
        self.imap_refused(dave, "pw4")
        # the users file stays readable for Dovecot's passwd-file (and the
        # earlier users still work in both)
        self.assertTrue(auth_ok(carol, "pw2"))
        self.imap(ALICE, PW)


    def auth_ok(self, user, pw):
        c = self.tls_conn(source=self.ip())
        r = c.cmd("AUTH PLAIN " + plain_ir(user, pw))
        c.close()
        return r.code == 235

    def add_lines(self, text):
        """Append to the users file and reload; the line numbers of the
        new lines by name."""
        users = os.path.join(self.inst.dir, "users")
        with open(users, "a") as f:
            f.write(text)
        old_auth = self.inst.pids("auth")
        self.inst.mailctl("reload")
        self.assertIsNotNone(self.inst.wait_new_pid("auth", old_auth, 10))
        with open(users) as f:
            return {l.split(":", 1)[0]: n for n, l in enumerate(f, 1)}

    def virtual_maildir(self, user):
        local, domain = user.split("@")
        return os.path.join(self.inst.dir, "vmail", domain, local,
                            "Maildir")

    def test_virtual_user_lines_in_dovecot(self):
        """Issue 8, item 5: "mailctl user add" without --uid, --gid and
        --home writes every field, the ids and the home empty; Dovecot
        reads that line as passdb and as userdb (uid, gid and home from
        its default_fields: mailbox_owner's account, mailbox_base/%d/%n)
        and finds the Maildir local delivered into.  A line that ends
        after the password works for youju and Dovecot's passdb but not
        for its userdb; "name:hash::" (empty uid and gid fields present)
        is the shortest line both read."""
        frank = "frank@example.com"
        r = self.inst.mailctl("user", "add", frank, "--password-stdin",
                              input="pw5\n")
        with open(os.path.join(self.inst.dir, "users")) as f:
            line = [l for l in f if l.startswith(frank + ":")]
        self.assertEqual(len(line), 1, r.stdout)
        self.assertRegex(line[0], r"^frank@example\.com:\{ARGON2ID\}"
                         r"\$argon2id\$[^:]+::::::\n$")
        self.assertTrue(wait_for(lambda: self.auth_ok(frank, "pw5"), 10,
                                 0.2), self.inst.log()[-3000:])
        token = "virt-%x" % int(time.time() * 1000)
        self.submit(frank, "pw5", frank, token, "to a virtual user\r\n")
        path = wait_for(lambda: [p for sub in ("new", "cur") for p in
                                 glob.glob(os.path.join(
                                     self.virtual_maildir(frank), sub, "*"))
                                 if token.encode() in read_file(p)], 15)
        self.assertTrue(path, self.inst.log()[-3000:])
        st = os.stat(path[0])
        self.assertEqual(st.st_uid, pwd.getpwnam(harness.MAIL_OWNER).pw_uid)
        m = self.imap(frank, "pw5")
        typ, data = m.select("INBOX")
        self.assertEqual(typ, "OK", data)
        typ, data = m.search(None, "SUBJECT", token)
        self.assertEqual(len(data[0].split()), 1, (data,
                                                   self.dovecot_log()))
        self.imap_refused(frank, "pw6")
        # the shortest lines: youju takes both, Dovecot's userdb only the
        # one with the uid and gid fields
        self.add_lines("heidi@example.com:%s::\ngrace@example.com:%s\n" %
                       (harness.PASSWORD_HASH, harness.PASSWORD_HASH))
        for u in ("heidi@example.com", "grace@example.com"):
            self.assertTrue(wait_for(lambda: self.auth_ok(u, PW), 10, 0.2),
                            u)
        self.imap("heidi@example.com", PW)      # Dovecot re-read the file
        self.imap_refused("grace@example.com", PW)
        self.assertTrue(wait_for(lambda: "User grace@example.com is missing "
                                 "userdb info" in self.dovecot_log(), 5),
                        self.dovecot_log())

    def test_users_that_cannot_log_in(self):
        """Issue 8, item 5: a clear-text password (the seed article's
        "user:password"), {PLAIN}, an unknown scheme and a truncated hash
        load (mail is delivered) but can never log in: "mailctl user
        list" marks them with the reason, "mailctl check" warns with
        file:line, and auth logs the reason once per user at its first
        failed login."""
        cut = harness.PASSWORD_HASH[:-10]
        bad = {"article@example.com": ("password", "CRYPT",
                                       "clear-text password? (neither "
                                       "{SCHEME} nor a $id$ crypt hash)"),
               "plainuser@example.com": ("{PLAIN}secret::::::", "PLAIN",
                                         "clear-text password ({PLAIN})"),
               "md5user@example.com": ("{MD5-CRYPT}$1$saltsalt$9xy1btjgzLY"
                                       "fb7hivXtC//::::::", "MD5-CRYPT",
                                       "unknown password scheme "
                                       "{MD5-CRYPT}"),
               "cutuser@example.com": (cut + "::::::", "SHA512-CRYPT",
                                       "truncated SHA512-CRYPT hash"),
               "nopass@example.com": ("::::::", "-", "no password")}
        lines = self.add_lines("".join("%s:%s\n" % (u, v[0])
                                       for u, v in bad.items()))
        r = self.inst.mailctl("user", "list")
        self.assertEqual(r.stderr, "")
        got = r.stdout.splitlines()
        self.assertIn("alice@example.com SHA512-CRYPT", got)
        for u, (_, scheme, why) in bad.items():
            self.assertIn("%s %s (cannot log in: %s)" % (u, scheme, why),
                          got)
        self.assertEqual(len([l for l in got if "cannot log in" in l]),
                         len(bad), r.stdout)
        users = os.path.join(self.inst.dir, "users")
        r = self.inst.mailctl("check", check=False)
        self.assertEqual(r.returncode, 0, r)
        for u, (_, _, why) in bad.items():
            self.assertIn("mailctl: warning: %s:%d: %s: cannot log in: %s\n"
                          % (users, lines[u], u, why), r.stderr)
        self.assertEqual(r.stderr.count("cannot log in"), len(bad),
                         r.stderr)
        # auth: the reason once per user, the usual failure line each time
        off = self.inst.log_size()
        for _ in range(2):
            for u, pw in (("article@example.com", "password"),
                          ("plainuser@example.com", "secret"),
                          ("cutuser@example.com", PW)):
                c = self.tls_conn(source=self.ip())
                r = c.cmd("AUTH PLAIN " + plain_ir(u, pw))
                self.assertEqual(r.code, 535, (u, r))
                c.close()
        self.wait_log(r"cutuser@example\.com cannot log in", since=off)
        self.assertTrue(wait_for(lambda: self.inst.log_since(off).count(
            "authentication failed") >= 6, 10), self.inst.log_since(off))
        log = self.inst.log_since(off)
        for u in ("article@example.com", "plainuser@example.com",
                  "cutuser@example.com"):
            want = "auth[%s]: warning: user %s cannot log in: %s (users " \
                   "file line %d)" % ("{pid}", u, bad[u][2], lines[u])
            hits = [l for l in log.splitlines()
                    if "user %s cannot log in" % u in l]
            self.assertEqual(len(hits), 1, (u, log))
            self.assertRegex(hits[0], re.escape(want).replace(
                re.escape("{pid}"), r"\d+"))
        self.assertNotIn("md5user", log)
        # and mail for them is still delivered
        token = "nologin-%x" % int(time.time() * 1000)
        self.submit(ALICE, PW, "article@example.com", token, "hi\r\n")
        self.assertTrue(wait_for(lambda: [
            p for p in glob.glob(os.path.join(self.virtual_maildir(
                "article@example.com"), "new", "*"))
            if token.encode() in read_file(p)], 15), self.inst.log()[-2000:])


class PamTest(SubmissionCase):
    """smtpd_sasl_auth_backend = pam: system accounts log in through PAM
    (Debian's "other" service: pam_unix and /etc/shadow), and auth runs
    as root without chroot for it."""

    MAIN = {"smtpd_sasl_auth_backend": "pam",
            "smtpd_sasl_pam_service": "youju-e2e-smtp"}
    PAM_USER = "youju-pamuser"
    PAM_PW = "Pam-pass-42"

    @classmethod
    def setUpClass(cls):
        harness.ensure_user(cls.PAM_USER)
        subprocess.run(["chpasswd"], input="%s:%s\n" % (cls.PAM_USER,
                       cls.PAM_PW), text=True, check=True)
        super().setUpClass()

    def test_pam_login(self):
        auth = [p for p in self.inst.procs() if p["name"] == "auth"]
        self.assertEqual(len(auth), 1, auth)
        self.assertEqual(auth[0]["uids"], [0, 0, 0, 0], auth)
        self.assertEqual(auth[0]["root"], "/", auth)
        c = self.tls_conn(source=self.ip())
        r = c.cmd("AUTH PLAIN " + plain_ir(self.PAM_USER, "wrong"))
        self.assertEqual(r.code, 535, r)
        r = c.cmd("AUTH PLAIN " + plain_ir(self.PAM_USER, self.PAM_PW))
        self.assertEqual(r.code, 235, r)
        c = self.tls_conn(source=self.ip())
        r = c.cmd("AUTH PLAIN " + plain_ir("no-such-system-user", "x"))
        self.assertEqual(r.code, 535, r)


class LoginMapsTest(SubmissionCase):
    """smtpd_sender_login_maps as Postfix's: a hash: table built with
    "mailctl map" (the address, the address without its extension, then
    @domain; the first table with a key answers) and a regexp: table
    after it; reject_sender_login_mismatch on port 587 uses them."""

    TABLE_DIR = tempfile.mkdtemp(prefix="youju-e2e-login-", dir="/tmp")
    HASH = os.path.join(TABLE_DIR, "sender_login")
    REGEXP = os.path.join(TABLE_DIR, "sender_login.re")
    MAIN = {"smtpd_sender_login_maps": "hash:%s, regexp:%s" % (HASH, REGEXP),
            "recipient_delimiter": "+"}

    @classmethod
    def setUpClass(cls):
        os.chmod(cls.TABLE_DIR, 0o755)
        with open(os.path.join(cls.TABLE_DIR, "main.cf"), "w"):
            pass
        with open(cls.HASH, "w") as f:
            f.write("# address            logins\n"
                    "sales@example.com    alice@example.com, "
                    "bob@example.com\n"
                    "Alice@Example.COM    alice@example.com\n"
                    "@example.org         carol@example.com\n")
        with open(cls.REGEXP, "w") as f:
            f.write("/^news-.*@example\\.net$/ bob@example.com\n")
        r = subprocess.run([harness.mailctl_path(), "-c", cls.TABLE_DIR,
                            "map", cls.HASH], capture_output=True,
                           text=True, timeout=60)
        if r.returncode != 0:
            raise RuntimeError("mailctl map: %s" % r.stderr)
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            shutil.rmtree(cls.TABLE_DIR, ignore_errors=True)

    def mail_from(self, login, sender):
        c = self.tls_conn(source=self.ip())
        self.login(c, user=login)
        r = c.cmd("MAIL FROM:<%s>" % sender)
        if r.code == 250:
            r = c.cmd("RCPT TO:<%s>" % BOB)
        c.cmd("QUIT")
        return r

    def test_owners_from_tables(self):
        cases = [
            # (login, sender, accepted)
            (ALICE, "sales@example.com", True),
            ("bob@example.com", "sales@example.com", True),
            ("carol@example.com", "sales@example.com", False),
            (ALICE, "alice@example.com", True),          # case-blind key
            (ALICE, "alice+lists@example.com", True),    # extension cut
            ("bob@example.com", "alice@example.com", False),
            ("carol@example.com", "anyone@example.org", True),  # @domain
            (ALICE, "anyone@example.org", False),
            ("bob@example.com", "news-x@example.net", True),    # regexp:
            (ALICE, "news-x@example.net", False),
            # in no table: no owner, so nobody may use it (the users
            # file no longer decides once maps are set)
            ("bob@example.com", "bob@example.com", False),
        ]
        for login, sender, ok in cases:
            r = self.mail_from(login, sender)
            if ok:
                self.assertEqual(r.code, 250, (login, sender, r))
            else:
                self.assertEqual(r.code, 553, (login, sender, r))
                self.assertIn("not owned by user %s" % login, r.last)

    def test_check_refuses_stale_db(self):
        # a source newer than its .db: mailctl check names the table
        st = os.stat(self.HASH + ".db")
        os.utime(self.HASH, (st.st_atime, st.st_mtime + 10))
        try:
            r = self.inst.mailctl("check", check=False)
            self.assertNotEqual(r.returncode, 0, r.stdout + r.stderr)
            self.assertIn("smtpd_sender_login_maps", r.stdout + r.stderr)
            self.assertIn(self.HASH, r.stdout + r.stderr)
        finally:
            os.utime(self.HASH, (st.st_atime, st.st_mtime - 10))


if __name__ == "__main__":
    unittest.main()
