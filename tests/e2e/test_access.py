"""test_access.py - access tables and evaluation rules of smtpd
(issue 11): check_sender_access / check_recipient_access through texthash:
and inline: tables with REJECT, OK, DUNNO, 5NN text, HOLD, DISCARD and
PREPEND; warn_if_reject; smtpd_delay_reject = no at connect; restriction
classes; mailctl check refusing an unknown name, a missing table, and a
class named by a table's value that is not listed or not defined.

Clients connect from 127.0.0.2 (outside mynetworks = 127.0.0.1/32)."""
import os
import subprocess

import harness
from harness import Conn, wait_for

CLIENT = "127.0.0.2"


class AccessTables(harness.InstanceTestCase):
    @classmethod
    def setUpClass(cls):
        cls.inst = harness.Instance(main={"mynetworks": "127.0.0.1/32"})
        d = cls.inst.dir
        with open(os.path.join(d, "sender_access"), "w") as f:
            f.write("spam@bad.example REJECT no spam here\n"
                    "bad.example 550 5.7.0 go away\n"
                    "hold.example HOLD\n"
                    "drop.example DISCARD\n"
                    "tag.example PREPEND X-Tag: tagged\n"
                    "warn.example warn_if_reject, reject\n"
                    "vip.example myclass\n"
                    "redir.example REDIRECT bob@example.com\n"
                    "copy.example BCC bob@example.com\n")
        cls.inst.set_main(
            smtpd_restriction_classes="myclass",
            myclass="check_recipient_access inline:{bob@example.com=REJECT}",
            smtpd_sender_restrictions="check_sender_access texthash:%s"
            % os.path.join(d, "sender_access"),
            smtpd_end_of_data_restrictions="check_sender_access "
            "inline:{ { late@eod.example = REDIRECT bob@example.com } }")
        cls.inst.start()

    def txn(self, sender, rcpt="alice@example.com", body="body"):
        with Conn(self.inst.port, source=CLIENT) as c:
            c.ehlo()
            r = c.cmd("MAIL FROM:<%s>" % sender)
            self.assertEqual(r.code, 250, r)
            r = c.cmd("RCPT TO:<%s>" % rcpt)
            if r.code != 250:
                return r, None
            r = c.cmd("DATA")
            self.assertEqual(r.code, 354, r)
            r = c.cmd("Subject: t\r\n\r\n%s\r\n." % body)
            return r, r

    def test_reject_text(self):
        r, _ = self.txn("spam@bad.example")
        self.assertEqual(r.code, 554, r)
        self.assertIn("<spam@bad.example>: Sender address rejected: "
                      "no spam here", r.text())

    def test_code_parent_domain_key(self):
        r, _ = self.txn("x@bad.example")
        self.assertEqual(r.code, 550, r)
        self.assertIn("5.7.0", r.text())
        self.assertIn("go away", r.text())

    def test_not_listed_passes(self):
        r, _ = self.txn("x@good.example")
        self.assertEqual(r.code, 250, r)

    def test_hold(self):
        r, _ = self.txn("x@hold.example")
        self.assertEqual(r.code, 250, r)
        qid = harness.qid_of(r.text())
        wait_for(lambda: os.path.exists(
            os.path.join(self.inst.queue, "hold", qid)))
        self.assertIn("triggers HOLD action", self.inst.log())

    def test_discard(self):
        r, _ = self.txn("x@drop.example")
        self.assertEqual(r.code, 250, r)
        wait_for(lambda: "discarded by a DISCARD action" in self.inst.log())

    def test_prepend(self):
        r, _ = self.txn("x@tag.example")
        self.assertEqual(r.code, 250, r)
        def tagged():
            return any("X-Tag: tagged\r\nReceived:" in harness.read_text(p)
                       or "X-Tag: tagged\nReceived:" in harness.read_text(p)
                       for p in self.inst.messages("alice@example.com"))
        wait_for(tagged)

    def has(self, user, token):
        return any(token in harness.read_text(p)
                   for p in self.inst.messages(user))

    def test_redirect(self):
        token = "redirect-%d" % os.getpid()
        r, _ = self.txn("x@redir.example", body=token)
        self.assertEqual(r.code, 250, r)
        wait_for(lambda: self.has("bob@example.com", token))
        self.assertFalse(self.has("alice@example.com", token))
        self.assertIn("Sender address triggers REDIRECT bob@example.com",
                      self.inst.log())

    def test_bcc(self):
        token = "bcc-%d" % os.getpid()
        r, _ = self.txn("x@copy.example", body=token)
        self.assertEqual(r.code, 250, r)
        wait_for(lambda: self.has("bob@example.com", token) and
                 self.has("alice@example.com", token))

    def test_redirect_after_data_refused(self):
        # the recipients are written at DATA: too late, a config error
        r, _ = self.txn("late@eod.example", body="late")
        self.assertEqual(r.code, 451, r)
        self.assertIn("4.3.5", r.text())
        wait_for(lambda: "the recipients are already written at end of "
                 "data" in self.inst.log())

    def test_warn_if_reject(self):
        r, _ = self.txn("x@warn.example")
        self.assertEqual(r.code, 250, r)
        self.assertIn("reject_warning: RCPT", self.inst.log())

    def test_class_as_result(self):
        r, _ = self.txn("x@vip.example", "bob@example.com")
        self.assertEqual(r.code, 554, r)
        r, _ = self.txn("x@vip.example", "alice@example.com")
        self.assertEqual(r.code, 250, r)


