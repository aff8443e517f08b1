"""test_newuser.py - what a new user coming from Postfix trips over
(issue 8): configuration checks that must catch dangerous mistakes, and
Postfix behaviours that must match.

Covered: the seed article's submission line (its $mua_* names never
defined) is an error in "mailctl check" with master.cf:LINE and the
service, and master will not start with it; with the names defined the
same line works and stops alice from sending as bob; an unknown
restriction name is an error at check, at start and at reload (the old
configuration keeps running); the output of "mailctl check" (every line
labelled, the last line a count, warnings alone exit 0, the article's
main.cf pasted under the shipped one gives warnings only); mailbox_size_limit
below message_size_limit is refused as Postfix refuses it; 150 messages on
one connection with RSET and NOOP between them; Postfix's "NOQUEUE:
reject:" line for every policy refusal; a frozen auth broker with
smtpd_timeout = 20s answers 454, not a timeout; a bare CR never reaches a
next hop (aiosmtpd sink), and is refused under smtpd_forbid_bare_newline =
reject; "RCPT TO:<alice>" is checked as written by reject_non_fqdn_recipient
(504) and otherwise delivered to alice@$myorigin.
"""
import os
import re
import shutil
import signal
import ssl
import time
import unittest

import harness
from harness import Conn, Instance, find_message, free_port, wait_for
import test_outbound as tob
import test_submission as tsub

ALICE = "alice@example.com"
BOB = "bob@example.com"

ARTICLE_SUBMISSION = (
    "%s inet n - y - - smtpd -o syslog_name=postfix/submission "
    "-o smtpd_tls_security_level=encrypt -o smtpd_sasl_auth_enable=yes "
    "-o smtpd_client_restrictions=$mua_client_restrictions "
    "-o smtpd_helo_restrictions=$mua_helo_restrictions "
    "-o smtpd_sender_restrictions=$mua_sender_restrictions "
    "-o smtpd_recipient_restrictions=$mua_recipient_restrictions\n")

ARTICLE_MAIN = """
myhostname = mail.example.com
mydomain = example.com
inet_interfaces = all
home_mailbox = Maildir/
smtpd_sasl_type = dovecot
smtpd_sasl_path = private/auth
mynetworks = 127.0.0.0/8 [::ffff:127.0.0.0]/104 [::1]/128
smtpd_helo_required = yes
smtpd_delay_reject = yes
smtpd_sender_restrictions = permit_mynetworks, reject_sender_login_mismatch
smtpd_recipient_restrictions = permit_mynetworks, reject_non_fqdn_recipient, reject_unknown_recipient_domain
message_size_limit = 10240000
"""


class CheckCase(unittest.TestCase):
    """Instances made with new() are stopped and removed at teardown."""

    def new(self, **kw):
        inst = Instance(**kw)
        self.addCleanup(self._finish, inst)
        return inst

    def _finish(self, inst):
        try:
            inst.stop()
        finally:
            errs = inst.sanitizer_errors()
            inst.cleanup()
        self.assertEqual(errs, [])

    def check(self, inst):
        """mailctl check: (exit status, finding lines, last stdout line)."""
        r = inst.mailctl("check", check=False)
        lines = r.stderr.splitlines()
        out = r.stdout.splitlines()
        for l in lines:
            self.assertRegex(l, r"^mailctl: (error|warning): ", r.stderr)
        self.assertTrue(out, r.stdout + r.stderr)
        return r.returncode, lines, out[-1]

    def start_fails(self, inst):
        r = inst.mailctl_start()
        self.assertNotEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIsNone(inst.master_pid())
        self.assertFalse(inst.listening())
        return r.stdout + r.stderr

    def add_main(self, inst, text):
        with open(os.path.join(inst.dir, "main.cf"), "a") as f:
            f.write(text)

    def mcf(self, inst):
        return os.path.join(inst.dir, "master.cf")


