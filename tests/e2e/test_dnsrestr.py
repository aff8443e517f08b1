"""test_dnsrestr.py - the DNS-based restrictions of smtpd end to end:
reject_rbl_client, reject_unknown_recipient_domain and
reject_unknown_sender_domain.

Each class runs one instance as root and its own DNS server on a free UDP
port of 127.0.0.1 (the instance's dns_server_address): a dnsmasq that
serves only the zones given (every other name under .test is NXDOMAIN,
nothing is forwarded), a delaying proxy in front of it (so that lookups are
surely still pending while pipelined commands arrive), one that answers
every query SERVFAIL, or one that never answers.  Clients connect from
127.0.0.5-127.0.0.9; relayhost is the hermetic [127.0.0.1]:9, so the
outbound side never queries DNS.

DNS lists (reversed client address under the zone):
  127.0.0.5  rbl.test A 127.0.0.2 and a TXT record       (LISTED)
  127.0.0.6  nowhere                                      (CLEAN)
  127.0.0.7  rbl2.test A 127.0.0.2; the list is used with
             "=127.0.0.4", so it does not count           (OTHER)
  127.0.0.8  rbl2.test A 127.0.0.4, no TXT                (MATCH)
  127.0.0.9  rbl.test A 127.0.0.2, TXT with CR LF and a tab (EVIL)
Domains: nx.test (NXDOMAIN), nodata.test (a TXT record only: NODATA for
MX, A and AAAA), nullmx.test ("MX 0 ."), mx.test (MX with an address),
aonly.test (A only), aaaaonly.test (AAAA only); example.com is in
mydestination and is not in the DNS at all (a query for it is refused).

Covered: a listed client gets "554 5.7.1 Service unavailable; Client host
[ADDR] blocked using ZONE; TXT" at RCPT (and the reject log line), again
after RSET; a TXT that tries to inject a reply line stays on one line; an
unlisted client's mail is delivered; ZONE=d.d.d.d counts only that
address (and without TXT the reply ends after ZONE); an IPv6 client
(::1, nibbles reversed); maps_rbl_reject_code = 450 gives 450 4.7.1;
permit_mynetworks before reject_rbl_client (the tutorial's list);
smtpd_delay_reject = no moves the reject to MAIL FROM; a DNS server that
never answers delays RCPT by the lookup timeout and the mail is accepted,
with a warning; SERVFAIL: RBL does nothing, unknown
domains get 450 4.4.3; unknown recipient and sender domains (NXDOMAIN,
NODATA: 450 4.1.2 / 4.1.8; null MX: 556 5.1.10 / 550 5.7.27; MX, A only,
AAAA only: accepted; unknown_address_reject_code = 550: 5.1.2 / 5.1.8);
local domains, the null sender and address literals are never looked up
(no query reaches a dead server), nor is anything for a client that
permit_mynetworks lets through before the DNS restrictions; a pipelined
group sent while lookups are pending gets its replies in order; a domain
is looked up once per session.

Every class checks at teardown (harness.InstanceTestCase) that no daemon
produced a sanitizer report or died on a signal the test did not send.
"""
import collections
import os
import re
import shutil
import socket
import struct
import tempfile
import threading
import time

import harness
from harness import Conn, wait_for
import test_outbound as tob

ALICE = tob.ALICE
BOB = tob.BOB

LISTED = "127.0.0.5"
CLEAN = "127.0.0.6"
OTHER = "127.0.0.7"
MATCH = "127.0.0.8"
EVIL = "127.0.0.9"
RANGED = "127.0.0.10"
LISTED4 = "127.0.0.11"

LISTED_TXT = "Listed by rbl.test - see http://rbl.test/q?127.0.0.5"

RBL_HOSTS = [("5.0.0.127.rbl.test", "127.0.0.2"),
             ("9.0.0.127.rbl.test", "127.0.0.2"),
             ("7.0.0.127.rbl2.test", "127.0.0.2"),
             ("8.0.0.127.rbl2.test", "127.0.0.4"),
             # rbl3.test=127.0.0.[2..11]: a public resolver's error
             # answer (127.255.255.254) is no listing, 127.0.0.10 is
             ("7.0.0.127.rbl3.test", "127.255.255.254"),
             ("10.0.0.127.rbl3.test", "127.0.0.10"),
             # rbl4.test without a filter: Spamhaus's error answers in
             # 127.255.255.0/24 are no listing either; 127.0.0.4 is
             ("7.0.0.127.rbl4.test", "127.255.255.254"),
             ("11.0.0.127.rbl4.test", "127.0.0.4")]
# dnsmasq interprets \r, \n and \t only in a configuration file
RBL_CONF = ['txt-record=5.0.0.127.rbl.test,"%s"' % LISTED_TXT,
            'txt-record=9.0.0.127.rbl.test,"evil\\r\\n250 2.0.0 injected'
            '\\tend"']

DOM_MX = [("mx.test", "mail.mx.test", 10), ("nullmx.test", ".", 0)]
DOM_HOSTS = [("mail.mx.test", "127.0.0.60"), ("aonly.test", "127.0.0.61"),
             ("aaaaonly.test", "2001:db8::61")]
DOM_CONF = ['txt-record=nodata.test,"no mail here"']

