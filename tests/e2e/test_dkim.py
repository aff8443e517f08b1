"""test_dkim.py - DKIM signing of outbound mail (issue 9).

Keys are made with openssl (not with our code) as
$config_directory/dkim/DOMAIN/SELECTOR.key, and their public halves are
published as TXT records by the class's dnsmasq.  Every signature is
checked by dkimpy (python3-dkim), which fetches the keys from that
dnsmasq as a receiver would from the DNS.

Covered: a message submitted with STARTTLS and AUTH (smtplib, from an
address outside mynetworks) leaves with two signatures, RSA and Ed25519
(RFC 8463 dual signing), both valid for dkimpy and for OpenDKIM (the
milter's test mode, its resolver forwarded to the same dnsmasq; Debian
12's opendkim-testmsg fails on every message with "dkim_chunk(): Syntax
error", so the milter binary is used instead); keys made by "mailctl dkim
keygen" with the records "mailctl dns records --json" prints verify the
same way, and opendkim-testkey accepts the RSA record; relaxed canonicalization survives
refolded headers and trailing white space, and a changed body, a changed
Subject or an added From break it (From is over-signed); a dot-stuffed and
a 3 MB body; a client in mynetworks is signed, the same message from the
internet is not; a From subdomain is signed with its parent's keys, a
foreign From domain not at all; two From headers and a From with two
mailboxes are left unsigned with a log line; a bounce (qmgr's report,
From MAILER-DAEMON@mx.example.com) is signed; dkim_signing = no; a key
added later is used after "mailctl reload"; key files that are group
readable, owned by another user, a symlink, RSA with 1024 bits or not a
key are refused with a log line naming the file; a stopped auth broker
makes smtpd answer 451 (the client keeps the message) and qmgr send its
report unsigned.
"""
import base64
import json
import os
import re
import shutil
import signal
import smtplib
import subprocess
import tempfile
import time

import dkim
import dns.resolver

import harness
from harness import wait_for
import test_outbound as tob
import test_submission as tsub

ALICE = "alice@example.com"
REMOTE = "bob@remote.test"
PEER = "127.0.0.33"
OUTSIDE = "127.0.0.77"      # not in the class's mynetworks


# --- keys and records (openssl, not youju) --------------------------------

def openssl(*args, data=None):
    r = subprocess.run(["openssl"] + list(args), input=data,
                       capture_output=True, timeout=60)
    if r.returncode != 0:
        raise RuntimeError("openssl %s: %s" % (args[0], r.stderr))
    return r.stdout


def make_key(path, kind):
    """A private key file (mode 0600): kind rsa2048, rsa1024 or ed25519."""
    if kind == "ed25519":
        openssl("genpkey", "-algorithm", "ED25519", "-out", path)
    else:
        openssl("genpkey", "-algorithm", "RSA", "-pkeyopt",
                "rsa_keygen_bits:%s" % kind[3:], "-out", path)
    os.chmod(path, 0o600)


def key_record(path):
    """The TXT record of a private key (RFC 6376 3.6.1, RFC 8463)."""
    der = openssl("pkey", "-in", path, "-pubout", "-outform", "DER")
    with open(path) as f:
        pem = f.read()
    if openssl("pkey", "-in", path, "-noout", "-text").startswith(
            b"ED25519"):
        return "v=DKIM1; k=ed25519; p=" + base64.b64encode(
            der[-32:]).decode()
    del pem
    return "v=DKIM1; k=rsa; p=" + base64.b64encode(der).decode()


def txt_arg(name, text):
    """A dnsmasq --txt-record: strings of at most 255 bytes."""
    parts = [text[i:i + 250] for i in range(0, len(text), 250)]
    return "--txt-record=%s,%s" % (name, ",".join(parts))


# --- verification (dkimpy) -------------------------------------------------

def signatures(data):
    """The DKIM-Signature fields of a message, tags as a dict."""
    head = data.split(b"\r\n\r\n", 1)[0].replace(b"\r\n", b"\n")
    head = re.sub(rb"\n[ \t]+", b" ", head).decode("latin-1")
    out = []
    for line in head.split("\n"):
        if line.lower().startswith("dkim-signature:"):
            tags = {}
            for t in line.split(":", 1)[1].split(";"):
                if "=" in t:
                    k, v = t.split("=", 1)
                    tags[k.strip()] = re.sub(r"\s+", "", v)
            out.append(tags)
    return out


