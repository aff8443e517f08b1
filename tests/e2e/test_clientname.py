"""test_clientname.py - the client's name (reverse DNS, forward-confirmed),
the restrictions that read it or other names in DNS lists, and the
pregreet check, end to end.

Each class runs one instance as root with smtpd_peername_lookup = yes
(the harness turns it off elsewhere) and its own DNS server on a free UDP
port of 127.0.0.1: a dnsmasq that answers only what it is given (every
other name under .test and 127.in-addr.arpa is NXDOMAIN), one that answers
everything SERVFAIL, or one that never answers.  Clients connect from
several loopback addresses:

  127.0.0.21  PTR good.test, good.test A 127.0.0.21        (GOOD: confirmed)
  127.0.0.22  PTR forged.test, forged.test A 127.0.0.99    (FORGED)
  127.0.0.23  no PTR (NXDOMAIN)                            (NOPTR)
  127.0.0.24  PTR noaddr.test, which does not exist        (NOADDR)
  127.0.0.25  PTR listed.test (confirmed), listed in dbl.test  (LISTED)
  127.0.0.26  no PTR, address listed in wl.test            (WL)
  127.0.0.27  PTR white.test (confirmed), listed in rhswl.test (WHITE)
  127.0.0.28  PTR v6only.test, which has only an AAAA record (V6ONLY)

Covered: "connect from NAME[ADDR]", the reject and client= log lines and
the Received header carry the confirmed name, "unknown" otherwise, with
Postfix's warnings for a PTR name that does not list the address or does
not exist; smtpd_peername_lookup = no asks nothing;
reject_unknown_reverse_client_hostname (no PTR) and
reject_unknown_client_hostname (no PTR or not confirmed) with
unknown_client_reject_code, and 450 whatever that code when the DNS server
fails (SERVFAIL) or does not answer (the banner then comes after the
lookup deadline, with a warning); reject_unknown_helo_hostname (A, MX,
a trailing dot, address literals, Host not found with
unknown_hostname_reject_code, 450 on SERVFAIL); reject_rhsbl_client,
reject_rhsbl_reverse_client, reject_rhsbl_helo, reject_rhsbl_sender and
reject_rhsbl_recipient (with a =d.d.d.d filter) with Postfix's replies,
names ending in a number never looked up; permit_dnswl_client and
permit_rhswl_client letting a listed client past later rejects, but never
to a recipient it would relay to; the pregreet check: a client that talks
before the banner (smtpd_greet_wait) is logged as PREGREET and gets 550
5.5.1 at RCPT (enforce), 521 and the close (drop), or goes on (ignore); a
client that waits is served; mailctl check accepts every new name.
"""
import os
import re
import socket
import time

import harness
from harness import Conn, free_port, wait_for
import test_dnsrestr as tdr
import test_outbound as tob

ALICE = tob.ALICE

GOOD = "127.0.0.21"
FORGED = "127.0.0.22"
NOPTR = "127.0.0.23"
NOADDR = "127.0.0.24"
LISTED = "127.0.0.25"
WL = "127.0.0.26"
WHITE = "127.0.0.27"
V6ONLY = "127.0.0.28"

HOSTS = [("good.test", GOOD), ("forged.test", "127.0.0.99"),
         ("listed.test", LISTED), ("white.test", WHITE),
         ("v6only.test", "2001:db8::28"),
         # the DNS lists
         ("listed.test.dbl.test", "127.0.1.2"),
         ("forged.test.dbl.test", "127.0.1.2"),
         ("badhelo.test.dbl.test", "127.0.1.2"),
         ("bad.test.dbl.test", "127.0.1.2"),
         ("listedrcpt.test.dbl.test", "127.0.1.3"),
         ("mismatch.test.dbl.test", "127.0.1.2"),
         ("26.0.0.127.wl.test", "127.0.10.2"),
         ("white.test.rhswl.test", "127.0.0.2")]
MX = [("mxonly.test", "good.test", 10)]
CONF = ["ptr-record=22.0.0.127.in-addr.arpa,forged.test",
        "ptr-record=24.0.0.127.in-addr.arpa,noaddr.test",
        "ptr-record=28.0.0.127.in-addr.arpa,v6only.test",
        'txt-record=listed.test.dbl.test,"client listed"',
        # no PTR is NXDOMAIN, not "no upstream server"
        "local=/127.in-addr.arpa/"]


