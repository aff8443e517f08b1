"""test_restrictions.py - smtpd's restriction language end to end (issue
11): the evaluation-rule restrictions, the built-in ones, the access
tables of every type with every action, the stages of
smtpd_delay_reject, data and end-of-data lists, restriction classes,
a changed table, and a tutorial's anti-spam lists pasted as they are.
(mailctl check and classes used from tables: test_access.)

Every reply is compared with the text Postfix gives for the same
configuration (its smtpd_check.c, postconf(5), access(5)), and every log
line with Postfix's "NOQUEUE: WHAT: STAGE from NAME[ADDR]: TEXT; from=<S>
to=<R> proto=ESMTP helo=<H>".

Each class runs one instance (clients connect from 127.0.0.N, outside
mynetworks = 127.0.0.1/32 unless said otherwise) with extra smtpd services
(SERVICES: "-o" options) on free ports, so one instance serves several
configurations.  Tables are written into the instance directory and hash:
ones built with "mailctl map" as an admin would.  The DNS-dependent
classes run their own dnsmasq (test_dnsrestr / test_clientname's), the
tutorial class also Debian's policyd-spf under spawn(8) (test_policy's).

Covered:
  EvaluationTest   defer_if_permit, defer_if_reject, warn_if_reject (the
                   reject_warning line), permit_auth_destination,
                   defer_unauth_destination, sleep N (that session pauses,
                   another on the same service does not), a restriction
                   class as a cidr: value, DISCARD from a client table,
                   reject_unauth_pipelining (a client that talks before
                   the banner, one that sends its message after DATA
                   without waiting, one that pipelines after HELO) while
                   an ESMTP client's PIPELINING group passes
  BuiltinTest      reject_invalid_helo_hostname, reject_non_fqdn_helo_
                   hostname (address literals, a trailing dot, a bare
                   address), reject_non_fqdn_sender / _recipient,
                   reject_unlisted_sender / _recipient,
                   reject_multi_recipient_bounce at RCPT and at DATA,
                   smtpd_end_of_data_restrictions with check_sender_access,
                   smtpd_delay_reject = no (client at connect with 503 for
                   every later command but QUIT, helo at HELO, sender at
                   MAIL), reject_plaintext_session (and after STARTTLS),
                   reject_unauthenticated_sender_login_mismatch and
                   reject_authenticated_sender_login_mismatch
  AccessTest       check_client_access (cidr:, hash:),
                   check_reverse_client_hostname_access (an unconfirmed
                   PTR name from dnsmasq), check_helo_access (pcre:,
                   regexp:), check_sender_access (hash: built with mailctl
                   map, texthash:), check_recipient_access (inline:) with
                   OK, DUNNO (which also stops the parent-domain lookups),
                   REJECT text, 4NN/5NN text, DEFER_IF_PERMIT, HOLD (hold/,
                   then "mailctl queue release"), DISCARD, PREPEND, WARN
                   and a restriction class; a table's reply names what
                   that table looked up, whatever list it is in; a hash:
                   table rebuilt while running ("table ... has changed --
                   restarting", the next connection sees the new value)
  TutorialTest     the anti-spam lists of the common tutorials pasted as
                   they are (smtpd_helo_required, the helo, sender and
                   recipient lists with reject_rbl_client zen.spamhaus.org
                   and check_policy_service unix:private/policyd-spf):
                   mailctl check says ok, a good client's mail arrives
                   with its Received-SPF header, each bad one gets
                   Postfix's reply
"""
import os
import re
import smtplib
import subprocess
import time

import harness
from harness import Conn, free_port, wait_for
import test_clientname as tcn
import test_dnsrestr as tdr
import test_outbound as tob
import test_policy as tp
import test_submission as ts

ALICE = "alice@example.com"
BOB = "bob@example.com"


def rcpt_reject(addr, text, code=554, dsn="5.7.1"):
    return "%d %s <%s>: Recipient address rejected: %s" % (code, dsn, addr,
                                                          text)


def sender_reject(addr, text, code=554, dsn="5.7.1"):
    return "%d %s <%s>: Sender address rejected: %s" % (code, dsn, addr,
                                                       text)


def helo_reject(helo, text, code=554, dsn="5.7.1"):
    return "%d %s <%s>: Helo command rejected: %s" % (code, dsn, helo, text)


def client_reject(addr, text, code=554, dsn="5.7.1", name="unknown",
                  cls="Client host"):
    return "%d %s <%s[%s]>: %s rejected: %s" % (code, dsn, name, addr, cls,
                                               text)


