"""test_dkim_admin.py - the admin side of DKIM and DNS: mailctl dkim
(keygen, list, rotate), mailctl dns records and mailctl dns check, and the
outbound source address (smtp_bind_address) that the SPF and PTR records
are about.

mailctl runs as root against a configuration directory of its own (no
daemons) except where a running system is part of the test (the reload
after rotate --activate, smtp_bind_address).  dns check asks a dnsmasq on
a free loopback port (dns_server_address) that serves the records of
"mailctl dns records --json", or a changed copy of them.

Covered:
  keygen: both keys by default with dated selectors, root-owned 0600 files
    in 0700 directories, records that parse and match the keys; the next
    selector of the month gets a digit; --selector, --algorithm, --bits
    3072; RSA-1024 refused, as are a bad domain or selector, a taken
    selector, and a second key of an algorithm the domain has;
  list: keys made with keygen and by hand (openssl genpkey, Ed25519 and
    traditional RSA), their state, and the warnings for a group-readable
    key and a file that is no key;
  rotate: new keys in next/ with the records to publish, signing
    unchanged; a second rotate refused; --activate refused without next/
    keys and (without --force) while their records are not in DNS; with
    them published the old keys move to retired/ with the time in their
    mtime, next/ keys become active, a running system is reloaded; dns
    records then lists the retired selectors within the grace period;
  dns records: the zone (long TXT values in strings of 255 bytes), the
    JSON array whose DKIM values are the keys' public parts, SPF with
    smtp_bind_address, the relayhost hint, TLSA of the certificate, PTR;
  dns check: exit 0 against the right records; a wrong DKIM key, missing
    SPF, missing DMARC, a wrong MX each named, exit 1; SPF over 10 lookups
    and SPF not authorising the outbound address; forward-confirmed
    reverse DNS;
  smtp_bind_address: outbound connections come from it; mailctl check
    refuses a value that is no IPv4 address.
"""
import base64
import hashlib
import ipaddress
import json
import os
import re
import shutil
import stat
import subprocess
import tempfile
import time
import unittest

import harness
from harness import Instance, wait_for
import test_dnsrestr as tdr
import test_outbound as tob


def run_mailctl(confdir, *args, input=None):
    """mailctl -c confdir ARGS as root: the CompletedProcess."""
    return subprocess.run([harness.mailctl_path(), "-c", confdir] +
                          list(args), capture_output=True, text=True,
                          timeout=120, input=input,
                          stdin=None if input is not None
                          else subprocess.DEVNULL)


DOMAIN = "example.test"
HOST = "mail.example.test"
OUT4 = "192.0.2.25"
PTR4 = "25.2.0.192.in-addr.arpa"


def month_selector(kind, n=1):
    """The default selector of this month (UTC): y2026m12r, ...r2."""
    t = time.gmtime()
    return "y%04dm%02d%s%s" % (t.tm_year, t.tm_mon, kind,
                               "" if n == 1 else str(n))


def public_b64(key_path):
    """The p= value of a private key file: base64 of the DER public key
    (RSA) or of the raw 32 bytes (Ed25519), made by openssl."""
    der = subprocess.run(["openssl", "pkey", "-in", key_path, "-pubout",
                          "-outform", "DER"], capture_output=True,
                         check=True).stdout
    if b"\x2b\x65\x70" in der[:16]:       # id-Ed25519 (1.3.101.112)
        der = der[-32:]
    return base64.b64encode(der).decode()


def tlsa_of(cert):
    """3 1 1 of a certificate, made by openssl."""
    pem = subprocess.run(["openssl", "x509", "-in", cert, "-noout",
                          "-pubkey"], capture_output=True,
                         check=True).stdout
    der = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "DER"],
                         input=pem, capture_output=True, check=True).stdout
    return "3 1 1 " + hashlib.sha256(der).hexdigest()


def zone_conf(records, drop=(), replace=None, extra=()):
    """dnsmasq configuration lines serving records (the --json output):
    names and types in drop are left out, replace maps (name, type) to
    another value.  A and AAAA as raw records (a host-record would add a
    PTR record too)."""
    replace = replace or {}
    conf = ["local=/test/", "local=/2.0.192.in-addr.arpa/"]
    for r in records:
        key = (r["name"], r["type"])
        if key in drop or r["type"] == "FILE":
            continue
        v = replace.get(key, r["value"])
        if r["type"] == "MX":
            pref, host = v.split()
            conf.append("mx-host=%s,%s,%s" % (r["name"], host, pref))
        elif r["type"] in ("A", "AAAA"):
            conf.append("dns-rr=%s,%d,%s" % (
                r["name"], 1 if r["type"] == "A" else 28,
                ipaddress.ip_address(v).packed.hex()))
        elif r["type"] == "TXT":
            parts = [v[i:i + 255] for i in range(0, len(v), 255)]
            conf.append("txt-record=%s,%s" % (
                r["name"], ",".join('"%s"' % p for p in parts)))
        elif r["type"] == "TLSA":
            u, sel, m, h = v.split()
            conf.append("dns-rr=%s,52,%02x%02x%02x%s" % (
                r["name"], int(u), int(sel), int(m), h))
        elif r["type"] == "PTR":
            conf.append("ptr-record=%s,%s" % (r["name"], v))
    return conf + list(extra)