class ArticleSubmissionTest(CheckCase):

    def test_undefined_mua_names(self):
        """The article's submission line as it stands: the four $mua_*
        lists are undefined, so the service would have no restrictions at
        all (alice could send as bob).  Each is an error with the line
        and service; master refuses to start with the same words."""
        port2 = free_port()
        svc = "127.0.0.1:%d" % port2
        inst = self.new(master_extra=ARTICLE_SUBMISSION % svc)
        crt, key = harness.make_cert(inst.dir, "smtpd")
        inst.set_main(smtpd_tls_cert_file=crt, smtpd_tls_key_file=key)
        rc, lines, last = self.check(inst)
        self.assertEqual(rc, 1)
        for name in ("client", "helo", "sender", "recipient"):
            want = ("mailctl: error: %s:2: service %s: smtpd_%s_"
                    "restrictions: undefined parameter $mua_%s_restrictions"
                    " (in a restriction list" % (self.mcf(inst), svc, name,
                                                 name))
            self.assertTrue(any(l.startswith(want) for l in lines),
                            (want, lines))
        self.assertEqual(last, "%s: 4 errors, 0 warnings" % inst.dir)
        out = self.start_fails(inst)
        self.assertIn("4 configuration errors", out)
        self.assertIn("service %s: smtpd_sender_restrictions: undefined "
                      "parameter $mua_sender_restrictions" % svc, out)

    def test_defined_mua_names_work(self):
        """With the $mua_* lists defined the same line is clean, and the
        submission service stops alice from sending as bob (the
        downgrade the undefined names would have caused)."""
        port2 = free_port()
        svc = "127.0.0.1:%d" % port2
        inst = self.new(master_extra=ARTICLE_SUBMISSION % svc)
        crt, key = harness.make_cert(inst.dir, "smtpd")
        inst.set_main(
            smtpd_tls_cert_file=crt, smtpd_tls_key_file=key,
            mua_client_restrictions="permit_sasl_authenticated, reject",
            mua_helo_restrictions="permit",
            mua_sender_restrictions="reject_sender_login_mismatch",
            mua_recipient_restrictions="permit_sasl_authenticated, reject")
        rc, lines, last = self.check(inst)
        self.assertEqual((rc, lines, last),
                         (0, [], "%s: configuration ok" % inst.dir))
        inst.start()
        inst.wait_settled()
        c = Conn(port2, timeout=20)
        self.addCleanup(c.close)
        c.ehlo()
        self.assertEqual(c.cmd("STARTTLS").code, 220)
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        c.sock = ctx.wrap_socket(c.sock)
        c.ehlo()
        r = c.cmd("AUTH PLAIN " + tsub.plain_ir(ALICE, harness.PASSWORD))
        self.assertEqual(r.code, 235, r)
        self.assertEqual(c.cmd("MAIL FROM:<%s>" % BOB).code, 250)
        r = c.cmd("RCPT TO:<carol@remote.example>")
        self.assertEqual(r.lines, ["553 5.7.1 <%s>: Sender address "
                                   "rejected: not owned by user %s"
                                   % (BOB, ALICE)])


