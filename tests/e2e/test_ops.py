"""test_ops.py - "mailctl doctor", "mailctl explain" and "mailctl queue
delete --all / --from / --to" end to end (issue 12, items 4 and 5).

DoctorGoodTest: an instance as a new server should be - a certificate for
myhostname valid for 60 days, mynetworks 127.0.0.1/32 (so the open-relay
self-test runs from 127.0.0.25), a DNSBL zone in dnsmasq that lists its
test entry 127.0.0.2 and not 127.0.0.1, a second listener in TLS wrapper
mode: doctor exits 0, says ok for the config, certificate, both
listeners, AUTH, relay, queue, DNS and DNSBL checks, and --json parses
with the same verdict; --network tries the relayhost.

DoctorBrokenTest: an expired certificate, mynetworks 0.0.0.0/0 (an open
relay), AUTH offered before STARTTLS, a DNSBL zone whose dnsmasq answers
Spamhaus's "public resolver" refusal 127.255.255.254 (and zones answering
the other error codes .252 and .255, one listing 127.0.0.1, one listing
nothing): doctor exits 1 and names each problem with its fix, in text and
in JSON.

DoctorRelayTest: "permit" as the relay restrictions - the self-test's
RCPT is accepted (an open relay, and still nothing is queued) - and a
DKIM key whose record is not in DNS.

OpsQueueTest (relayhost = a Gate peer that answers 451 until a test opens
an address; back-off 600 s so nothing is retried unless asked): explain
of a deferred message (arrival, each attempt with the remote reply, the
next attempt and why, the log lines) and of a delivered one (not in the
queue; outcome "sent" and "left the queue" from maillog_file); queue
delete --from / --to / --all with the counts, the survivors, the
postsuper-style log lines, and bad patterns refused.
"""
import datetime
import json
import os
import re
import time

import harness
from harness import wait_for

import test_outbound as ob
import test_queue as tq

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

ALICE = "alice@example.com"
BOB = "bob@example.com"