class AdminDir:
    """A configuration directory for mailctl alone (no daemons):
    myhostname mail.example.test, example.test in mydestination, the
    outbound address 192.0.2.25, a self-signed certificate."""

    def __init__(self, **main):
        self.dir = tempfile.mkdtemp(prefix="youju-e2e-dkim-")
        os.chmod(self.dir, 0o755)
        self.cert, _ = harness.make_cert(self.dir, "smtpd", cn=HOST)
        self.dns = None
        cfg = {"queue_directory": os.path.join(self.dir, "queue"),
               "myhostname": HOST, "mydomain": DOMAIN,
               "mydestination": "%s, localhost" % DOMAIN,
               "smtp_bind_address": OUT4,
               "smtpd_tls_cert_file": self.cert,
               "dns_server_address": "127.0.0.1:9"}
        cfg.update(main)
        self.write_main(cfg)
        for f in ("master.cf", "users", "aliases"):
            open(os.path.join(self.dir, f), "w").close()

    def write_main(self, cfg):
        self.cfg = cfg
        with open(os.path.join(self.dir, "main.cf"), "w") as f:
            for k, v in cfg.items():
                f.write("%s = %s\n" % (k, v))

    def set(self, **main):
        cfg = dict(self.cfg)
        cfg.update(main)
        self.write_main(cfg)

    def mailctl(self, *args):
        return run_mailctl(self.dir, *args)

    def keydir(self, domain=DOMAIN, sub=""):
        return os.path.join(self.dir, "dkim", domain, sub)

    def records(self, domain=DOMAIN):
        r = self.mailctl("dns", "records", domain, "--json")
        if r.returncode != 0:
            raise AssertionError(r.stdout + r.stderr)
        return json.loads(r.stdout)

    def serve(self, records, **kw):
        """(Re)start a dnsmasq serving records; point main.cf at it."""
        self.stop_dns()
        self.dns = tdr.ZoneDns(conf=zone_conf(records, **kw))
        self.set(dns_server_address=self.dns.address)

    def stop_dns(self):
        if self.dns is not None:
            self.dns.stop()
            self.dns = None

    def cleanup(self):
        self.stop_dns()
        shutil.rmtree(self.dir, ignore_errors=True)


class AdminCase(unittest.TestCase):
    """A fresh AdminDir per test."""

    def setUp(self):
        self.a = AdminDir()

    def tearDown(self):
        self.a.cleanup()

    def ok(self, *args):
        r = self.a.mailctl(*args)
        self.assertEqual(r.returncode, 0, "%s: %s%s" % (args, r.stdout,
                                                       r.stderr))
        self.assertNotIn("runtime error", r.stderr)
        self.assertNotIn("Sanitizer", r.stderr)
        return r

    def fails(self, *args, rc=1, says=None):
        r = self.a.mailctl(*args)
        self.assertEqual(r.returncode, rc, "%s: %s%s" % (args, r.stdout,
                                                        r.stderr))
        self.assertNotIn("Sanitizer", r.stderr)
        if says is not None:
            self.assertIn(says, r.stderr)
        return r