class UnknownRestrictionTest(CheckCase):

    BAD = "permit_mynetworks, reject_unknown_helo_hostnames"

    def test_check_start_and_reload(self):
        inst = self.new()
        self.add_main(inst, "smtpd_recipient_restrictions = %s\n" % self.BAD)
        nline = len(open(os.path.join(inst.dir, "main.cf")).readlines())
        want = ('%s/main.cf:%d: smtpd_recipient_restrictions: unknown '
                'restriction "reject_unknown_helo_hostnames"' % (inst.dir,
                                                                nline))
        rc, lines, last = self.check(inst)
        self.assertEqual(rc, 1)
        self.assertTrue(any(l.startswith("mailctl: error: " + want)
                            for l in lines), lines)
        self.assertEqual(last, "%s: 1 error, 0 warnings" % inst.dir)
        out = self.start_fails(inst)
        self.assertIn("error: " + want, out)

        # a good configuration runs; a reload with the bad one is refused
        # with the same words and the running one stays
        inst.set_main(smtpd_recipient_restrictions="permit_mynetworks")
        r = inst.mailctl_start()
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        inst.wait_settled()
        pids = sorted(p["pid"] for p in inst.procs())
        inst.set_main(smtpd_recipient_restrictions=self.BAD)
        r = inst.mailctl("reload", check=False)
        self.assertNotEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn('unknown restriction "reject_unknown_helo_hostnames"',
                      r.stdout + r.stderr)
        self.assertEqual(sorted(p["pid"] for p in inst.procs()), pids,
                         "a refused reload must not restart anything")
        with Conn(inst.port, source="127.0.0.2") as c:
            c.ehlo()
            self.assertEqual(c.cmd("MAIL FROM:<x@client.example>").code,
                             250)
            r = c.cmd("RCPT TO:<%s>" % ALICE)
            self.assertEqual(r.code, 250, r)

    def test_unknown_name_in_service_option(self):
        port2 = free_port()
        svc = "127.0.0.1:%d" % port2
        inst = self.new(master_extra="%s inet n - y - - smtpd -o "
                        "smtpd_helo_restrictions=check_helo_access,"
                        "hash:/etc/x\n" % svc)
        rc, lines, last = self.check(inst)
        self.assertEqual(rc, 1)
        # check_helo_access is known now (issue 11): its table that
        # does not exist is the error, named with the service's line
        self.assertIn('mailctl: error: %s:2: service %s: '
                      'smtpd_helo_restrictions: /etc/x.db: No such file '
                      'or directory' % (self.mcf(inst), svc),
                      "\n".join(lines))
        self.assertIn('/etc/x.db', self.start_fails(inst))


class CheckOutputTest(CheckCase):

    def test_article_below_shipped_main_cf(self):
        """The shipped main.cf with the article's lines pasted below it:
        overrides are warnings, labelled with file:line, the run exits 0
        and ends with the count."""
        inst = self.new()
        shipped = open(os.path.join(harness.SRC, "etc", "main.cf")).read()
        keep = {k: v for k, v in (l.split(" = ", 1) for l in open(
            os.path.join(inst.dir, "main.cf")).read().splitlines())
            if k in ("queue_directory", "daemon_directory", "mail_owner",
                     "maillog_file")}
        with open(os.path.join(inst.dir, "main.cf"), "w") as f:
            f.write(shipped)
            for k, v in keep.items():
                f.write("%s = %s\n" % (k, v))
            f.write(ARTICLE_MAIN)
        rc, lines, last = self.check(inst)
        self.assertEqual(rc, 0, lines)
        self.assertTrue(lines, "the duplicates are worth a warning")
        for l in lines:
            self.assertRegex(l, r"^mailctl: warning: %s/main\.cf:\d+: " %
                             re.escape(inst.dir))
        self.assertRegex("\n".join(lines), r"main\.cf:\d+: inet_interfaces "
                         r"overrides the setting at .*main\.cf:\d+")
        self.assertEqual(last, "%s: 0 errors, %d warning%s" % (
            inst.dir, len(lines), "" if len(lines) == 1 else "s"))

    def test_mailbox_limit_below_message_limit(self):
        """Postfix's local refuses to start with this; youju's check and
        master do."""
        inst = self.new()
        inst.set_main(mailbox_size_limit="1000000",
                      message_size_limit="2000000")
        rc, lines, last = self.check(inst)
        self.assertEqual(rc, 1)
        self.assertIn("mailctl: error: mailbox_size_limit (1000000) is "
                      "smaller than message_size_limit (2000000)",
                      "\n".join(lines))
        self.assertIn("mailbox_size_limit (1000000) is smaller",
                      self.start_fails(inst))

    def test_bare_alias_target_outside_mydestination(self):
        """myorigin that is no local domain: "postmaster: alice" would
        send the postmaster's mail to alice@$myorigin; check says so."""
        inst = self.new(aliases="postmaster: alice\n")
        inst.set_main(myorigin="mx.example.com")
        rc, lines, last = self.check(inst)
        self.assertEqual(rc, 0, lines)
        self.assertIn("mailctl: warning: %s/aliases:1: alias postmaster: "
                      "alice becomes alice@mx.example.com (myorigin), which "
                      "is not a domain of mydestination" % inst.dir,
                      "\n".join(lines))

    def test_undefined_name_outside_lists_is_a_warning(self):
        inst = self.new()
        inst.set_main(smtpd_banner="$myhostname $nothing_here")
        rc, lines, last = self.check(inst)
        self.assertEqual(rc, 0, lines)
        self.assertEqual(len(lines), 1, lines)
        self.assertRegex(lines[0], r"^mailctl: warning: .*main\.cf:\d+: "
                         r"smtpd_banner: undefined parameter \$nothing_here$")
        self.assertEqual(last, "%s: 0 errors, 1 warning" % inst.dir)