def cert_pair(directory, name, host, days_from, days_to):
    """A self-signed certificate for host valid from now+days_from to
    now+days_to (negative: the past), and its key: (cert, key) paths."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = datetime.datetime.now(datetime.timezone.utc)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    cert = (x509.CertificateBuilder().subject_name(subject)
            .issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now + datetime.timedelta(days=days_from))
            .not_valid_after(now + datetime.timedelta(days=days_to))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]),
                           critical=False)
            .sign(key, hashes.SHA256()))
    crt = os.path.join(directory, name + ".crt")
    kf = os.path.join(directory, name + ".key")
    with open(crt, "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(kf, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM,
                                  serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    os.chmod(kf, 0o600)
    return crt, kf


class DoctorCase(ob.OutboundCase):
    """An instance with a dnsmasq that knows myhostname and a DNSBL."""

    HOSTS = (("mx.example.com", "127.0.0.1"),)
    CERT_DAYS = (-1, 60)

    @classmethod
    def main_extra(cls):
        crt, key = cert_pair(cls.certdir, "mx", "mx.example.com",
                             *cls.CERT_DAYS)
        extra = {"smtpd_tls_cert_file": crt, "smtpd_tls_key_file": key,
                 "smtpd_tls_security_level": "may"}
        extra.update(cls.MAIN)
        return extra

    def doctor(self, *args):
        r = self.inst.mailctl("doctor", *args, check=False)
        self.assertEqual(r.stderr, "", r.stderr)
        return r

    def findings(self, out):
        """text output -> [(level, check, text, fix or None)]"""
        got = []
        for line in out.splitlines():
            m = re.match(r"^(ok|warning|error): (\w+): (.*)$", line)
            if m:
                got.append([m.group(1), m.group(2), m.group(3), None])
            elif line.startswith("  fix: "):
                self.assertTrue(got, out)
                got[-1][3] = line[7:]
            else:
                self.assertRegex(line, r"^doctor: \d+ errors?, \d+ "
                                 r"warnings?$", out)
        return got

    def has(self, got, level, check, rx):
        hit = [g for g in got if g[0] == level and g[1] == check and
               re.search(rx, g[2])]
        self.assertTrue(hit, "no %s %s matching %r in:\n%s" %
                        (level, check, rx, "\n".join(map(str, got))))
        return hit[0]


class DoctorGoodTest(DoctorCase):
    MAIN = {"mynetworks": "127.0.0.1/32",
            "smtpd_client_restrictions": "reject_rbl_client rbl.test"}

    @classmethod
    def dns_extra(cls):
        return ("--host-record=2.0.0.127.rbl.test,127.0.0.2",)

    @classmethod
    def prepare_instance(cls):
        """a second listener in TLS wrapper mode (smtps)"""
        cls.tls_port = harness.free_port()
        with open(os.path.join(cls.inst.dir, "master.cf"), "a") as f:
            f.write("127.0.0.1:%d inet n - y - - smtpd -o "
                    "smtpd_tls_wrappermode=yes\n" % cls.tls_port)

    def test_good_instance(self):
        r = self.doctor()
        self.assertEqual(r.returncode, 0, r.stdout)
        got = self.findings(r.stdout)
        self.assertEqual([g for g in got if g[0] == "error"], [], r.stdout)
        self.has(got, "ok", "config", r"check out")
        self.has(got, "ok", "certificate", r"expires in (59|60) days")
        self.has(got, "ok", "listener", r"127\.0\.0\.1 port %d\) answers: "
                 r"220 " % self.inst.port)
        self.has(got, "ok", "listener", r"127\.0\.0\.1 port %d, TLS\) "
                 r"answers: 220 " % self.tls_port)
        self.has(got, "ok", "auth", r"no AUTH before STARTTLS")
        self.has(got, "ok", "relay", r"refuses to relay for 127\.0\.0\.25: "
                 r"5\d\d ")
        self.has(got, "ok", "queue", r"owners and modes are right")
        self.has(got, "ok", "dns", r"the resolver \(127\.0\.0\.1:\d+\) "
                 r"answers")
        self.has(got, "ok", "dns", r"DNSBL rbl\.test answers \(127\.0\.0\.2 "
                 r"listed as 127\.0\.0\.2, 127\.0\.0\.1 not\)")
        self.assertTrue(any(g[1] == "disk" for g in got), got)
        self.assertTrue(any(g[1] == "clock" for g in got), got)
        # the relay test queued nothing and was refused in the log
        self.assertIn("127.0.0.25", self.inst.log())
        self.assertEqual(self.inst.queue_files(), [])
        # JSON: the same findings
        j = self.doctor("--json")
        self.assertEqual(j.returncode, 0, j.stdout)
        o = json.loads(j.stdout)
        self.assertEqual(o["errors"], 0)
        self.assertEqual(len(o["checks"]), len(got))
        for c, g in zip(o["checks"], got):
            self.assertEqual((c["status"], c["check"]), (g[0], g[1]))
            self.assertEqual(c["fix"], g[3])

    def test_usage(self):
        r = self.inst.mailctl("doctor", "--bogus", check=False)
        self.assertEqual(r.returncode, 2, r)
        self.assertIn("usage: mailctl [-c config_dir] doctor [--json] "
                      "[--network]", r.stderr)

    def test_network_relayhost(self):
        """--network: outbound reachability is tried only then; with a
        relayhost it is the relayhost's port (here our own listener)."""
        r = self.doctor()
        self.assertNotIn(": outbound:", r.stdout)
        self.inst.set_main(relayhost="[127.0.0.1]:%d" % self.inst.port)
        try:
            r = self.doctor("--network")
            got = self.findings(r.stdout)
            self.has(got, "ok", "outbound", r"relayhost 127\.0\.0\.1 port "
                     r"%d is reachable" % self.inst.port)
        finally:
            self.inst.set_main(relayhost="")