class DkimKeygenTest(AdminCase):

    def test_keygen_default(self):
        r = self.ok("dkim", "keygen", DOMAIN)
        sr, se = month_selector("r"), month_selector("e")
        for d in (os.path.join(self.a.dir, "dkim"), self.a.keydir()):
            st = os.lstat(d)
            self.assertTrue(stat.S_ISDIR(st.st_mode))
            self.assertEqual((st.st_uid, stat.S_IMODE(st.st_mode)),
                             (0, 0o700), d)
        self.assertEqual(sorted(os.listdir(self.a.keydir())),
                         sorted([sr + ".key", se + ".key"]))
        for sel in (sr, se):
            path = os.path.join(self.a.keydir(), sel + ".key")
            st = os.lstat(path)
            self.assertEqual((st.st_uid, st.st_gid,
                              stat.S_IMODE(st.st_mode)), (0, 0, 0o600))
            self.assertIn("%s._domainkey.%s.\tIN\tTXT" % (sel, DOMAIN),
                          r.stdout)
            self.assertIn(public_b64(path), r.stdout.replace(
                '"\n\t\t\t"', ""))
        # the RSA record is split into strings of at most 255 bytes
        rsa = [l for l in r.stdout.splitlines() if l.startswith(sr)][0]
        self.assertIn("( \"v=DKIM1; k=rsa; p=", rsa)
        rec = r.stdout.split(sr + "._domainkey", 1)[1].split(" )", 1)[0]
        strings = re.findall(r'"([^"]*)"', rec)
        self.assertGreater(len(strings), 1, rec)
        self.assertTrue(all(len(x) <= 255 for x in strings), strings)
        self.assertEqual("".join(strings), "v=DKIM1; k=rsa; p=" +
                         public_b64(os.path.join(self.a.keydir(),
                                                 sr + ".key")))
        with open(os.path.join(self.a.keydir(), sr + ".key")) as f:
            self.assertIn("BEGIN PRIVATE KEY", f.read())
        # the records parse: openssl reads the keys, list shows them
        lst = self.ok("dkim", "list").stdout
        self.assertIn("%s %s rsa 2048 " % (DOMAIN, sr), lst)
        self.assertIn("%s %s ed25519 256 " % (DOMAIN, se), lst)
        # a second key of an algorithm the domain has: rotate instead
        self.fails("dkim", "keygen", DOMAIN, "--algorithm", "rsa",
                   says="already has an active rsa key (%s)" % sr)
        self.assertEqual(len(os.listdir(self.a.keydir())), 2)

    def test_keygen_options(self):
        self.ok("dkim", "keygen", DOMAIN, "--selector", "s1",
                "--algorithm", "ed25519")
        self.ok("dkim", "keygen", DOMAIN, "--selector", "s2.mail",
                "--algorithm", "rsa", "--bits", "3072")
        lst = self.ok("dkim", "list").stdout
        self.assertIn("%s s1 ed25519 256 " % DOMAIN, lst)
        self.assertIn("%s s2.mail rsa 3072 " % DOMAIN, lst)
        # --selector with both keys: S r and S e
        self.ok("dkim", "keygen", "Other.TEST.", "--selector", "k")
        self.assertEqual(sorted(os.listdir(self.a.keydir("other.test"))),
                         ["ke.key", "kr.key"])
        # a selector is never used twice, whatever the state of the key
        self.ok("dkim", "keygen", "third.test", "--selector", "x",
                "--algorithm", "ed25519")
        os.makedirs(self.a.keydir("third.test", "retired"))
        shutil.copy(os.path.join(self.a.keydir(), "s1.key"),
                    self.a.keydir("third.test", "retired"))
        self.fails("dkim", "keygen", "third.test", "--selector", "s1",
                   "--algorithm", "rsa", says="never used twice")

    def test_keygen_refused(self):
        self.fails("dkim", "keygen", DOMAIN, "--bits", "1024",
                   says="--bits 1024 refused")
        self.fails("dkim", "keygen", DOMAIN, "--algorithm", "rsa",
                   "--bits", "1024", says="1024 refused")
        self.fails("dkim", "keygen", DOMAIN, "--bits", "2000",
                   says="use 2048, 3072 or 4096")
        self.fails("dkim", "keygen", DOMAIN, "--algorithm", "dsa",
                   says="rsa, ed25519 or both")
        self.fails("dkim", "keygen", "exa mple.test", says="not a valid "
                   "domain")
        self.fails("dkim", "keygen", "../etc", says="not a valid domain")
        self.fails("dkim", "keygen", DOMAIN, "--selector", "Bad_Sel",
                   "--algorithm", "rsa", says="not a valid selector")
        self.fails("dkim", "keygen", DOMAIN, "--selector", "a" * 64,
                   "--algorithm", "rsa", says="not a valid selector")
        self.fails("dkim", "keygen", DOMAIN, "--algorithm", "ed25519",
                   "--bits", "2048", rc=2, says="--bits is for RSA")
        # both keys, the second impossible: neither is made
        self.ok("dkim", "keygen", "part.test", "--selector", "ke",
                "--algorithm", "ed25519")
        self.fails("dkim", "keygen", "part.test", "--selector", "k",
                   says="already has an active ed25519 key (ke)")
        self.assertEqual(os.listdir(self.a.keydir("part.test")), ["ke.key"])
        shutil.rmtree(os.path.join(self.a.dir, "dkim"))
        self.fails("dkim", "keygen", rc=2, says="no domain given")
        self.fails("dkim", "frobnicate", rc=2)
        self.assertFalse(os.path.exists(self.a.keydir()))