class RestrCase(harness.InstanceTestCase):
    """One instance per class.  MAIN: main.cf; TABLES: file name -> text
    ("{dir}" is the instance directory) written before the start; HASHES:
    those of them built with "mailctl map"; SERVICES: name -> "-o"
    options of an extra smtpd service on a free port (self.svc[name]),
    with the process limit of ONE_PROCESS when named there."""

    MAIN = {}
    TABLES = {}
    HASHES = ()
    SERVICES = {}
    ONE_PROCESS = ()
    USERS = None

    @classmethod
    def setUpClass(cls):
        cls.inst = harness.Instance(main={"mynetworks": "127.0.0.1/32"},
                                    users=cls.USERS)
        try:
            cls.setup_instance(cls.inst)
            cls.inst.start()
            cls.inst.wait_settled()
        except Exception:
            cls.inst.cleanup()
            raise

    @classmethod
    def setup_instance(cls, inst):
        cls.write_tables(inst)
        main = {k: v.replace("{dir}", inst.dir) for k, v in cls.MAIN.items()}
        inst.set_main(**main)
        cls.add_services(inst)

    @classmethod
    def write_tables(cls, inst):
        for name, text in cls.TABLES.items():
            with open(os.path.join(inst.dir, name), "w") as f:
                f.write(text.replace("{dir}", inst.dir))
        for name in cls.HASHES:
            inst.mailctl("map", os.path.join(inst.dir, name))

    @classmethod
    def add_services(cls, inst):
        cls.svc = {}
        with open(os.path.join(inst.dir, "master.cf"), "a") as f:
            for name, opts in cls.SERVICES.items():
                cls.svc[name] = free_port()
                f.write("127.0.0.1:%d inet n - y - %s smtpd %s\n" % (
                    cls.svc[name], "1" if name in cls.ONE_PROCESS else "-",
                    opts.replace("{dir}", inst.dir)))

    # -- sessions --
    def conn(self, source, helo="client.example.org", port=None,
             timeout=15):
        """A connection from source, greeted, with EHLO (helo=None: none)."""
        c = Conn(port or self.inst.port, source=source, timeout=timeout)
        self.assertEqual(c.greeting.code, 220, c.greeting)
        if helo is not None:
            c.ehlo(helo)
        return c

    # the same as the DNS tests'
    expect = tdr.DnsCase.expect
    send_mail = tdr.DnsCase.send_mail

    def rcpt_reply(self, source, sender, rcpt, want, helo="client.example.org",
                   port=None):
        """MAIL (250) and RCPT from source; RCPT's reply must be want."""
        with self.conn(source, helo, port) as c:
            self.expect(c, "MAIL FROM:<%s>" % sender, "250 2.1.0 Ok")
            return self.expect(c, "RCPT TO:<%s>" % rcpt, want)

    def delivered(self, token, user=ALICE):
        path = harness.find_message(self.inst, user, token.encode(), 15)
        self.assertIsNotNone(path, "%s not delivered; maillog:\n%s" %
                             (token, self.inst.log()[-4000:]))
        return harness.read_text(path)

    def not_delivered(self, token, user=ALICE):
        self.assertIsNone(harness.find_message(self.inst, user,
                                               token.encode(), 2),
                          "%s delivered" % token)

    def logged(self, what, stage, client, text, rest, since=0, qid="NOQUEUE",
               name="unknown"):
        """Postfix's line: QID: WHAT: STAGE from NAME[ADDR]: TEXT; REST
        (REST a regular expression)."""
        rx = r"(?m)%s: %s: %s from %s\[%s\]: %s; %s$" % (
            qid, what, stage, re.escape(name), re.escape(client),
            re.escape(text), rest)
        self.assertIsNotNone(self.inst.wait_log(rx, 10, since),
                             "no %r in the maillog:\n%s" % (
                                 rx, self.inst.log_since(since)[-4000:]))


# ======================================================= evaluation ==

CLIENTS_CIDR = """# client address -> action
127.0.0.41 slow
127.0.0.42 DISCARD
127.0.0.43 REJECT
"""


