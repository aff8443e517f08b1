"""test_security.py - the privilege boundaries: local creating homes as
root, users-file names that would become paths, HELO bytes in our
Received header, and master's repair walk of the queue.

local runs as root and creates missing homes.  A home's parent may be
writable by the recipient (a mailbox_base owned by vmail), so these tests
swap directories for symbolic links under it while deliveries run, and
check that root never follows one: no chown, no directory created
elsewhere, the delivery deferred with the path in the log.
"""
import ctypes
import os
import pwd
import re
import shutil
import stat
import subprocess
import time
import unittest

import harness
from harness import Conn, find_message, read_file, wait_for

RENAME_EXCHANGE = 2
AT_FDCWD = -100


def chown_tree(path, uid, gid):
    os.chown(path, uid, gid)
    for root, dirs, files in os.walk(path):
        for n in dirs + files:
            os.lchown(os.path.join(root, n), uid, gid)


def send(inst, rcpt, token, helo="client.example.org"):
    with inst.smtp() as s:
        s.ehlo(helo)
        s.sendmail("sender@client.example", [rcpt],
                   "Subject: %s\r\n\r\n%s\r\n" % (token, token))


def maildir_files(home):
    """Delivered files (new/ and cur/) of the Maildir in home."""
    out = []
    for sub in ("new", "cur"):
        d = os.path.join(home, "Maildir", sub)
        if os.path.isdir(d):
            out += [os.path.join(d, n) for n in os.listdir(d)]
    return out


def find_in(home, token, timeout=15):
    """The delivered file in home's Maildir that contains token."""
    def look():
        for p in maildir_files(home):
            try:
                if token in read_file(p):
                    return p
            except OSError:
                pass
        return None
    return wait_for(look, timeout)


def tree(path):
    """Every name below path with its owner and mode (lstat)."""
    out = {}
    for root, dirs, files in os.walk(path):
        for n in dirs + files:
            p = os.path.join(root, n)
            st = os.lstat(p)
            out[os.path.relpath(p, path)] = (st.st_uid, st.st_gid,
                                            stat.S_IMODE(st.st_mode))
    return out