class ManyMessagesTest(harness.InstanceTestCase):
    """Postfix resets the junk command count (and the error count) after
    every accepted message: RSET and NOOP between messages never close a
    good client's connection."""

    @classmethod
    def setUpClass(cls):
        cls.inst = Instance(main={"master_stop_timeout": "3s",
                                  "smtpd_junk_command_limit": "5",
                                  "smtpd_soft_error_limit": "100"})
        try:
            cls.inst.start()
        except Exception:
            cls.inst.cleanup()
            raise

    def test_rset_noop_between_150_messages(self):
        with Conn(self.inst.port, timeout=20) as c:
            c.ehlo()
            for i in range(150):
                for cmd in ("RSET", "NOOP", "NOOP", "RSET"):
                    self.assertEqual(c.cmd(cmd).code, 250, (i, cmd))
                self.assertEqual(c.cmd("MAIL FROM:<x@client.example>").code,
                                 250, i)
                self.assertEqual(c.cmd("RCPT TO:<%s>" % ALICE).code, 250, i)
                self.assertEqual(c.cmd("DATA").code, 354, i)
                c.send("Subject: many %d\r\n\r\nx\r\n.\r\n" % i)
                self.assertEqual(c.reply().code, 250, i)
            self.assertEqual(c.cmd("QUIT").code, 221)

    def test_junk_beyond_limit_counts_as_errors(self):
        """Without a message in between, junk commands beyond the limit
        are errors; smtpd_hard_error_limit (20) then closes the
        session."""
        with Conn(self.inst.port, timeout=20) as c:
            c.ehlo()
            codes = []
            try:
                for _ in range(40):
                    codes.append(c.cmd("NOOP").code)
            except (EOFError, OSError):
                pass
            self.assertEqual(codes[:25], [250] * 25)
            self.assertEqual(codes[-1], 421, codes)
            self.assertEqual(len(codes), 26, codes)