class EvaluationTest(RestrCase):
    """Postfix's evaluation rules.  The main service has the default relay
    list (permit_mynetworks, permit_sasl_authenticated,
    defer_unauth_destination) and a client table naming a class."""

    TABLES = {"clients.cidr": CLIENTS_CIDR}
    MAIN = {"smtpd_restriction_classes": "slow",
            "slow": "sleep 2",
            "smtpd_client_restrictions":
            "check_client_access cidr:{dir}/clients.cidr"}
    SERVICES = {
        "dip": "-o smtpd_relay_restrictions=defer_if_permit,"
               "permit_auth_destination,reject",
        "dir": "-o smtpd_relay_restrictions=defer_if_reject,"
               "permit_auth_destination,reject",
        "dir4": "-o smtpd_relay_restrictions=defer_if_reject,"
                "permit_auth_destination,defer",
        "warn": "-o smtpd_relay_restrictions=warn_if_reject,"
                "reject_non_fqdn_helo_hostname,permit_auth_destination,"
                "reject",
        "pipe": "-o smtpd_data_restrictions=reject_unauth_pipelining "
                "-o smtpd_greet_wait=1s -o smtpd_greet_action=ignore",
        "single": "",
        "pfrelay": "-o smtpd_relay_restrictions=permit_mynetworks,"
                   "permit_sasl_authenticated,defer_unauth_destination",
    }
    # one process serves every session of "single"
    ONE_PROCESS = ("single",)

    # -- defer_if_permit / defer_if_reject / warn_if_reject --
    def test_defer_if_permit(self):
        """A list that permits after defer_if_permit answers 450 4.7.0;
        a reject after it is still a reject."""
        p = self.svc["dip"]
        self.rcpt_reply("127.0.0.50", "s@client.test", ALICE, rcpt_reject(
            ALICE, "defer_if_permit requested", 450, "4.7.0"), port=p)
        self.rcpt_reply("127.0.0.50", "s@client.test", "x@remote.test",
                        rcpt_reject("x@remote.test", "Access denied"),
                        port=p)

    def test_defer_if_reject(self):
        """A 5xx reject after defer_if_reject becomes its 450 4.7.0; a
        permit stays a permit; a 4xx reject keeps its own reply."""
        p = self.svc["dir"]
        off = self.inst.log_size()
        self.rcpt_reply("127.0.0.51", "s@client.test", "x@remote.test",
                        rcpt_reject("x@remote.test",
                                    "defer_if_reject requested", 450,
                                    "4.7.0"), port=p)
        self.logged("reject", "RCPT", "127.0.0.51", rcpt_reject(
            "x@remote.test", "defer_if_reject requested", 450, "4.7.0"),
            r"from=<s@client\.test> to=<x@remote\.test> proto=ESMTP "
            r"helo=<client\.example\.org>", off)
        with self.conn("127.0.0.51", port=p) as c:
            self.send_mail(c, "s@client.test", [ALICE], "dir-pass")
        self.delivered("dir-pass")
        self.rcpt_reply("127.0.0.51", "s@client.test", "x@remote.test",
                        rcpt_reject("x@remote.test", "Try again later", 450,
                                    "4.3.2"), port=self.svc["dir4"])

    def test_warn_if_reject(self):
        """The restriction after warn_if_reject only logs reject_warning
        with its reply; the one after that rejects again."""
        p = self.svc["warn"]
        off = self.inst.log_size()
        with self.conn("127.0.0.52", "localhost", p) as c:
            self.send_mail(c, "s@client.test", [ALICE], "warned")
            self.expect(c, "MAIL FROM:<s@client.test>", 250)
            self.expect(c, "RCPT TO:<x@remote.test>",
                        rcpt_reject("x@remote.test", "Access denied"))
        self.delivered("warned")
        self.logged("reject_warning", "RCPT", "127.0.0.52", helo_reject(
            "localhost", "need fully-qualified hostname", 504, "5.5.2"),
            r"from=<s@client\.test> to=<alice@example\.com> proto=ESMTP "
            r"helo=<localhost>", off)

    # -- relaying --
    def test_permit_auth_destination(self):
        with self.conn("127.0.0.53", port=self.svc["dir"]) as c:
            self.send_mail(c, "s@client.test", [ALICE, BOB], "authdest")
        self.delivered("authdest", BOB)

    def test_defer_unauth_destination(self):
        """Postfix's default smtpd_relay_restrictions (ending in
        defer_unauth_destination): 454 4.7.1 for a client outside
        mynetworks, one inside may relay; youju's default list rejects
        with 554 5.7.1."""
        p = self.svc["pfrelay"]
        self.rcpt_reply("127.0.0.54", "s@client.test", "x@remote.test",
                        "454 4.7.1 <x@remote.test>: Relay access denied",
                        port=p)
        self.rcpt_reply("127.0.0.1", "s@client.test", "x@remote.test",
                        "250 2.1.5 Ok", port=p)
        self.rcpt_reply("127.0.0.54", "s@client.test", "x@remote.test",
                        "554 5.7.1 <x@remote.test>: Relay access denied")

    # -- sleep --
    def test_sleep_pauses_only_that_session(self):
        """The class "slow" (sleep 2) from the client table: that RCPT is
        answered after 2 s (250), while a whole mail of another client
        served by the same process goes through meanwhile."""
        port = self.svc["single"]
        off = self.inst.log_size()
        slow = self.conn("127.0.0.41", port=port)
        try:
            self.expect(slow, "MAIL FROM:<s@client.test>", 250)
            t0 = time.monotonic()
            slow.send("RCPT TO:<%s>\r\n" % ALICE)
            time.sleep(0.2)
            with self.conn("127.0.0.55", port=port) as c:
                self.send_mail(c, "s@client.test", [ALICE], "notslowed")
            other = time.monotonic() - t0
            r = slow.reply()
            took = time.monotonic() - t0
        finally:
            slow.close()
        self.assertEqual(r.lines, ["250 2.1.5 Ok"])
        self.assertGreaterEqual(took, 1.9)
        self.assertLess(took, 6)
        self.assertLess(other, 1.5, "the other session waited")
        self.delivered("notslowed")
        pids = [re.search(r"\[(\d+)\]: connect from unknown\[%s\]" %
                          re.escape(a), self.inst.log_since(off))
                for a in ("127.0.0.41", "127.0.0.55")]
        self.assertTrue(all(pids), self.inst.log_since(off))
        self.assertEqual(pids[0].group(1), pids[1].group(1),
                         "served by one process")

    # -- DISCARD and REJECT from the client table --
    def test_client_table_discard(self):
        off = self.inst.log_size()
        with self.conn("127.0.0.42") as c:
            self.send_mail(c, "s@client.test", [ALICE], "discarded")
        self.not_delivered("discarded")
        self.logged("discard", "RCPT", "127.0.0.42",
                    "<unknown[127.0.0.42]>: Client host triggers DISCARD "
                    "action", r"from=<s@client\.test> to=<alice@example\.com>"
                    r" proto=ESMTP helo=<client\.example\.org>", off)

    def test_client_table_reject(self):
        self.rcpt_reply("127.0.0.43", "s@client.test", ALICE,
                        client_reject("127.0.0.43", "Access denied"))

    # -- reject_unauth_pipelining --
    def pipe_conn(self, source):
        return Conn(self.svc["pipe"], source=source, greet=False)

    def test_pipelining_before_greeting(self):
        off = self.inst.log_size()
        c = self.pipe_conn("127.0.0.56")
        try:
            c.send("EHLO early.example.org\r\n")
            self.assertEqual(c.reply().code, 220)
            self.assertEqual(c.reply().code, 250)
            self.expect(c, "MAIL FROM:<s@client.test>", 250)
            self.expect(c, "RCPT TO:<%s>" % ALICE, 250)
            self.expect(c, "DATA", "503 5.5.0 <DATA>: Data command "
                        "rejected: Improper use of SMTP command pipelining")
        finally:
            c.close()
        self.assertIsNotNone(self.inst.wait_log(
            r"improper command pipelining after CONNECT from "
            r"unknown\[127\.0\.0\.56\]", 5, off), self.inst.log_since(off))

    def test_pipelining_after_data(self):
        """The message sent with DATA, before 354: refused, not queued."""
        c = self.pipe_conn("127.0.0.57")
        try:
            self.assertEqual(c.reply().code, 220)
            c.ehlo()
            self.expect(c, "MAIL FROM:<s@client.test>", 250)
            self.expect(c, "RCPT TO:<%s>" % ALICE, 250)
            c.send(b"DATA\r\n" + tob.message("pipedata", rcpt=ALICE) +
                   b".\r\n")
            r = c.reply()
            self.assertEqual(r.lines, [
                "503 5.5.0 <DATA>: Data command rejected: Improper use of "
                "SMTP command pipelining"])
        finally:
            c.close()
        self.not_delivered("pipedata")

    def test_pipelining_after_helo(self):
        """Without EHLO there is no PIPELINING: MAIL and RCPT sent at
        once after HELO count."""
        c = self.pipe_conn("127.0.0.58")
        try:
            self.assertEqual(c.reply().code, 220)
            self.expect(c, "HELO client.example.org", 250)
            c.send("MAIL FROM:<s@client.test>\r\nRCPT TO:<%s>\r\n" % ALICE)
            self.assertEqual(c.reply().code, 250)
            self.assertEqual(c.reply().code, 250)
            self.expect(c, "DATA", "503 5.5.0 <DATA>: Data command "
                        "rejected: Improper use of SMTP command pipelining")
        finally:
            c.close()

    def test_pipelining_group_after_ehlo_passes(self):
        c = self.pipe_conn("127.0.0.59")
        try:
            self.assertEqual(c.reply().code, 220)
            c.ehlo()
            c.send("MAIL FROM:<s@client.test>\r\nRCPT TO:<%s>\r\nDATA\r\n"
                   % ALICE)
            got = [c.reply().code for _ in range(3)]
            self.assertEqual(got, [250, 250, 354])
            c.send(tob.message("pipegroup", rcpt=ALICE) + b".\r\n")
            self.assertEqual(c.reply().code, 250)
        finally:
            c.close()
        self.delivered("pipegroup")


# ========================================================= built-in ==

EOD_ACCESS = "eod@bad.test REJECT no such mail here\n"
NODELAY_CIDR = "127.0.0.66 REJECT go away\n"


