"""test_maps.py - "mailctl map" (Postfix's postmap) against every table
type, and against Debian's real postmap where Postfix is installed.

Covered: building FILE.db (atomic: a new inode; a source with an error
changes nothing and names FILE:LINE; the owner, group and mode of the
source for a new .db, kept for an existing one); "map -q" on hash:,
texthash:, cidr:, regexp:, pcre:, inline: and the type:{...} forms, with
case folding, quoted keys and continuation lines, "-q -" for keys on
stdin; a source changed after its .db was built (the .db still answers,
"map -n" says it is older than its source, a rebuild answers the new
value); "map -n [-a]" on broken tables (file and line of each problem);
and the same files and keys asked of /usr/sbin/postmap: every answer must
be the same, for .db files built by mailctl (postmap reads them) and by
postmap (mailctl reads them).  The comparison is skipped with a message
when Postfix is not installed (pcre: when postfix-pcre is not).

No daemon runs here: mailctl map needs only a configuration directory.
"""
import os
import shutil
import subprocess
import tempfile
import unittest

import harness

POSTMAP = "/usr/sbin/postmap"

HASH_SRC = """# sender access
Spammer@Example.NET\tREJECT
example.org\t\t550 5.7.1 No mail from example.org
partner.example OK
postmaster@\tDUNNO
"john doe"@example.com\tHOLD quoted local part
multi\tfirst part
  second part
dup first
DUP second
192.0.2 REJECT network
a\\"b escaped quote
a\\ b escaped space
"""

CIDR_SRC = """192.0.2.10\tOK
192.0.2.0/24\tREJECT
2001:db8::1 OK6
2001:DB8::/32\tDEFER later
[10.0.0.0]/8 TEN
if 172.16.0.0/12
172.16.5.0/24 IN
!172.16.6.0/24 NOT
endif
0.0.0.0/0 ALL4
::/0 ALL6
"""

REGEXP_SRC = r"""/^(.*)-outgoing@(.*)$/ 550 Use ${1}@${2} instead
/^postmaster@/ OK
/^Strict@/i CASE
!/@example\.(com|org)$/ NOT-OURS $$
if !/^owner-/
/^(list)-request@/ REQUEST $1
endif
/[\.]@/ BRACKET
/\<word\>/ WORD
/^bre(a)\(b\)@/x BRE $1
/^u(s)?er@/ OPT[$1]
/^[[:digit:]]+@/ DIGITS
/^multi/ first
 second
"""

PCRE_SRC = r"""/^(?!owner-)(.*)-outgoing@(.*)/ 550 Use ${1}@${2} instead
/^(friend@(?!example\.com$).*)$/ 550 No $1
/^d\d+@/ DIGITS
/^lazy(.+?)(\d*)@/ LAZY[$1][$2]
/^Strict@/i CASE
if /@example\.org$/
!/^root@/ NOT-ROOT
endif
/^a b@/x SPACE-X
/^anch/A ANCHORED
"""

INLINE = "inline:{ A=b, { k = v, w }, {x=  y  z  }, dup=1, dup=2, c={d} }"

KEYS = [
    "spammer@example.net", "SPAMMER@EXAMPLE.NET", "example.org",
    "partner.example", "postmaster@", '"john doe"@example.com',
    "john doe@example.com", "multi", "dup", "192.0.2", "192.0.2.10",
    "192.0.2.99", "2001:db8::1", "2001:0db8:0::1", "2001:db8::2",
    "10.9.8.7", "172.16.5.1", "172.16.6.1", "172.16.7.1", "8.8.8.8", "::2",
    "[192.0.2.10]", "list-outgoing@example.com",
    "owner-list-outgoing@example.com", "postmaster@example.com",
    "strict@example.com", "Strict@example.com", "a@elsewhere.net",
    "list-request@example.com", "owner-request@example.com",
    "\\@example.com", "a word here@example.com", "swordfish@example.com",
    "bre(a)b@example.com", "user@example.com", "uer@example.com",
    "123@example.com", "friend@example.com", "friend@example.net",
    "d42@x", "lazy123@x", "user@example.org", "root@example.org",
    "ab@x", "a b@x", "anchor", "xanchor", "A", "a", "k", "x", "c",
    "nothing-here", "a\\\"b", "a\\ b", "",
]


