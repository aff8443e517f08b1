"""test_dsn.py - the DSN extension (RFC 3461) end to end, and AUTH LOGIN
in the outbound client.

smtpd: EHLO offers DSN; RET, ENVID (MAIL) and NOTIFY, ORCPT (RCPT) are
accepted in any case, each at most once; malformed and repeated ones get
501 5.5.4 and nothing is queued; unknown parameters keep 555; RSET, a new
transaction and a refused MAIL forget them.  What is stored is checked in
the queue file itself (decoded here: u8 type, u32 big-endian length,
payload) for a message whose remote recipient stays deferred (its MX
refuses connections): ENVID and ORCPT byte for byte as sent, hostile
xtext ("+0D+0A", "+3D", every xchar, the longest values) included, RET
upper-cased, NOTIFY as bits.  Reports: a peer answers 550, the report
arrives in the local sender's Maildir and is parsed with the email module
(Original-Envelope-Id, Original-Recipient decoded and flattened,
text/rfc822-headers for RET=HDRS and no RET, message/rfc822 for RET=FULL).

smtp: to an aiosmtpd peer that offers DSN, RET/ENVID/NOTIFY/ORCPT go out
as stored (NOTIFY rebuilt in the order SUCCESS,FAILURE,DELAY); to one that
does not, none of them.  aiosmtpd upper-cases MAIL/RCPT parameters and
refuses unknown ones, so DsnSMTP takes the DSN parameters off the command
line first and records them raw.  AUTH LOGIN: a relayhost that offers only
LOGIN over STARTTLS gets it; a LOGIN challenge that is not base64 and a
refused password defer the mail with a clear text.

The instance, dnsmasq and peer plumbing comes from test_outbound.py
(OutboundCase, Peer, Recorder).
"""
import collections
import os
import re
import struct
import time

from harness import Conn, qid_of, read_file, wait_for
import test_outbound as tob

from aiosmtpd.smtp import SMTP as AioSMTP, AuthResult

ALICE = tob.ALICE
BOB = tob.BOB

DSN_MAIL = ("RET", "ENVID")
DSN_RCPT = ("NOTIFY", "ORCPT")

# xtext that decodes to CR LF, "=" and a header line; every xchar
# punctuation; the longest values smtpd takes
HOSTILE_ENVID = "env+0D+0AX-Evil:+20yes+3D1+2B"
ODD_XTEXT = "!\"#$%&'()*,-./:;<>?@[\\]^_`{|}~"
LONG_ENVID = ("E" * 88) + "+0D+0A+3D+2B"
LONG_ORCPT = "rfc822;" + ("o" * 474) + "+0D+0A+3D+2B@x.test"
assert len(LONG_ENVID) == 100 and len(LONG_ORCPT) == 500


# --- queue files ------------------------------------------------------------

def parse_qfile(data):
    """A queue file's records up to E: {"attr": {name: bytes}, "rcpt":
    [(addr, orcpt, notify)]} (bytes exactly as stored)."""
    out = {"attr": {}, "rcpt": [], "sender": None}
    i = 0
    while i + 5 <= len(data):
        t, n = data[i:i + 1], struct.unpack(">I", data[i + 1:i + 5])[0]
        p = data[i + 5:i + 5 + n]
        i += 5 + n
        if t == b"A":
            k, _, v = p.partition(b"=")
            out["attr"][k.decode()] = v
        elif t == b"S":
            out["sender"] = p
        elif t == b"R":
            al = struct.unpack(">H", p[:2])[0]
            addr = p[2:2 + al]
            ol = struct.unpack(">H", p[2 + al:4 + al])[0]
            orcpt = p[4 + al:4 + al + ol]
            out["rcpt"].append((addr, orcpt, p[4 + al + ol]))
        elif t == b"E":
            break
    return out


# --- peers ------------------------------------------------------------------

def split_params(arg, names):
    """A MAIL/RCPT argument without the parameters in names, and those
    parameters exactly as they came."""
    head, sep, rest = arg.partition(">")
    if not sep:
        return arg, []
    keep, got = [], []
    for p in rest.split():
        (got if p.split("=", 1)[0].upper() in names else keep).append(p)
    return head + ">" + "".join(" " + p for p in keep), got