class HomeCase(harness.InstanceTestCase):
    """Homes in places the recipient (or another user) controls."""

    USERS = ["alice", "vbase", "symlinked", "foreign", "groupw", "lnkhome",
             "mdlink", "dotdot"]

    @classmethod
    def setUpClass(cls):
        cls.inst = inst = harness.Instance(
            main={"master_stop_timeout": "3s"},
            users=["%s@example.com" % u for u in cls.USERS])
        d = inst.dir
        cls.nobody = pwd.getpwnam("nobody").pw_uid
        uid, gid = inst.uid, inst.gid
        # the vmail layout: a base owned by the (shared) mailbox uid
        os.mkdir(os.path.join(d, "vbase"))
        os.chown(os.path.join(d, "vbase"), uid, gid)
        # a component that is a symbolic link to a root-owned directory
        os.makedirs(os.path.join(d, "elsewhere"))
        os.makedirs(os.path.join(d, "links"))
        os.symlink(os.path.join(d, "elsewhere"),
                   os.path.join(d, "links", "sub"))
        # a component owned by another user
        os.makedirs(os.path.join(d, "foreign", "x"))
        os.chown(os.path.join(d, "foreign", "x"), cls.nobody, cls.nobody)
        # the recipient's own directory, but group-writable
        os.makedirs(os.path.join(d, "gw"))
        os.chown(os.path.join(d, "gw"), uid, gid)
        os.chmod(os.path.join(d, "gw"), 0o775)
        # the home itself a link to a directory the recipient owns
        os.makedirs(os.path.join(d, "target"))
        os.chown(os.path.join(d, "target"), uid, gid)
        os.makedirs(os.path.join(d, "homes2"))
        os.symlink(os.path.join(d, "target"),
                   os.path.join(d, "homes2", "lnkhome"))
        # an existing home whose Maildir is a link
        os.makedirs(os.path.join(d, "homes3", "mdlink"))
        os.makedirs(os.path.join(d, "mdtarget"))
        chown_tree(os.path.join(d, "homes3", "mdlink"), uid, gid)
        chown_tree(os.path.join(d, "mdtarget"), uid, gid)
        os.symlink(os.path.join(d, "mdtarget"),
                   os.path.join(d, "homes3", "mdlink", "Maildir"))
        cls.homes = {
            "alice": inst.home("alice@example.com"),
            "vbase": os.path.join(d, "vbase", "example.com", "vbase"),
            "symlinked": os.path.join(d, "links", "sub", "symlinked"),
            "foreign": os.path.join(d, "foreign", "x", "foreign"),
            "groupw": os.path.join(d, "gw", "groupw"),
            "lnkhome": os.path.join(d, "homes2", "lnkhome"),
            "mdlink": os.path.join(d, "homes3", "mdlink"),
        }
        with open(os.path.join(d, "users"), "w") as f:
            for u, h in cls.homes.items():
                f.write("%s@example.com:%s:%d:%d::%s::\n" % (
                    u, harness.PASSWORD_HASH, uid, gid, h))
            # "." and ".." in a home: the loader skips the line
            f.write("dotdot@example.com:%s:%d:%d::%s::\n" % (
                harness.PASSWORD_HASH, uid, gid,
                os.path.join(d, "vbase", "..", "dotdot")))
        try:
            inst.start()
        except Exception:
            inst.cleanup()
            raise

    def refused(self, user, path, why):
        """A message to user is deferred with path and why in the log."""
        off = self.inst.log_size()
        send(self.inst, "%s@example.com" % user, "to-" + user)
        m = self.inst.wait_log(
            r"cannot deliver to %s@example\.com: 4\.2\.0 unsafe or "
            r"unusable directory (\S+): ([^\n]*)" % user, since=off)
        self.assertIsNotNone(m, self.inst.log_since(off))
        self.assertEqual(m.group(1), path)
        self.assertEqual(m.group(2), why)
        self.assertIsNotNone(self.inst.wait_log(
            r"to=<%s@example\.com>, relay=local.*dsn=4\.2\.0, "
            r"status=deferred \(unsafe or unusable directory" % user,
            since=off))

    def test_root_owned_parent(self):
        """A home below root's directories: made by root, then given to
        the recipient (0700), and the Maildir inside is the
        recipient's."""
        send(self.inst, "alice@example.com", "root-parent")
        self.assertIsNotNone(find_message(self.inst, "alice@example.com",
                                          b"root-parent"))
        st = os.stat(self.homes["alice"])
        self.assertEqual((st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)),
                         (self.inst.uid, self.inst.gid, 0o700))
        st = os.stat(os.path.dirname(self.homes["alice"]))
        self.assertEqual((st.st_uid, stat.S_IMODE(st.st_mode)), (0, 0o755))
        for n, (uid, gid, _mode) in tree(self.homes["alice"]).items():
            self.assertEqual((uid, gid), (self.inst.uid, self.inst.gid), n)

    def test_recipient_owned_base(self):
        """Below a base that belongs to the recipient's uid (vmail), the
        missing directories are made with the recipient's ids: no chown
        by root is needed or done."""
        send(self.inst, "vbase@example.com", "vmail-base")
        p = find_in(self.homes["vbase"], b"vmail-base")
        self.assertIsNotNone(p)
        base = os.path.join(self.inst.dir, "vbase")
        for n, (uid, gid, mode) in tree(base).items():
            self.assertEqual((uid, gid), (self.inst.uid, self.inst.gid), n)
        self.assertEqual(tree(base)["example.com"][2], 0o755)
        self.assertEqual(tree(base)["example.com/vbase"][2], 0o700)

    def test_symlink_component_refused(self):
        """A component of the home that is a symbolic link: deferred,
        nothing made where the link points."""
        self.refused("symlinked", os.path.join(self.inst.dir, "links",
                                               "sub"), "symbolic link")
        self.assertEqual(os.listdir(os.path.join(self.inst.dir,
                                                 "elsewhere")), [])

    def test_foreign_component_refused(self):
        """A directory on the way that belongs to another user: deferred,
        nothing created in it, its owner unchanged."""
        x = os.path.join(self.inst.dir, "foreign", "x")
        self.refused("foreign", x, "owned by another user")
        self.assertEqual(os.listdir(x), [])
        self.assertEqual(os.stat(x).st_uid, self.nobody)

    def test_group_writable_component_refused(self):
        """The recipient's own directory, writable by its group: others
        could swap entries in it, so it is refused."""
        gw = os.path.join(self.inst.dir, "gw")
        self.refused("groupw", gw, "writable by group or others")
        self.assertEqual(os.listdir(gw), [])

    def test_symlinked_home_refused(self):
        """The home itself a symbolic link: refused, the target keeps
        nothing."""
        self.refused("lnkhome", self.homes["lnkhome"], "symbolic link")
        self.assertEqual(os.listdir(os.path.join(self.inst.dir, "target")),
                         [])

    def test_symlinked_maildir_refused(self):
        """Below the home too (as the recipient): a Maildir that is a
        link is not followed."""
        off = self.inst.log_size()
        send(self.inst, "mdlink@example.com", "md-link")
        self.assertIsNotNone(self.inst.wait_log(
            r"to=<mdlink@example\.com>, relay=local.*dsn=4\.2\.0, "
            r"status=deferred \(cannot write maildir \S+: a symbolic link "
            r"on the way\)", since=off), self.inst.log_since(off))
        self.assertEqual(os.listdir(os.path.join(self.inst.dir,
                                                 "mdtarget")), [])

    def test_dotdot_home_skipped(self):
        """A users-file home with a ".." component is skipped at load
        (unknown user: 550 at RCPT) and mailctl check says so."""
        with Conn(self.inst.port) as c:
            c.ehlo()
            self.assertEqual(c.cmd("MAIL FROM:<s@client.example>").code,
                             250)
            r = c.cmd("RCPT TO:<dotdot@example.com>")
            self.assertEqual(r.code, 550, r)
        r = self.inst.mailctl("check", check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertRegex(r.stderr, r"users:8: dotdot@example\.com: home is "
                         r"not an absolute path without \. and \.\. "
                         r"components, skipped")


class HomeRaceCase(harness.InstanceTestCase):
    """The attack of the security review: the recipient owns the parent
    of its not-yet-created home and swaps the new directory for a link to
    a root-owned file (renameat2 RENAME_EXCHANGE) while deliveries make
    it again and again.  The file must stay root's."""

    N = 150

    @classmethod
    def setUpClass(cls):
        cls.inst = inst = harness.Instance(
            main={"master_stop_timeout": "3s",
                  "minimal_backoff_time": "1s",
                  "maximal_backoff_time": "1s"},
            users=["race@example.com"])
        d = inst.dir
        cls.base = os.path.join(d, "rbase")
        os.mkdir(cls.base)
        os.chown(cls.base, inst.uid, inst.gid)
        cls.home = os.path.join(cls.base, "race")
        cls.secret = os.path.join(d, "secret")
        with open(cls.secret, "w") as f:
            f.write("root only\n")
        os.chmod(cls.secret, 0o600)
        with open(os.path.join(d, "users"), "w") as f:
            f.write("race@example.com:%s:%d:%d::%s::\n" % (
                harness.PASSWORD_HASH, inst.uid, inst.gid, cls.home))
        try:
            inst.start()
        except Exception:
            inst.cleanup()
            raise

    def attacker(self, stop, counter):
        """Child process, as the recipient: whenever the home appears as a
        directory, exchange it with a link to the secret, then clear both
        so the next delivery makes the home again."""
        os.setgroups([])
        os.setgid(self.inst.gid)
        os.setuid(self.inst.uid)
        libc = ctypes.CDLL(None, use_errno=True)
        home = self.home.encode()
        evil = os.path.join(self.base, "evil").encode()
        swaps = 0
        while not os.path.exists(stop):
            try:
                if os.path.lexists(evil):
                    if os.path.islink(evil):
                        os.unlink(evil)
                    else:
                        shutil.rmtree(evil, ignore_errors=True)
                os.symlink(self.secret, evil)
                while not os.path.exists(stop):
                    try:
                        st = os.lstat(home)
                    except FileNotFoundError:
                        continue
                    if stat.S_ISDIR(st.st_mode):
                        break
                    os.unlink(home)
                else:
                    break
                if libc.renameat2(AT_FDCWD, home, AT_FDCWD, evil,
                                  RENAME_EXCHANGE) == 0:
                    swaps += 1
                    with open(counter, "w") as f:
                        f.write("%d\n" % swaps)
                    time.sleep(0.001)
                    os.unlink(home)
            except OSError:
                continue
        os._exit(0)

    def test_race_never_gives_root_file_away(self):
        stop = os.path.join(self.inst.dir, "stop")
        counter = os.path.join(self.inst.dir, "swaps")
        with open(counter, "w"):
            pass
        os.chown(counter, self.inst.uid, self.inst.gid)
        pid = os.fork()
        if pid == 0:
            try:
                self.attacker(stop, counter)
            finally:
                os._exit(1)
        try:
            load = harness.Load(self.inst, self.N, conns=4,
                                rcpt="race@example.com").start()
            self.assertTrue(load.wait(120), load.errors[:5])
            # the deferred ones come round again and again under attack
            self.inst.wait_queue_empty(30)
        finally:
            with open(stop, "w"):
                pass
            os.waitpid(pid, 0)
        st = os.lstat(self.secret)
        swaps = int(read_file(counter).strip() or b"0") \
            if os.path.exists(counter) else 0
        log = self.inst.log()
        refused = log.count("cannot deliver to race@example.com")
        print("\n  race: %d messages, %d homes swapped for a link, %d "
              "deliveries refused" % (self.N, swaps, refused))
        self.assertEqual((st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)),
                         (0, 0, 0o600), "the secret was given away")
        self.assertGreater(swaps, 20, "the race was not run")
        # what is left under the base is the recipient's, never root's
        for n, (uid, _gid, _mode) in tree(self.base).items():
            self.assertEqual(uid, self.inst.uid, n)
        # with the attacker gone every acknowledged message was delivered
        # (some into homes the attacker then threw away), and a new one
        # lands in a home made afresh
        self.assertTrue(self.inst.wait_queue_empty(60))
        sent = set(re.findall(r"(\w+): to=<race@example\.com>, "
                              r"relay=local.*status=sent", self.inst.log()))
        self.assertEqual(len(sent), self.N)
        if os.path.islink(self.home):
            os.unlink(self.home)
        shutil.rmtree(self.home, ignore_errors=True)
        send(self.inst, "race@example.com", "after-the-race")
        self.assertIsNotNone(find_in(self.home, b"after-the-race"))