class DoctorBrokenTest(DoctorCase):
    CERT_DAYS = (-40, -3)
    MAIN = {"mynetworks": "0.0.0.0/0",
            "smtpd_sasl_auth_enable": "yes",
            "smtpd_tls_auth_only": "no",
            "smtpd_client_restrictions": "reject_rbl_client zen.test, "
            "reject_rbl_client dqs.test, reject_rbl_client busy.test, "
            "reject_rbl_client everyone.test, reject_rbl_client dead.test"}

    @classmethod
    def dns_extra(cls):
        return ("--host-record=2.0.0.127.zen.test,127.255.255.254",
                "--host-record=2.0.0.127.dqs.test,127.255.255.252",
                "--host-record=2.0.0.127.busy.test,127.255.255.255",
                "--host-record=2.0.0.127.everyone.test,127.0.0.2",
                "--host-record=1.0.0.127.everyone.test,127.0.0.2")

    def check(self, got):
        e = self.has(got, "error", "certificate", r"mx\.crt expired [34] "
                     r"days ago")
        self.assertRegex(e[3], r"renew")
        e = self.has(got, "error", "relay", r"OPEN RELAY: mynetworks "
                     r"\(0\.0\.0\.0/0\)")
        self.assertRegex(e[3], r"mynetworks")
        e = self.has(got, "error", "auth", r"offers AUTH before STARTTLS")
        self.assertRegex(e[3], r"smtpd_tls_auth_only = yes")
        e = self.has(got, "error", "dns", r"DNSBL zen\.test answers "
                     r"127\.255\.255\.254 .*public or open resolver")
        self.assertRegex(e[3], r"own resolver")
        self.has(got, "error", "dns", r"DNSBL dqs\.test answers "
                 r"127\.255\.255\.252 .*Data Query Service key")
        self.has(got, "error", "dns", r"DNSBL busy\.test answers "
                 r"127\.255\.255\.255 .*too many queries")
        self.has(got, "error", "dns", r"DNSBL everyone\.test lists "
                 r"127\.0\.0\.1 .*every client is refused")
        self.has(got, "warning", "dns", r"DNSBL dead\.test does not list "
                 r"its test entry")
        # the loopback self-test cannot run: every address is trusted
        self.has(got, "warning", "relay", r"self-test not run")

    def test_broken_instance(self):
        r = self.doctor()
        self.assertEqual(r.returncode, 1, r.stdout)
        got = self.findings(r.stdout)
        self.check(got)
        n = len([g for g in got if g[0] == "error"])
        self.assertRegex(r.stdout, r"(?m)^doctor: %d errors, " % n)
        j = self.doctor("--json")
        self.assertEqual(j.returncode, 1)
        o = json.loads(j.stdout)
        self.assertEqual(o["errors"], n)
        self.check([[c["status"], c["check"], c["message"], c["fix"]]
                    for c in o["checks"]])


class DoctorRelayTest(DoctorCase):
    """permit in the relay restrictions: the self-test from 127.0.0.25
    gets its RCPT accepted - an open relay - and nothing is queued; a
    DKIM key whose records are not in DNS is named too."""

    MAIN = {"mynetworks": "127.0.0.1/32",
            "smtpd_relay_restrictions": "permit",
            "smtpd_recipient_restrictions": "permit"}

    @classmethod
    def dns_extra(cls):
        return ("--local=/example.com/",)   # NXDOMAIN, not SERVFAIL

    @classmethod
    def prepare_instance(cls):
        cls.inst.mailctl("dkim", "keygen", "example.com", "--algorithm",
                         "ed25519")

    def test_open_relay_and_dkim(self):
        r = self.doctor()
        self.assertEqual(r.returncode, 1, r.stdout)
        got = self.findings(r.stdout)
        e = self.has(got, "error", "relay", r"OPEN RELAY: 127\.0\.0\.1:%d "
                     r"accepted mail for relay-test@example\.net from "
                     r"127\.0\.0\.25" % self.inst.port)
        self.assertRegex(e[3], r"reject_unauth_destination")
        e = self.has(got, "error", "dkim", r"_domainkey\.example\.com TXT "
                     r"\(DKIM ed25519, active\): MISSING")
        self.assertIn("mailctl dns records example.com", e[3])
        self.assertEqual(self.inst.queue_files(), [])
        self.assertNotIn("relay-test@example.net>, relay=",
                         self.inst.log())