class RejectLogTest(harness.InstanceTestCase):
    """Every refusal for a policy reason has Postfix's log line:
    NOQUEUE: reject: STAGE from unknown[ADDR]: REPLY; from=<S> to=<R>
    proto=ESMTP helo=<H>."""

    @classmethod
    def setUpClass(cls):
        cls.p_tls = free_port()
        cls.p_strict = free_port()
        cls.inst = inst = Instance(
            main={"master_stop_timeout": "3s",
                  "message_size_limit": "20000",
                  "myorigin": "example.com",
                  "mynetworks": "192.0.2.0/24",
                  "smtpd_recipient_limit": "2",
                  "smtpd_recipient_restrictions":
                  "reject_non_fqdn_recipient"},
            master_extra=("127.0.0.1:%d inet n - y - - smtpd "
                          "-o smtpd_tls_security_level=encrypt\n"
                          "127.0.0.1:%d inet n - y - - smtpd "
                          "-o smtpd_forbid_bare_newline=reject\n"
                          % (cls.p_tls, cls.p_strict)))
        crt, key = harness.make_cert(inst.dir, "smtpd")
        inst.set_main(smtpd_tls_cert_file=crt, smtpd_tls_key_file=key)
        try:
            inst.start()
        except Exception:
            inst.cleanup()
            raise

    def rejected(self, stage, reply, rest, off, qid="NOQUEUE"):
        rx = (r"%s: reject: %s from unknown\[127\.0\.0\.1\]: %s; %s$" %
              (qid, stage, re.escape(reply), rest))
        m = self.inst.wait_log("(?m)" + rx, 10, off)
        self.assertIsNotNone(m, "no %r in:\n%s" % (rx,
                                                   self.inst.log_since(off)))

    def test_policy_rejects_are_logged(self):
        off = self.inst.log_size()
        with Conn(self.inst.port) as c:
            c.ehlo("client.example.org")
            r = c.cmd("MAIL FROM:<s@client.example> SIZE=99999999")
            self.assertEqual(r.code, 552)
            self.rejected("MAIL", r.last, r"from=<s@client\.example> "
                          r"proto=ESMTP helo=<client\.example\.org>", off)
            self.assertEqual(c.cmd("MAIL FROM:<s@client.example>").code,
                             250)
            r = c.cmd("RCPT TO:<carol@remote.example>")
            self.assertEqual(r.code, 554)
            self.rejected("RCPT", r.last, r"from=<s@client\.example> "
                          r"to=<carol@remote\.example> proto=ESMTP "
                          r"helo=<client\.example\.org>", off)
            r = c.cmd("RCPT TO:<nobody@example.com>")
            self.assertEqual(r.code, 550)
            self.rejected("RCPT", r.last, r"from=<s@client\.example> "
                          r"to=<nobody@example\.com> proto=ESMTP "
                          r"helo=<client\.example\.org>", off)
            r = c.cmd("RCPT TO:<alice>")
            self.assertEqual(r.lines, ["504 5.5.2 <alice>: Recipient "
                                       "address rejected: need "
                                       "fully-qualified address"])
            self.rejected("RCPT", r.last, r"from=<s@client\.example> "
                          r"to=<alice> proto=ESMTP "
                          r"helo=<client\.example\.org>", off)
            self.assertEqual(c.cmd("RCPT TO:<%s>" % ALICE).code, 250)
            self.assertEqual(c.cmd("RCPT TO:<%s>" % BOB).code, 250)
            r = c.cmd("RCPT TO:<alice+x@example.com>")
            self.assertEqual(r.code, 452)
            self.rejected("RCPT", r.last, r"from=<s@client\.example> "
                          r"proto=ESMTP helo=<client\.example\.org>", off)
            self.assertEqual(c.cmd("DATA").code, 354)
            c.send(b"Subject: big\r\n\r\n" + b"x" * 998 + b"\r\n" * 1 +
                   (b"y" * 998 + b"\r\n") * 25 + b".\r\n")
            r = c.reply()
            self.assertEqual(r.code, 552)
            self.rejected("END-OF-MESSAGE", r.last,
                          r"from=<s@client\.example> to=<%s> proto=ESMTP "
                          r"helo=<client\.example\.org>" % re.escape(ALICE),
                          off, qid=r"[0-9A-Z]{16}")

    def test_starttls_required_logged(self):
        off = self.inst.log_size()
        with Conn(self.p_tls) as c:
            c.ehlo("tls.example.org")
            r = c.cmd("MAIL FROM:<s@client.example>")
            self.assertEqual(r.lines, ["530 5.7.0 Must issue a STARTTLS "
                                       "command first"])
        self.rejected("MAIL", r.last, r"proto=ESMTP helo=<tls\.example\.org>",
                      off)

    def test_bare_cr_rejected_when_asked(self):
        """smtpd_forbid_bare_newline = reject refuses a bare CR as it
        refuses a bare LF (550 5.6.2), logged."""
        off = self.inst.log_size()
        with Conn(self.p_strict) as c:
            c.ehlo("cr.example.org")
            self.open_txn(c, "s@client.example", [ALICE])
            c.send(b"Subject: cr\r\n\r\na\rb\r\n.\r\n")
            r = c.reply()
            self.assertEqual(r.lines, ["550 5.6.2 Error: bare <CR> "
                                       "received"])
        self.rejected("END-OF-MESSAGE", r.last, r"from=<s@client\.example> "
                      r"to=<%s> proto=ESMTP helo=<cr\.example\.org>"
                      % re.escape(ALICE), off, qid=r"[0-9A-Z]{16}")