DELAY = 0.25        # the proxy's delay: below libunbound's first timeout


def rbl_reply(code, addr, zone, txt=None):
    """The reply text of reject_rbl_client."""
    r = "%d %s.7.1 Service unavailable; Client host [%s] blocked using %s" % (
        code, str(code)[0], addr, zone)
    return r + ("; " + txt if txt is not None else "")


def rcpt_notfound(addr, code=450):
    return "%d %s.1.2 <%s>: Recipient address rejected: Domain not found" \
        % (code, str(code)[0], addr)


def sender_notfound(addr, code=450):
    return "%d %s.1.8 <%s>: Sender address rejected: Domain not found" \
        % (code, str(code)[0], addr)


def rcpt_nullmx(addr):
    return ("556 5.1.10 <%s>: Recipient address rejected: Domain %s does "
            "not accept mail (nullMX)" % (addr, addr.split("@")[1]))


def sender_nullmx(addr):
    return ("550 5.7.27 <%s>: Sender address rejected: Domain %s does "
            "not accept mail (nullMX)" % (addr, addr.split("@")[1]))


def rcpt_tempfail(addr):
    return ("450 4.4.3 <%s>: Recipient address rejected: Domain lookup "
            "failed temporarily" % addr)


def sender_tempfail(addr):
    return ("450 4.4.3 <%s>: Sender address rejected: Domain lookup "
            "failed temporarily" % addr)


# --- DNS servers ---------------------------------------------------------

class ZoneDns(tob.Dnsmasq):
    """tob.Dnsmasq plus lines of a dnsmasq configuration file (for
    txt-record), logging every query it gets (queries())."""

    def __init__(self, mx=(), hosts=(), conf=()):
        self.confdir = tempfile.mkdtemp(prefix="youju-e2e-dns-")
        path = os.path.join(self.confdir, "dnsmasq.conf")
        self.querylog = os.path.join(self.confdir, "queries.log")
        self.marks = 0
        with open(path, "w") as f:
            # (log-facility is given on the command line too: a second
            # one there is refused, in the file it wins)
            f.write("".join(l + "\n" for l in list(conf) + [
                "log-queries", "log-facility=" + self.querylog]))
        super().__init__(mx, hosts, ["--conf-file=" + path])

    def queries(self):
        """Every (type, lower-case name) asked so far, in order.  A query
        of our own is asked first and waited for in the log, so every
        query that came before it is in the list."""
        self.marks += 1
        mark = "mark%d.test" % self.marks
        tob.dns_query(self.port, mark)
        rx = re.compile(r"query\[(\w+)\] (\S+) from ")
        found = []

        def read():
            found[:] = [(m.group(1), m.group(2).lower()) for m in
                        rx.finditer(harness.read_text(self.querylog))]
            return ("A", mark) in found
        if not wait_for(read, 5):
            raise AssertionError("dnsmasq did not log the query for %s"
                                 % mark)
        return found[:found.index(("A", mark))]

    def stop(self):
        try:
            super().stop()
        finally:
            shutil.rmtree(self.confdir, ignore_errors=True)


def dns_question(q):
    """(lower-case name, qtype) of a query, or None when malformed."""
    i, labels = 12, []
    try:
        while q[i] != 0:
            n = q[i]
            labels.append(q[i + 1:i + 1 + n].decode("latin-1").lower())
            i += 1 + n
        qtype = struct.unpack(">H", q[i + 1:i + 3])[0]
    except (IndexError, struct.error):
        return None
    return ".".join(labels), qtype, i + 5


class FakeDns:
    """A UDP DNS server on 127.0.0.1 that counts the queries by (name,
    type) and answers each one with self.answer(query) (None: no answer)
    after `delay` seconds; `answered` keeps, per name, the times
    (time.monotonic) its answers were sent."""

    def __init__(self, delay=0.0):
        self.delay = delay
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.lock = threading.Lock()
        self.seen = collections.Counter()
        self.answered = collections.defaultdict(list)
        self.stopping = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    @property
    def address(self):
        return "127.0.0.1:%d" % self.port

    def _run(self):
        self.sock.settimeout(0.2)
        while not self.stopping:
            try:
                q, peer = self.sock.recvfrom(65535)
            except socket.timeout:
                continue
            except OSError:
                break
            qn = dns_question(q)
            if qn is None:
                continue
            with self.lock:
                self.seen[qn[:2]] += 1
            t = threading.Timer(self.delay, self._reply, (q, qn, peer))
            t.daemon = True
            t.start()

    def _reply(self, q, qn, peer):
        try:
            a = self.answer(q, qn)
            if a is not None and not self.stopping:
                with self.lock:
                    self.answered[qn[0]].append(time.monotonic())
                self.sock.sendto(a, peer)
        except OSError:
            pass

    def answer(self, q, qn):
        return None

    def count(self, name, qtype=None):
        with self.lock:
            return sum(n for (nm, t), n in self.seen.items()
                       if nm == name and (qtype is None or t == qtype))

    def stop(self):
        self.stopping = True
        self.thread.join(2)
        self.sock.close()


class ServfailDns(FakeDns):
    """Answers every query SERVFAIL at once."""

    def answer(self, q, qn):
        # id, QR|RD|RA and rcode 2, one question and nothing else
        return q[:2] + struct.pack(">HHHHH", 0x8182, 1, 0, 0, 0) + \
            q[12:qn[2]]


