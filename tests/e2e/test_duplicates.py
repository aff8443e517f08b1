"""test_duplicates.py - exactly one copy per mailbox (issue 15).

The same mailbox named several ways in one message gets one copy: the
same RCPT twice, case variants of the domain and (for our domains) of the
local part, the quoted form, a source route, an alias that reaches a
recipient also named directly, two aliases with a member in common,
nested aliases, user+ext next to user.  Each original recipient that
asked for a success report still gets one (recipients kept apart by
their DSN options take the one delivery's result).  Remote duplicates
leave once (counted at an aiosmtpd sink).  An alias target without a
domain is completed with @$myorigin, so "info: alice" reached through a
second local domain arrives at alice@$myorigin; an alias whose target is
no user is refused at RCPT (no accept-then-bounce).  A randomised run
reconciles every accepted message with the Maildirs.
"""
import email
import random
import re
import time

import harness
from harness import Conn, read_file, wait_for
import test_outbound as tob

ALICE = "alice@example.com"
BOB = "bob@example.com"
SENDER = "carol@example.com"

ALIASES = """\
info: alice
sales: alice, bob
team: info, sales
both: alice, Alice@EXAMPLE.COM
broken: nosuch
mixed: alice, nobody
"""


class DuplicateCase(tob.OutboundCase):

    ALIASES = ALIASES
    MAIN = {"myorigin": "example.com", "recipient_delimiter": "+"}

    @classmethod
    def make_peers(cls):
        cls.peer = cls.add_peer(tob.Peer("127.0.0.33", cls.port))

    @classmethod
    def main_extra(cls):
        d = dict(cls.MAIN)
        d["relayhost"] = "[127.0.0.33]:%d" % cls.port
        return d

    @classmethod
    def prepare_instance(cls):
        with open(cls.inst.dir + "/users", "a") as f:
            f.write("%s:%s:%d:%d::%s::\n" % (
                SENDER, harness.PASSWORD_HASH, cls.inst.uid, cls.inst.gid,
                cls.inst.home(SENDER)))

    def send(self, rcpts, token, sender=SENDER, mail_extra=""):
        """One message to the RCPT arguments rcpts (each accepted)."""
        with Conn(self.inst.port) as c:
            c.ehlo()
            r = c.cmd("MAIL FROM:<%s>%s" % (sender, mail_extra))
            self.assertEqual(r.code, 250, r)
            for a in rcpts:
                r = c.cmd("RCPT TO:%s" % a)
                self.assertEqual(r.code, 250, (a, r))
            self.assertEqual(c.cmd("DATA").code, 354)
            c.send("Subject: %s\r\nMessage-ID: <%s@dup.test>\r\n\r\n"
                   "body\r\n.\r\n" % (token, token))
            r = c.reply()
            self.assertEqual(r.code, 250, r)
            qid = harness.qid_of(r.last)
        self.wait_gone(qid)
        return qid

    def copies(self, user, token):
        return len([p for p in self.inst.messages(user)
                    if ("Subject: %s\n" % token).encode() in read_file(p)])

    def to_lines(self, qid, addr):
        """The maillog's result lines of qid for addr."""
        return self.log_lines(qid, r"to=<%s>" % re.escape(addr))

    def assert_copies(self, token, want):
        for user, n in want.items():
            self.assertEqual(self.copies(user, token), n,
                             "%s: %s\n%s" % (token, user, self.tail()))