class DomainlessRecipientTest(harness.InstanceTestCase):
    """RCPT TO:<alice>: Postfix takes it and completes it with
    @$myorigin (append_at_myorigin)."""

    @classmethod
    def setUpClass(cls):
        cls.inst = Instance(main={"master_stop_timeout": "3s",
                                  "myorigin": "example.com"})
        try:
            cls.inst.start()
        except Exception:
            cls.inst.cleanup()
            raise

    def test_delivered_to_myorigin(self):
        with Conn(self.inst.port) as c:
            c.ehlo()
            self.open_txn(c, "s@client.example", ["alice"])
            c.send("Subject: domainless\r\n\r\nx\r\n.\r\n")
            self.assertEqual(c.reply().code, 250)
        self.assertIsNotNone(find_message(self.inst, ALICE, b"domainless"))

    def test_unknown_local_part_550(self):
        with Conn(self.inst.port) as c:
            c.ehlo()
            self.assertEqual(c.cmd("MAIL FROM:<s@client.example>").code, 250)
            r = c.cmd("RCPT TO:<nobody>")
            self.assertEqual(r.code, 550, r)


class SlowBrokerTest(harness.InstanceTestCase):
    """A broker that does not answer, with smtpd_timeout = 20s: the
    login gets 454 before the timeout, never the client's 421."""

    @classmethod
    def setUpClass(cls):
        cls.inst = Instance(main={"master_stop_timeout": "3s",
                                  "smtpd_timeout": "20s",
                                  "smtpd_sasl_auth_enable": "yes",
                                  "smtpd_tls_auth_only": "no"})
        try:
            cls.inst.start()
            cls.inst.wait_settled()
        except Exception:
            cls.inst.cleanup()
            raise

    def test_frozen_broker_454(self):
        with Conn(self.inst.port, timeout=40) as c:
            c.ehlo()
            r = c.cmd("AUTH PLAIN " + tsub.plain_ir(ALICE, harness.PASSWORD))
            self.assertEqual(r.code, 235, r)
        pid = self.inst.pids("auth")[0]
        with Conn(self.inst.port, timeout=40) as c:
            c.ehlo()
            os.kill(pid, signal.SIGSTOP)
            try:
                t0 = time.monotonic()
                r = c.cmd("AUTH PLAIN " + tsub.plain_ir(ALICE,
                                                        harness.PASSWORD))
                dt = time.monotonic() - t0
            finally:
                os.kill(pid, signal.SIGCONT)
            self.assertEqual(r.lines, ["454 4.7.0 Temporary authentication "
                                       "failure"], dt)
            self.assertTrue(15.0 < dt < 21.0, dt)
            # the client has its full smtpd_timeout for the next command
            time.sleep(2)
            self.assertEqual(c.cmd("NOOP").code, 250)


class BareCrRelayTest(tob.OutboundCase):
    """A bare CR in the content never leaves the server: the next hop
    (an aiosmtpd sink) sees CR only in CR LF."""

    @classmethod
    def make_peers(cls):
        cls.peer = cls.add_peer(tob.Peer("127.0.0.31", cls.port))

    @classmethod
    def main_extra(cls):
        return {"relayhost": "[127.0.0.31]:%d" % cls.port}

    def test_bare_cr_normalized(self):
        body = (b"Subject: barecr\r\n\r\nline1\rline2\r\n"
                b"\r.\r\nafter-dot\r\nend\r\r\n.\r\n")
        with Conn(self.inst.port) as c:
            c.ehlo()
            self.open_txn(c, "s@client.example", ["carol@remote.example"])
            c.send(body)
            self.assertEqual(c.reply().code, 250)
        got = wait_for(lambda: self.peer.rec.with_token(b"barecr"), 20)
        self.assertTrue(got, self.tail())
        content = got[0]["content"]
        self.assertIsNone(re.search(rb"\r(?!\n)", content), content)
        self.assertIn(b"line1\r\nline2\r\n\r\n.\r\nafter-dot\r\nend\r\n",
                      content)


if __name__ == "__main__":
    unittest.main()