class BuiltinTest(RestrCase):
    """The built-in restrictions, the data and end-of-data lists,
    smtpd_delay_reject = no, TLS and login checks."""

    TABLES = {"eod_access": EOD_ACCESS, "nodelay.cidr": NODELAY_CIDR}
    MAIN = {"smtpd_client_restrictions":
            "check_client_access cidr:{dir}/nodelay.cidr",
            "smtpd_helo_restrictions":
            "reject_invalid_helo_hostname, reject_non_fqdn_helo_hostname",
            "smtpd_sender_restrictions":
            "reject_non_fqdn_sender, reject_unlisted_sender",
            "smtpd_recipient_restrictions":
            "reject_non_fqdn_recipient, reject_unlisted_recipient, "
            "reject_multi_recipient_bounce, permit_auth_destination, reject",
            "smtpd_tls_security_level": "may"}
    SERVICES = {
        "data": "-o smtpd_recipient_restrictions=permit_auth_destination,"
                "reject -o smtpd_data_restrictions="
                "reject_multi_recipient_bounce",
        "eod": "-o smtpd_end_of_data_restrictions=check_sender_access,"
               "texthash:{dir}/eod_access",
        "nodelay": "-o smtpd_delay_reject=no",
        "plain": "-o smtpd_recipient_restrictions=reject_plaintext_session,"
                 "permit_auth_destination,reject",
        "unauthmm": "-o smtpd_sasl_auth_enable=yes "
                    "-o smtpd_sender_restrictions="
                    "reject_unauthenticated_sender_login_mismatch",
        "authmm": "-o smtpd_sasl_auth_enable=yes "
                  "-o smtpd_sender_restrictions="
                  "reject_authenticated_sender_login_mismatch",
    }

    @classmethod
    def setup_instance(cls, inst):
        crt, key = harness.make_cert(inst.dir, "smtpd")
        inst.set_main(smtpd_tls_cert_file=crt, smtpd_tls_key_file=key)
        super().setup_instance(inst)

    # -- HELO names --
    def helo_rcpt(self, helo, want, source="127.0.0.60"):
        return self.rcpt_reply(source, "s@client.test", ALICE, want, helo)

    def test_invalid_helo_hostname(self):
        self.helo_rcpt("bad!name.example", helo_reject(
            "bad!name.example", "Invalid name", 501, "5.5.2"))
        self.helo_rcpt("a..b.example", helo_reject(
            "a..b.example", "Invalid name", 501, "5.5.2"))

    def test_helo_address_literals(self):
        """A literal must hold an address (Postfix's reject_invalid_
        hostaddr, for both restrictions): [foo] is refused, [192.0.2.1]
        and [IPv6:2001:db8::1] pass."""
        self.helo_rcpt("[foo]", helo_reject("[foo]", "invalid ip address",
                                            501, "5.5.2"))
        self.helo_rcpt("[192.0.2.1]", "250 2.1.5 Ok")
        self.helo_rcpt("[IPv6:2001:db8::1]", "250 2.1.5 Ok")

    def test_non_fqdn_helo_hostname(self):
        """No dot, or a bare address (a numeric name is not a host name
        for Postfix) get 504; a trailing dot is allowed."""
        for helo in ("localhost", "1.2.3.4", "single."):
            with self.subTest(helo=helo):
                self.helo_rcpt(helo, helo_reject(
                    helo, "need fully-qualified hostname", 504, "5.5.2"))
        for helo in ("mx.client.example.", "under_score.example",
                     "123.example"):
            with self.subTest(helo=helo):
                self.helo_rcpt(helo, "250 2.1.5 Ok")

    # -- senders --
    def test_non_fqdn_sender(self):
        # (MAIL FROM:<joe> without a domain and <joe@host.>, which
        # Postfix accepts and this restriction refuses, are syntax errors
        # for youju's MAIL; a numeric domain is no host name for Postfix)
        for s in ("joe@localhost", "joe@1.2.3.4"):
            with self.subTest(sender=s):
                self.rcpt_reply("127.0.0.61", s, ALICE, sender_reject(
                    s, "need fully-qualified address", 504, "5.5.2"))
        self.rcpt_reply("127.0.0.61", "joe@[192.0.2.1]", ALICE,
                        "250 2.1.5 Ok")

    def test_unlisted_sender(self):
        self.rcpt_reply("127.0.0.62", "nobody@example.com", ALICE,
                        sender_reject("nobody@example.com",
                                      "User unknown in local recipient "
                                      "table", 550, "5.1.0"))
        with self.conn("127.0.0.62") as c:
            self.send_mail(c, BOB, [ALICE], "listed-sender")
            self.send_mail(c, "x@client.test", [ALICE], "remote-sender")
        self.delivered("listed-sender")

    # -- recipients --
    def test_non_fqdn_and_unlisted_recipient(self):
        with self.conn("127.0.0.63") as c:
            self.expect(c, "MAIL FROM:<s@client.test>", 250)
            self.expect(c, "RCPT TO:<bob@localhost>", rcpt_reject(
                "bob@localhost", "need fully-qualified address", 504,
                "5.5.2"))
            self.expect(c, "RCPT TO:<nobody@example.com>", rcpt_reject(
                "nobody@example.com", "User unknown in local recipient "
                "table", 550, "5.1.1"))
            # smtpd_relay_restrictions run first (youju's default ends
            # in reject_unauth_destination, see main.cf(5))
            self.expect(c, "RCPT TO:<x@remote.test>",
                        "554 5.7.1 <x@remote.test>: Relay access denied")

    def test_multi_recipient_bounce_at_rcpt(self):
        with self.conn("127.0.0.64") as c:
            self.expect(c, "MAIL FROM:<>", 250)
            self.expect(c, "RCPT TO:<%s>" % ALICE, "250 2.1.5 Ok")
            self.expect(c, "RCPT TO:<%s>" % BOB, rcpt_reject(
                BOB, "Multi-recipient bounce", 550, "5.5.3"))
            self.expect(c, "DATA", 354)
            c.send(tob.message("bounce1", "", ALICE) + b".\r\n")
            self.assertEqual(c.reply().code, 250)
        self.delivered("bounce1")

    def test_multi_recipient_bounce_at_data(self):
        off = self.inst.log_size()
        with self.conn("127.0.0.64", port=self.svc["data"]) as c:
            self.expect(c, "MAIL FROM:<>", 250)
            self.expect(c, "RCPT TO:<%s>" % ALICE, 250)
            self.expect(c, "RCPT TO:<%s>" % BOB, 250)
            want = ("550 5.5.3 <DATA>: Data command rejected: "
                    "Multi-recipient bounce")
            self.expect(c, "DATA", want)
            self.expect(c, "RSET", 250)
            self.send_mail(c, "", [ALICE], "bounce2")
        self.delivered("bounce2")
        # no to= with more than one recipient (Postfix: naming one of
        # them would be misleading)
        self.logged("reject", "DATA", "127.0.0.64", want,
                    r"from=<> proto=ESMTP helo=<client\.example\.org>", off)

    def test_end_of_data_sender_access(self):
        """smtpd_end_of_data_restrictions: check_sender_access answers
        after the final dot, naming the sender."""
        want = sender_reject("eod@bad.test", "no such mail here")
        with self.conn("127.0.0.65", port=self.svc["eod"]) as c:
            self.expect(c, "MAIL FROM:<eod@bad.test>", 250)
            self.expect(c, "RCPT TO:<%s>" % ALICE, 250)
            self.expect(c, "DATA", 354)
            c.send(tob.message("eodrej", "eod@bad.test", ALICE) + b".\r\n")
            self.assertEqual(c.reply().lines, [want])
            self.send_mail(c, "fine@good.test", [ALICE], "eodpass")
        self.not_delivered("eodrej")
        self.delivered("eodpass")

    # -- smtpd_delay_reject = no --
    def test_no_delay_client_at_connect(self):
        want = client_reject("127.0.0.66", "go away")
        c = Conn(self.svc["nodelay"], source="127.0.0.66", greet=False)
        try:
            self.assertEqual(c.reply().lines, [want])
            busy = "503 5.7.0 Error: access denied for unknown[127.0.0.66]"
            for cmd in ("EHLO client.example.org", "HELO x.example",
                        "MAIL FROM:<s@client.test>", "NOOP"):
                self.expect(c, cmd, busy)
            self.expect(c, "QUIT", 221)
        finally:
            c.close()
        # the same client on a delaying service: refused at RCPT
        self.rcpt_reply("127.0.0.66", "s@client.test", ALICE, want)

    def test_no_delay_helo_at_helo(self):
        with self.conn("127.0.0.67", None, self.svc["nodelay"]) as c:
            self.expect(c, "EHLO localhost", helo_reject(
                "localhost", "need fully-qualified hostname", 504, "5.5.2"))
            c.ehlo("client.example.org")
            self.send_mail(c, "s@client.test", [ALICE], "nodelayhelo")
        self.delivered("nodelayhelo")

    def test_no_delay_sender_at_mail(self):
        off = self.inst.log_size()
        want = sender_reject("joe@localhost", "need fully-qualified address",
                             504, "5.5.2")
        with self.conn("127.0.0.68", port=self.svc["nodelay"]) as c:
            self.expect(c, "MAIL FROM:<joe@localhost>", want)
            self.expect(c, "RCPT TO:<%s>" % ALICE,
                        "503 5.5.1 Error: need MAIL command")
            self.send_mail(c, "s@client.test", [ALICE], "nodelaymail")
        self.delivered("nodelaymail")
        self.logged("reject", "MAIL", "127.0.0.68", want,
                    r"from=<joe@localhost> proto=ESMTP "
                    r"helo=<client\.example\.org>", off)

    # -- TLS and logins --
    def test_plaintext_session(self):
        p = self.svc["plain"]
        with ts.Conn(p, source="127.0.0.69") as c:
            c.ehlo()
            self.expect(c, "MAIL FROM:<s@client.test>", 250)
            self.expect(c, "RCPT TO:<%s>" % ALICE,
                        "450 4.7.1 Session encryption is required")
        with ts.Conn(p, source="127.0.0.69") as c:
            c.ehlo()
            c.starttls()
            c.ehlo()
            self.send_mail(c, "s@client.test", [ALICE], "tlsonly")
        self.delivered("tlsonly")

    def login_conn(self, port, user=None):
        c = ts.Conn(port, source="127.0.0.70")
        c.ehlo()
        c.starttls()
        c.ehlo()
        if user is not None:
            r = c.cmd("AUTH PLAIN " + ts.plain_ir(user, harness.PASSWORD))
            self.assertEqual(r.code, 235, r)
        return c

    def test_unauthenticated_sender_login_mismatch(self):
        p = self.svc["unauthmm"]
        with self.login_conn(p) as c:
            self.expect(c, "MAIL FROM:<%s>" % ALICE, 250)
            self.expect(c, "RCPT TO:<%s>" % BOB, sender_reject(
                ALICE, "not logged in", 553))
            self.expect(c, "RSET", 250)
            self.send_mail(c, "x@client.test", [BOB], "unauthmm-stranger")
        with self.login_conn(p, BOB) as c:
            # only clients that have not logged in are checked
            self.send_mail(c, ALICE, [BOB], "unauthmm-other")

    def test_authenticated_sender_login_mismatch(self):
        p = self.svc["authmm"]
        with self.login_conn(p) as c:
            self.send_mail(c, ALICE, [BOB], "authmm-anon")
        with self.login_conn(p, BOB) as c:
            self.expect(c, "MAIL FROM:<%s>" % ALICE, 250)
            self.expect(c, "RCPT TO:<%s>" % ALICE, sender_reject(
                ALICE, "not owned by user %s" % BOB, 553))
            self.expect(c, "RSET", 250)
            self.send_mail(c, BOB, [ALICE], "authmm-own")
        self.delivered("authmm-own")