def blocked(cls, what, zone="dbl.test", txt=None, code=554):
    return "%d %s.7.1 Service unavailable; %s [%s] blocked using %s%s" % (
        code, str(code)[0], cls, what, zone,
        "; " + txt if txt is not None else "")


def no_reverse(addr, code):
    return ("%d %s.7.1 Client host rejected: cannot find your reverse "
            "hostname, [%s]" % (code, str(code)[0], addr))


def no_name(addr, code):
    return ("%d %s.7.25 Client host rejected: cannot find your hostname, "
            "[%s]" % (code, str(code)[0], addr))


def no_helo(helo, code):
    return ("%d %s.7.1 <%s>: Helo command rejected: Host not found"
            % (code, str(code)[0], helo))


def hosts_names(addr):
    """The names /etc/hosts gives addr (a files lookup of each of them
    lists addr too)."""
    names = []
    with open("/etc/hosts") as f:
        for line in f:
            w = line.split("#")[0].split()
            if len(w) > 1 and w[0] == addr:
                names += w[1:]
    return names


class NameCase(tdr.DnsCase):
    """A DnsCase with client name lookups, the records above, and extra
    smtpd services (SERVICES: {name: "-o ..." options}) on free ports,
    reachable as self.svc[name]."""

    MX = MX
    HOSTS = HOSTS
    CONF = CONF
    BASE = {"smtpd_peername_lookup": "yes", "mynetworks": "192.0.2.0/24"}
    SERVICES = {}

    @classmethod
    def main_extra(cls):
        d = dict(cls.BASE)
        d.update(super().main_extra())
        return d

    @classmethod
    def prepare_instance(cls):
        cls.svc = {}
        with open(os.path.join(cls.inst.dir, "master.cf"), "a") as f:
            for name, opts in cls.SERVICES.items():
                cls.svc[name] = free_port()
                f.write("127.0.0.1:%d inet n - y - - smtpd %s\n" % (
                    cls.svc[name], opts))

    def conn(self, source, helo="client.example.org", port=None,
             timeout=15):
        c = Conn(port or self.inst.port, source=source, timeout=timeout)
        self.assertEqual(c.greeting.code, 220, c.greeting)
        c.ehlo(helo)
        return c

    def passes(self, source, token, helo="client.example.org",
               sender="x@sender.test"):
        """A mail from source is accepted and delivered."""
        with self.conn(source, helo) as c:
            self.send_mail(c, sender, [ALICE], token)
        self.delivered(token)

    def rcpt_reply(self, source, want, helo="client.example.org",
                   sender="x@sender.test", rcpt=ALICE, port=None):
        """MAIL and RCPT from source: RCPT's reply must be want."""
        with self.conn(source, helo, port) as c:
            self.expect(c, "MAIL FROM:<%s>" % sender, "250 2.1.0 Ok")
            return self.expect(c, "RCPT TO:<%s>" % rcpt, want)

    def wait_log(self, rx, since=0, timeout=10):
        self.assertIsNotNone(self.inst.wait_log(rx, timeout, since),
                             "no %r in the maillog:\n%s" % (rx, self.tail()))


# ============================================================ names ==