class QueueWalkCase(unittest.TestCase):
    """master's repair walk at start gives files below queue/ to
    mail_owner as root: a link, or a second name of a root file, planted
    there by mail_owner is not followed or changed."""

    def test_walk_does_not_follow(self):
        inst = harness.Instance()
        try:
            inst.start()
            inst.stop()
            secret = os.path.join(inst.dir, "secret")
            with open(secret, "w") as f:
                f.write("x\n")
            os.chmod(secret, 0o600)
            q = os.path.join(inst.queue, "queue")
            os.symlink(secret, os.path.join(q, "link"))
            os.link(secret, os.path.join(q, "hardlink"))
            sub = os.path.join(q, "Z")
            os.mkdir(sub)           # root's: fixed by the walk
            inst.start()
            st = os.stat(secret)
            self.assertEqual((st.st_uid, st.st_gid), (0, 0))
            owner = pwd.getpwnam(harness.MAIL_OWNER)
            self.assertEqual(os.stat(sub).st_uid, owner.pw_uid)
            log = inst.log()
            self.assertIn("queue/link: not a directory or a file with one "
                          "name in the queue, left alone", log)
            self.assertIn("queue/hardlink: not a directory or a file with "
                          "one name in the queue, left alone", log)
            os.unlink(os.path.join(q, "link"))
            os.unlink(os.path.join(q, "hardlink"))
        finally:
            inst.stop()
            errs = inst.sanitizer_errors()
            inst.cleanup()
        self.assertEqual(errs, [])