# ====================================================== access tables ==

CLIENT_CIDR = """127.0.0.30 550 5.7.9 cidr says no
127.0.0.31 DUNNO
127.0.0.31/32 REJECT never reached
127.0.0.32 HOLD
127.0.0.33 partners
"""
CLIENT_HASH = """good.test 450 4.7.3 good.test is on timeout
127.0.0.34 REJECT hash says no
"""
REV_TEXT = "forged.test REJECT unverified name\nnoaddr.test OK\n"
HELO_PCRE = r"""/^spam\d+\.example$/ REJECT numbered spammer
/^tag\.example$/ PREPEND X-Helo-Tag: pcre matched
/^warn\./ WARN helo looks odd
"""
HELO_RE = r"""/^dip\./ DEFER_IF_PERMIT
/^ok\./ OK
/^ok\./ REJECT never reached
/^(rx)\.example$/ 451 4.7.8 regexp $1 later
"""
SENDER_HASH = """bad.test REJECT
ok@bad2.test OK
bad2.test 451 4.7.9 try later
dunno@hash.test DUNNO
hash.test REJECT hash domain
drop.test DISCARD
change.test OK
"""
SENDER_TEXT = """dip.test DEFER_IF_PERMIT please retry
cls.test partners
tag.test PREPEND X-Sender-Tag: texthash
"""
RCPT_INLINE = "inline:{bob@example.com=REJECT, alice@example.com=DUNNO}"