class DsnSMTP(AioSMTP):
    """aiosmtpd's server with the DSN parameters taken off MAIL and RCPT
    (and recorded raw on the envelope) before aiosmtpd sees them, and
    RFC 3461's longer command lines allowed."""

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.command_size_limits = collections.defaultdict(lambda: 1012)

    async def smtp_MAIL(self, arg):
        rest, got = split_params(arg or "", DSN_MAIL)
        await super().smtp_MAIL(rest if arg else arg)
        if self.envelope.mail_from:
            self.envelope.dsn_mail = got
            self.envelope.raw_mail = arg

    async def smtp_RCPT(self, arg):
        rest, got = split_params(arg or "", DSN_RCPT)
        n = len(self.envelope.rcpt_tos)
        await super().smtp_RCPT(rest if arg else arg)
        if len(self.envelope.rcpt_tos) > n:
            if not hasattr(self.envelope, "dsn_rcpt"):
                self.envelope.dsn_rcpt = []
            self.envelope.dsn_rcpt.append((self.envelope.rcpt_tos[-1], got,
                                           arg))


class BadChallengeSMTP(DsnSMTP):
    """AUTH LOGIN answered with a challenge that is not base64; records
    the line the client answers with."""
    answers = []

    async def auth_LOGIN(self, _, args):
        await self.push("334 !!not base64!!")
        line = await self._reader.readline()
        BadChallengeSMTP.answers.append(line.strip())
        await self.push("501 5.7.0 Authentication aborted")
        return AuthResult(success=False, handled=True)


class DsnRecorder(tob.Recorder):
    """Recorder that offers DSN in EHLO (or not) and keeps the raw DSN
    parameters of each message received."""

    def __init__(self, advertise=True, **kw):
        super().__init__(**kw)
        self.advertise = advertise
        self.dsn = []

    async def handle_EHLO(self, server, session, envelope, hostname,
                          responses):
        session.host_name = hostname
        if self.advertise:
            responses.insert(len(responses) - 1, "250-DSN")
        return responses

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.dsn.append({
                "mail": list(getattr(envelope, "dsn_mail", [])),
                "raw_mail": getattr(envelope, "raw_mail", ""),
                "rcpt": list(getattr(envelope, "dsn_rcpt", [])),
                "content": bytes(envelope.original_content)})
        return await super().handle_DATA(server, session, envelope)

    def dsn_with_token(self, token):
        with self.lock:
            return [d for d in self.dsn if token.encode() in d["content"]]


class DsnController(tob.PeerController):
    """PeerController whose sessions are smtp_class (DsnSMTP)."""

    def __init__(self, smtp_class, *a, **kw):
        self.smtp_class = smtp_class
        super().__init__(*a, **kw)

    def factory(self):
        p = self.smtp_class(self.handler, **self.SMTP_kwargs)
        self.protocols.append(p)
        self.connections += 1
        return p


class DsnPeer(tob.Peer):
    """tob.Peer with a DsnRecorder and DsnController; auth=True offers AUTH
    under TLS, without the mechanisms in exclude."""

    def __init__(self, addr, port, advertise=True, smtp_class=DsnSMTP,
                 tls_context=None, auth=False, exclude=()):
        self.addr = addr
        self.rec = DsnRecorder(advertise=advertise)
        kw = {}
        if tls_context is not None:
            kw.update(tls_context=tls_context, require_starttls=False)
        if auth:
            kw.update(authenticator=self.rec.authenticator,
                      auth_require_tls=True,
                      auth_exclude_mechanism=list(exclude))
        self.ctl = DsnController(smtp_class, self.rec, hostname=addr,
                                 port=port,
                                 server_hostname="peer-%s.test" % addr,
                                 ready_timeout=10, **kw)
        self.ctl.start()
        self.ctl.connections = 0
        self.running = True


# --- the tests --------------------------------------------------------------

class DsnCase(tob.OutboundCase):
    """Helpers shared by the classes below."""

    def conn(self):
        c = Conn(self.inst.port)
        c.ehlo()
        return c

    def send(self, c, mail, rcpts, token, body=None):
        """MAIL, each RCPT (all 250), DATA and a message; its queue id."""
        r = c.cmd(mail)
        self.assertEqual(r.code, 250, (mail, r))
        for line in rcpts:
            r = c.cmd(line)
            self.assertEqual(r.code, 250, (line[:80], r))
        r = c.cmd("DATA")
        self.assertEqual(r.code, 354, r)
        c.send(tob.message(token, body=body) + b".\r\n")
        r = c.reply()
        self.assertEqual(r.code, 250, r)
        return qid_of(r.last)

    def qfile(self, qid, timeout=10):
        """The parsed queue file of qid (which must still be queued)."""
        def find():
            for p in self.inst.queue_files():
                if os.path.basename(p) == qid:
                    return p
            return None
        path = wait_for(find, timeout)
        self.assertIsNotNone(path, "%s not in the queue" % qid)
        return parse_qfile(read_file(path))

    def queued_since(self, offset):
        """Messages committed (smtpd's "client=" line) since a log offset."""
        return [l for l in self.inst.log_since(offset).splitlines()
                if ": client=unknown[" in l]