class ClientNameTest(NameCase):
    """Names in the log and the Received header; no restrictions."""

    SERVICES = {"nolookup": "-o smtpd_peername_lookup=no"}

    def received(self, token):
        path = harness.find_message(self.inst, ALICE, token.encode(), 15)
        self.assertIsNotNone(path, self.tail())
        text = harness.read_file(path).decode("latin-1")
        return [l for l in text.splitlines()
                if l.startswith("Received: ")][0]

    def test_hosts_file_first(self):
        # /etc/hosts before the DNS, as Postfix through the C library
        # (Debian's hosts file names 127.0.0.1 localhost; the test DNS
        # server knows nothing of 127.0.0.1)
        names = hosts_names("127.0.0.1")
        if not names:
            self.skipTest("/etc/hosts does not name 127.0.0.1")
        off = self.inst.log_size()
        with self.conn("127.0.0.1") as c:
            c.cmd("QUIT")
        self.wait_log(r"connect from (%s)\[127\.0\.0\.1\]\n" %
                      "|".join(re.escape(n) for n in names), off)

    def test_confirmed_name(self):
        off = self.inst.log_size()
        with self.conn(GOOD, "helo.example.org") as c:
            qid = self.send_mail(c, "x@sender.test", [ALICE], "cname1")
        self.assertEqual(self.received("cname1"),
                         "Received: from helo.example.org (good.test "
                         "[127.0.0.21])")
        self.wait_log(r"connect from good\.test\[127\.0\.0\.21\]\n", off)
        self.wait_log(r"%s: client=good\.test\[127\.0\.0\.21\]\n" % qid,
                      off)
        self.wait_log(r"disconnect from good\.test\[127\.0\.0\.21\]", off)

    def test_ptr_that_does_not_confirm(self):
        off = self.inst.log_size()
        with self.conn(FORGED) as c:
            self.send_mail(c, "x@sender.test", [ALICE], "cname2")
        self.assertEqual(self.received("cname2"),
                         "Received: from client.example.org (unknown "
                         "[127.0.0.22])")
        self.wait_log(r"warning: hostname forged\.test does not resolve to "
                      r"address 127\.0\.0\.22\n", off)
        self.wait_log(r"connect from unknown\[127\.0\.0\.22\]\n", off)

    def test_ptr_name_without_address(self):
        off = self.inst.log_size()
        with self.conn(NOADDR):
            pass
        self.wait_log(r"warning: hostname noaddr\.test does not resolve to "
                      r"address 127\.0\.0\.24: Name or service not known",
                      off)
        self.wait_log(r"connect from unknown\[127\.0\.0\.24\]", off)

    def test_ptr_name_without_ipv4_address(self):
        off = self.inst.log_size()
        with self.conn(V6ONLY):
            pass
        self.wait_log(r"warning: hostname v6only\.test does not resolve to "
                      r"address 127\.0\.0\.28: No address associated with "
                      r"hostname", off)
        self.wait_log(r"connect from unknown\[127\.0\.0\.28\]", off)

    def test_no_ptr(self):
        off = self.inst.log_size()
        with self.conn(NOPTR):
            pass
        self.wait_log(r"disconnect from unknown\[127\.0\.0\.23\]", off)
        log = self.inst.log()[off:]
        self.assertIn("connect from unknown[127.0.0.23]\n", log)
        self.assertNotIn("does not resolve to address 127.0.0.23", log)

    def test_lookup_off(self):
        """smtpd_peername_lookup = no: unknown, and nothing is asked."""
        before = self.dns.queries()
        off = self.inst.log_size()
        with self.conn(GOOD, port=self.svc["nolookup"]):
            pass
        self.wait_log(r"disconnect from unknown\[127\.0\.0\.21\]", off)
        self.assertIn("connect from unknown[127.0.0.21]\n",
                      self.inst.log()[off:])
        new = self.dns.queries()[len(before):]
        self.assertNotIn(("PTR", "21.0.0.127.in-addr.arpa"), new)

    def test_lookup_asks_ptr_then_a(self):
        before = self.dns.queries()
        with self.conn(GOOD):
            pass
        new = self.dns.queries()[len(before):]
        self.assertIn(("PTR", "21.0.0.127.in-addr.arpa"), new)
        self.assertIn(("A", "good.test"), new)
        self.assertLess(new.index(("PTR", "21.0.0.127.in-addr.arpa")),
                        new.index(("A", "good.test")))


class ClientName6Test(NameCase):
    """An IPv6 client (::1, a second listener): PTR under ip6.arpa, then
    AAAA."""

    HOSTS = [("v6.test", "::1")]
    CONF = ()

    @classmethod
    def prepare_instance(cls):
        super().prepare_instance()
        with open(os.path.join(cls.inst.dir, "master.cf"), "a") as f:
            f.write("[::1]:%d inet n - y - - smtpd\n" % cls.inst.port)

    def test_ipv6_name_confirmed(self):
        before = self.dns.queries()
        off = self.inst.log_size()
        with tdr.Conn6(self.inst.port) as c:
            self.assertEqual(c.greeting.code, 220, c.greeting)
        self.wait_log(r"connect from v6\.test\[::1\]\n", off)
        new = self.dns.queries()[len(before):]
        self.assertIn(("PTR", tdr.V6_NAME + ".ip6.arpa"), new)
        self.assertIn(("AAAA", "v6.test"), new)
        self.assertNotIn(("A", "v6.test"), new)