class DkimListTest(AdminCase):

    def test_handmade_keys(self):
        d = self.a.keydir("hand.test")
        os.makedirs(d, 0o700)
        ed, rsa = os.path.join(d, "h1.key"), os.path.join(d, "h2.key")
        subprocess.run(["openssl", "genpkey", "-algorithm", "ed25519",
                        "-out", ed], check=True, capture_output=True)
        subprocess.run(["openssl", "genrsa", "-traditional", "-out", rsa,
                        "2048"], check=True, capture_output=True)
        with open(rsa) as f:
            self.assertIn("BEGIN RSA PRIVATE KEY", f.read())
        os.chmod(ed, 0o600)
        os.chmod(rsa, 0o600)
        lst = self.ok("dkim", "list").stdout
        self.assertIn("hand.test h1 ed25519 256 %s  active" % ed, lst)
        self.assertIn("hand.test h2 rsa 2048 %s  active" % rsa, lst)
        recs = {r["name"]: r["value"] for r in self.a.records("hand.test")}
        self.assertEqual(recs["h1._domainkey.hand.test"],
                         "v=DKIM1; k=ed25519; p=" + public_b64(ed))
        self.assertEqual(recs["h2._domainkey.hand.test"],
                         "v=DKIM1; k=rsa; p=" + public_b64(rsa))
        # what the broker would refuse is named, and not published
        os.chmod(ed, 0o640)
        with open(os.path.join(d, "h3.key"), "w") as f:
            f.write("not a key\n")
        os.chmod(os.path.join(d, "h3.key"), 0o600)
        os.symlink(rsa, os.path.join(d, "h4.key"))
        short = os.path.join(d, "h5.key")
        subprocess.run(["openssl", "genrsa", "-out", short, "1024"],
                       check=True, capture_output=True)
        os.chmod(short, 0o600)
        r = self.fails("dkim", "list")
        self.assertIn("h5.key: RSA key of 1024 bits: the broker needs at "
                      "least 2048", r.stderr)
        self.assertIn("%s: mode 0640: readable by group or others" % ed,
                      r.stderr)
        self.assertIn("h3.key: not a usable key", r.stderr)
        self.assertIn("h4.key: not a regular file", r.stderr)
        names = [x["name"] for x in self.a.records("hand.test")]
        self.assertIn("h2._domainkey.hand.test", names)
        self.assertNotIn("h1._domainkey.hand.test", names)
        self.assertNotIn("h3._domainkey.hand.test", names)
        self.assertNotIn("h5._domainkey.hand.test", names)

    def test_list_empty(self):
        r = self.ok("dkim", "list")
        self.assertIn("no DKIM keys", r.stdout)
        r = self.a.mailctl("dns", "records", DOMAIN)
        self.assertEqual(r.returncode, 0)
        self.assertIn("no DKIM keys sign mail from %s" % DOMAIN, r.stderr)