class OpsQueueTest(tq.QueueCase):
    PEER_ADDR = "127.0.0.213"
    MAIN = {"minimal_backoff_time": "600s", "maximal_backoff_time": "1200s"}

    def explain(self, qid):
        r = self.inst.mailctl("explain", qid, check=False)
        self.assertEqual(r.returncode, 0, (r.stdout, r.stderr))
        self.assertEqual(r.stderr, "")
        return r.stdout

    def test_explain_deferred_then_delivered(self):
        qid = self.submit_to("expl@remote.test", "qexpl")
        out = self.explain(qid)
        self.assertRegex(out, r"(?m)^queue:\n  queue id:  %s\n  state:     "
                         r"deferred, 1 delivery attempt so far$" % qid)
        self.assertRegex(out, r"(?m)^  arrival:   \S+ \S+ UTC from "
                         r"\[127\.0\.0\.1\]:\d+, HELO \S+, E?SMTP$")
        self.assertIn("\n  sasl:      none (not authenticated)\n", out)
        self.assertIn("\n  sender:    <%s>\n" % ALICE, out)
        self.assertRegex(out, r"(?m)^  recipient <expl@remote\.test>: "
                         r"pending\n    \S+ \S+ UTC  deferred: .*451 4\.7\.1 "
                         r"expl@remote\.test: not yet")
        self.assertRegex(out, r"(?m)^  next:      \S+ \S+ UTC \(in \d+ s\): "
                         r"back-off after 1 failed attempt \(the wait "
                         r"doubles from minimal_backoff_time = 600s up to "
                         r"maximal_backoff_time = 1200s\)$")
        self.assertRegex(out, r"(?m)^log \(maillog_file .*maillog\):$")
        self.assertRegex(out, r"(?m)^  .*%s: client=unknown\[127\.0\.0\.1\]"
                         % qid)
        self.assertRegex(out, r"(?m)^  .*%s: to=<expl@remote\.test>, .*"
                         r"status=deferred" % qid)
        self.assertRegex(out, r"(?m)^outcome:\n  <expl@remote\.test>: "
                         r"deferred at .*\n  still in the queue$")
        # a log line too long to read is skipped whole: its tail, which
        # looks like "QID: removed", is not taken for a line
        with open(self.inst.maillog, "a") as f:
            f.write("Dec  8 01:02:03 mx x[1]: %s %s h p[1]: %s: removed\n"
                    % (qid, "y" * 9000, qid))
        out = self.explain(qid)
        self.assertNotIn("left the queue", out)
        self.assertNotIn("y" * 100, out)
        self.assertRegex(out, r"(?m)^  still in the queue$")
        # held: the next attempt waits for a release
        self.ok("hold", qid)
        self.assertTrue(wait_for(lambda: self.held(qid), 10))
        self.assertRegex(self.explain(qid), r"(?m)^  state:     hold\n(.|\n)*"
                         r"^  next:      none: on hold, no delivery attempt "
                         r"until \"mailctl queue release %s\"$" % qid)
        # delivered: gone from the queue, the log tells the rest
        self.gate.opened.add("expl@remote.test")
        self.ok("release", qid)
        self.wait_peer(self.gate, "qexpl")
        self.wait_gone(qid)
        self.wait_log_line(qid, ": removed$")
        out = self.explain(qid)
        self.assertRegex(out, r"(?m)^queue:\n  %s: not in the queue$" % qid)
        self.assertRegex(out, r"(?m)^  <expl@remote\.test>: sent at .* "
                         r"\(after 1 deferral\): relay=.*status=sent")
        self.assertRegex(out, r"(?m)^  left the queue at ")
        # nothing known: exit 1; not a queue id: usage
        r = self.inst.mailctl("explain", tq.UNKNOWN, check=False)
        self.assertEqual(r.returncode, 1, r)
        self.assertIn("the log has no line about %s" % tq.UNKNOWN, r.stdout)
        for bad in ([], ["x/../y"], [tq.UNKNOWN, "more"]):
            r = self.inst.mailctl("explain", *bad, check=False)
            self.assertEqual(r.returncode, 2, (bad, r))
            self.assertIn("usage: mailctl [-c config_dir] explain", r.stderr)

    def test_delete_from_to_all(self):
        a1 = self.submit_to("one@remote.test", "qd1")
        a2 = self.submit_to("two@other.test", "qd2", )
        b1 = self.submit("three@remote.test", "qd3", sender=BOB)
        self.wait_deferrals(b1, 1)
        n1 = self.submit("four@remote.test", "qd4", sender="")
        self.wait_deferrals(n1, 1)
        h1 = self.submit_to("five@remote.test", "qd5")
        self.ok("hold", h1)
        self.assertTrue(wait_for(lambda: self.held(h1), 10))
        mark = self.inst.log_size()
        # bad patterns: usage (2), nothing deleted
        for pat in ("a b", "@", "x\x1b[2J"):
            r = tq.mq(self.inst, "delete", "--from", pat)
            self.assertEqual(r.returncode, 2, (pat, r))
            self.assertIn("not an address pattern", r.stderr)
            self.assertNotIn("\x1b", r.stderr)
        self.assertEqual(len(self.listing()), 5)
        # --from: the exact address, in any case; <> is the null sender
        self.ok("delete", "--from", "<BOB@Example.COM>",
                out=r"^deleted 1 message\n$")
        self.assertEqual(set(self.listing()), {a1, a2, n1, h1})
        self.ok("delete", "--from", "<>", out=r"^deleted 1 message\n$")
        self.assertEqual(set(self.listing()), {a1, a2, h1})
        # --to DOMAIN: pending recipients there; the held message too
        self.ok("delete", "--to", "nowhere.test", out=r"^deleted 0 "
                r"messages\n$")
        self.ok("delete", "--to", "OTHER.test", out=r"^deleted 1 message\n$")
        self.assertEqual(set(self.listing()), {a1, h1})
        self.ok("delete", "--from", "alice@", out=r"^deleted 2 messages\n$")
        self.assertFalse(self.held(h1))
        self.assertEqual(self.listing(), {})
        for q in (b1, n1, a2, a1, h1):
            self.wait_log_line(q, r": removed$")
        log = self.inst.log_since(mark)
        self.assertEqual(len(re.findall(r"\]: Deleted: 1 message$", log,
                                        re.M)), 3, log)
        self.assertRegex(log, r"(?m)\]: Deleted: 2 messages$")
        # --all, as ALL: everything, with the count
        c1 = self.submit_to("six@remote.test", "qd6")
        c2 = self.submit_to("seven@remote.test", "qd7")
        out = self.ok("delete", "--all", out=r"^deleted \d+ messages?")
        if not out.startswith("deleted 2 messages"):
            # one was in a retry right now: it goes when that ends
            self.assertRegex(out, r"^deleted 1 message; 1 more when its "
                             r"delivery attempt in progress ends\n$")
        self.wait_gone(c1, 10)
        self.wait_gone(c2, 10)
        self.assertEqual(self.listing(), {})
        self.gate.opened.update(["one@remote.test", "two@other.test",
                                 "three@remote.test", "four@remote.test",
                                 "five@remote.test", "six@remote.test",
                                 "seven@remote.test"])
        time.sleep(1)
        for t in ("qd1", "qd2", "qd3", "qd4", "qd5", "qd6", "qd7"):
            self.assertEqual(self.delivered(t), [], t)


if __name__ == "__main__":
    import unittest
    unittest.main()