class AccessTest(tcn.NameCase):
    """check_*_access with every table type; client names from dnsmasq
    (test_clientname's records: 127.0.0.21 is good.test, confirmed;
    127.0.0.22's PTR forged.test does not resolve to it)."""

    BASE = {"smtpd_peername_lookup": "yes", "mynetworks": "127.0.0.1/32"}
    TABLES = {"client.cidr": CLIENT_CIDR, "client_access": CLIENT_HASH,
              "rev_access": REV_TEXT, "helo.pcre": HELO_PCRE,
              "helo.re": HELO_RE, "sender_access": SENDER_HASH,
              "sender_text": SENDER_TEXT}
    HASHES = ("client_access", "sender_access")

    @classmethod
    def main_extra(cls):
        d = super().main_extra()
        d.update({
            "smtpd_restriction_classes": "partners",
            "partners": "reject_non_fqdn_helo_hostname, permit",
            "smtpd_client_restrictions":
            "check_reverse_client_hostname_access texthash:{dir}/rev_access,"
            " check_client_access cidr:{dir}/client.cidr,"
            " check_client_access hash:{dir}/client_access",
            "smtpd_helo_restrictions":
            "check_helo_access pcre:{dir}/helo.pcre, "
            "check_helo_access regexp:{dir}/helo.re",
            "smtpd_sender_restrictions":
            "check_sender_access hash:{dir}/sender_access, "
            "check_sender_access texthash:{dir}/sender_text",
            "smtpd_recipient_restrictions":
            "check_recipient_access " + RCPT_INLINE + ", "
            "permit_auth_destination, reject"})
        return d

    SERVICES = {
        "mixed": "-o smtpd_client_restrictions= "
                 "-o smtpd_sender_restrictions= "
                 "-o smtpd_recipient_restrictions=check_client_access,"
                 "cidr:{dir}/client.cidr,check_sender_access,"
                 "hash:{dir}/sender_access,permit_auth_destination,reject"}

    @classmethod
    def prepare_instance(cls):
        super().prepare_instance()
        inst = cls.inst
        for name in ("main.cf", "master.cf"):
            path = os.path.join(inst.dir, name)
            with open(path) as f:
                text = f.read()
            with open(path, "w") as f:
                f.write(text.replace("{dir}", inst.dir))
        RestrCase.write_tables.__func__(cls, inst)

    # helpers shared with RestrCase (expect and send_mail: DnsCase's)
    conn = RestrCase.conn
    rcpt_reply = RestrCase.rcpt_reply
    not_delivered = RestrCase.not_delivered
    logged = RestrCase.logged

    def delivered(self, token, user=ALICE):
        return RestrCase.delivered(self, token, user)

    def passes(self, source, token, helo="client.example.org",
               sender="x@sender.test"):
        with self.conn(source, helo) as c:
            self.send_mail(c, sender, [ALICE], token)
        return self.delivered(token)

    # -- client tables --
    def test_cidr_code_text(self):
        self.rcpt_reply("127.0.0.30", "s@client.test", ALICE, client_reject(
            "127.0.0.30", "cidr says no", 550, "5.7.9"))

    def test_cidr_dunno_ends_that_table(self):
        """DUNNO: the next entry of the same table is not consulted."""
        self.passes("127.0.0.31", "cidrdunno")

    def test_hash_client_by_name_and_address(self):
        """hash: (mailctl map): the confirmed name, then the address."""
        self.rcpt_reply(tcn.GOOD, "s@client.test", ALICE, client_reject(
            tcn.GOOD, "good.test is on timeout", 450, "4.7.3",
            name="good.test"))
        self.rcpt_reply("127.0.0.34", "s@client.test", ALICE, client_reject(
            "127.0.0.34", "hash says no"))

    def test_reverse_client_name(self):
        """check_reverse_client_hostname_access: the PTR name that does
        not confirm; Postfix names it "Unverified Client host"."""
        self.rcpt_reply(tcn.FORGED, "s@client.test", ALICE, client_reject(
            tcn.FORGED, "unverified name", cls="Unverified Client host"))

    def test_reverse_client_name_ok_refused(self):
        """OK from check_reverse_client_hostname_access would let a name
        the client chose allow it: Postfix refuses it as a configuration
        error, with its three warnings."""
        off = self.inst.log_size()
        self.rcpt_reply(tcn.NOADDR, "s@client.test", ALICE,
                        "451 4.3.5 Server configuration error")
        self.assertIsNotNone(self.inst.wait_log(
            r"warning: restriction check_reverse_client_hostname_access "
            r"returns OK for noaddr\.test\n.*warning: this is not allowed "
            r"for security reasons\n.*warning: use DUNNO instead of OK if "
            r"you want to make an exception", 5, off),
            self.inst.log_since(off))

    def test_hold_then_release(self):
        off = self.inst.log_size()
        with self.conn("127.0.0.32") as c:
            qid = self.send_mail(c, "s@client.test", [ALICE], "held1")
        hold = os.path.join(self.inst.queue, "hold", qid)
        self.assertTrue(wait_for(lambda: os.path.exists(hold), 10),
                        self.inst.log_since(off))
        self.not_delivered("held1")
        self.logged("hold", "RCPT", "127.0.0.32",
                    "<unknown[127.0.0.32]>: Client host triggers HOLD action",
                    r"from=<s@client\.test> to=<alice@example\.com> "
                    r"proto=ESMTP helo=<client\.example\.org>", off)
        self.inst.mailctl("queue", "release", qid)
        self.delivered("held1")
        self.assertFalse(os.path.exists(hold))

    def test_class_from_table(self):
        """A restriction class as a cidr: value and as a texthash:
        value: its restrictions run in place of the lookup."""
        self.rcpt_reply("127.0.0.33", "s@client.test", ALICE, helo_reject(
            "localhost", "need fully-qualified hostname", 504, "5.5.2"),
            helo="localhost")
        self.passes("127.0.0.33", "classok")
        self.rcpt_reply("127.0.0.35", "x@cls.test", ALICE, helo_reject(
            "localhost", "need fully-qualified hostname", 504, "5.5.2"),
            helo="localhost")

    # -- helo tables --
    def test_pcre_helo(self):
        self.rcpt_reply("127.0.0.36", "s@client.test", ALICE, helo_reject(
            "spam42.example", "numbered spammer"), helo="spam42.example")
        text = self.passes("127.0.0.36", "helotag", helo="tag.example")
        self.assertIn("X-Helo-Tag: pcre matched", text)
        self.assertLess(text.index("X-Helo-Tag:"), text.index("Received:"))

    def test_pcre_warn(self):
        off = self.inst.log_size()
        self.passes("127.0.0.36", "helowarn", helo="warn.example")
        self.logged("warn", "RCPT", "127.0.0.36", "helo looks odd",
                    r"from=<x@sender\.test> to=<alice@example\.com> "
                    r"proto=ESMTP helo=<warn\.example>", off)

    def test_regexp_helo(self):
        self.rcpt_reply("127.0.0.37", "s@client.test", ALICE, helo_reject(
            "dip.example", "Service unavailable", 450, "4.7.1"),
            helo="dip.example")
        self.passes("127.0.0.37", "helook", helo="ok.example")
        self.rcpt_reply("127.0.0.37", "s@client.test", ALICE, helo_reject(
            "rx.example", "regexp rx later", 451, "4.7.8"),
            helo="rx.example")

    # -- sender tables --
    def test_hash_sender(self):
        with self.conn("127.0.0.38") as c:
            for sender, want in [
                    ("x@bad.test", sender_reject("x@bad.test",
                                                 "Access denied")),
                    # parent_domain_matches_subdomains has
                    # smtpd_access_maps: bad.test covers its subdomains
                    ("x@sub.bad.test", sender_reject("x@sub.bad.test",
                                                     "Access denied")),
                    ("other@bad2.test", sender_reject(
                        "other@bad2.test", "try later", 451, "4.7.9")),
                    ("ok@bad2.test", "250 2.1.5 Ok"),
                    ("dunno@hash.test", "250 2.1.5 Ok"),
                    ("x@hash.test", sender_reject("x@hash.test",
                                                  "hash domain"))]:
                with self.subTest(sender=sender):
                    self.expect(c, "MAIL FROM:<%s>" % sender, 250)
                    self.expect(c, "RCPT TO:<%s>" % ALICE, want)
                    self.expect(c, "RSET", 250)

    def test_texthash_sender(self):
        self.rcpt_reply("127.0.0.38", "x@dip.test", ALICE, sender_reject(
            "x@dip.test", "please retry", 450, "4.7.1"))
        text = self.passes("127.0.0.38", "sendertag", sender="x@tag.test")
        self.assertIn("X-Sender-Tag: texthash", text)

    def test_sender_discard(self):
        off = self.inst.log_size()
        with self.conn("127.0.0.38") as c:
            self.send_mail(c, "x@drop.test", [ALICE], "senderdrop")
        self.not_delivered("senderdrop")
        self.logged("discard", "RCPT", "127.0.0.38",
                    "<x@drop.test>: Sender address triggers DISCARD action",
                    r"from=<x@drop\.test> to=<alice@example\.com> "
                    r"proto=ESMTP helo=<client\.example\.org>", off)

    # -- recipient table --
    def test_inline_recipient(self):
        with self.conn("127.0.0.39") as c:
            self.expect(c, "MAIL FROM:<s@client.test>", 250)
            self.expect(c, "RCPT TO:<%s>" % BOB, rcpt_reject(
                BOB, "Access denied"))
            self.expect(c, "RCPT TO:<%s>" % ALICE, "250 2.1.5 Ok")
            # smtpd_relay_restrictions run first (youju's default ends
            # in reject_unauth_destination, see main.cf(5))
            self.expect(c, "RCPT TO:<x@remote.test>",
                        "554 5.7.1 <x@remote.test>: Relay access denied")

    # -- replies name what the table looked up --
    def test_reply_names_table_subject(self):
        """A client and a sender table in smtpd_recipient_restrictions:
        the reply names the client ("Client host") and the sender
        ("Sender address"), not the recipient (Postfix's
        check_*_access)."""
        p = self.svc["mixed"]
        self.rcpt_reply("127.0.0.30", "s@client.test", ALICE, client_reject(
            "127.0.0.30", "cidr says no", 550, "5.7.9"), port=p)
        self.rcpt_reply("127.0.0.45", "x@bad.test", ALICE, sender_reject(
            "x@bad.test", "Access denied"), port=p)

    # -- a table changed while running --
    def test_table_change_picked_up(self):
        src = os.path.join(self.inst.dir, "sender_access")
        self.passes("127.0.0.40", "change1", sender="x@change.test")
        with open(src) as f:
            text = f.read()
        with open(src, "w") as f:
            f.write(text.replace("change.test OK",
                                 "change.test REJECT changed its mind"))
        off = self.inst.log_size()
        self.inst.mailctl("map", src)
        self.rcpt_reply("127.0.0.40", "x@change.test", ALICE, sender_reject(
            "x@change.test", "changed its mind"))
        self.assertIsNotNone(self.inst.wait_log(
            r"table hash:%s has changed -- restarting" % re.escape(src), 10,
            off), self.inst.log_since(off))
        self.rcpt_reply("127.0.0.40", "x@change.test", ALICE, sender_reject(
            "x@change.test", "changed its mind"))