class DelayDns(FakeDns):
    """Passes every query on to the server on 127.0.0.1:upstream after
    `delay` seconds and relays its answer."""

    def __init__(self, upstream, delay):
        self.upstream = upstream
        super().__init__(delay)

    def answer(self, q, qn):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(2)
        try:
            s.sendto(q, ("127.0.0.1", self.upstream))
            return s.recv(65535)
        except OSError:
            return None
        finally:
            s.close()


# --- the instance --------------------------------------------------------

class DnsCase(tob.OutboundCase):
    """One instance and one DNS server per class.  DNS is "zone"
    (dnsmasq with MX, HOSTS and CONF), "delay" (the same behind
    DelayDns), "servfail", "silent" (SilentUDP) or "blackhole" (FakeDns:
    no answers, queries counted by name); cls.server is what the instance
    asks.  MAIN is the extra main.cf."""

    DNS = "zone"
    CONF = ()
    USE_DNSMASQ = False

    @classmethod
    def make_peers(cls):
        if cls.DNS in ("zone", "delay"):
            cls.dns = ZoneDns(cls.MX, cls.HOSTS, cls.CONF)
        if cls.DNS == "zone":
            cls.server = cls.dns
        elif cls.DNS == "delay":
            cls.server = cls.add_peer(DelayDns(cls.dns.port, DELAY))
        elif cls.DNS == "servfail":
            cls.server = cls.add_peer(ServfailDns())
        elif cls.DNS == "blackhole":
            cls.server = cls.add_peer(FakeDns())
        else:
            cls.server = cls.add_peer(tob.SilentUDP())

    @classmethod
    def main_extra(cls):
        d = {"relayhost": "[127.0.0.1]:9",
             "dns_server_address": "127.0.0.1:%d" % cls.server.port}
        d.update(cls.MAIN)
        return d

    # -- helpers --
    def session(self, source=None, helo="client.example.org", timeout=15):
        """A connection from source with EHLO done."""
        c = Conn(self.inst.port, source=source, timeout=timeout)
        self.assertEqual(c.greeting.code, 220, c.greeting)
        c.ehlo(helo)
        return c

    def expect(self, c, line, want):
        """Send one command; its reply must be exactly want (a string) or
        have code want (an int)."""
        r = c.cmd(line)
        if isinstance(want, int):
            self.assertEqual(r.code, want, (line, r))
        else:
            self.assertEqual(r.lines, [want], line)
        return r

    def send_mail(self, c, sender, rcpts, token):
        """A whole transaction that must be accepted; the queue id."""
        self.expect(c, "MAIL FROM:<%s>" % sender, "250 2.1.0 Ok")
        for r in rcpts:
            self.expect(c, "RCPT TO:<%s>" % r, "250 2.1.5 Ok")
        self.expect(c, "DATA", 354)
        c.send(tob.message(token, sender or "x@client.test", rcpts[0]) +
               b".\r\n")
        r = c.reply()
        self.assertEqual(r.code, 250, r)
        return harness.qid_of(r.last)

    def delivered(self, token, user=ALICE):
        path = harness.find_message(self.inst, user, token.encode(), 15)
        self.assertIsNotNone(path, "%s not delivered; maillog:\n%s" %
                             (token, self.tail()))

    def wait_reject_log(self, reply, stage="RCPT", client=LISTED, rest=""):
        rx = r"reject: %s from unknown\[%s\]: %s; %s" % (
            stage, re.escape(client), re.escape(reply), rest)
        self.assertIsNotNone(self.inst.wait_log(rx, 10),
                             "no %r in the maillog:\n%s" % (rx, self.tail()))


# ================================================================ RBL ==