def postfix_types():
    """The table types of the installed Postfix, or None."""
    if not os.access(POSTMAP, os.X_OK):
        return None
    d = tempfile.mkdtemp(prefix="youju-e2e-pf-")
    try:
        open(os.path.join(d, "main.cf"), "w").close()
        r = subprocess.run(["postconf", "-c", d, "-m"], capture_output=True,
                           text=True, timeout=30)
        return set(r.stdout.split()) if r.returncode == 0 else set()
    finally:
        shutil.rmtree(d)


class MapsTest(unittest.TestCase):
    """mailctl map with a configuration directory of its own."""

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="youju-e2e-maps-", dir="/tmp")
        os.chmod(cls.dir, 0o755)
        open(os.path.join(cls.dir, "main.cf"), "w").close()
        cls.san = []

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)
        if cls.san:
            raise AssertionError("sanitizer reports from mailctl:\n" +
                                 "\n".join(cls.san))

    def path(self, name):
        return os.path.join(self.dir, name)

    def write(self, name, text, mode=0o644):
        p = self.path(name)
        with open(p, "w") as f:
            f.write(text)
        os.chmod(p, mode)
        return p

    def mailctl(self, *args, input=None):
        env = dict(os.environ)
        env["ASAN_OPTIONS"] = "abort_on_error=1"
        env["UBSAN_OPTIONS"] = "print_stacktrace=1"
        r = subprocess.run([harness.mailctl_path(), "-c", self.dir, "map"] +
                           list(args), capture_output=True, text=True,
                           timeout=60, env=env,
                           input=input if input is not None else "")
        self.san += [l for l in r.stderr.splitlines()
                     if "Sanitizer" in l or "runtime error:" in l]
        return r

    def query(self, spec, key):
        """(exit status, value) of mailctl map -q."""
        r = self.mailctl("-q", key, spec)
        return r.returncode, r.stdout.rstrip("\n")

    # --- building --------------------------------------------------------
    def test_maps_build_hash(self):
        src = self.write("access", HASH_SRC, 0o640)
        r = self.mailctl(src)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("warning: %s:10: duplicate key \"dup\" (also at line "
                      "9)" % src, r.stderr)
        st = os.stat(src + ".db")
        self.assertEqual(st.st_mode & 0o7777, 0o640, "mode of the source")
        for key, want in [("spammer@example.net", "REJECT"),
                          ("SPAMMER@Example.Net", "REJECT"),
                          ("example.org", "550 5.7.1 No mail from "
                                          "example.org"),
                          ('"john doe"@example.com', "HOLD quoted local "
                                                     "part"),
                          ("multi", "first part  second part"),
                          ("dup", "first")]:
            self.assertEqual(self.query(src, key), (0, want), key)
        self.assertEqual(self.query(src, "nobody@example.com"), (1, ""))
        # hash: is the default type, and may be named
        self.assertEqual(self.query("hash:" + src, "partner.example"),
                         (0, "OK"))

    def test_maps_build_error_changes_nothing(self):
        src = self.write("broken", "good OK\n")
        self.assertEqual(self.mailctl(src).returncode, 0)
        ino = os.stat(src + ".db").st_ino
        self.write("broken", "good REJECT\n\"unbalanced key\nnovalue\n"
                   "ok OK\n")
        r = self.mailctl(src)
        self.assertEqual(r.returncode, 1)
        self.assertIn("error: %s:2: unbalanced '\"' in the key" % src,
                      r.stderr)
        self.assertIn("error: %s:3: expected \"key whitespace value\"" %
                      src, r.stderr)
        self.assertIn("2 errors: %s.db not changed" % src, r.stderr)
        self.assertEqual(os.stat(src + ".db").st_ino, ino)
        self.assertEqual(self.query(src, "good"), (0, "OK"))
        # a good source: a new file renamed over the old one
        self.write("broken", "good REJECT\n")
        self.assertEqual(self.mailctl(src).returncode, 0)
        self.assertNotEqual(os.stat(src + ".db").st_ino, ino)
        self.assertEqual(self.query(src, "good"), (0, "REJECT"))
        self.assertEqual([n for n in os.listdir(self.dir)
                          if n.startswith("broken.db.")], [],
                         "no temporary directory left")

    def test_maps_build_owner_mode(self):
        uid, gid = harness.ensure_user(harness.TEST_USER)
        src = self.write("owned", "k v\n", 0o640)
        os.chown(src, uid, gid)
        self.assertEqual(self.mailctl(src).returncode, 0)
        st = os.stat(src + ".db")
        self.assertEqual((st.st_uid, st.st_gid, st.st_mode & 0o7777),
                         (uid, gid, 0o640), "a new .db: the source's")
        os.chown(src + ".db", 0, 0)
        os.chmod(src + ".db", 0o600)
        self.write("owned", "k w\n", 0o644)
        self.assertEqual(self.mailctl(src).returncode, 0)
        st = os.stat(src + ".db")
        self.assertEqual((st.st_uid, st.st_gid, st.st_mode & 0o7777),
                         (0, 0, 0o600), "an existing .db keeps its own")
        self.assertEqual(self.query(src, "k"), (0, "w"))

    def test_maps_source_changed_after_build(self):
        src = self.write("changed", "sender@example.com REJECT\n")
        self.assertEqual(self.mailctl(src).returncode, 0)
        self.assertEqual(self.mailctl("-n", src).returncode, 0)
        # edited later, not rebuilt: the .db still answers, and -n says so
        st = os.stat(src + ".db")
        os.utime(src + ".db", (st.st_atime - 5, st.st_mtime - 5))
        self.write("changed", "sender@example.com OK\n")
        self.assertEqual(self.query(src, "sender@example.com"),
                         (0, "REJECT"))
        r = self.mailctl("-n", src)
        self.assertEqual(r.returncode, 1)
        self.assertIn("error: %s.db: older than its source %s: run "
                      "\"mailctl map %s\"" % (src, src, src), r.stderr)
        self.assertEqual(self.mailctl(src).returncode, 0)
        self.assertEqual(self.query(src, "sender@example.com"), (0, "OK"))
        r = self.mailctl("-n", src)
        self.assertEqual((r.returncode, r.stdout), (0, "1 table usable\n"))

    # --- querying ---------------------------------------------------------
    def test_maps_query_each_type(self):
        cases = {
            "texthash:" + self.write("t.txt", HASH_SRC): [
                ("SPAMMER@EXAMPLE.NET", "REJECT"), ("dup", "first"),
                ("192.0.2", "REJECT network")],
            "cidr:" + self.write("t.cidr", CIDR_SRC): [
                ("192.0.2.10", "OK"), ("192.0.2.99", "REJECT"),
                ("2001:0db8:0::1", "OK6"), ("2001:db8::2", "DEFER later"),
                ("10.9.8.7", "TEN"), ("172.16.5.1", "IN"),
                ("172.16.6.1", "ALL4"), ("172.16.7.1", "NOT"),
                ("::2", "ALL6"), ("[192.0.2.10]", None), ("foo", None)],
            "regexp:" + self.write("t.re", REGEXP_SRC): [
                ("list-outgoing@example.com",
                 "550 Use list@example.com instead"),
                ("Strict@example.com", "CASE"), ("strict@example.com", None),
                ("a@elsewhere.net", "NOT-OURS $"),
                ("list-request@example.com", "REQUEST list"),
                ("\\@example.com", "BRACKET"),
                ("a word here@example.com", "WORD"),
                ("bre(a)b@example.com", "BRE b"),
                ("uer@example.com", "OPT[]"), ("123@example.com", "DIGITS"),
                ("multi@example.com", "first second")],
            "pcre:" + self.write("t.pcre", PCRE_SRC): [
                ("owner-list-outgoing@example.com", None),
                ("friend@example.net", "550 No friend@example.net"),
                ("d42@x", "DIGITS"), ("LAZY123@x", "LAZY[1][23]"),
                ("user@example.org", "NOT-ROOT"), ("ab@x", "SPACE-X")],
            INLINE: [("a", "b"), ("K", "v, w"), ("x", "y  z"), ("dup", "2"),
                     ("c", "{d}")],
            "cidr:{ {192.0.2.0/24 NET}, {::/0 V6} }": [
                ("192.0.2.7", "NET"), ("::1", "V6"), ("10.0.0.1", None)],
            "regexp:{ {/^(a)/ R$1}, {/./ ANY} }": [("abc", "Ra"),
                                                   ("z", "ANY")],
            "pcre:{ {/^x(\\d+)/ N$1} }": [("x12", "N12"), ("y", None)],
        }
        for spec, kv in cases.items():
            for key, want in kv:
                with self.subTest(spec=spec[:30], key=key):
                    self.assertEqual(self.query(spec, key),
                                     (0, want) if want is not None else
                                     (1, ""))

    def test_maps_query_stdin(self):
        src = self.write("batch", "a 1\nb 2\n")
        self.assertEqual(self.mailctl(src).returncode, 0)
        r = self.mailctl("-q", "-", src, input="A\nmissing\nb\n")
        self.assertEqual((r.returncode, r.stdout), (0, "A\t1\nb\t2\n"))
        r = self.mailctl("-q", "-", src, input="missing\n")
        self.assertEqual((r.returncode, r.stdout), (1, ""))

    # --- checking ---------------------------------------------------------
    def test_maps_check_broken_tables(self):
        re = self.write("bad.re", "/ok/ OK\n/a(/ REJECT\n/(x)/ $2\n")
        r = self.mailctl("-n", "regexp:" + re)
        self.assertEqual(r.returncode, 1)
        self.assertIn("error: %s:2: pattern does not compile" % re, r.stderr)
        self.assertIn("error: %s:3: $2, but the pattern has 1 group" % re,
                      r.stderr)
        acc = self.write("bad.cidr", "192.0.2.0/24 REJECT\n10.0.0.0/8 "
                         "250 fine\n10.1.2.3/8 OK\n")
        r = self.mailctl("-n", "-a", "cidr:" + acc)
        self.assertEqual(r.returncode, 1)
        self.assertIn("error: %s:2: reply code 250 is not 4NN or 5NN" % acc,
                      r.stderr)
        self.assertIn("error: %s:3: host bits set in \"10.1.2.3/8\": "
                      "perhaps you mean \"10.0.0.0/8\"" % acc, r.stderr)
        good = self.write("good.pcre", "/^x/ REJECT go away\n/(y)/ "
                          "PREPEND X-Y: $1\n")
        r = self.mailctl("-n", "-a", "pcre:" + good, INLINE.replace(
            "A=b", "A=OK").replace("dup=1, dup=2, ", "").replace(
            "{ k = v, w }", "{ k = REJECT v, w }").replace(
            "{x=  y  z  }", "{x=  DUNNO  }").replace("c={d}", "c=HOLD"))
        self.assertEqual((r.returncode, r.stdout), (0, "2 tables usable\n"),
                         r.stderr)
        for spec, why in [("btree:" + good, "table type \"btree\" is not "
                           "supported"),
                          (self.path("nothere"), "nothere.db: No such file"),
                          ("texthash:" + self.path("nothere"),
                           "No such file")]:
            r = self.mailctl("-n", spec)
            self.assertEqual(r.returncode, 1, spec)
            self.assertIn(why, r.stderr)
        self.assertEqual(self.mailctl("-q", "k").returncode, 2, "usage")

    # --- the same answers as Postfix --------------------------------------
    def postmap(self, cfdir, *args, input=None):
        return subprocess.run([POSTMAP, "-c", cfdir] + list(args),
                              capture_output=True, text=True, timeout=60,
                              input=input if input is not None else "")

    def test_maps_same_as_postmap(self):
        types = postfix_types()
        if types is None:
            self.skipTest("Postfix is not installed (%s): no comparison"
                          % POSTMAP)
        pf = os.path.join(self.dir, "postfix")
        os.mkdir(pf)
        open(os.path.join(pf, "main.cf"), "w").close()
        ours = self.write("cmp-ours", HASH_SRC)
        self.assertEqual(self.mailctl(ours).returncode, 0)
        theirs = self.write("cmp-theirs", HASH_SRC)
        r = self.postmap(pf, theirs)
        self.assertEqual(r.returncode, 0, r.stderr)
        specs = ["hash:" + ours, "hash:" + theirs,
                 "texthash:" + self.write("cmp.txt", HASH_SRC),
                 "cidr:" + self.write("cmp.cidr", CIDR_SRC),
                 "regexp:" + self.write("cmp.re", REGEXP_SRC),
                 "pcre:" + self.write("cmp.pcre", PCRE_SRC), INLINE,
                 "cidr:{ {192.0.2.0/24 NET}, {::/0 V6} }",
                 "regexp:{ {/^(a)/ R$1}, {/./ ANY} }"]
        keys = "".join(k + "\n" for k in KEYS if k)
        compared = 0
        for spec in specs:
            if spec.split(":")[0] not in types:
                print("test_maps: %s is not in this Postfix (postconf -m):"
                      " not compared" % spec.split(":")[0])
                continue
            with self.subTest(spec=spec[:40]):
                mine = self.mailctl("-q", "-", spec, input=keys)
                real = self.postmap(pf, "-q", "-", spec, input=keys)
                self.assertEqual(mine.stdout, real.stdout, spec)
                self.assertEqual(mine.returncode, real.returncode, spec)
                self.assertGreater(len(mine.stdout.splitlines()), 3, spec)
                compared += 1
        self.assertGreaterEqual(compared, 8 if "pcre" in types else 7)


if __name__ == "__main__":
    unittest.main()