class OpenDkim:
    """OpenDKIM, the milter Postfix users run, in its test mode (opendkim
    -t FILE), with its libunbound resolver forwarded to dnsmasq on port:
    the second verifier we did not write.  None when not installed."""

    def __init__(self, port, workdir):
        self.dir = workdir
        self.ub = os.path.join(workdir, "unbound.conf")
        with open(self.ub, "w") as f:
            f.write("server:\n\tdo-not-query-localhost: no\n"
                    "forward-zone:\n\tname: \".\"\n"
                    "\tforward-addr: 127.0.0.1@%d\n" % port)
        self.conf = os.path.join(workdir, "opendkim.conf")
        with open(self.conf, "w") as f:
            f.write("Syslog no\nMode v\nResolverConfiguration %s\n" %
                    self.ub)

    @staticmethod
    def available():
        return shutil.which("opendkim") is not None

    def results(self, data):
        """(algorithm, "pass"/"fail"/...) per signature, from the
        Authentication-Results header OpenDKIM would add."""
        path = os.path.join(self.dir, "msg.eml")
        with open(path, "wb") as f:
            f.write(data)
        r = subprocess.run(["opendkim", "-x", self.conf, "-vvv", "-t",
                            path], capture_output=True, text=True,
                           timeout=60)
        ar = re.search(r"hname='Authentication-Results' hvalue='([^']*)'",
                       r.stdout + r.stderr)
        if ar is None:
            raise AssertionError("no result from opendkim: %s" %
                                 (r.stdout + r.stderr)[-2000:])
        return sorted(re.findall(r"dkim=(\w+)(?:(?!dkim=).)*?header\.a="
                                 r"([\w-]+)", ar.group(1), re.S),
                      key=lambda x: x[1])

    def testkey(self, domain, selector, keyfile):
        """opendkim-testkey: does the published record match the key?"""
        return subprocess.run(["opendkim-testkey", "-x", self.conf, "-d",
                               domain, "-s", selector, "-k", keyfile,
                               "-vvv"], capture_output=True, text=True,
                              timeout=60)


class Verifier:
    """dkimpy with its keys from dnsmasq on port."""

    def __init__(self, port):
        self.r = dns.resolver.Resolver(configure=False)
        self.r.nameservers = ["127.0.0.1"]
        self.r.port = port
        self.lookups = []

    def dnsfunc(self, name, timeout=5):
        if isinstance(name, bytes):
            name = name.decode()
        self.lookups.append(name.rstrip("."))
        try:
            a = self.r.resolve(name.rstrip("."), "TXT", lifetime=timeout)
        except Exception:
            return None
        for rr in a:
            return b"".join(rr.strings)
        return None

    def results(self, data):
        """dkimpy's verdict on each signature, top down."""
        d = dkim.DKIM(data)
        out = []
        for i in range(len(signatures(data))):
            try:
                out.append(bool(d.verify(idx=i, dnsfunc=self.dnsfunc)))
            except dkim.ValidationError:
                out.append(False)
        return out


# --- the instance ------------------------------------------------------------

