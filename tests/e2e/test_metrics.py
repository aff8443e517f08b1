"""test_metrics.py - metrics_listen: anvil(8) serves what smtpd, qmgr and
master count, over HTTP on loopback.

Real instances as root.  The load is known: messages accepted by smtpd and
delivered by local (Maildir) and by smtp to an aiosmtpd peer (relayhost),
one recipient the peer defers (the backoff is an hour, so it is tried once),
relay-denied RCPTs and a MAIL over the message rate limit from a client
outside mynetworks, failed AUTHs, one session under STARTTLS.  The counts are read with curl before and after the
load, and the differences must be exact.  Every exposition goes through
promtool check metrics (Debian's prometheus package) in the text format,
and through a strict parser here in both formats (OpenMetrics: promtool
2.42 only reads the text format).
"""
import base64
import os
import re
import signal
import smtplib
import ssl
import subprocess
import time
import unittest

from harness import (Conn, Instance, InstanceTestCase, free_port, make_cert,
                     wait_for, wait_pid_gone)
from test_outbound import Peer, Recorder

SERVICE_RE = r"[A-Za-z0-9._:/@+\[\]-]+"
NAME_RE = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
SAMPLE_RE = re.compile(r"^(%s)(\{(.*)\})? (\d+)$" % NAME_RE)
LABEL_RE = re.compile(r'^(%s)="(%s)"$' % (r"[a-zA-Z_][a-zA-Z0-9_]*",
                                        SERVICE_RE))


def curl(port, path="/metrics", accept=None, method=None, host="127.0.0.1"):
    """(status, content type, body) of one request with curl."""
    args = ["curl", "-sS", "-o", "-", "-w", "\n%{http_code} %{content_type}",
            "--max-time", "10"]
    if accept:
        args += ["-H", "Accept: " + accept]
    if method == "HEAD":
        args += ["-I"]
    elif method:
        args += ["-X", method]
    url = "http://%s:%d%s" % (host if ":" not in host else "[%s]" % host,
                              port, path)
    r = subprocess.run(args + [url], capture_output=True, text=True,
                       timeout=30)
    if r.returncode != 0:
        return None, None, r.stderr
    body, _, tail = r.stdout.rpartition("\n")
    code, _, ctype = tail.partition(" ")
    return int(code), ctype, body


def parse(text, openmetrics):
    """A strict reading of an exposition: {(name, labels): value}.  Every
    sample belongs to the family its TYPE line declared just before, each
    family has HELP and TYPE once, counters' samples end in _total, label
    values are plain; OpenMetrics ends with "# EOF" and nothing after."""
    samples, families = {}, {}
    family = ftype = None
    lines = text.split("\n")
    if openmetrics:
        if lines[-2:] != ["# EOF", ""]:
            raise AssertionError("no final # EOF: %r" % lines[-3:])
        lines = lines[:-2]
    else:
        if lines[-1] != "":
            raise AssertionError("no final newline")
        lines = lines[:-1]
    for line in lines:
        if line.startswith("# "):
            kind, name, rest = (line[2:].split(" ", 2) + [""])[:3]
            if kind not in ("HELP", "TYPE"):
                raise AssertionError("bad comment line %r" % line)
            if not re.fullmatch(NAME_RE, name) or not rest:
                raise AssertionError("bad %s line %r" % (kind, line))
            fam = families.setdefault(name, {})
            if kind in fam:
                raise AssertionError("second %s of %s" % (kind, name))
            fam[kind] = rest
            if kind == "TYPE":
                if rest not in ("counter", "gauge"):
                    raise AssertionError("type %r" % rest)
                family, ftype = name, rest
            continue
        m = SAMPLE_RE.match(line)
        if not m:
            raise AssertionError("bad sample line %r" % line)
        name, labels = m.group(1), {}
        if m.group(3):
            for part in m.group(3).split(","):
                lm = LABEL_RE.match(part)
                if not lm or lm.group(1) in labels:
                    raise AssertionError("bad label %r in %r" % (part, line))
                labels[lm.group(1)] = lm.group(2)
        want = family
        if ftype == "counter":
            want = family + "_total" if openmetrics else family
            if not name.endswith("_total"):
                raise AssertionError("counter sample %r" % line)
        if name != want:
            raise AssertionError("sample %r outside its family %s" %
                                 (line, family))
        key = (name, tuple(sorted(labels.items())))
        if key in samples:
            raise AssertionError("duplicate sample %r" % line)
        samples[key] = int(m.group(4))
    for name, fam in families.items():
        if set(fam) != {"HELP", "TYPE"}:
            raise AssertionError("family %s lacks HELP or TYPE" % name)
    return samples