class DkimRotateTest(AdminCase):

    def test_rotate(self):
        self.ok("dkim", "keygen", DOMAIN)
        sr, se = month_selector("r"), month_selector("e")
        sr2, se2 = month_selector("r", 2), month_selector("e", 2)
        self.fails("dkim", "rotate", DOMAIN, "--activate",
                   says="nothing to activate")
        self.fails("dkim", "rotate", "nokeys.test", says="no active keys")
        r = self.ok("dkim", "rotate", DOMAIN)
        self.assertIn("%s._domainkey.%s.\tIN\tTXT" % (sr2, DOMAIN),
                      r.stdout)
        self.assertIn("%s._domainkey.%s.\tIN\tTXT" % (se2, DOMAIN),
                      r.stdout)
        self.assertEqual(sorted(os.listdir(self.a.keydir(sub="next"))),
                         sorted([sr2 + ".key", se2 + ".key"]))
        st = os.lstat(self.a.keydir(sub="next"))
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o700)
        active = sorted(f for f in os.listdir(self.a.keydir())
                        if f.endswith(".key"))
        self.assertEqual(active, sorted([sr + ".key", se + ".key"]))
        self.fails("dkim", "rotate", DOMAIN, says="already has new keys")
        # dns records: the next keys, to publish now
        recs = {x["name"]: x for x in self.a.records()}
        nxt = recs["%s._domainkey.%s" % (sr2, DOMAIN)]
        self.assertIn("publish it now, before rotate --activate",
                      nxt["note"])
        self.assertEqual(nxt["value"], "v=DKIM1; k=rsa; p=" + public_b64(
            os.path.join(self.a.keydir(sub="next"), sr2 + ".key")))
        # not in DNS yet: refused
        self.a.serve([x for x in recs.values()
                      if not x["name"].startswith(sr2)])
        r = self.fails("dkim", "rotate", DOMAIN, "--activate",
                       says="not in DNS yet")
        self.assertIn("%s._domainkey.%s: MISSING" % (sr2, DOMAIN), r.stderr)
        self.assertNotIn("%s._domainkey.%s: MISSING" % (se2, DOMAIN),
                         r.stderr)
        lst = self.fails("dkim", "list", "--check").stdout
        self.assertIn("%s %s rsa 2048 " % (DOMAIN, sr2), lst)
        self.assertRegex(lst, r"%s .*next .*dns: MISSING" % sr2)
        self.assertRegex(lst, r"%s .*active  dns: ok" % sr)
        # published: the rotation happens
        self.a.serve(list(recs.values()))
        self.ok("dkim", "list", "--check")
        t0 = time.time()
        r = self.ok("dkim", "rotate", DOMAIN, "--activate")
        self.assertIn("not running", r.stdout)
        self.assertEqual(os.listdir(self.a.keydir(sub="next")), [])
        self.assertEqual(sorted(f for f in os.listdir(self.a.keydir())
                                if f.endswith(".key")),
                         sorted([sr2 + ".key", se2 + ".key"]))
        retired = self.a.keydir(sub="retired")
        self.assertEqual(sorted(os.listdir(retired)),
                         sorted([sr + ".key", se + ".key"]))
        for f in os.listdir(retired):
            st = os.lstat(os.path.join(retired, f))
            self.assertEqual(stat.S_IMODE(st.st_mode), 0o600)
            self.assertLess(abs(st.st_mtime - t0), 30, "retired: mtime")
        lst = self.ok("dkim", "list").stdout
        self.assertRegex(lst, r"%s .*retired \S+ \S+ UTC, keep published "
                         r"until" % sr)
        # the retired selectors stay in the records for the grace period
        recs = {x["name"]: x for x in self.a.records()}
        old = recs["%s._domainkey.%s" % (sr, DOMAIN)]
        self.assertIn("retired", old["note"])
        self.assertIn("keep it published until", old["note"])
        # and after it, they are gone from the records
        for f in os.listdir(retired):
            os.utime(os.path.join(retired, f), (t0 - 8 * 86400,
                                                t0 - 8 * 86400))
        names = [x["name"] for x in self.a.records()]
        self.assertNotIn("%s._domainkey.%s" % (sr, DOMAIN), names)
        self.assertIn("%s._domainkey.%s" % (sr2, DOMAIN), names)
        self.assertIn("grace over", self.ok("dkim", "list").stdout)
        # the next rotation this month: digit 3, --force without DNS
        self.ok("dkim", "rotate", DOMAIN)
        self.a.stop_dns()
        self.a.set(dns_server_address="127.0.0.1:9")
        self.ok("dkim", "rotate", DOMAIN, "--activate", "--force")
        self.assertIn(month_selector("r", 3) + ".key",
                      os.listdir(self.a.keydir()))
        self.fails("dkim", "rotate", DOMAIN, "--force", rc=2)


class DkimReloadTest(harness.InstanceTestCase):
    """rotate --activate reloads a running system."""

    @classmethod
    def setUpClass(cls):
        cls.inst = Instance()
        cls.inst.start()
        cls.inst.wait_settled()

    def test_activate_reloads(self):
        self.inst.mailctl("dkim", "keygen", "example.com")
        self.inst.mailctl("dkim", "rotate", "example.com")
        old = self.inst.pids("auth")
        r = self.inst.mailctl("dkim", "rotate", "example.com", "--activate",
                              "--force")
        self.assertIn("youju: reloaded", r.stdout)
        self.assertTrue(self.inst.wait_new_pid("auth", old),
                        "auth was not restarted")
        self.assertTrue(os.path.isdir(os.path.join(
            self.inst.dir, "dkim", "example.com", "retired")))