class DkimCase(tob.OutboundCase):
    """example.com has an RSA and an Ed25519 key, example.net one RSA key
    (installed by a test, published from the start); remote.test's MX is
    an aiosmtpd peer that refuses reject-*; a submission port with
    STARTTLS and AUTH; mynetworks is 127.0.0.1 only."""

    MX = (("remote.test", "mx.remote.test", 10),)
    HOSTS = (("mx.remote.test", PEER),)
    MAIN = {"mynetworks": "127.0.0.1/32"}
    KEYS = (("example.com", "rsa2026", "rsa2048"),
            ("example.com", "ed2026", "ed25519"),
            ("example.net", "later", "rsa2048"))
    INSTALLED = ("example.com",)

    @classmethod
    def setUpClass(cls):
        cls.keydir = tempfile.mkdtemp(prefix="youju-e2e-dkim-")
        cls.records = {}
        for dom, sel, kind in cls.KEYS:
            os.makedirs(os.path.join(cls.keydir, dom), exist_ok=True)
            path = os.path.join(cls.keydir, dom, sel + ".key")
            make_key(path, kind)
            cls.records["%s._domainkey.%s" % (sel, dom)] = key_record(path)
        cls.p587 = harness.free_port()
        try:
            super().setUpClass()
        except Exception:
            shutil.rmtree(cls.keydir, ignore_errors=True)
            raise
        cls.verifier = Verifier(cls.dns.port)

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            shutil.rmtree(cls.keydir, ignore_errors=True)

    @classmethod
    def dns_extra(cls):
        return [txt_arg(n, t) for n, t in cls.records.items()]

    @classmethod
    def make_peers(cls):
        cls.rec = tob.Recorder(rcpt_reply=lambda a, n: (
            "550 5.1.1 no such user" if a.startswith("reject-") else None))
        cls.add_peer(tob.Peer(PEER, cls.port, cls.rec))

    @classmethod
    def prepare_instance(cls):
        inst = cls.inst
        crt, key = harness.make_cert(inst.dir, "cert")
        inst.set_main(smtpd_tls_cert_file=crt, smtpd_tls_key_file=key)
        with open(os.path.join(inst.dir, "master.cf"), "a") as f:
            f.write("127.0.0.1:%d inet n - y - - smtpd "
                    "-o smtpd_tls_security_level=encrypt "
                    "-o smtpd_sasl_auth_enable=yes "
                    "-o smtpd_recipient_restrictions="
                    "permit_sasl_authenticated,reject\n" % cls.p587)
        for dom in cls.INSTALLED:
            cls.install(dom)

    @classmethod
    def install(cls, dom):
        dst = os.path.join(cls.inst.dir, "dkim", dom)
        os.makedirs(dst, mode=0o700, exist_ok=True)
        for name in os.listdir(os.path.join(cls.keydir, dom)):
            shutil.copy2(os.path.join(cls.keydir, dom, name), dst)

    # -- sending --
    def send(self, content, rcpt=REMOTE, sender=ALICE, source=None,
             expect=250, timeout=10):
        """One message over plain SMTP to port 25; its queue id."""
        with harness.Conn(self.inst.port, source=source,
                          timeout=timeout) as c:
            c.ehlo()
            self.open_txn(c, sender, [rcpt])
            c.send(tsub.dot_stuff(content) + b".\r\n")
            r = c.reply()
            self.assertEqual(r.code, expect, r)
            return harness.qid_of(r.last) if expect == 250 else None

    def submit(self, content, rcpt=REMOTE):
        """smtplib: STARTTLS, AUTH as alice, from outside mynetworks."""
        s = smtplib.SMTP("127.0.0.1", self.p587, timeout=30,
                         source_address=(OUTSIDE, 0))
        try:
            s.ehlo("client.example.org")
            s.starttls(context=tsub.client_ctx())
            s.ehlo("client.example.org")
            s.login(ALICE, harness.PASSWORD)
            s.sendmail(ALICE, [rcpt], content)
        finally:
            s.quit()

    def received(self, token, n=1):
        got = self.wait_peer(self.rec, token, n)
        return got[-1]["content"]

    def head(self, token, subject_from=ALICE, extra=""):
        return ("From: Alice <%s>\r\nTo: <%s>\r\nSubject: %s\r\n"
                "Date: Mon, 07 Dec 2026 10:00:00 +0000\r\n"
                "Message-ID: <%s@client.example>\r\n%s\r\n" %
                (subject_from, REMOTE, token, token, extra)).encode()

    def assertSigned(self, data, domain="example.com", algs=None):
        sigs = signatures(data)
        self.assertTrue(sigs, "not signed:\n%r" % data[:2000])
        self.assertEqual(self.verifier.results(data), [True] * len(sigs),
                         data[:3000])
        for s in sigs:
            self.assertEqual(s["d"], domain)
            self.assertEqual(s["c"], "relaxed/relaxed")
        if algs is not None:
            self.assertEqual(sorted(s["a"] for s in sigs), sorted(algs))
        return sigs

    def assertUnsigned(self, data):
        self.assertEqual(signatures(data), [], data[:2000])