class DsnTest(DsnCase):
    """One instance: smtpd's parameters, what it stores, the reports, and
    the outbound client to peers with and without DSN."""

    MX = [("dsn.test", "mx.dsn.test", 10), ("plain.test", "mx.plain.test", 10),
          ("rej.test", "mx.rej.test", 10), ("hold.test", "mx.hold.test", 10),
          ("badchal.test", "mx.badchal.test", 10),
          ("badpw.test", "mx.badpw.test", 10)]
    HOSTS = [("mx.dsn.test", "127.0.0.81"), ("mx.plain.test", "127.0.0.82"),
             ("mx.rej.test", "127.0.0.83"), ("mx.hold.test", "127.0.0.84"),
             ("mx.badchal.test", "127.0.0.85"),
             ("mx.badpw.test", "127.0.0.86")]

    @classmethod
    def make_peers(cls):
        p = cls.port
        cls.dsn = cls.add_peer(DsnPeer("127.0.0.81", p, advertise=True))
        cls.plain = cls.add_peer(DsnPeer("127.0.0.82", p, advertise=False))
        cls.rej = cls.add_peer(tob.Peer("127.0.0.83", p, tob.Recorder(
            rcpt_reply=lambda a, n: "550 5.1.1 no such user here")))
        # 127.0.0.84: nothing listens, so hold.test mail stays queued
        crt, key = tob.make_cert(cls.certdir, "chal", "mx.badchal.test")
        cls.badchal = cls.add_peer(DsnPeer(
            "127.0.0.85", p, smtp_class=BadChallengeSMTP,
            tls_context=tob.server_ctx(crt, key), auth=True,
            exclude=["PLAIN"]))
        cls.badpw = cls.add_peer(DsnPeer(
            "127.0.0.86", p, tls_context=tob.server_ctx(crt, key), auth=True,
            exclude=["PLAIN"]))

    @classmethod
    def main_extra(cls):
        return {"smtp_sasl_auth_enable": "yes",
                "smtp_sasl_password_maps": "texthash:" + os.path.join(
                    cls.certdir, "sasl_passwd")}

    @classmethod
    def prepare_instance(cls):
        path = os.path.join(cls.certdir, "sasl_passwd")
        with open(path, "w") as f:
            f.write("mx.badchal.test user:secretpw\n"
                    "mx.badpw.test user:wrongpw\n")
        os.chmod(path, 0o600)

    # -- smtpd: the protocol --
    def test_ehlo_offers_dsn(self):
        with self.conn() as c:
            r = c.ehlo()
            self.assertIn("DSN", r.ext(), r)
            self.assertIn("8BITMIME", r.ext(), r)
            self.assertTrue(r.last.startswith("250 "), r)

    def test_good_parameters_accepted(self):
        """Each parameter alone and together, in any case; local (via the
        broker) and remote recipients."""
        mails = ["RET=FULL", "RET=HDRS", "ret=hdrs", "Ret=Full",
                 "ENVID=abc", "envid=" + ODD_XTEXT, "ENVID=" + LONG_ENVID,
                 "ENVID=" + HOSTILE_ENVID, "RET=FULL ENVID=x SIZE=100",
                 "BODY=8BITMIME ENVID=QQ+2B1 RET=HDRS"]
        rcpts = ["NOTIFY=NEVER", "NOTIFY=SUCCESS", "notify=failure,delay",
                 "NOTIFY=SUCCESS,FAILURE,DELAY", "NOTIFY=DELAY,SUCCESS",
                 "ORCPT=rfc822;x@hold.test", "orcpt=RFC822;" + ODD_XTEXT,
                 "ORCPT=" + LONG_ORCPT, "ORCPT=x-odd;+0D+0A",
                 "NOTIFY=FAILURE ORCPT=rfc822;a+2Bb@hold.test"]
        with self.conn() as c:
            for m in mails:
                r = c.cmd("MAIL FROM:<%s> %s" % (ALICE, m))
                self.assertEqual(r.code, 250, (m, r))
                for rc in rcpts:
                    for to in ("x@hold.test", BOB):
                        r = c.cmd("RCPT TO:<%s> %s" % (to, rc))
                        self.assertEqual(r.code, 250, (to, rc, r))
                self.assertEqual(c.cmd("RSET").code, 250)

    def test_bad_parameters_refused(self):
        """Malformed or repeated: 501 5.5.4, the command refused, nothing
        queued; unknown: 555 5.5.4."""
        bad_mail = ["RET", "RET=", "RET=FOO", "RET=FULLX", "RET=FULL,HDRS",
                    "RET=FULL RET=FULL", "RET=HDRS ret=full", "ENVID",
                    "ENVID=", "ENVID=a=b", "ENVID=a+2", "ENVID=a+ZZ",
                    "ENVID=caf\xe9", "ENVID=a\x01b", "ENVID=" + "e" * 101,
                    "ENVID=a ENVID=a", "envid=a ENVID=b",
                    "RET=FULL ENVID=a+"]
        bad_rcpt = ["NOTIFY", "NOTIFY=", "NOTIFY=FOO",
                    "NOTIFY=NEVER,SUCCESS", "NOTIFY=SUCCESS,", "NOTIFY=,DELAY",
                    "NOTIFY=SUCCESS,,DELAY", "NOTIFY=SUCCESS NOTIFY=SUCCESS",
                    "notify=delay NOTIFY=never",
                    "ORCPT", "ORCPT=", "ORCPT=rfc822", "ORCPT=rfc822;",
                    "ORCPT=;a@b.test", "ORCPT=rf(c;a@b.test",
                    "ORCPT=rfc822;a+ZZ@b.test", "ORCPT=rfc822;a=b@b.test",
                    "ORCPT=rfc822;caf\xe9@b.test",
                    "ORCPT=" + LONG_ORCPT + "x",
                    "ORCPT=rfc822;a@b.test ORCPT=rfc822;a@b.test",
                    "NOTIFY=FAILURE ORCPT=rfc822;a@b.test NOTIFY=DELAY"]
        before = self.inst.log_size()
        # a session per case: the errors would reach smtpd_hard_error_limit
        for m in bad_mail:
            with self.conn() as c:
                r = c.cmd("MAIL FROM:<%s> %s" % (ALICE, m))
                self.assertTrue(r.last.startswith("501 5.5.4 "), (m, r))
                self.assertRegex(r.last, "(?i)(bad|duplicate) (RET|ENVID) "
                                 "parameter", m)
                r = c.cmd("RCPT TO:<x@hold.test>")
                self.assertEqual(r.code, 503, (m, r))     # no transaction
                self.assertEqual(c.cmd("DATA").code, 503)
        with self.conn() as c:
            for m in ("FOO=bar", "RETX=FULL"):
                r = c.cmd("MAIL FROM:<%s> %s" % (ALICE, m))
                self.assertTrue(r.last.startswith("555 5.5.4"), (m, r))
        for rc in bad_rcpt:
            with self.conn() as c:
                self.assertEqual(c.cmd("MAIL FROM:<%s>" % ALICE).code, 250)
                for to in ("x@hold.test", BOB):
                    r = c.cmd("RCPT TO:<%s> %s" % (to, rc))
                    self.assertTrue(r.last.startswith("501 5.5.4 "),
                                    (to, rc, r))
                    self.assertRegex(r.last, "(?i)(bad|duplicate) "
                                     "(NOTIFY|ORCPT) parameter", rc)
                r = c.cmd("DATA")
                self.assertTrue(r.last.startswith("554 5.5.1"), (rc, r))
        with self.conn() as c:
            self.assertEqual(c.cmd("MAIL FROM:<%s>" % ALICE).code, 250)
            for rc in ("FOO=bar", "RET=FULL", "ENVID=x", "SIZE=10"):
                r = c.cmd("RCPT TO:<x@hold.test> %s" % rc)
                self.assertTrue(r.last.startswith("555 5.5.4"), (rc, r))
            r = c.cmd("DATA")
            self.assertTrue(r.last.startswith("554 5.5.1"), r)
            self.assertEqual(c.cmd("QUIT").code, 221)
        time.sleep(0.5)
        self.assertEqual(self.queued_since(before), [])
        self.assertEqual(self.inst.incoming_files(), [])

    def test_stored_exactly(self):
        """ENVID and ORCPT byte for byte in the queue file, hostile xtext
        and the longest values included; RET upper-cased; NOTIFY bits; a
        recipient without parameters gets none."""
        orcpts = ["rfc822;evil+0D+0AX-Inject:+20y+3Dz@hold.test",
                  "RFC822;" + ODD_XTEXT, LONG_ORCPT, None]
        notes = ["delay,Success", "NEVER", "FAILURE", None]
        rc = []
        for i, (o, n) in enumerate(zip(orcpts, notes)):
            line = "RCPT TO:<r%d@hold.test>" % i
            if n:
                line += " NOTIFY=" + n
            if o:
                line += " ORCPT=" + o
            rc.append(line)
        rc.append("RCPT TO:<%s> ORCPT=rfc822;b+2B1@x.test NOTIFY=SUCCESS" %
                  BOB)
        with self.conn() as c:
            q1 = self.send(c, "MAIL FROM:<%s> ret=full ENVID=%s" %
                           (ALICE, HOSTILE_ENVID), rc, "dsnstore1")
            q2 = self.send(c, "MAIL FROM:<%s> ENVID=%s RET=hdrs" %
                           (ALICE, LONG_ENVID), ["RCPT TO:<z@hold.test>"],
                           "dsnstore2")
            q3 = self.send(c, "MAIL FROM:<%s> ENVID=%s" % (ALICE, ODD_XTEXT),
                           ["RCPT TO:<z@hold.test>"], "dsnstore3")
        f = self.qfile(q1)
        self.assertEqual(f["attr"].get("envid"), HOSTILE_ENVID.encode())
        self.assertEqual(f["attr"].get("ret"), b"FULL")
        want_bits = [0x02 | 0x08, 0x01, 0x04, 0]
        got = {a: (o, n) for a, o, n in f["rcpt"]}
        for i, (o, bits) in enumerate(zip(orcpts, want_bits)):
            self.assertEqual(got[b"r%d@hold.test" % i],
                             ((o or "").encode("latin-1"), bits), i)
        self.assertEqual(got[BOB.encode()], (b"rfc822;b+2B1@x.test", 0x02))
        f = self.qfile(q2)
        self.assertEqual(f["attr"].get("envid"), LONG_ENVID.encode())
        self.assertEqual(f["attr"].get("ret"), b"HDRS")
        self.assertEqual(f["rcpt"], [(b"z@hold.test", b"", 0)])
        f = self.qfile(q3)
        self.assertEqual(f["attr"].get("envid"), ODD_XTEXT.encode())
        self.assertNotIn("ret", f["attr"])

    def test_rset_and_new_transaction_forget(self):
        """RSET, a new transaction after the final dot, and a refused MAIL
        leave nothing of the parameters behind."""
        with self.conn() as c:
            r = c.cmd("MAIL FROM:<%s> RET=FULL ENVID=first" % ALICE)
            self.assertEqual(r.code, 250, r)
            self.assertEqual(c.cmd("RSET").code, 250)
            # not "duplicate": the first RET/ENVID are gone
            q1 = self.send(c, "MAIL FROM:<%s> RET=HDRS" % ALICE,
                           ["RCPT TO:<a@hold.test> NOTIFY=DELAY "
                            "ORCPT=rfc822;a@hold.test"], "dsnrset1")
            q2 = self.send(c, "MAIL FROM:<%s>" % ALICE,
                           ["RCPT TO:<a@hold.test>"], "dsnrset2")
            r = c.cmd("MAIL FROM:<%s> RET=FULL ENVID=gone ENVID=x" % ALICE)
            self.assertEqual(r.code, 501, r)
            q3 = self.send(c, "MAIL FROM:<%s>" % ALICE,
                           ["RCPT TO:<a@hold.test>"], "dsnrset3")
            r = c.cmd("MAIL FROM:<%s> ENVID=kept" % ALICE)
            self.assertEqual(r.code, 250, r)
            c.ehlo()    # EHLO is a reset too
            q4 = self.send(c, "MAIL FROM:<%s>" % ALICE,
                           ["RCPT TO:<a@hold.test>"], "dsnrset4")
        f = self.qfile(q1)
        self.assertNotIn("envid", f["attr"])
        self.assertEqual(f["attr"].get("ret"), b"HDRS")
        self.assertEqual(f["rcpt"], [(b"a@hold.test", b"rfc822;a@hold.test",
                                      0x08)])
        for q in (q2, q3, q4):
            f = self.qfile(q)
            self.assertNotIn("envid", f["attr"], q)
            self.assertNotIn("ret", f["attr"], q)
            self.assertEqual(f["rcpt"], [(b"a@hold.test", b"", 0)], q)

    # -- the reports --
    def report(self, token):
        msg, raw = self.bounce_for(token, timeout=15)
        parts = msg.get_payload()
        self.assertEqual(len(parts), 3, raw)
        blocks = parts[1].get_payload()
        return msg, raw, parts, blocks

    def test_report_headers_only_by_default_and_hdrs(self):
        for token, ret in (("dsnrep-none", ""), ("dsnrep-hdrs", " RET=HDRS")):
            with self.conn() as c:
                self.send(c, "MAIL FROM:<%s>%s ENVID=%s" %
                          (ALICE, ret, HOSTILE_ENVID),
                          ["RCPT TO:<bad1@rej.test> ORCPT=rfc822;"
                           "evil+0D+0AX-Inject:+20y+3Dz@rej.test",
                           "RCPT TO:<bad2@rej.test> NOTIFY=FAILURE"], token,
                          body=b"BODY-SECRET-%s\r\n" % token.encode())
            msg, raw, parts, blocks = self.report(token)
            self.assertEqual(parts[2].get_content_type(),
                             "text/rfc822-headers", raw)
            self.assertNotIn(b"BODY-SECRET", raw)
            self.assertIn(b"Subject: " + token.encode(), raw)
            self.check_fields(raw, blocks)

    def check_fields(self, raw, blocks):
        """Original-Envelope-Id and Original-Recipient decoded, their CR LF
        made spaces: no injected header line anywhere."""
        self.assertEqual(blocks[0]["Original-Envelope-Id"],
                         "env X-Evil: yes=1+", raw)
        per = {b["Final-Recipient"].split(";", 1)[1].strip(): b
               for b in blocks[1:]}
        self.assertEqual(per["bad1@rej.test"]["Original-Recipient"],
                         "rfc822;evil X-Inject: y=z@rej.test", raw)
        self.assertIsNone(per["bad2@rej.test"]["Original-Recipient"], raw)
        self.assertIsNone(re.search(rb"(?m)^X-(Evil|Inject)", raw), raw)

    def test_report_full(self):
        with self.conn() as c:
            self.send(c, "MAIL FROM:<%s> RET=FULL ENVID=%s" %
                      (ALICE, HOSTILE_ENVID),
                      ["RCPT TO:<bad1@rej.test> ORCPT=rfc822;"
                       "evil+0D+0AX-Inject:+20y+3Dz@rej.test",
                       "RCPT TO:<bad2@rej.test>"], "dsnrep-full",
                      body=b"BODY-FULL-dsnrep\r\n")
        msg, raw, parts, blocks = self.report("dsnrep-full")
        self.assertEqual(parts[2].get_content_type(), "message/rfc822", raw)
        inner = parts[2].get_payload()[0]
        self.assertEqual(inner["Subject"], "dsnrep-full")
        self.assertIn("BODY-FULL-dsnrep", inner.get_payload())
        self.check_fields(raw, blocks)

    # -- smtp: passing DSN on --
    def test_client_passes_dsn_to_dsn_peer(self):
        with self.conn() as c:
            qid = self.send(c, "MAIL FROM:<%s> ret=hdrs ENVID=%s" %
                            (ALICE, HOSTILE_ENVID),
                            ["RCPT TO:<a@dsn.test> NOTIFY=delay,Success "
                             "ORCPT=rfc822;" + ODD_XTEXT,
                             "RCPT TO:<b@dsn.test>",
                             "RCPT TO:<c@dsn.test> NOTIFY=never",
                             "RCPT TO:<d@dsn.test> ORCPT=" + LONG_ORCPT +
                             " NOTIFY=DELAY,FAILURE,SUCCESS"], "dsnpass1")
        self.wait_peer(self.dsn.rec, "dsnpass1")
        self.wait_gone(qid)
        got = self.dsn.rec.dsn_with_token("dsnpass1")
        self.assertEqual(len(got), 1)
        d = got[0]
        self.assertEqual(d["mail"], ["RET=HDRS", "ENVID=" + HOSTILE_ENVID],
                         d["raw_mail"])
        rc = {a: p for a, p, _raw in d["rcpt"]}
        self.assertEqual(rc["a@dsn.test"], ["NOTIFY=SUCCESS,DELAY",
                                            "ORCPT=rfc822;" + ODD_XTEXT])
        self.assertEqual(rc["b@dsn.test"], [])
        self.assertEqual(rc["c@dsn.test"], ["NOTIFY=NEVER"])
        self.assertEqual(rc["d@dsn.test"], ["NOTIFY=SUCCESS,FAILURE,DELAY",
                                            "ORCPT=" + LONG_ORCPT])
        for _a, _p, raw in d["rcpt"]:
            self.assertLessEqual(len("RCPT ") + len(raw) + 2, 1012)

    def test_client_omits_dsn_without_extension(self):
        with self.conn() as c:
            qid = self.send(c, "MAIL FROM:<%s> RET=FULL ENVID=nodsn1" %
                            ALICE,
                            ["RCPT TO:<a@plain.test> NOTIFY=FAILURE "
                             "ORCPT=rfc822;a@plain.test",
                             "RCPT TO:<b@plain.test> NOTIFY=NEVER"],
                            "dsnomit1")
        self.wait_peer(self.plain.rec, "dsnomit1")
        self.wait_gone(qid)
        d = self.plain.rec.dsn_with_token("dsnomit1")[0]
        self.assertEqual(d["mail"], [], d["raw_mail"])
        self.assertEqual([p for _a, p, _r in d["rcpt"]], [[], []])
        for text in [d["raw_mail"]] + [r for _a, _p, r in d["rcpt"]]:
            self.assertNotRegex(text, "(?i)RET=|ENVID=|NOTIFY=|ORCPT=")
        self.assertTrue(self.log_lines(qid, "status=sent"), self.tail())

    # -- smtp: AUTH LOGIN failures --
    def test_auth_login_bad_challenge_deferred(self):
        BadChallengeSMTP.answers.clear()
        qid = self.send_plain("x@badchal.test", "badchal1")
        lines = self.wait_log_line(qid, "status=deferred")
        self.assertIn("dsn=4.7.0", lines[0])
        self.assertIn("malformed AUTH LOGIN challenge (not base64)", lines[0])
        time.sleep(1)
        self.assertTrue(self.in_queue(qid))
        self.assertEqual(self.badchal.rec.with_token("badchal1"), [])
        # the exchange was cancelled with "*", no credential sent
        self.assertTrue(BadChallengeSMTP.answers)
        self.assertEqual(set(BadChallengeSMTP.answers), {b"*"})
        self.assertNotIn("secretpw", self.inst.log())

    def test_auth_login_refused_deferred(self):
        qid = self.send_plain("x@badpw.test", "badpw1")
        lines = self.wait_log_line(qid, "status=deferred")
        self.assertIn("dsn=4.7.8", lines[0])
        self.assertIn("(in reply to AUTH LOGIN password)", lines[0])
        self.assertTrue(self.badpw.rec.auth)
        for mech, login, ok, tls in self.badpw.rec.auth:
            self.assertEqual((mech, login, ok, tls),
                             ("LOGIN", b"user", False, True))
        self.assertNotIn("wrongpw", self.inst.log())
        self.assertEqual(self.log_lines(qid, "status=(sent|bounced)"), [])

    def send_plain(self, rcpt, token):
        with self.conn() as c:
            return self.send(c, "MAIL FROM:<%s>" % ALICE,
                             ["RCPT TO:<%s>" % rcpt], token)