class DnsRecordsTest(AdminCase):

    def test_records(self):
        self.ok("dkim", "keygen", DOMAIN)
        recs = self.a.records()
        for x in recs:
            self.assertEqual(sorted(x), ["name", "note", "type", "value"])
            self.assertTrue(x["note"])
            self.assertFalse(x["name"].endswith("."))
        by = {(x["name"], x["type"]): x["value"] for x in recs}
        self.assertEqual(by[(DOMAIN, "MX")], "10 " + HOST)
        self.assertEqual(by[(HOST, "A")], OUT4)
        spf = [v for (n, t), v in by.items() if n == DOMAIN and t == "TXT"]
        self.assertEqual(spf, ["v=spf1 mx ip4:%s -all" % OUT4])
        for kind in ("r", "e"):
            sel = month_selector(kind)
            self.assertEqual(
                by[("%s._domainkey.%s" % (sel, DOMAIN), "TXT")],
                "v=DKIM1; k=%s; p=%s" % ("rsa" if kind == "r" else
                                         "ed25519", public_b64(os.path.join(
                                             self.a.keydir(), sel + ".key"))))
        self.assertEqual(by[("_dmarc." + DOMAIN, "TXT")],
                         "v=DMARC1; p=quarantine; rua=mailto:postmaster@" +
                         DOMAIN)
        self.assertEqual(by[("_smtp._tls." + DOMAIN, "TXT")],
                         "v=TLSRPTv1; rua=mailto:postmaster@" + DOMAIN)
        self.assertRegex(by[("_mta-sts." + DOMAIN, "TXT")],
                         r"^v=STSv1; id=[0-9a-f]{16}$")
        policy = by[("https://mta-sts.%s/.well-known/mta-sts.txt" % DOMAIN,
                     "FILE")]
        self.assertEqual(policy, "version: STSv1\nmode: testing\nmx: %s\n"
                         "max_age: 604800\n" % HOST)
        self.assertEqual(by[("_25._tcp." + HOST, "TLSA")],
                         tlsa_of(self.a.cert))
        self.assertEqual(by[(PTR4, "PTR")], HOST)
        # the zone: the same, with notes, the RSA value in strings
        zone = self.ok("dns", "records", DOMAIN, "--zone").stdout
        self.assertEqual(zone, self.ok("dns", "records", DOMAIN).stdout)
        self.assertIn("%s.\tIN\tMX\t10 %s." % (DOMAIN, HOST), zone)
        self.assertIn("%s.\tIN\tPTR\t%s." % (PTR4, HOST), zone)
        self.assertIn(';   mode: testing', zone)
        self.assertIn('_dmarc.%s.\tIN\tTXT\t"v=DMARC1; p=quarantine;' %
                      DOMAIN, zone)
        for line in zone.splitlines():
            if not line.startswith(";"):
                for st in re.findall(r'"([^"]*)"', line):
                    self.assertLessEqual(len(st), 255)

    def test_variants(self):
        # no outbound address: no ip4:, no A, no PTR; relayhost hints
        self.a.set(smtp_bind_address="", smtp_bind_address6="2001:db8::25",
                   relayhost="[email-smtp.eu-west-1.amazonaws.com]:587")
        by = {(x["name"], x["type"]): x for x in self.a.records()}
        self.assertEqual(by[(DOMAIN, "TXT")]["value"],
                         "v=spf1 mx ip6:2001:db8::25 include:amazonses.com "
                         "-all")
        self.assertIn((HOST, "AAAA"), by)
        self.assertNotIn((HOST, "A"), by)
        ptr6 = [k for k in by if k[1] == "PTR"]
        self.assertEqual(len(ptr6), 1)
        self.assertTrue(ptr6[0][0].endswith(".8.b.d.0.1.0.0.2.ip6.arpa"))
        self.assertIn("relayhost", by[ptr6[0]]["note"])
        self.a.set(relayhost="[smtp.relay.example.net]:587")
        spf = {(x["name"], x["type"]): x for x in self.a.records()}[
            (DOMAIN, "TXT")]
        self.assertEqual(spf["value"], "v=spf1 mx ip6:2001:db8::25 -all")
        self.assertIn("add the include: its provider documents", spf["note"])
        # a domain this server does not receive: no MX, TLS records
        self.a.set(relayhost="", smtpd_tls_cert_file="")
        types = [x["type"] for x in self.a.records("sender.test")]
        self.assertNotIn("MX", types)
        self.assertNotIn("TLSA", types)
        zone = self.ok("dns", "records", "sender.test").stdout
        self.assertIn("sender.test is not in mydestination", zone)
        # a subdomain is signed with its parent's keys
        self.ok("dkim", "keygen", DOMAIN, "--algorithm", "ed25519")
        names = [x["name"] for x in self.a.records("lists." + DOMAIN)]
        self.assertIn("%s._domainkey.%s" % (month_selector("e"), DOMAIN),
                      names)
        self.a.set(dkim_signing="no")
        r = self.ok("dns", "records", DOMAIN)
        self.assertIn("dkim_signing = no: the keys of %s sign nothing" %
                      DOMAIN, r.stderr)
        self.fails("dns", "records", rc=2)
        self.fails("dns", "records", DOMAIN, "--yaml", rc=2)
        self.fails("dns", "resolve", DOMAIN, rc=2)
        self.a.set(smtp_bind_address="mail")
        self.fails("dns", "records", DOMAIN, says="not an IPv4 address")