# ============================================= unknown-name checks ==

UNKNOWN_LISTS = {
    "smtpd_client_restrictions": "reject_unknown_reverse_client_hostname",
    "smtpd_helo_restrictions": "reject_unknown_client_hostname",
    "smtpd_sender_restrictions": "reject_unknown_helo_hostname",
    "unknown_client_reject_code": "550",
    "unknown_hostname_reject_code": "550"}


class UnknownNameTest(NameCase):
    """The three unknown-name restrictions, one list each, so every
    client shows which one stops it."""

    MAIN = UNKNOWN_LISTS
    SERVICES = {"nolookup": "-o smtpd_peername_lookup=no",
                "defcodes": "-o unknown_client_reject_code=450 "
                            "-o unknown_hostname_reject_code=450"}

    def test_confirmed_client_passes(self):
        self.passes(GOOD, "unk1", "good.test", "x@sender.test")

    def test_no_ptr(self):
        off = self.inst.log_size()
        want = no_reverse(NOPTR, 550)
        self.rcpt_reply(NOPTR, want, "good.test")
        self.wait_log(r"reject: RCPT from unknown\[127\.0\.0\.23\]: %s; "
                      % re.escape(want), off)

    def test_ptr_not_confirmed(self):
        """A PTR name passes the reverse check, not the client check."""
        self.rcpt_reply(FORGED, no_name(FORGED, 550), "good.test")
        self.rcpt_reply(NOADDR, no_name(NOADDR, 550), "good.test")

    def test_default_codes_are_450(self):
        port = self.svc["defcodes"]
        self.rcpt_reply(NOPTR, no_reverse(NOPTR, 450), port=port)
        self.rcpt_reply(FORGED, no_name(FORGED, 450), "good.test",
                        port=port)
        self.rcpt_reply(GOOD, no_helo("nohost.test", 450), "nohost.test",
                        port=port)

    def test_lookup_off_is_permanent(self):
        self.rcpt_reply(GOOD, no_reverse(GOOD, 550), "good.test",
                        port=self.svc["nolookup"])

    def test_helo_names(self):
        self.rcpt_reply(GOOD, no_helo("nohost.test", 550), "nohost.test")
        for helo in ("mxonly.test", "good.test.", "[127.0.0.1]",
                     "[IPv6:::1]"):
            self.rcpt_reply(GOOD, "250 2.1.5 Ok", helo)
        self.rcpt_reply(GOOD, "501 5.5.2 <[300.1.1.1]>: Helo command "
                        "rejected: invalid ip address", "[300.1.1.1]")

    def test_helo_looked_up_once(self):
        before = self.dns.queries()
        with self.conn(GOOD, "mxonly.test") as c:
            self.expect(c, "MAIL FROM:<x@sender.test>", 250)
            self.expect(c, "RCPT TO:<%s>" % ALICE, 250)
            self.expect(c, "RCPT TO:<%s>" % tob.BOB, 250)
        new = self.dns.queries()[len(before):]
        self.assertEqual(sorted(q for q in new if q[1] == "mxonly.test"),
                         [("A", "mxonly.test"), ("AAAA", "mxonly.test"),
                          ("MX", "mxonly.test")])


class TempfailNameTest(NameCase):
    """A DNS server that answers SERVFAIL: 450 whatever the codes."""

    DNS = "servfail"
    MAIN = UNKNOWN_LISTS
    SERVICES = {"noreverse": "-o smtpd_client_restrictions=",
                "helo": "-o smtpd_client_restrictions= "
                        "-o smtpd_helo_restrictions="}

    def test_reverse_450(self):
        off = self.inst.log_size()
        self.rcpt_reply(GOOD, no_reverse(GOOD, 450), "good.test")
        self.wait_log(r"connect from unknown\[127\.0\.0\.21\]", off)

    def test_client_450(self):
        self.rcpt_reply(GOOD, no_name(GOOD, 450), "good.test",
                        port=self.svc["noreverse"])

    def test_helo_450(self):
        self.rcpt_reply(GOOD, no_helo("good.test", 450), "good.test",
                        port=self.svc["helo"])