class SigningTest(DkimCase):

    def test_submission_dual_signed(self):
        """AUTH on the submission port: RSA and Ed25519, both valid."""
        off = self.inst.log_size()
        msg = self.head("sub-dual") + b"Hello from alice.\r\n"
        self.submit(msg)
        data = self.received("sub-dual")
        sigs = self.assertSigned(data, algs=["ed25519-sha256",
                                             "rsa-sha256"])
        self.assertEqual({s["s"] for s in sigs}, {"rsa2026", "ed2026"})
        for s in sigs:
            names = s["h"].lower().split(":")
            self.assertEqual(names.count("from"), 2, s)  # over-signed
            for n in ("to", "subject", "date", "message-id"):
                self.assertIn(n, names)
        self.assertTrue(set(self.verifier.lookups) >= {
            "rsa2026._domainkey.example.com",
            "ed2026._domainkey.example.com"}, self.verifier.lookups)
        log = self.inst.log_since(off)
        self.assertEqual(len(re.findall(
            r": DKIM-Signature added: d=example\.com, s=(rsa2026|ed2026), "
            r"a=(rsa|ed25519)-sha256", log)), 2, log)
        if OpenDkim.available():
            od = OpenDkim(self.dns.port, self.keydir)
            self.assertEqual(od.results(data), [("pass", "ed25519-sha256"),
                                                ("pass", "rsa-sha256")])
            # and a changed body fails there too
            bad = data.replace(b"Hello from alice.", b"Hello from bob.")
            self.assertEqual([x[0] for x in od.results(bad)],
                             ["fail", "fail"])

    def test_relaxed_survives_refolding_changes_break_it(self):
        msg = (self.head("refold") +
               b"line one\r\nline two with words\r\n\r\n\r\n")
        self.send(msg)
        data = self.received("refold")
        self.assertSigned(data)
        head, body = data.split(b"\r\n\r\n", 1)
        # what relaxed allows: refolding, more white space, trailing
        # spaces, empty lines at the end
        moved = (head.replace(b"Subject: refold", b"Subject:   \r\n\trefold")
                 + b"\r\n\r\n" + body.replace(b"line one", b"line one  ")
                 .replace(b"with words", b"with \t words") + b"\r\n")
        self.assertEqual(self.verifier.results(moved), [True, True])
        # what it does not: the body, a signed header, a second From
        # (dkimpy refuses two From fields by itself; that From is
        # over-signed, so no verifier can take it, shows in h=:
        # test_submission_dual_signed)
        for bad in (head + b"\r\n\r\n" + body.replace(b"two", b"2"),
                    head.replace(b"Subject: refold", b"Subject: refolx") +
                    b"\r\n\r\n" + body,
                    b"From: mallory@example.com\r\n" + head + b"\r\n\r\n" +
                    body):
            self.assertEqual(self.verifier.results(bad), [False, False])

    def test_dot_stuffed_and_large_body(self):
        body = (b".leading dot\r\n..two dots\r\n.\tdot tab\r\n" +
                b"".join(b"%06d %s\r\n" % (i, b"x" * 200)
                         for i in range(15000)) + b".\r\nlast\r\n")
        self.send(self.head("bigdots") + body)
        data = self.received("bigdots")
        self.assertGreater(len(data), 3000000)
        self.assertIn(b"\r\n.leading dot\r\n..two dots\r\n", data)
        self.assertSigned(data)

    def test_mynetworks_signed_internet_not(self):
        self.send(self.head("mynet") + b"from inside\r\n")
        self.assertSigned(self.received("mynet"))
        # from outside mynetworks, to a local user: inbound mail
        off = self.inst.log_size()
        qid = self.send(self.head("inbound") + b"from outside\r\n",
                        rcpt=ALICE, sender="someone@remote.test",
                        source=OUTSIDE)
        path = harness.find_message(self.inst, ALICE, b"inbound")
        self.assertIsNotNone(path, self.tail())
        self.assertUnsigned(harness.read_file(path))
        self.assertNotIn(qid + ": DKIM", self.inst.log_since(off))

    def test_subdomain_parent_key_foreign_domain_none(self):
        self.send(self.head("subdom", "alice@lists.example.com") + b"x\r\n",
                  sender="alice@lists.example.com")
        self.assertSigned(self.received("subdom"))
        off = self.inst.log_size()
        qid = self.send(self.head("foreign", "alice@other.test") + b"x\r\n",
                        sender="alice@other.test")
        self.assertUnsigned(self.received("foreign"))
        # no key for the domain is not an error: nothing said
        self.assertNotIn(qid + ": not DKIM-signed", self.inst.log_since(off))

    def test_unsignable_from_logged(self):
        cases = (
            ("twofrom", b"From: a@example.com\r\nFrom: b@example.com\r\n"
             b"Subject: twofrom\r\n\r\nx\r\n", "more than one From header"),
            ("twoboxes", b"From: a@example.com, b@example.com\r\n"
             b"Subject: twoboxes\r\n\r\nx\r\n", "malformed From"),
            ("nofrom", b"Subject: nofrom\r\n\r\nx\r\n", "no From header"),
        )
        for token, msg, why in cases:
            with self.subTest(token):
                qid = self.send(msg)
                self.assertUnsigned(self.received(token))
                self.wait_log_line(qid, "not DKIM-signed: " + why)

    def test_bounce_signed(self):
        """qmgr's report to a local sender carries a valid signature."""
        self.send(self.head("tobounce") + b"x\r\n",
                  rcpt="reject-me@remote.test")
        msg, raw = self.bounce_for("tobounce")
        self.assertTrue(msg["From"].startswith("MAILER-DAEMON@mx.example.com")
                        or "MAILER-DAEMON@mx.example.com" in msg["From"],
                        msg["From"])
        # local delivery puts Return-Path and Delivered-To on top: not
        # signed, not in the way
        self.assertSigned(raw.replace(b"\r\n", b"\n").replace(b"\n",
                                                              b"\r\n"))