class DnsCheckTest(AdminCase):

    def setUp(self):
        super().setUp()
        self.ok("dkim", "keygen", DOMAIN)
        self.recs = self.a.records()
        self.sr = "%s._domainkey.%s" % (month_selector("r"), DOMAIN)
        self.se = "%s._domainkey.%s" % (month_selector("e"), DOMAIN)

    def check(self, rc, **serve):
        self.a.serve(self.recs, **serve)
        r = self.a.mailctl("dns", "check", DOMAIN)
        self.assertEqual(r.returncode, rc, r.stdout + r.stderr)
        self.assertNotIn("Sanitizer", r.stderr)
        return {l.split(":", 1)[0]: l.split(":", 1)[1].strip()
                for l in r.stdout.splitlines() if ": " in l}

    def test_all_right(self):
        got = self.check(0)
        want = ["%s MX" % DOMAIN, "%s A (myhostname)" % HOST,
                "%s TXT (SPF)" % DOMAIN, "%s TXT (DKIM rsa, active)" % self.sr,
                "%s TXT (DKIM ed25519, active)" % self.se,
                "_dmarc.%s TXT (DMARC)" % DOMAIN,
                "_smtp._tls.%s TXT (TLS-RPT)" % DOMAIN,
                "_mta-sts.%s TXT (MTA-STS)" % DOMAIN,
                "_25._tcp.%s TLSA (DANE)" % HOST,
                "%s PTR (reverse DNS)" % PTR4]
        for w in want:
            self.assertTrue(got.get(w, "").startswith("ok"), (w, got))
        self.assertIn("pass", got["%s TXT (SPF)" % DOMAIN])
        self.assertIn("forward-confirmed", got["%s PTR (reverse DNS)" % PTR4])
        self.assertIn("every required record is right", got[DOMAIN])
        # the optional records may be missing
        got = self.check(0, drop={("_smtp._tls." + DOMAIN, "TXT"),
                                  ("_mta-sts." + DOMAIN, "TXT"),
                                  ("_25._tcp." + HOST, "TLSA")})
        self.assertEqual(got["_25._tcp.%s TLSA (DANE)" % HOST],
                         "MISSING (optional)")

    def test_wrong_and_missing(self):
        other = subprocess.run(
            ["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt",
             "rsa_keygen_bits:2048"], capture_output=True, check=True).stdout
        p = os.path.join(self.a.dir, "other.pem")
        with open(p, "wb") as f:
            f.write(other)
        got = self.check(
            1, drop={(DOMAIN, "TXT"), ("_dmarc." + DOMAIN, "TXT")},
            replace={(self.sr, "TXT"): "v=DKIM1; k=rsa; p=" + public_b64(p),
                     (DOMAIN, "MX"): "10 mx.elsewhere.test"})
        self.assertTrue(got["%s TXT (DKIM rsa, active)" % self.sr]
                        .startswith("WRONG (expected the key of"), got)
        self.assertIn("got another key", got["%s TXT (DKIM rsa, active)" %
                                             self.sr])
        self.assertTrue(got["%s TXT (DKIM ed25519, active)" % self.se]
                        .startswith("ok"), got)
        self.assertEqual(got["%s TXT (SPF)" % DOMAIN],
                         'MISSING (expected "v=spf1 mx ip4:%s -all")' % OUT4)
        self.assertTrue(got["_dmarc.%s TXT (DMARC)" % DOMAIN]
                        .startswith("MISSING"), got)
        self.assertEqual(got["%s MX" % DOMAIN], "WRONG (expected 10 %s, got "
                         "10 mx.elsewhere.test)" % HOST)
        self.assertIn("2 missing, 2 wrong", got[DOMAIN])
        # a DKIM record that is no key, a DMARC record without p=
        got = self.check(1, replace={
            (self.se, "TXT"): "v=DKIM1; k=ed25519; p=AAAA",
            ("_dmarc." + DOMAIN, "TXT"): "v=DMARC1; rua=mailto:x@y.test"})
        self.assertIn("bad Ed25519 key", got["%s TXT (DKIM ed25519, active)"
                                             % self.se])
        self.assertIn("p= must be none", got["_dmarc.%s TXT (DMARC)" %
                                             DOMAIN])
        # a wrong TLSA record fails, though TLSA is optional
        got = self.check(1, replace={("_25._tcp." + HOST, "TLSA"):
                                     "3 1 1 " + "00" * 32})
        self.assertIn("DANE senders will not deliver",
                      got["_25._tcp.%s TLSA (DANE)" % HOST])

    def test_spf_problems(self):
        sub = ["_spf%d.%s" % (i, DOMAIN) for i in range(12)]
        extra = ['txt-record=%s,"v=spf1 include:%s"' % (sub[i], sub[i + 1])
                 for i in range(11)] + ['txt-record=%s,"v=spf1 -all"' %
                                        sub[11]]
        got = self.check(1, replace={(DOMAIN, "TXT"): "v=spf1 mx include:%s "
                                     "-all" % sub[0]}, extra=extra)
        self.assertIn("more than 10 DNS lookups", got["%s TXT (SPF)" % DOMAIN])
        got = self.check(1, replace={(DOMAIN, "TXT"): "v=spf1 -all"})
        self.assertEqual(got["%s TXT (SPF)" % DOMAIN],
                         'WRONG (expected "pass" for %s, got "fail": fail by '
                         '"-all" of %s)' % (OUT4, DOMAIN))
        got = self.check(1, replace={(DOMAIN, "TXT"): "v=spf1 ip4:1.2.3.4/99"})
        self.assertIn("malformed mechanism", got["%s TXT (SPF)" % DOMAIN])
        got = self.check(1, extra=['txt-record=%s,"v=spf1 +all"' % DOMAIN])
        self.assertIn("expected one SPF record, got 2",
                      got["%s TXT (SPF)" % DOMAIN])
        # an SPF record that allows the address by ip4: alone is fine
        got = self.check(0, replace={(DOMAIN, "TXT"): "v=spf1 ip4:192.0.2.0/24"
                                     " ~all"})
        self.assertTrue(got["%s TXT (SPF)" % DOMAIN].startswith("ok"))

    def test_reverse_dns(self):
        got = self.check(1, replace={(PTR4, "PTR"): "host.provider.test"})
        self.assertEqual(got["%s PTR (reverse DNS)" % PTR4],
                         "WRONG (expected %s, got host.provider.test)" % HOST)
        got = self.check(1, drop={(PTR4, "PTR")})
        self.assertTrue(got["%s PTR (reverse DNS)" % PTR4]
                        .startswith("MISSING"), got)
        got = self.check(1, replace={(HOST, "A"): "192.0.2.99"})
        self.assertIn("not forward-confirmed",
                      got["%s PTR (reverse DNS)" % PTR4])
        self.assertEqual(got["%s A (myhostname)" % HOST],
                         "WRONG (expected %s, got 192.0.2.99)" % OUT4)
        # without an outbound address: myhostname needs some address
        self.a.set(smtp_bind_address="")
        self.recs = self.a.records()
        got = self.check(1)
        self.assertTrue(got["%s A/AAAA (myhostname)" % HOST]
                        .startswith("MISSING"), got)
        got = self.check(0, extra=["dns-rr=%s,1,c0000263" % HOST])
        self.assertEqual(got["%s A/AAAA (myhostname)" % HOST],
                         "ok (192.0.2.99)")
        self.assertIn("the outbound address is unknown",
                      got["%s TXT (SPF)" % DOMAIN])

    def test_unreachable_dns(self):
        self.a.set(dns_server_address="127.0.0.1:9")
        r = self.a.mailctl("dns", "check", DOMAIN)
        self.assertEqual(r.returncode, 1)
        self.assertIn("ERROR", r.stdout)