class SilentDnsNameTest(NameCase):
    """A DNS server that never answers: the banner waits for the lookup's
    deadline (below smtpd_timeout), then the name is unknown, temporarily."""

    DNS = "silent"
    MAIN = dict(UNKNOWN_LISTS, smtpd_timeout="5s")

    def test_banner_after_deadline_and_450(self):
        off = self.inst.log_size()
        t0 = time.monotonic()
        with self.conn(GOOD, "good.test", timeout=20) as c:
            waited = time.monotonic() - t0
            self.expect(c, "MAIL FROM:<x@sender.test>", 250)
            self.expect(c, "RCPT TO:<%s>" % ALICE, no_reverse(GOOD, 450))
        self.assertGreater(waited, 3.5)
        self.assertLess(waited, 5)
        self.wait_log(r"warning: unknown\[127\.0\.0\.21\]: no answer to the "
                      r"client name lookup within 4000 ms", off)


# ======================================================= DNS lists ==

class DnsListTest(NameCase):
    """reject_rhsbl_* and the allow lists."""

    MAIN = {"mydestination": "example.com, localhost, listedrcpt.test, "
                             "mismatch.test",
            "smtpd_relay_restrictions": "permit_dnswl_client wl.test="
                                        "127.0.10.[1..3], "
                                        "reject_unauth_destination",
            "smtpd_recipient_restrictions":
            "permit_dnswl_client wl.test, permit_rhswl_client rhswl.test, "
            "reject_rhsbl_client dbl.test, reject_rhsbl_reverse_client "
            "dbl.test, reject_rhsbl_helo dbl.test, reject_rhsbl_sender "
            "dbl.test, reject_rhsbl_recipient dbl.test=127.0.1.3"}

    def test_clean_client(self):
        self.passes(GOOD, "dnsl1", "good.test", "x@sender.test")

    def test_rhsbl_client(self):
        off = self.inst.log_size()
        want = blocked("Client host", "listed.test", txt="client listed")
        self.rcpt_reply(LISTED, want)
        self.wait_log(r"reject: RCPT from listed\.test\[127\.0\.0\.25\]: "
                      r"%s; from=<x@sender\.test> to=<%s>" % (
                          re.escape(want), re.escape(ALICE)), off)
        self.wait_log(r"listed\.test\[127\.0\.0\.25\]: listed\.test blocked "
                      r"using dbl\.test; 127\.0\.1\.2", off)

    def test_rhsbl_reverse_client(self):
        """forged.test is only the reverse name: reject_rhsbl_client does
        not look at it, reject_rhsbl_reverse_client does."""
        self.rcpt_reply(FORGED, blocked("Unverified Client host",
                                        "forged.test"))

    def test_rhsbl_helo(self):
        self.rcpt_reply(GOOD, blocked("Helo command", "badhelo.test"),
                        "badhelo.test")

    def test_rhsbl_sender(self):
        self.rcpt_reply(GOOD, blocked("Sender address", "x@bad.test"),
                        sender="x@bad.test")

    def test_rhsbl_recipient_with_filter(self):
        self.rcpt_reply(GOOD, blocked("Recipient address",
                                      "alice@listedrcpt.test"),
                        rcpt="alice@listedrcpt.test")
        # listed with 127.0.1.2, which the filter does not take: the
        # recipient goes on to the user lookup
        r = self.rcpt_reply(GOOD, 550, rcpt="nosuch@mismatch.test")
        self.assertNotIn("blocked", r.text())

    def test_numeric_names_not_looked_up(self):
        before = self.dns.queries()
        self.rcpt_reply(GOOD, "250 2.1.5 Ok", "[127.0.0.1]",
                        sender="x@host.123")
        new = self.dns.queries()[len(before):]
        self.assertFalse([q for q in new if "123" in q[1]], new)

    def test_dnswl_permits_before_rejects(self):
        self.passes(WL, "dnsl2", "badhelo.test", "x@bad.test")

    def test_dnswl_never_permits_relaying(self):
        self.rcpt_reply(WL, "554 5.7.1 <someone@elsewhere.test>: Relay "
                        "access denied", rcpt="someone@elsewhere.test")

    def test_rhswl_permits(self):
        self.passes(WHITE, "dnsl3", "badhelo.test", "x@bad.test")

    def test_mailctl_check_knows_the_names(self):
        """The lists above pass; a list argument left out and a bad
        smtpd_greet_action are errors with main.cf's line."""
        r = self.inst.mailctl("check", check=False)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        path = os.path.join(self.inst.dir, "main.cf")
        saved = open(path).read()
        n = len(saved.splitlines()) + 1
        try:
            for param, value, want in (
                    ("smtpd_helo_restrictions", "reject_rhsbl_helo",
                     "main.cf:%d: smtpd_helo_restrictions: "
                     "reject_rhsbl_helo needs 1 argument after it" % n),
                    ("smtpd_greet_action", "sometimes",
                     'main.cf:%d: smtpd_greet_action: bad value '
                     '"sometimes": expected one of: ignore, enforce, '
                     'drop' % n)):
                with open(path, "w") as f:
                    f.write(saved + "%s = %s\n" % (param, value))
                r = self.inst.mailctl("check", check=False)
                out = r.stdout + r.stderr
                self.assertEqual(r.returncode, 1, out)
                self.assertIn(want, out)
        finally:
            with open(path, "w") as f:
                f.write(saved)