class NoDelayReject(harness.InstanceTestCase):
    @classmethod
    def setUpClass(cls):
        cls.inst = harness.Instance(main={
            "mynetworks": "127.0.0.1/32", "smtpd_delay_reject": "no",
            "smtpd_client_restrictions":
                "check_client_access inline:{127.0.0.3=REJECT}"})
        cls.inst.start()

    def test_refused_at_connect(self):
        c = Conn(self.inst.port, source="127.0.0.3", greet=False)
        try:
            r = c.reply()
            self.assertEqual(r.code, 554, r)
            self.assertIn("Client host rejected", r.text())
            r = c.cmd("EHLO x.example")
            self.assertEqual(r.code, 503, r)
            r = c.cmd("QUIT")
            self.assertEqual(r.code, 221, r)
        finally:
            c.close()

    def test_other_client_greeted(self):
        with Conn(self.inst.port, source=CLIENT) as c:
            c.ehlo()


class CheckRefuses(harness.InstanceTestCase):
    @classmethod
    def setUpClass(cls):
        cls.inst = harness.Instance()

    @classmethod
    def tearDownClass(cls):
        cls.inst.cleanup()

    def check(self, **params):
        self.inst.set_main(**params)
        return self.inst.mailctl("check", check=False)

    def test_missing_table(self):
        r = self.check(smtpd_sender_restrictions="check_sender_access "
                       "hash:/nonexistent/access")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("/nonexistent/access", r.stdout + r.stderr)

    def test_bad_action_line(self):
        p = os.path.join(self.inst.dir, "bad_access")
        with open(p, "w") as f:
            f.write("a.example OK\nb.example FROBNICATE\n")
        r = self.check(smtpd_sender_restrictions="check_sender_access "
                       "texthash:" + p)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn(p + ":2", r.stdout + r.stderr)

    def check_table(self, table, **params):
        """mailctl check with a sender table of these lines."""
        p = os.path.join(self.inst.dir, "cls_access")
        with open(p, "w") as f:
            f.write(table)
        r = self.check(smtpd_sender_restrictions="check_sender_access "
                       "texthash:" + p, **params)
        return r, p

    def test_class_from_table_listed_not_defined(self):
        r, _ = self.check_table("a.test ghost\n",
                                smtpd_restriction_classes="ghost")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("\"ghost\" is not defined", r.stdout + r.stderr)

    def test_class_from_table_not_listed(self):
        r, p = self.check_table("a.test OK\nb.test phantom\n",
                                smtpd_restriction_classes="")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn(p + ":2", r.stdout + r.stderr)
        self.assertIn("phantom", r.stdout + r.stderr)

    def test_class_from_table_defined(self):
        r, _ = self.check_table("a.test real\n",
                                smtpd_restriction_classes="real",
                                real="reject_non_fqdn_sender, permit")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def test_undefined_class(self):
        r = self.check(smtpd_restriction_classes="nosuch",
                       smtpd_sender_restrictions="nosuch")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("not defined", r.stdout + r.stderr)