class RblTest(DnsCase):
    """reject_rbl_client with the default smtpd_delay_reject = yes."""

    MX = ()
    HOSTS = RBL_HOSTS
    CONF = RBL_CONF
    MAIN = {"mynetworks": "192.0.2.0/24",
            "smtpd_client_restrictions":
            "reject_rbl_client rbl.test, reject_rbl_client rbl2.test="
            "127.0.0.4, reject_rbl_client rbl3.test=127.0.0.[2..11], "
            "reject_rbl_client rbl4.test"}

    def test_error_answer_is_no_listing(self):
        """A DNSBL answer in 127.255.255.0/24 (Spamhaus: the query came
        through a public resolver, or over the quota) is not a listing,
        even without a filter: the client is accepted and a warning names
        the list and the answer."""
        off = self.inst.log_size()
        with self.session(OTHER) as c:
            self.send_mail(c, "x@sender.test", [ALICE], "rblerror1")
        self.delivered("rblerror1")
        self.assertIsNotNone(self.inst.wait_log(
            r"warning: rbl4\.test answered 127\.255\.255\.254 for "
            r"unknown\[127\.0\.0\.7\]: an error code of the DNSBL, not a "
            r"listing", 5, off), self.tail())

    def test_reject_logs_the_answer(self):
        """Every RBL reject logs the address the list answered."""
        want = rbl_reply(554, LISTED4, "rbl4.test")
        off = self.inst.log_size()
        with self.session(LISTED4) as c:
            self.expect(c, "MAIL FROM:<x@sender.test>", "250 2.1.0 Ok")
            self.expect(c, "RCPT TO:<%s>" % ALICE, want)
        self.assertIsNotNone(self.inst.wait_log(
            r"unknown\[127\.0\.0\.11\]: blocked using rbl4\.test; "
            r"127\.0\.0\.4\n", 5, off), self.tail())
        self.wait_reject_log(want, client=LISTED4)

    def test_listed_client_rejected_at_rcpt_with_txt(self):
        want = rbl_reply(554, LISTED, "rbl.test", LISTED_TXT)
        with self.session(LISTED, "client5.example.org") as c:
            self.expect(c, "MAIL FROM:<x@sender.test>", "250 2.1.0 Ok")
            self.expect(c, "RCPT TO:<%s>" % ALICE, want)
            self.expect(c, "RCPT TO:<%s>" % BOB, want)
            self.expect(c, "DATA", "554 5.5.1 Error: no valid recipients")
            # the verdict holds for the whole session
            self.expect(c, "RSET", 250)
            self.expect(c, "MAIL FROM:<>", "250 2.1.0 Ok")
            self.expect(c, "RCPT TO:<%s>" % ALICE, want)
        self.wait_reject_log(want, rest=re.escape(
            "from=<x@sender.test> to=<%s> proto=ESMTP "
            "helo=<client5.example.org>"
            % ALICE))

    def test_unlisted_client_accepted(self):
        with self.session(CLEAN) as c:
            self.send_mail(c, "x@sender.test", [ALICE], "rblclean1")
        self.delivered("rblclean1")

    def test_filter_other_address_accepted(self):
        # 7.0.0.127.rbl2.test is 127.0.0.2, the list wants 127.0.0.4
        with self.session(OTHER) as c:
            self.send_mail(c, "x@sender.test", [ALICE], "rblother1")
        self.delivered("rblother1")

    def test_filter_range(self):
        """Postfix's "[2..11]" octet pattern: 127.0.0.10 is a listing,
        127.255.255.254 (OTHER, in test_filter_other_address_accepted)
        is not."""
        want = rbl_reply(554, RANGED, "rbl3.test")
        with self.session(RANGED) as c:
            self.expect(c, "MAIL FROM:<x@sender.test>", "250 2.1.0 Ok")
            self.expect(c, "RCPT TO:<%s>" % ALICE, want)

    def test_filter_named_address_rejected_without_txt(self):
        want = rbl_reply(554, MATCH, "rbl2.test")
        with self.session(MATCH) as c:
            self.expect(c, "MAIL FROM:<x@sender.test>", "250 2.1.0 Ok")
            self.expect(c, "RCPT TO:<%s>" % ALICE, want)
        self.wait_reject_log(want, client=MATCH)

    def test_hostile_txt_stays_one_line(self):
        prefix = rbl_reply(554, EVIL, "rbl.test", "evil")
        with self.session(EVIL) as c:
            self.expect(c, "MAIL FROM:<x@sender.test>", "250 2.1.0 Ok")
            r = c.cmd("RCPT TO:<%s>" % ALICE)
            self.assertEqual(len(r.lines), 1, r)
            self.assertTrue(r.last.startswith(prefix), r)
            self.assertTrue(r.last.endswith("end"), r)
            self.assertIsNone(re.search(r"[\x00-\x1f\x7f]", r.last), r)
            # no injected line waits behind it
            self.expect(c, "NOOP", "250 2.0.0 Ok")
            self.assertEqual(c.buf, b"")
        log = self.inst.log()
        self.assertNotIn("\r", log)
        self.assertIsNone(re.search(r"(?m)^250 2\.0\.0 injected", log))

    def test_pipelined_listed_client_replies_in_order(self):
        want = rbl_reply(554, LISTED, "rbl.test", LISTED_TXT)
        with self.session(LISTED) as c:
            c.send("MAIL FROM:<x@sender.test>\r\nRCPT TO:<%s>\r\n"
                   "RCPT TO:<%s>\r\nDATA\r\n" % (ALICE, BOB))
            got = [c.reply().lines for _ in range(4)]
            self.assertEqual(got, [["250 2.1.0 Ok"], [want], [want],
                                   ["554 5.5.1 Error: no valid recipients"]])
            self.expect(c, "NOOP", "250 2.0.0 Ok")


class RblCodeTest(DnsCase):
    """maps_rbl_reject_code = 450."""

    HOSTS = RBL_HOSTS
    CONF = RBL_CONF
    MAIN = {"mynetworks": "192.0.2.0/24",
            "maps_rbl_reject_code": "450",
            "smtpd_client_restrictions": "reject_rbl_client rbl.test"}

    def test_listed_client_gets_450(self):
        want = rbl_reply(450, LISTED, "rbl.test", LISTED_TXT)
        self.assertTrue(want.startswith("450 4.7.1 Service unavailable"))
        with self.session(LISTED) as c:
            self.expect(c, "MAIL FROM:<x@sender.test>", "250 2.1.0 Ok")
            self.expect(c, "RCPT TO:<%s>" % ALICE, want)
        self.wait_reject_log(want)