class SmtpBindTest(tob.OutboundCase):
    """smtp_bind_address = 127.0.0.72: the peer sees that address."""

    MX = [("bind.test", "mx.bind.test", 10)]
    HOSTS = [("mx.bind.test", "127.0.0.71")]
    MAIN = {"smtp_bind_address": "127.0.0.72"}

    @classmethod
    def make_peers(cls):
        cls.peer = cls.add_peer(tob.Peer("127.0.0.71", cls.port))

    def test_source_address(self):
        qid = self.submit("x@bind.test", "bound")
        got = self.wait_peer(self.peer.rec, "bound")
        self.wait_gone(qid)
        self.assertEqual(got[0]["peer"][0], "127.0.0.72", got[0]["peer"])

    def test_check_refuses_bad_address(self):
        d = tempfile.mkdtemp(prefix="youju-e2e-bind-")
        try:
            shutil.copy(os.path.join(self.inst.dir, "main.cf"), d)
            shutil.copy(os.path.join(self.inst.dir, "master.cf"), d)
            for f in ("users", "aliases"):
                shutil.copy(os.path.join(self.inst.dir, f), d)
            with open(os.path.join(d, "main.cf"), "a") as f:
                f.write("smtp_bind_address = 2001:db8::1\n"
                        "smtp_bind_address6 = mail.example.com\n")
            r = run_mailctl(d, "check")
            self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
            self.assertIn('smtp_bind_address: "2001:db8::1" is not an IPv4 '
                          'address', r.stderr)
            self.assertIn('"mail.example.com" is not an IPv6 address',
                          r.stderr)
        finally:
            shutil.rmtree(d, ignore_errors=True)


class SmtpBindFailTest(tob.OutboundCase):
    """smtp_bind_address that is not ours: deferred, the reason logged."""

    MX = [("bind.test", "mx.bind.test", 10)]
    HOSTS = [("mx.bind.test", "127.0.0.71")]
    MAIN = {"smtp_bind_address": "192.0.2.1"}

    @classmethod
    def make_peers(cls):
        cls.peer = cls.add_peer(tob.Peer("127.0.0.71", cls.port))

    def test_bind_fails(self):
        qid = self.submit("x@bind.test", "notbound")
        self.wait_log_line(qid, r"status=deferred .*cannot bind to "
                           r"192\.0\.2\.1")
        self.assertEqual(self.peer.rec.with_token("notbound"), [])


if __name__ == "__main__":
    unittest.main()