class DsnRelayLoginTest(DsnCase):
    """relayhost = [127.0.0.87]:PORT offers only AUTH LOGIN, only after
    STARTTLS: youju logs in with LOGIN (and passes DSN on: it offers it)."""

    @classmethod
    def make_peers(cls):
        crt, key = tob.make_cert(cls.certdir, "relay", "relay.example")
        cls.relay = cls.add_peer(DsnPeer(
            "127.0.0.87", cls.port, tls_context=tob.server_ctx(crt, key),
            auth=True, exclude=["PLAIN"]))

    @classmethod
    def main_extra(cls):
        return cls.relay_auth_main("127.0.0.87")

    @classmethod
    def prepare_instance(cls):
        cls.relay_auth_map("127.0.0.87")

    def test_relayhost_auth_login(self):
        with self.conn() as c:
            qid = self.send(c, "MAIL FROM:<%s> ENVID=relay1" % ALICE,
                            ["RCPT TO:<u@far.example> NOTIFY=FAILURE"],
                            "dsnlogin1")
        got = self.wait_peer(self.relay.rec, "dsnlogin1")
        self.wait_gone(qid)
        self.assertTrue(got[0]["tls"])
        self.assertTrue(got[0]["authenticated"])
        self.assertTrue(self.relay.rec.auth)
        for mech, login, ok, tls in self.relay.rec.auth:
            self.assertEqual((mech, login, ok, tls),
                             ("LOGIN", b"user", True, True))
        d = self.relay.rec.dsn_with_token("dsnlogin1")[0]
        self.assertEqual(d["mail"], ["ENVID=relay1"])
        self.assertEqual(d["rcpt"][0][1], ["NOTIFY=FAILURE"])
        self.assertEqual(len(self.log_lines(qid, "status=sent")), 1)
        self.assertNotIn("secretpw", self.inst.log())