class RblMynetworksTest(DnsCase):
    """The tutorial's list: permit_mynetworks, reject_rbl_client."""

    HOSTS = RBL_HOSTS
    CONF = RBL_CONF
    MAIN = {"mynetworks": "127.0.0.5/32",
            "smtpd_client_restrictions":
            "permit_mynetworks, reject_rbl_client rbl.test"}

    def test_mynetworks_passes_listed_client(self):
        with self.session(LISTED) as c:
            self.send_mail(c, "x@sender.test", [ALICE], "rblmynet1")
        self.delivered("rblmynet1")
        with self.session(EVIL) as c:
            self.expect(c, "MAIL FROM:<x@sender.test>", "250 2.1.0 Ok")
            r = c.cmd("RCPT TO:<%s>" % ALICE)
            self.assertTrue(r.last.startswith(
                rbl_reply(554, EVIL, "rbl.test", "")), r)


class RblReplyTest(DnsCase):
    """default_rbl_reply and rbl_reply_maps: Postfix's reply templates
    ($rbl_code, $rbl_domain, ${rbl_reason?...}, $client, ...), a missing
    enhanced status code added, the code's class deciding 4xx or 5xx, and
    mailctl check refusing a template with an unknown name."""

    MX = ()
    HOSTS = RBL_HOSTS
    CONF = RBL_CONF
    MAIN = {"mynetworks": "192.0.2.0/24",
            "smtpd_client_restrictions": "reject_rbl_client rbl.test, "
            "reject_rbl_client rbl2.test=127.0.0.2",
            "default_rbl_reply": "$rbl_code 5.7.9 <$client_address> is on "
            "$rbl_domain${rbl_reason?: $rbl_reason} (helo $helo_name)"}

    @classmethod
    def prepare_instance(cls):
        path = os.path.join(cls.inst.dir, "rbl_replies")
        with open(path, "w") as f:
            f.write("rbl2.test 450 try later, $client is on $rbl_domain "
                    "(mail for $recipient_domain)\n")
        cls.inst.set_main(rbl_reply_maps="texthash:" + path)

    def test_default_rbl_reply(self):
        with self.session(LISTED) as c:
            self.expect(c, "MAIL FROM:<x@sender.test>", "250 2.1.0 Ok")
            self.expect(c, "RCPT TO:<%s>" % ALICE,
                        "554 5.7.9 <%s> is on rbl.test: %s (helo "
                        "client.example.org)" % (LISTED, LISTED_TXT))

    def test_rbl_reply_maps(self):
        with self.session(OTHER) as c:
            self.expect(c, "MAIL FROM:<x@sender.test>", "250 2.1.0 Ok")
            self.expect(c, "RCPT TO:<%s>" % ALICE,
                        "450 4.7.1 try later, unknown[%s] is on rbl2.test "
                        "(mail for example.com)" % OTHER)

    def test_check_refuses_unknown_name(self):
        main = os.path.join(self.inst.dir, "main.cf")
        with open(main) as f:
            saved = f.read()
        try:
            with open(main, "a") as f:
                f.write("default_rbl_reply = $rbl_code ${nosuch?x}\n")
            r = self.inst.mailctl("check", check=False)
            self.assertNotEqual(r.returncode, 0, r.stdout)
            self.assertIn("default_rbl_reply: unknown name \"$nosuch\"",
                          r.stdout + r.stderr)
        finally:
            with open(main, "w") as f:
                f.write(saved)


class RblNoDelayTest(DnsCase):
    """smtpd_delay_reject = no: the client list at connect (the banner
    waits for the list's answer, and a refusal takes its place, as in
    Postfix), the sender list at MAIL FROM."""

    HOSTS = RBL_HOSTS
    CONF = RBL_CONF
    MAIN = {"mynetworks": "192.0.2.0/24",
            "smtpd_delay_reject": "no",
            "smtpd_client_restrictions": "reject_rbl_client rbl.test",
            "smtpd_sender_restrictions": "reject_unknown_sender_domain"}

    def test_rbl_reject_at_connect(self):
        want = rbl_reply(554, LISTED, "rbl.test", LISTED_TXT)
        denied = "503 5.7.0 Error: access denied for unknown[%s]" % LISTED
        # twice: the second answer comes from the resolver's cache, and
        # the outcome must not depend on that
        for _ in range(2):
            off = self.inst.log_size()
            with Conn(self.inst.port, source=LISTED, timeout=15) as c:
                self.assertEqual(c.greeting.text(), want)
                self.expect(c, "EHLO client5.example.org", denied)
                self.expect(c, "MAIL FROM:<x@sender.test>", denied)
                self.expect(c, "QUIT", 221)
            rx = r"reject: CONNECT from unknown\[%s\]: %s;" % (
                re.escape(LISTED), re.escape(want))
            self.assertIsNotNone(self.inst.wait_log(rx, 10, since=off),
                                 "no %r in the maillog:\n%s" %
                                 (rx, self.tail()))

    def test_unlisted_client_and_sender_domain_at_mail(self):
        with self.session(CLEAN) as c:
            self.expect(c, "MAIL FROM:<x@nx.test>",
                        sender_notfound("x@nx.test"))
            self.send_mail(c, "", [ALICE], "nodelay1")
        self.delivered("nodelay1")