# ======================================================= pregreet ==

class PregreetTest(tob.OutboundCase):
    """smtpd_greet_wait = 2s: a client that talks before the banner."""

    USE_DNSMASQ = False
    MAIN = {"smtpd_greet_wait": "2s", "relayhost": "[127.0.0.1]:9"}
    SERVICES = {"drop": "-o smtpd_greet_action=drop",
                "ignore": "-o smtpd_greet_action=ignore"}

    prepare_instance = classmethod(NameCase.prepare_instance.__func__)

    def tail(self, n=6000):
        return self.inst.log()[-n:]

    def early(self, port, source):
        """Connect and say EHLO at once, before any banner."""
        s = socket.create_connection(("127.0.0.1", port), 10,
                                     source_address=(source, 0))
        s.sendall(b"EHLO bot.example\r\n")
        c = Conn.__new__(Conn)
        c.sock, c.buf = s, b""
        return c

    def pregreet_logged(self, addr, off):
        rx = (r"PREGREET 18 after 0\.\d\d from unknown\[%s\]:\d+: EHLO "
              r"bot\.example\\x0d\\x0a\n" % re.escape(addr))
        self.assertIsNotNone(self.inst.wait_log(rx, 10, off), self.tail())

    def test_polite_client_served(self):
        off = self.inst.log_size()
        t0 = time.monotonic()
        with Conn(self.inst.port, source="127.0.0.31") as c:
            self.assertGreater(time.monotonic() - t0, 1.8)
            self.assertEqual(c.greeting.code, 220)
            c.ehlo()
            self.assertEqual(c.cmd("MAIL FROM:<x@sender.test>").code, 250)
            self.assertEqual(c.cmd("RCPT TO:<%s>" % ALICE).code, 250)
        self.assertNotIn("PREGREET", self.inst.log()[off:])

    def test_enforce(self):
        off = self.inst.log_size()
        with self.early(self.inst.port, "127.0.0.32") as c:
            self.assertEqual(c.reply().code, 220)
            self.assertEqual(c.reply().code, 250)      # the early EHLO
            self.assertEqual(c.cmd("MAIL FROM:<x@sender.test>").code, 250)
            r = c.cmd("RCPT TO:<%s>" % ALICE)
            self.assertEqual(r.lines, ["550 5.5.1 Protocol error"])
        self.pregreet_logged("127.0.0.32", off)
        self.assertIsNotNone(self.inst.wait_log(
            r"reject: RCPT from unknown\[127\.0\.0\.32\]: 550 5\.5\.1 "
            r"Protocol error; from=<x@sender\.test> to=<%s>" %
            re.escape(ALICE), 10, off), self.tail())

    def test_drop(self):
        off = self.inst.log_size()
        with self.early(self.svc["drop"], "127.0.0.33") as c:
            self.assertEqual(c.rest_until_close(10),
                             ["521 5.5.1 Protocol error"])
        self.pregreet_logged("127.0.0.33", off)

    def test_ignore(self):
        off = self.inst.log_size()
        with self.early(self.svc["ignore"], "127.0.0.34") as c:
            self.assertEqual(c.reply().code, 220)
            self.assertEqual(c.reply().code, 250)
            self.assertEqual(c.cmd("MAIL FROM:<x@sender.test>").code, 250)
            self.assertEqual(c.cmd("RCPT TO:<%s>" % ALICE).code, 250)
        self.pregreet_logged("127.0.0.34", off)


if __name__ == "__main__":
    import unittest
    unittest.main()