class ReloadTest(DkimCase):
    """Changes that need a reload (one class: they change the instance)."""

    def reload(self, **params):
        if params:
            self.inst.set_main(**params)
        old = self.inst.pids("auth")
        self.inst.mailctl("reload")
        self.assertTrue(wait_for(lambda: self.inst.pids("auth") and
                                 self.inst.pids("auth") != old, 15) or
                        not old, self.tail())
        self.inst.wait_settled()

    def test_new_domain_and_signing_off(self):
        self.send(self.head("net-before", "alice@example.net") + b"x\r\n",
                  sender="alice@example.net")
        self.assertUnsigned(self.received("net-before"))
        self.install("example.net")
        self.reload()
        self.send(self.head("net-after", "alice@example.net") + b"x\r\n",
                  sender="alice@example.net")
        sigs = self.assertSigned(self.received("net-after"),
                                 domain="example.net")
        self.assertEqual([s["s"] for s in sigs], ["later"])
        self.reload(dkim_signing="no")
        self.send(self.head("off") + b"x\r\n")
        self.assertUnsigned(self.received("off"))
        self.reload(dkim_signing="yes")
        self.send(self.head("on-again") + b"x\r\n")
        self.assertSigned(self.received("on-again"))


class KeygenTest(DkimCase):
    """What a user does (issue 9): "mailctl dkim keygen", the records of
    "mailctl dns records --json" published (here: by a second dnsmasq),
    "mailctl reload" - and the next message carries two signatures that
    dkimpy verifies with exactly those records."""

    INSTALLED = ()

    def test_keygen_records_reload_verified(self):
        inst = self.inst
        inst.mailctl("dkim", "keygen", "example.org")
        r = inst.mailctl("dns", "records", "example.org", "--json")
        recs = [x for x in json.loads(r.stdout)
                if x["type"] == "TXT" and "._domainkey." in x["name"]]
        self.assertEqual(len(recs), 2, r.stdout)
        dns2 = tob.Dnsmasq(extra=[txt_arg(x["name"], x["value"])
                                  for x in recs])
        try:
            inst.mailctl("reload")
            inst.wait_settled()
            self.assertTrue(wait_for(lambda: re.search(
                r"DKIM key for example\.org, selector \S+: ed25519",
                inst.log()), 15), self.tail())
            self.send(self.head("keygen", "alice@example.org") + b"x\r\n",
                      sender="alice@example.org")
            data = self.received("keygen")
            v = Verifier(dns2.port)
            sigs = signatures(data)
            self.assertEqual(sorted(x["a"] for x in sigs),
                             ["ed25519-sha256", "rsa-sha256"])
            self.assertEqual({x["s"] + "._domainkey.example.org"
                              for x in sigs}, {x["name"] for x in recs})
            self.assertEqual(v.results(data), [True, True])
            if OpenDkim.available():
                od = OpenDkim(dns2.port, self.keydir)
                self.assertEqual([x[0] for x in od.results(data)],
                                 ["pass", "pass"])
                # opendkim-testkey (RSA only in Debian 12's 2.11): the
                # record "mailctl dns records" printed is the key's
                rsa = [x for x in sigs if x["a"] == "rsa-sha256"][0]
                key = os.path.join(inst.dir, "dkim", "example.org",
                                   rsa["s"] + ".key")
                r = od.testkey("example.org", rsa["s"], key)
                self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
                self.assertIn("key OK", r.stdout + r.stderr)
        finally:
            dns2.stop()