# ========================================================== tutorial ==

TUTORIAL = """
# --- pasted from a Postfix anti-spam tutorial ---
smtpd_helo_required = yes
smtpd_helo_restrictions =
    permit_mynetworks,
    permit_sasl_authenticated,
    reject_invalid_helo_hostname,
    reject_non_fqdn_helo_hostname,
    reject_unknown_helo_hostname
smtpd_sender_restrictions =
    permit_mynetworks,
    permit_sasl_authenticated,
    reject_non_fqdn_sender,
    reject_unknown_sender_domain
smtpd_recipient_restrictions =
    permit_mynetworks,
    permit_sasl_authenticated,
    reject_unauth_destination,
    reject_rbl_client zen.spamhaus.org,
    check_policy_service unix:private/policyd-spf
policyd-spf_time_limit = 3600
"""

GOOD = "127.0.0.7"      # spf.test allows it (test_policy's record)
FORGER = "127.0.0.8"
LISTED = "127.0.0.9"    # in zen.spamhaus.org


class TutorialTest(harness.InstanceTestCase):
    """The tutorial's main.cf lines appended as they are (continuation
    lines included), policyd-spf under spawn as the tutorials' master.cf
    line runs it (with test_policy's wrapper, for its resolver).  At the
    stop spawn ends the policyd-spf children smtpd still holds open
    (and logs it)."""

    EXPECTED_KILLS = ("python3",)

    @classmethod
    def setUpClass(cls):
        cls.dns = tob.Dnsmasq(
            hosts=[("spf.test", GOOD), ("mail.spf.test", GOOD),
                   ("forger.spf.test", FORGER),
                   ("9.0.0.127.zen.spamhaus.org", "127.0.0.2")],
            extra=["--txt-record=spf.test,v=spf1 ip4:127.0.0.7 -all",
                   "--local=/spamhaus.org/"])
        inst = harness.Instance(
            main={"mynetworks": "127.0.0.1/32",
                  "dns_server_address": cls.dns.address},
            master_extra="policyd-spf unix - n n - 0 spawn\n"
            "    user=policyd-spf argv=/usr/bin/python3 %s\n")
        cls.inst = inst
        try:
            tp.spf_wrapper(inst, cls.dns.port)
            with open(os.path.join(inst.dir, "main.cf"), "a") as f:
                f.write(TUTORIAL)
            inst.start()
            inst.wait_settled()
        except Exception:
            inst.cleanup()
            cls.dns.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.dns.stop()
        super().tearDownClass()

    conn = RestrCase.conn
    expect = RestrCase.expect
    rcpt_reply = RestrCase.rcpt_reply

    def test_check_ok(self):
        r = self.inst.mailctl("check", check=False)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(r.stdout.splitlines()[-1],
                         "%s: configuration ok" % self.inst.dir)
        self.assertEqual(r.stderr, "")

    def test_good_client_delivered(self):
        """swaks from the permitted address, as a tester would."""
        r = subprocess.run(
            ["swaks", "--server", "127.0.0.1:%d" % self.inst.port,
             "--local-interface", GOOD, "--ehlo", "mail.spf.test",
             "--from", "good@spf.test", "--to", ALICE,
             "--header", "Subject: tutorial-good",
             "--body", "tutorial-good body"],
            capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        text = RestrCase.delivered(self, "tutorial-good")
        self.assertRegex(text, r"(?m)^Received-SPF: Pass \(mailfrom\) "
                         r"identity=mailfrom; client-ip=127\.0\.0\.7;")

    def test_smtplib_refused(self):
        """smtplib from a listed client and from a forger: the errors it
        raises carry Postfix's replies."""
        for source, code, text in [
                (LISTED, 554, "5.7.1 Service unavailable; Client host "
                 "[127.0.0.9] blocked using zen.spamhaus.org"),
                (FORGER, 550, "5.7.23 <%s>: Recipient address rejected: "
                 "Message rejected due to: SPF fail" % ALICE)]:
            with self.subTest(source=source):
                s = smtplib.SMTP("127.0.0.1", self.inst.port, timeout=30,
                                 source_address=(source, 0))
                try:
                    s.ehlo("forger.spf.test" if source == FORGER else
                           "mail.spf.test")
                    with self.assertRaises(
                            smtplib.SMTPRecipientsRefused) as cm:
                        s.sendmail("x@spf.test" if source == FORGER else
                                   "good@spf.test", [ALICE],
                                   b"Subject: refused\r\n\r\nx\r\n")
                    got = cm.exception.recipients[ALICE]
                    self.assertEqual(got[0], code)
                    self.assertTrue(got[1].decode().startswith(text), got)
                finally:
                    s.close()

    def test_helo_required(self):
        with self.conn(GOOD, None) as c:
            self.expect(c, "MAIL FROM:<good@spf.test>",
                        "503 5.5.1 Error: send HELO/EHLO first")

    def test_bad_helo_names(self):
        for helo, want in [
                ("bad!name.spf.test", helo_reject(
                    "bad!name.spf.test", "Invalid name", 501, "5.5.2")),
                ("localhost", helo_reject(
                    "localhost", "need fully-qualified hostname", 504,
                    "5.5.2")),
                ("nx.spf.test", helo_reject("nx.spf.test", "Host not found",
                                            450, "4.7.1"))]:
            with self.subTest(helo=helo):
                self.rcpt_reply(GOOD, "good@spf.test", ALICE, want, helo)

    def test_bad_senders(self):
        with self.conn(GOOD, "mail.spf.test") as c:
            for sender, want in [
                    ("joe@localhost", sender_reject(
                        "joe@localhost", "need fully-qualified address",
                        504, "5.5.2")),
                    ("joe@nx.test", sender_reject(
                        "joe@nx.test", "Domain not found", 450, "4.1.8"))]:
                with self.subTest(sender=sender):
                    self.expect(c, "MAIL FROM:<%s>" % sender, 250)
                    self.expect(c, "RCPT TO:<%s>" % ALICE, want)
                    self.expect(c, "RSET", 250)

    def test_relay_denied(self):
        """The default smtpd_relay_restrictions come first (youju's ends
        in reject_unauth_destination: 554, see main.cf(5))."""
        self.rcpt_reply(GOOD, "good@spf.test", "x@remote.test",
                        "554 5.7.1 <x@remote.test>: Relay access denied",
                        "mail.spf.test")

    def test_listed_client(self):
        self.rcpt_reply(LISTED, "good@spf.test", ALICE, tdr.rbl_reply(
            554, LISTED, "zen.spamhaus.org"), "mail.spf.test")

    def test_spf_fail(self):
        r = self.rcpt_reply(FORGER, "forger@spf.test", ALICE, 550,
                            "forger.spf.test")
        self.assertTrue(r.last.startswith(
            "550 5.7.23 <%s>: Recipient address rejected: Message rejected "
            "due to: SPF fail - not authorized." % ALICE), r)