class Conn6(Conn):
    """Conn to [::1]."""

    def __init__(self, port, timeout=10):
        self.sock = socket.create_connection(("::1", port), timeout)
        self.sock.settimeout(timeout)
        self.buf = b""
        self.prepare()
        self.greeting = self.reply()


V6_NAME = ".".join(reversed("0" * 31 + "1"))     # ::1, nibbles reversed


class Rbl6Test(DnsCase):
    """An IPv6 client (::1, a second smtpd listener): the name is the 32
    nibbles of its address in reverse order under the zone."""

    HOSTS = [(V6_NAME + ".rbl.test", "127.0.0.2")]
    CONF = ['txt-record=%s.rbl.test,"v6 listed"' % V6_NAME]
    MAIN = {"smtpd_client_restrictions":
            "reject_rbl_client rbl2.test, reject_rbl_client rbl.test"}

    @classmethod
    def prepare_instance(cls):
        with open(os.path.join(cls.inst.dir, "master.cf"), "a") as f:
            f.write("[::1]:%d inet n - y - - smtpd\n" % cls.inst.port)

    def test_ipv6_client_listed(self):
        want = rbl_reply(554, "::1", "rbl.test", "v6 listed")
        with Conn6(self.inst.port) as c:
            self.assertEqual(c.greeting.code, 220, c.greeting)
            c.ehlo()
            self.expect(c, "MAIL FROM:<>", "250 2.1.0 Ok")
            self.expect(c, "RCPT TO:<%s>" % ALICE, want)
        self.wait_reject_log(want, client="::1")
        # the IPv4 client of the same instance is not listed
        with self.session(CLEAN) as c:
            self.send_mail(c, "", [ALICE], "rbl6clean")
        self.delivered("rbl6clean")


class RblDnsDeadTest(DnsCase):
    """The DNS server never answers: after the lookup timeout (10 s) the
    restriction does nothing and a warning is logged."""

    DNS = "silent"
    MAIN = {"mynetworks": "192.0.2.0/24",
            "smtpd_client_restrictions": "reject_rbl_client rbl.test"}

    def test_timeout_accepts_mail(self):
        t0 = time.monotonic()
        with self.session(LISTED, timeout=40) as c:
            self.expect(c, "MAIL FROM:<x@sender.test>", 250)
            self.expect(c, "RCPT TO:<%s>" % ALICE, "250 2.1.5 Ok")
            waited = time.monotonic() - t0
            self.expect(c, "DATA", 354)
            c.send(tob.message("rbldead1", "x@sender.test", ALICE) +
                   b".\r\n")
            self.assertEqual(c.reply().code, 250)
        self.assertGreater(self.server.queries, 0)
        self.assertGreaterEqual(waited, 8, "RCPT answered before the "
                                "lookup timed out")
        self.assertLess(waited, 25)
        self.assertIsNotNone(self.inst.wait_log(
            r"warning: .*lookup of 5\.0\.0\.127\.rbl\.test failed", 5),
            self.tail())
        self.delivered("rbldead1")


# ============================================== unknown sender/recipient ==

class DomainCase(DnsCase):
    """reject_unknown_sender_domain and reject_unknown_recipient_domain;
    relaying is allowed for 127.0.0.0/8 (the default relay list and
    mynetworks), so remote recipients reach the recipient list."""

    MX = DOM_MX
    HOSTS = DOM_HOSTS
    CONF = DOM_CONF
    MAIN = {"smtpd_sender_restrictions": "reject_unknown_sender_domain",
            "smtpd_recipient_restrictions":
            "reject_unknown_recipient_domain"}