class KeyFileTest(DkimCase):
    """Bad key files are refused one by one; the good one is used."""

    KEYS = DkimCase.KEYS + (("example.com", "weak", "rsa1024"),)
    INSTALLED = ()

    @classmethod
    def prepare_instance(cls):
        super().prepare_instance()
        d = os.path.join(cls.inst.dir, "dkim", "example.com")
        os.makedirs(d, mode=0o700)
        src = os.path.join(cls.keydir, "example.com")
        shutil.copy2(os.path.join(src, "rsa2026.key"), d)
        # group readable
        shutil.copy2(os.path.join(src, "ed2026.key"),
                     os.path.join(d, "grp.key"))
        os.chmod(os.path.join(d, "grp.key"), 0o640)
        # another owner
        shutil.copy2(os.path.join(src, "ed2026.key"),
                     os.path.join(d, "other.key"))
        os.chown(os.path.join(d, "other.key"), cls.inst.uid, cls.inst.gid)
        # a symlink to a good key
        os.symlink(os.path.join(src, "ed2026.key"),
                   os.path.join(d, "link.key"))
        shutil.copy2(os.path.join(src, "weak.key"), d)
        with open(os.path.join(d, "junk.key"), "w") as f:
            f.write("-----BEGIN PRIVATE KEY-----\nnot a key\n")
        os.chmod(os.path.join(d, "junk.key"), 0o600)

    def test_bad_keys_refused_good_used(self):
        log = self.inst.log()
        for name, why in (("grp", r"mode 0600 or 0400 \(it is 0640"),
                          ("other", r"owned by root .*uid %d" %
                           self.inst.uid),
                          ("link", r"(Too many levels|symbolic)"),
                          ("weak", r"1024 bits, at least 2048"),
                          ("junk", r": not a PEM private key; not used")):
            with self.subTest(name):
                self.assertRegex(log, r"auth\[\d+\]: warning: DKIM key "
                                 r"[^\n]*/%s\.key"
                                 r"[^\n]*%s" % (name, why))
        self.assertRegex(log, r"DKIM key for example\.com, selector "
                         r"rsa2026: rsa-sha256")
        self.send(self.head("goodonly") + b"x\r\n")
        sigs = self.assertSigned(self.received("goodonly"))
        self.assertEqual([s["s"] for s in sigs], ["rsa2026"])


class BrokerDownTest(DkimCase):
    """A stopped auth broker: smtpd refuses with 451 after its wait (the
    client keeps the message), qmgr's report goes out unsigned."""

    @classmethod
    def make_peers(cls):
        # late-*: 451 at the first attempt, 550 after
        cls.rec = tob.Recorder(rcpt_reply=lambda a, n: (
            ("451 4.3.0 later" if n == 0 else "550 5.1.1 no such user")
            if a.startswith("late-") else None))
        cls.add_peer(tob.Peer(PEER, cls.port, cls.rec))

    def test_stopped_broker(self):
        # signed while the broker runs; its first attempt is deferred
        qid = self.send(self.head("late") + b"x\r\n",
                        rcpt="late-1@remote.test")
        self.wait_log_line(qid, "status=deferred")
        pids = self.inst.pids("auth")
        self.assertTrue(pids)
        for p in pids:
            os.kill(p, signal.SIGSTOP)
        try:
            # the retry fails for good: the report is not held up longer
            # than qmgr's wait for the broker, and goes out unsigned
            self.wait_log_line(qid, "status=bounced", timeout=20)
            got = wait_for(lambda: re.search(
                r"not DKIM-signed: the auth broker does not answer",
                self.inst.log()), 20)
            self.assertTrue(got, self.tail())
            # smtpd: 451 after its wait, nothing queued, nothing sent
            t0 = time.time()
            self.send(self.head("stopped") + b"x\r\n", expect=451,
                      timeout=40)
            self.assertLess(time.time() - t0, 30)
        finally:
            for p in pids:
                os.kill(p, signal.SIGCONT)
        msg, raw = self.bounce_for("late", timeout=30)
        self.assertUnsigned(raw.replace(b"\r\n", b"\n").replace(
            b"\n", b"\r\n"))
        self.assertEqual(self.rec.with_token("stopped"), [])
        self.assertRegex(self.tail(), r"smtpd\[\d+\]: \w+: reject: "
                         r"END-OF-MESSAGE from unknown\[127\.0\.0\.1\]: 451 "
                         r"4\.3\.0 Error: cannot DKIM-sign the message now")
        # the broker is back: the next message is signed again
        self.send(self.head("back") + b"x\r\n")
        self.assertSigned(self.received("back"))