def value(samples, name, **labels):
    return samples.get((name, tuple(sorted(labels.items()))), 0)


class MetricsCase(InstanceTestCase):
    """One instance with metrics_listen, a peer for smtp, TLS and AUTH."""

    EXPECTED_KILLS = ("smtpd", "anvil")

    @classmethod
    def setUpClass(cls):
        cls.mport = free_port()
        cls.pport = free_port()
        cls.rec = Recorder(rcpt_reply=lambda a, n: (
            "451 4.3.0 try again later" if a.startswith("defer@") else None))
        cls.peer = Peer("127.0.0.1", cls.pport, cls.rec)
        cls.inst = Instance(main={
            "metrics_listen": "127.0.0.1:%d" % cls.mport,
            "relayhost": "[127.0.0.1]:%d" % cls.pport,
            "mynetworks": "127.0.0.1/32",
            "smtpd_client_event_limit_exceptions": "127.0.0.1/32",
            "smtpd_tls_security_level": "may",
            "smtpd_sasl_auth_enable": "yes", "smtpd_tls_auth_only": "no",
            "smtpd_client_message_rate_limit": "1",
            "minimal_backoff_time": "3600s", "maximal_backoff_time": "3600s",
        })
        crt, key = make_cert(cls.inst.dir, "mx")
        cls.inst.set_main(smtpd_tls_cert_file=crt, smtpd_tls_key_file=key)
        cls.service = "127.0.0.1:%d" % cls.inst.port
        cls.inst.start()

    @classmethod
    def tearDownClass(cls):
        cls.peer.stop()
        super().tearDownClass()

    def scrape(self, openmetrics=False):
        code, ctype, body = curl(self.mport, accept=(
            "application/openmetrics-text; version=1.0.0" if openmetrics
            else None))
        self.assertEqual(code, 200, body)
        if openmetrics:
            self.assertTrue(ctype.startswith("application/openmetrics-text"),
                            ctype)
        else:
            self.assertTrue(ctype.startswith("text/plain; version=0.0.4"),
                            ctype)
            r = subprocess.run(["promtool", "check", "metrics"], input=body,
                               capture_output=True, text=True, timeout=30)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr + body)
            self.assertEqual(r.stdout + r.stderr, "", "promtool lint")
        return parse(body, openmetrics)

    def settle(self, timeout=15):
        """A scrape once the counters stopped moving: every process reports
        what changed once a second, so what an earlier test did may still
        be on its way.  Two scrapes 1.2 s apart with the same counters."""
        def counters(samples):
            return {k: v for k, v in samples.items()
                    if k[0].endswith("_total")}
        last = counters(self.scrape())
        deadline = time.time() + timeout
        while time.time() < deadline:
            time.sleep(1.2)
            s = self.scrape()
            if counters(s) == last:
                return s
            last = counters(s)
        self.fail("the counters did not settle")

    def wait_value(self, name, want, timeout=15, **labels):
        """Scrape until a sample has the wanted value; the last samples."""
        got = {}

        def look():
            got["s"] = self.scrape()
            return value(got["s"], name, **labels) == want
        if not wait_for(look, timeout):
            self.fail("%s%r: %d, want %d" % (name, labels, value(
                got["s"], name, **labels), want))
        return got["s"]

    def send_plain(self, n, rcpt, token):
        """n messages in one plain session; their queue ids."""
        with Conn(self.inst.port) as c:
            c.ehlo()
            for i in range(n):
                self.open_txn(c, "load@client.example", [rcpt])
                r = c.cmd("Subject: %s %d\r\n\r\nbody\r\n." % (token, i))
                self.assertEqual(r.code, 250, r)
            c.cmd("QUIT")

    def test_known_load(self):
        s0 = self.settle()
        t0 = time.time()
        # 2 messages delivered by local, 1 by smtp, 1 deferred by the peer
        self.send_plain(2, "alice@example.com", "local")
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        with smtplib.SMTP("127.0.0.1", self.inst.port, timeout=30) as c:
            c.starttls(context=ctx)
            c.sendmail("load@client.example", ["ok@remote.example"],
                       b"Subject: tls\r\n\r\nbody\r\n")
        self.send_plain(1, "defer@remote.example", "deferred")
        # 3 relay-denied RCPTs from outside mynetworks, then a MAIL over
        # smtpd_client_message_rate_limit
        with Conn(self.inst.port, source="127.0.0.2") as c:
            c.ehlo()
            self.assertEqual(c.cmd("MAIL FROM:<x@client.example>").code, 250)
            for i in range(3):
                r = c.cmd("RCPT TO:<user%d@elsewhere.example>" % i)
                self.assertIn("Relay access denied", r.text(), r)
            relay_class = "%dxx" % (r.code // 100)
            self.assertEqual(c.cmd("RSET").code, 250)
            r = c.cmd("MAIL FROM:<x@client.example>")
            self.assertIn("too much mail", r.text(), r)
            c.cmd("QUIT")
        # 2 failed AUTHs
        with Conn(self.inst.port) as c:
            c.ehlo()
            for i in range(2):
                r = c.cmd("AUTH PLAIN " + base64.b64encode(
                    b"\0alice@example.com\0wrong%d" % i).decode())
                self.assertEqual(r.code, 535, r)
            c.cmd("QUIT")
        self.inst.wait_messages("alice@example.com", 2)
        wait_for(lambda: len(self.rec.snapshot()) == 1, 15)
        s = self.wait_value("youju_delivery_status_total", value(
            s0, "youju_delivery_status_total", transport="smtp",
            status="deferred") + 1, transport="smtp", status="deferred")
        # the sessions end after QUIT: give the last report its second
        s = self.wait_value("youju_smtpd_sessions_total", value(
            s0, "youju_smtpd_sessions_total", service=self.service,
            tls="no") + 4, service=self.service, tls="no")

        def delta(name, **labels):
            return value(s, name, **labels) - value(s0, name, **labels)
        self.assertEqual(delta("youju_smtpd_messages_received_total",
                               service=self.service), 4)
        self.assertEqual(delta("youju_delivery_status_total",
                               transport="local", status="sent"), 2)
        self.assertEqual(delta("youju_delivery_status_total",
                               transport="smtp", status="sent"), 1)
        self.assertEqual(delta("youju_delivery_status_total",
                               transport="smtp", status="bounced"), 0)
        self.assertEqual(delta("youju_smtpd_replies_total",
                               **{"class": relay_class,
                                  "reason": "relay_denied"}), 3)
        self.assertEqual(delta("youju_smtpd_replies_total",
                               **{"class": "5xx", "reason": "auth_failed"}),
                         2)
        self.assertEqual(delta("youju_smtpd_replies_total",
                               **{"class": "4xx", "reason": "rate_limit"}), 1)
        self.assertEqual(delta("youju_smtpd_sessions_total",
                               service=self.service, tls="yes"), 1)
        self.assertEqual(value(s, "youju_smtpd_sessions_open",
                               service=self.service), 0)
        self.assertGreaterEqual(value(s, "youju_queue_messages",
                                      state="deferred"), 1)
        self.assertEqual(value(s, "youju_queue_messages", state="hold"), 0)
        # the deferred message stays: its age shows and grows
        age = value(s, "youju_queue_oldest_message_age_seconds")
        self.assertLessEqual(age, time.time() - t0 + 2)
        self.wait_value("youju_queue_oldest_message_age_seconds", age + 2,
                        timeout=10)
        # every 250 after DATA is a 2xx "none" reply, among others
        self.assertGreaterEqual(delta("youju_smtpd_replies_total",
                                      **{"class": "2xx", "reason": "none"}),
                                4)

    def test_openmetrics(self):
        """The same samples in both formats; OpenMetrics names a counter
        family without _total and ends with # EOF."""
        before = value(self.settle(), "youju_delivery_status_total",
                       transport="local", status="sent")
        self.send_plain(1, "alice@example.com", "openmetrics")
        self.wait_value("youju_delivery_status_total", before + 1,
                        transport="local", status="sent")
        s = self.scrape(openmetrics=True)
        t = self.scrape()
        self.assertEqual(set(s), set(t))
        self.assertIn(("youju_smtpd_messages_received_total",
                       (("service", self.service),)), s)
        code, ctype, body = curl(self.mport, accept="application/"
                                 "openmetrics-text; version=1.0.0")
        self.assertIn("# TYPE youju_smtpd_messages_received counter\n", body)
        self.assertTrue(body.endswith("# EOF\n"))

    def test_sessions_open(self):
        with Conn(self.inst.port) as c:
            c.ehlo()
            self.wait_value("youju_smtpd_sessions_open", 1,
                            service=self.service)
        self.wait_value("youju_smtpd_sessions_open", 0, service=self.service)

    def test_http(self):
        code, _, _ = curl(self.mport, path="/")
        self.assertEqual(code, 404)
        code, _, _ = curl(self.mport, path="/metrics/x")
        self.assertEqual(code, 404)
        code, _, _ = curl(self.mport, method="POST")
        self.assertEqual(code, 405)
        code, ctype, _ = curl(self.mport, method="HEAD")
        self.assertEqual(code, 200)

    def test_restarts_and_resets(self):
        """A killed smtpd: master counts the restart, anvil keeps smtpd's
        counts.  A killed anvil: the DELTA counters start again from 0,
        master's restart count and qmgr's gauges come back."""
        before = value(self.settle(), "youju_smtpd_messages_received_total",
                       service=self.service)
        self.send_plain(1, "bob@example.com", "before-kill")
        s = self.wait_value("youju_smtpd_messages_received_total", before + 1,
                            service=self.service)
        received = value(s, "youju_smtpd_messages_received_total",
                         service=self.service)
        self.assertGreaterEqual(received, 1)
        restarts = value(s, "youju_master_process_restarts_total",
                         service=self.service, type="inet")
        pid = self.inst.pids("smtpd")[0]
        os.kill(pid, signal.SIGKILL)
        wait_pid_gone(pid, 10)
        s = self.wait_value("youju_master_process_restarts_total",
                            restarts + 1, service=self.service, type="inet")
        self.assertEqual(value(s, "youju_smtpd_messages_received_total",
                               service=self.service), received,
                         "smtpd's counts outlive smtpd")
        self.inst.wait_procs(lambda ps: "smtpd" in [p["name"] for p in ps])
        anvil = self.inst.pids("anvil")[0]
        os.kill(anvil, signal.SIGKILL)
        wait_pid_gone(anvil, 10)
        self.inst.wait_procs(lambda ps: "anvil" in [p["name"] for p in ps])
        s = self.wait_value("youju_master_process_restarts_total", 1,
                            service="anvil", type="unix")
        self.assertEqual(value(s, "youju_master_process_restarts_total",
                               service=self.service, type="inet"),
                         restarts + 1, "master's counts outlive anvil")
        self.assertEqual(value(s, "youju_smtpd_messages_received_total",
                               service=self.service), 0,
                         "anvil's sums start again")
        self.wait_value("youju_queue_messages", value(
            s, "youju_queue_messages", state="hold"), state="hold")
        self.assertIn(("youju_queue_oldest_message_age_seconds", ()),
                      self.scrape(), "qmgr's gauges come back")


class MetricsReloadTest(InstanceTestCase):
    """A reload starts a new anvil on the socket master keeps; a reload
    that changes metrics_listen moves it."""

    @classmethod
    def setUpClass(cls):
        cls.mport = free_port()
        cls.inst = Instance(main={
            "metrics_listen": "127.0.0.1:%d" % cls.mport}).start()
        cls.service = "127.0.0.1:%d" % cls.inst.port

    def received(self, port):
        code, _, body = curl(port)
        if code != 200:
            return None
        return value(parse(body, False), "youju_smtpd_messages_received_total",
                     service=self.service)

    def test_reload(self):
        with Conn(self.inst.port) as c:
            c.ehlo()
            self.open_txn(c, "a@client.example", ["alice@example.com"])
            self.assertEqual(c.cmd("Subject: x\r\n\r\nx\r\n.").code, 250)
            c.cmd("QUIT")
        self.assertTrue(wait_for(lambda: self.received(self.mport) == 1, 15))
        anvil = self.inst.pids("anvil")[0]
        self.inst.mailctl("reload")
        wait_pid_gone(anvil, 15)
        # the same socket, a new anvil: smtpd's sums start again
        self.assertTrue(wait_for(lambda: self.received(self.mport) == 0 and
                                 anvil not in self.inst.pids("anvil"), 15))
        nport = free_port()
        self.inst.set_main(metrics_listen="127.0.0.1:%d" % nport)
        self.inst.mailctl("reload")
        self.assertTrue(wait_for(lambda: self.received(nport) == 0, 15))
        self.assertTrue(wait_for(lambda: curl(self.mport)[0] is None, 15),
                        "the old port still answers")


class MetricsOffTest(InstanceTestCase):
    """Without metrics_listen (the default) nothing listens for it."""

    @classmethod
    def setUpClass(cls):
        cls.inst = Instance().start()

    def test_nothing_listens(self):
        socks = set()
        for pid in self.inst.pids("anvil") + [self.inst.master_pid()]:
            d = "/proc/%d/fd" % pid
            for fd in os.listdir(d):
                try:
                    link = os.readlink(os.path.join(d, fd))
                except OSError:
                    continue
                if link.startswith("socket:["):
                    socks.add(link[8:-1])
        listening = []
        for f in ("/proc/net/tcp", "/proc/net/tcp6"):
            with open(f) as fh:
                next(fh)
                for line in fh:
                    w = line.split()
                    if w[3] == "0A" and w[9] in socks:
                        listening.append(int(w[1].split(":")[1], 16))
        # master holds the SMTP listener only; anvil holds none
        self.assertEqual(listening, [self.inst.port])
        self.assertNotIn("metrics:", self.inst.log())
        code, _, err = curl(9154)
        self.assertIsNone(code, err)


class MetricsRemoteRefusedTest(unittest.TestCase):
    """A metrics_listen that is not loopback: an error, master refuses."""

    def test_remote_address_refused(self):
        inst = Instance(main={"metrics_listen": "0.0.0.0:%d" % free_port()})
        try:
            r = inst.mailctl("check", check=False)
            self.assertNotEqual(r.returncode, 0)
            self.assertIn("metrics_listen", r.stdout + r.stderr)
            self.assertIn("is not a loopback address", r.stdout + r.stderr)
            with self.assertRaises(RuntimeError) as cm:
                inst.start(timeout=10)
            self.assertIn("is not a loopback address", str(cm.exception))
        finally:
            inst.kill_tree()
            inst.cleanup()

    def test_ipv6_loopback_served(self):
        port = free_port()
        inst = Instance(main={"metrics_listen": "[::1]:%d" % port})
        try:
            inst.start()
            code, ctype, body = curl(port, host="::1")
            self.assertEqual(code, 200, body)
            parse(body, False)
        finally:
            inst.stop()
            inst.cleanup()


if __name__ == "__main__":
    unittest.main()