class DuplicateTest(DuplicateCase):

    def test_same_rcpt_twice(self):
        """smtpd queues the recipient once (one result line)."""
        qid = self.send(["<%s>" % ALICE, "<%s>" % ALICE], "dup-same")
        self.assert_copies("dup-same", {ALICE: 1})
        self.assertEqual(len(self.log_lines(qid, "to=<")), 1, self.tail())

    def test_case_variants(self):
        qid = self.send(["<alice@example.com>", "<Alice@EXAMPLE.COM>",
                         "<ALICE@Example.Com>"], "dup-case")
        self.assert_copies("dup-case", {ALICE: 1})
        self.assertEqual(len(self.log_lines(qid, "to=<")), 1, self.tail())

    def test_quoted_and_routed(self):
        qid = self.send(["<alice@example.com>", '<"alice"@example.com>',
                         "<@relay.example:alice@example.com>"], "dup-forms")
        self.assert_copies("dup-forms", {ALICE: 1})
        self.assertEqual(len(self.log_lines(qid, "to=<")), 1, self.tail())

    def test_alias_and_direct(self):
        """The alias's result is the recipient named directly: qmgr does
        not add it again (no second result line)."""
        qid = self.send(["<%s>" % ALICE, "<info@example.com>"],
                        "dup-alias")
        self.assert_copies("dup-alias", {ALICE: 1})
        self.assertEqual(len(self.to_lines(qid, ALICE)), 1, self.tail())

    def test_two_aliases_share_a_member(self):
        self.send(["<info@example.com>", "<sales@example.com>"],
                  "dup-two")
        self.assert_copies("dup-two", {ALICE: 1, BOB: 1})

    def test_nested_and_case_in_targets(self):
        self.send(["<team@example.com>", "<both@example.com>",
                   "<%s>" % BOB], "dup-nested")
        self.assert_copies("dup-nested", {ALICE: 1, BOB: 1})

    def test_extension_and_user(self):
        """alice+news and alice are one mailbox."""
        self.send(["<alice+news@example.com>", "<%s>" % ALICE],
                  "dup-ext")
        self.assert_copies("dup-ext", {ALICE: 1})

    def test_reports_for_each_original_recipient(self):
        """Two RCPTs of one mailbox with their own ORCPT, and an alias
        reaching it, all NOTIFY=SUCCESS: one copy, and a success report
        naming each original recipient."""
        self.send(["<alice@example.com> NOTIFY=SUCCESS "
                   "ORCPT=rfc822;alice@example.com",
                   "<Alice@EXAMPLE.COM> NOTIFY=SUCCESS "
                   "ORCPT=rfc822;Alice@EXAMPLE.COM",
                   "<info@example.com> NOTIFY=SUCCESS "
                   "ORCPT=rfc822;info@example.com"], "dup-dsn")
        self.assert_copies("dup-dsn", {ALICE: 1})
        want = {"rfc822;alice@example.com", "rfc822;Alice@EXAMPLE.COM",
                "rfc822;info@example.com"}

        def seen():
            got = set()
            for p in self.inst.messages(SENDER):
                raw = read_file(p)
                if b"dup-dsn" not in raw:
                    continue
                msg = email.message_from_bytes(raw)
                for part in msg.walk():
                    if part.get_content_type() != "message/delivery-status":
                        continue
                    for b in part.get_payload()[1:]:
                        if b["Action"] == "delivered":
                            got.add(b["Original-Recipient"])
            return got if got >= want else None
        got = wait_for(seen, 20)
        self.assertEqual(got, want, self.tail())

    def test_unqualified_alias_target_in_second_domain(self):
        """info@localhost expands to "alice", completed with @$myorigin:
        alice@example.com, not alice@localhost (which is no user)."""
        self.send(["<info@localhost>"], "dup-origin")
        self.assert_copies("dup-origin", {ALICE: 1})
        self.assertNotIn("status=bounced", self.tail())

    def test_alias_to_unknown_user_refused(self):
        off = self.inst.log_size()
        with Conn(self.inst.port) as c:
            c.ehlo()
            self.assertEqual(c.cmd("MAIL FROM:<%s>" % SENDER).code, 250)
            for a in ("broken@example.com", "mixed@example.com"):
                r = c.cmd("RCPT TO:<%s>" % a)
                self.assertEqual(r.lines, ["550 5.1.1 <%s>: Recipient "
                                           "address rejected: User unknown "
                                           "in local recipient table" % a])
        self.assertIsNotNone(self.inst.wait_log(
            r"warning: alias broken@example\.com: nosuch@example\.com is "
            r"not in the users file; mail to the alias is refused", 5, off))
        self.assertIsNotNone(self.inst.wait_log(
            r"warning: alias mixed@example\.com: nobody@example\.com is "
            r"not in the users file", 5, off))

    def test_check_names_the_broken_aliases(self):
        r = self.inst.mailctl("check", check=False)
        self.assertEqual(r.returncode, 0, r.stderr)
        for line, name, target in ((5, "broken", "nosuch"),
                                   (6, "mixed", "nobody")):
            self.assertIn("mailctl: warning: %s/aliases:%d: alias %s: "
                          "%s@example.com is not in the users file, so "
                          "mail to the alias is refused at RCPT"
                          % (self.inst.dir, line, name, target), r.stderr)
        self.assertNotIn("alias info", r.stderr)

    def test_remote_duplicates_leave_once(self):
        self.send(["<dave@remote.example>", "<dave@REMOTE.example>",
                   "<dave@remote.example>", "<erin@remote.example>"],
                  "dup-remote")
        got = self.wait_peer(self.peer.rec, "dup-remote")
        self.assertEqual(len(got), 1)
        self.assertEqual(sorted(got[0]["rcpt_tos"]),
                         ["dave@remote.example", "erin@remote.example"])

    def test_randomised_reconciliation(self):
        """Random mixes of the forms above over 150 messages: every
        accepted message is in each mailbox it was meant for exactly
        once, and nowhere else."""
        rng = random.Random(15)
        forms = {
            ALICE: ["<alice@example.com>", "<Alice@EXAMPLE.COM>",
                    '<"alice"@example.com>', "<alice+x@example.com>",
                    "<info@example.com>", "<info@localhost>",
                    "<@r.example:alice@example.com>"],
            BOB: ["<bob@example.com>", "<BOB@example.com>",
                  "<bob+y@Example.COM>"],
        }
        group = {"<sales@example.com>": {ALICE, BOB},
                 "<team@example.com>": {ALICE, BOB}}
        meant = {}
        n = 150
        for i in range(n):
            token = "dup-rand-%d" % i
            rcpts, users = [], set()
            for _ in range(rng.randint(2, 6)):
                if rng.random() < 0.2:
                    g = rng.choice(sorted(group))
                    rcpts.append(g)
                    users |= group[g]
                else:
                    u = rng.choice(sorted(forms))
                    rcpts.append(rng.choice(forms[u]))
                    users.add(u)
            self.send(rcpts, token)
            meant[token] = users
        extra = missing = 0
        for token, users in meant.items():
            for u in (ALICE, BOB):
                c = self.copies(u, token)
                want = 1 if u in users else 0
                extra += max(0, c - want)
                missing += max(0, want - c)
        print("\n  reconciliation: %d messages, %d deliveries meant, %d "
              "extra copies, %d missing" % (n, sum(len(u) for u in
                                                  meant.values()),
                                           extra, missing))
        self.assertEqual((extra, missing), (0, 0))
