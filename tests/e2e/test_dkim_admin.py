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