class UnknownDomainTest(DomainCase):

    def test_recipient_nxdomain_450(self):
        with self.session(CLEAN, "client6.example.org") as c:
            self.expect(c, "MAIL FROM:<>", "250 2.1.0 Ok")
            self.expect(c, "RCPT TO:<x@nx.test>", rcpt_notfound("x@nx.test"))
        self.wait_reject_log(rcpt_notfound("x@nx.test"), client=CLEAN,
                             rest=re.escape("from=<> to=<x@nx.test> "
                                            "proto=ESMTP "
                                            "helo=<client6.example.org>"))

    def test_recipient_without_records_450(self):
        with self.session(CLEAN) as c:
            self.expect(c, "MAIL FROM:<>", "250 2.1.0 Ok")
            self.expect(c, "RCPT TO:<x@nodata.test>",
                        rcpt_notfound("x@nodata.test"))

    def test_recipient_null_mx_556(self):
        with self.session(CLEAN) as c:
            self.expect(c, "MAIL FROM:<>", "250 2.1.0 Ok")
            self.expect(c, "RCPT TO:<x@nullmx.test>",
                        rcpt_nullmx("x@nullmx.test"))

    def test_recipient_existing_domains_accepted(self):
        with self.session(CLEAN) as c:
            qid = self.send_mail(c, "", ["x@mx.test", "y@aonly.test",
                                         "z@aaaaonly.test", ALICE],
                                 "domok1")
        self.assertTrue(qid)
        self.delivered("domok1")

    def test_local_and_literal_recipients_not_looked_up(self):
        """No query for a local domain or an address literal reaches the
        DNS server (its query log), while a remote domain in the same
        transaction is looked up (so the log does see smtpd's queries)."""
        before = len(self.dns.queries())
        with self.session(CLEAN) as c:
            self.send_mail(c, "", [ALICE, "x@[192.0.2.1]", "y@aonly.test"],
                           "domlocal1")
        asked = self.dns.queries()[before:]
        self.assertIn("aonly.test", [n for _t, n in asked], asked)
        bad = [q for q in asked if "example.com" in q[1] or
               "192.0.2.1" in q[1] or "1.2.0.192" in q[1]]
        self.assertEqual(bad, [], asked)
        self.delivered("domlocal1")

    def test_sender_nxdomain_450(self):
        with self.session(CLEAN, "client6.example.org") as c:
            self.expect(c, "MAIL FROM:<x@nx.test>", "250 2.1.0 Ok")
            self.expect(c, "RCPT TO:<%s>" % ALICE,
                        sender_notfound("x@nx.test"))
        self.wait_reject_log(sender_notfound("x@nx.test"), client=CLEAN,
                             rest=re.escape("from=<x@nx.test> to=<%s> "
                                            "proto=ESMTP "
                                            "helo=<client6.example.org>"
                                            % ALICE))

    def test_sender_without_records_450(self):
        with self.session(CLEAN) as c:
            self.expect(c, "MAIL FROM:<x@nodata.test>", "250 2.1.0 Ok")
            self.expect(c, "RCPT TO:<%s>" % ALICE,
                        sender_notfound("x@nodata.test"))

    def test_sender_null_mx_550(self):
        with self.session(CLEAN) as c:
            self.expect(c, "MAIL FROM:<x@nullmx.test>", "250 2.1.0 Ok")
            self.expect(c, "RCPT TO:<%s>" % ALICE,
                        sender_nullmx("x@nullmx.test"))

    def test_sender_existing_local_literal_null_accepted(self):
        with self.session(CLEAN) as c:
            for i, s in enumerate(["x@mx.test", "x@aonly.test",
                                   "x@aaaaonly.test", BOB,
                                   "x@[192.0.2.1]", ""]):
                self.send_mail(c, s, [ALICE], "domsender%d" % i)
        for i in range(6):
            self.delivered("domsender%d" % i)


class UnknownDomainCodeTest(DomainCase):
    """unknown_address_reject_code = 550; null MX keeps its own codes."""

    MAIN = dict(DomainCase.MAIN, unknown_address_reject_code="550")

    def test_recipient_550_5_1_2(self):
        with self.session(CLEAN) as c:
            self.expect(c, "MAIL FROM:<>", "250 2.1.0 Ok")
            self.expect(c, "RCPT TO:<x@nx.test>",
                        rcpt_notfound("x@nx.test", 550))
            self.expect(c, "RCPT TO:<x@nodata.test>",
                        rcpt_notfound("x@nodata.test", 550))
            self.expect(c, "RCPT TO:<x@nullmx.test>",
                        rcpt_nullmx("x@nullmx.test"))

    def test_sender_550_5_1_8(self):
        with self.session(CLEAN) as c:
            self.expect(c, "MAIL FROM:<x@nx.test>", "250 2.1.0 Ok")
            self.expect(c, "RCPT TO:<%s>" % ALICE,
                        sender_notfound("x@nx.test", 550))
            self.expect(c, "RSET", 250)
            self.expect(c, "MAIL FROM:<x@nullmx.test>", "250 2.1.0 Ok")
            self.expect(c, "RCPT TO:<%s>" % ALICE,
                        sender_nullmx("x@nullmx.test"))


class NoDnsLocalTest(DomainCase):
    """The DNS server never answers: local domains, the null sender and
    address literals pass at once, and no query is ever sent."""

    DNS = "silent"

    def test_local_never_looked_up(self):
        t0 = time.monotonic()
        with self.session(CLEAN) as c:
            self.send_mail(c, BOB, [ALICE, "x@[192.0.2.1]"], "nodns1")
            self.send_mail(c, "", [BOB], "nodns2")
            self.send_mail(c, "x@[192.0.2.1]", [BOB], "nodns3")
        self.assertLess(time.monotonic() - t0, 5)
        self.delivered("nodns1")
        self.assertEqual(self.server.queries, 0)


class NoDnsMynetworksTest(DnsCase):
    """The tutorial's lists with a DNS server that never answers:
    permit_mynetworks decides before the DNS restrictions, so for a
    client in mynetworks nothing is looked up and no command waits (as in
    Postfix)."""

    DNS = "blackhole"
    MAIN = {"mynetworks": "127.0.0.6/32",
            "smtpd_client_restrictions":
            "permit_mynetworks, reject_rbl_client rbl.test",
            "smtpd_sender_restrictions":
            "permit_mynetworks, reject_unknown_sender_domain",
            "smtpd_recipient_restrictions":
            "permit_mynetworks, reject_unknown_recipient_domain"}

    def test_mynetworks_client_not_looked_up(self):
        t0 = time.monotonic()
        with self.session(CLEAN, timeout=40) as c:
            self.send_mail(c, "x@sender.test", [ALICE, "y@remote.test"],
                           "nodnsmynet1")
        took = time.monotonic() - t0
        with self.server.lock:
            # the harness's readiness probe connects from 127.0.0.1,
            # outside mynetworks: its RBL lookup starts at connect
            asked = sorted(q for q in self.server.seen
                           if not q[0].startswith("1.0.0.127."))
        self.assertEqual(asked, [], "took %.1f s" % took)
        self.assertLess(took, 5)
        self.delivered("nodnsmynet1")