class HeloCase(harness.InstanceTestCase):
    """Bytes of HELO outside printable ASCII never reach our Received
    header (each becomes '?', as in Postfix); the log escapes them."""

    @classmethod
    def setUpClass(cls):
        cls.inst = harness.Instance(main={"master_stop_timeout": "3s"})
        try:
            cls.inst.start()
        except Exception:
            cls.inst.cleanup()
            raise

    def test_helo_bytes_in_received(self):
        cases = [b"a\x1bb", b"a\rb", b"caf\xc3\xa9.example", b"a\x01\x7fb",
                 b"a\tb"]
        for i, helo in enumerate(cases):
            token = b"helo-case-%d" % i
            with Conn(self.inst.port) as c:
                c.send(b"EHLO " + helo + b"\r\n")
                r = c.reply()
                self.assertEqual(r.code, 250, (helo, r))
                self.open_txn(c, "s@client.example", ["alice@example.com"])
                c.send(b"Subject: " + token + b"\r\n\r\nx\r\n.\r\n")
                self.assertEqual(c.reply().code, 250)
            p = find_message(self.inst, "alice@example.com", token)
            self.assertIsNotNone(p, helo)
            first = read_file(p).split(b"\nReceived: ", 1)[1].split(b"\n")[0]
            want = bytes(c if 0x21 <= c <= 0x7e else ord("?")
                         for c in helo)
            self.assertTrue(first.startswith(b"from " + want + b" ("),
                            (helo, first))
            self.assertTrue(all(0x20 <= c <= 0x7e or c == 9
                                for c in first), first)


if __name__ == "__main__":
    unittest.main()