class DsnNotifyTest(DsnCase):
    """qmgr honours NOTIFY: NEVER suppresses the bounce, SUCCESS brings a
    "delivered" report (local) or a "relayed" one (a peer without DSN;
    none from a peer with DSN, which reports itself), and the delay notice
    (delay_warning_time 2 s) names only recipients that asked for delays
    or said nothing."""

    MX = [("dsn2.test", "mx.dsn2.test", 10),
          ("plain2.test", "mx.plain2.test", 10),
          ("rej2.test", "mx.rej2.test", 10),
          ("slow3.test", "mx.slow3.test", 10)]
    HOSTS = [("mx.dsn2.test", "127.0.0.88"), ("mx.plain2.test", "127.0.0.89"),
             ("mx.rej2.test", "127.0.0.90"), ("mx.slow3.test", "127.0.0.91")]
    MAIN = {"delay_warning_time": "2s"}

    @classmethod
    def make_peers(cls):
        p = cls.port
        cls.dsn = cls.add_peer(DsnPeer("127.0.0.88", p, advertise=True))
        cls.plain = cls.add_peer(DsnPeer("127.0.0.89", p, advertise=False))
        cls.rej = cls.add_peer(tob.Peer("127.0.0.90", p, tob.Recorder(
            rcpt_reply=lambda a, n: "550 5.1.1 no such user here")))
        cls.slow = cls.add_peer(tob.Peer("127.0.0.91", p, tob.Recorder(
            rcpt_reply=lambda a, n: "451 4.3.0 not yet")))

    def blocks_of(self, token, subject):
        msg, raw = self.bounce_for(token, timeout=15)
        self.assertIn(subject, msg["Subject"], raw)
        parts = msg.get_payload()
        self.assertEqual(msg.get_content_type(), "multipart/report", raw)
        blocks = parts[1].get_payload()
        return raw, {b["Final-Recipient"].split(";", 1)[1].strip(): b
                     for b in blocks[1:]}

    def test_notify_never_and_failure(self):
        with self.conn() as c:
            qid = self.send(c, "MAIL FROM:<%s>" % ALICE,
                            ["RCPT TO:<n1@rej2.test> NOTIFY=NEVER",
                             "RCPT TO:<n2@rej2.test>",
                             "RCPT TO:<n3@rej2.test> NOTIFY=SUCCESS"],
                            "notify1")
        raw, per = self.blocks_of("notify1", "Undelivered")
        self.assertEqual(sorted(per), ["n2@rej2.test"], raw)
        self.wait_gone(qid)
        # only NEVER: no report at all
        with self.conn() as c:
            qid = self.send(c, "MAIL FROM:<%s>" % ALICE,
                            ["RCPT TO:<n4@rej2.test> NOTIFY=NEVER"],
                            "notify2")
        self.wait_log_line(qid, "no non-delivery notification")
        self.wait_gone(qid)
        time.sleep(1)
        self.assertEqual(self.reports_about("notify2"), [])

    def test_notify_success_local(self):
        with self.conn() as c:
            qid = self.send(c, "MAIL FROM:<%s> ENVID=succ1" % ALICE,
                            ["RCPT TO:<%s> NOTIFY=SUCCESS,FAILURE "
                             "ORCPT=rfc822;Bob+40example.com" % BOB],
                            "notify3")
        raw, per = self.blocks_of("notify3", "Successful Mail Delivery")
        b = per[BOB]
        self.assertEqual(b["Action"], "delivered", raw)
        self.assertEqual(b["Status"], "2.0.0", raw)
        self.assertEqual(b["Original-Recipient"], "rfc822;Bob@example.com")
        self.wait_gone(qid)
        self.assertTrue(self.log_lines(qid, "sender delivery status "
                                       "notification"), self.tail())

    def test_notify_success_relayed_or_passed_on(self):
        with self.conn() as c:
            q1 = self.send(c, "MAIL FROM:<%s>" % ALICE,
                           ["RCPT TO:<s1@plain2.test> NOTIFY=SUCCESS"],
                           "notify4")
            q2 = self.send(c, "MAIL FROM:<%s>" % ALICE,
                           ["RCPT TO:<s2@dsn2.test> NOTIFY=SUCCESS"],
                           "notify5")
        raw, per = self.blocks_of("notify4", "Successful Mail Delivery")
        b = per["s1@plain2.test"]
        self.assertEqual(b["Action"], "relayed", raw)
        self.assertEqual(b["Remote-MTA"], "dns; mx.plain2.test", raw)
        self.wait_peer(self.dsn.rec, "notify5")
        self.wait_gone(q1)
        self.wait_gone(q2)
        time.sleep(1.5)
        self.assertEqual(self.reports_about("notify5"), [],
                         "a peer with DSN reports success itself")
        self.assertEqual(self.log_lines(q2, "delivery status notification"),
                         [])

    def test_delay_notice_follows_notify(self):
        with self.conn() as c:
            qid = self.send(c, "MAIL FROM:<%s>" % ALICE,
                            ["RCPT TO:<d1@slow3.test> NOTIFY=FAILURE",
                             "RCPT TO:<d2@slow3.test> NOTIFY=DELAY",
                             "RCPT TO:<d3@slow3.test>"], "notify6")
        raw, per = self.blocks_of("notify6", "Delayed Mail")
        self.assertEqual(sorted(per), ["d2@slow3.test", "d3@slow3.test"], raw)
        for b in per.values():
            self.assertEqual(b["Action"], "delayed", raw)
            self.assertEqual(b["Status"], "4.3.0", raw)
        self.inst.mailctl("queue", "delete", qid)


if __name__ == "__main__":
    import unittest
    unittest.main()