class DnsServfailTest(DomainCase):
    """The DNS server answers SERVFAIL: RBL does nothing (a warning),
    unknown-domain checks answer 450 4.4.3."""

    DNS = "servfail"
    MAIN = dict(DomainCase.MAIN,
                smtpd_client_restrictions="reject_rbl_client rbl.test")

    def test_rbl_servfail_does_nothing(self):
        with self.session(LISTED, timeout=30) as c:
            self.send_mail(c, "", [ALICE], "servfail1")
        self.assertGreater(self.server.count("5.0.0.127.rbl.test"), 0)
        self.assertIsNotNone(self.inst.wait_log(
            r"warning: .*lookup of 5\.0\.0\.127\.rbl\.test failed", 5),
            self.tail())
        self.delivered("servfail1")

    def test_recipient_domain_tempfail(self):
        with self.session(CLEAN, timeout=30) as c:
            self.expect(c, "MAIL FROM:<>", "250 2.1.0 Ok")
            self.expect(c, "RCPT TO:<x@some.test>",
                        rcpt_tempfail("x@some.test"))
            self.expect(c, "RCPT TO:<%s>" % ALICE, "250 2.1.5 Ok")

    def test_sender_domain_tempfail(self):
        with self.session(CLEAN, timeout=30) as c:
            self.expect(c, "MAIL FROM:<x@some.test>", "250 2.1.0 Ok")
            self.expect(c, "RCPT TO:<%s>" % ALICE,
                        sender_tempfail("x@some.test"))


class SlowDnsTest(DnsCase):
    """Every DNS answer comes DELAY seconds late, so the lookups are
    still pending when pipelined commands arrive."""

    DNS = "delay"
    MX = DOM_MX
    HOSTS = RBL_HOSTS + DOM_HOSTS
    CONF = RBL_CONF + DOM_CONF
    MAIN = {"smtpd_client_restrictions": "reject_rbl_client rbl.test",
            "smtpd_sender_restrictions": "reject_unknown_sender_domain",
            "smtpd_recipient_restrictions":
            "reject_unknown_recipient_domain"}

    def test_pipelined_group_waits_for_rbl(self):
        """The group arrives while the RBL lookup (started at connect) is
        still out: the proxy answers only after the group was sent, and
        the RCPT replies carry the listing, so smtpd held them until the
        answer came."""
        want = rbl_reply(554, LISTED, "rbl.test", LISTED_TXT)
        name = "5.0.0.127.rbl.test"
        with self.session(LISTED) as c:
            sent = time.monotonic()
            c.send("MAIL FROM:<>\r\nRCPT TO:<%s>\r\nRCPT TO:<%s>\r\n"
                   "DATA\r\n" % (ALICE, BOB))
            got = [c.reply().lines for _ in range(4)]
            self.assertEqual(got, [["250 2.1.0 Ok"], [want], [want],
                                   ["554 5.5.1 Error: no valid recipients"]])
            self.expect(c, "NOOP", "250 2.0.0 Ok")
        with self.server.lock:
            answered = list(self.server.answered[name])
        self.assertTrue(answered, "no query for %s went out" % name)
        self.assertGreater(min(answered), sent, "the lookup was answered "
                           "before the group was sent: nothing waited")

    def test_pipelined_group_with_domain_lookups(self):
        with self.session(CLEAN) as c:
            c.send("MAIL FROM:<s@aonly.test>\r\nRCPT TO:<a@nx.test>\r\n"
                   "RCPT TO:<b@mx.test>\r\nRCPT TO:<c@nullmx.test>\r\n"
                   "RCPT TO:<%s>\r\nRCPT TO:<d@nodata.test>\r\nDATA\r\n"
                   % ALICE)
            got = [c.reply().lines for _ in range(7)]
            self.assertEqual(got[:6], [
                ["250 2.1.0 Ok"], [rcpt_notfound("a@nx.test")],
                ["250 2.1.5 Ok"], [rcpt_nullmx("c@nullmx.test")],
                ["250 2.1.5 Ok"], [rcpt_notfound("d@nodata.test")]])
            self.assertEqual(got[6][0][:3], "354", got)
            c.send(tob.message("slowpipe1", "s@aonly.test", ALICE) +
                   b".\r\n")
            r = c.reply()
            self.assertEqual(r.code, 250, r)
        self.delivered("slowpipe1")

    def test_domain_looked_up_once_per_session(self):
        with self.session(CLEAN) as c:
            self.expect(c, "MAIL FROM:<>", "250 2.1.0 Ok")
            self.expect(c, "RCPT TO:<a@nx3.test>",
                        rcpt_notfound("a@nx3.test"))
            first = self.server.count("nx3.test")
            self.assertGreater(first, 0)
            t0 = time.monotonic()
            self.expect(c, "RCPT TO:<b@nx3.test>",
                        rcpt_notfound("b@nx3.test"))
            took = time.monotonic() - t0
        self.assertEqual(self.server.count("nx3.test"), first)
        self.assertLess(took, DELAY)
