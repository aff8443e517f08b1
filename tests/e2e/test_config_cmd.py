"""test_config_cmd.py - "mailctl config", youju's postconf (issue 12,
item 3), on an instance's configuration directory (no daemon needed):
-n shows exactly what main.cf sets, as lines main.cf reads back; -d the
defaults; -x expanded values; -h values alone; names (an unknown one is a
warning and exit 1); -e replaces an entry in place - comments, order,
continuation lines of others, owner and mode kept, the file replaced
atomically - or appends it, refuses a value of the wrong type and leaves
the file alone; -X removes; -M, -F and -P show master.cf.
"""
import os
import stat
import unittest

import harness
from harness import Instance

MAIN = """# the admin's notes
myhostname = mx.example.com
mydomain = example.com
mydestination = $mydomain, localhost

smtpd_recipient_restrictions = permit_mynetworks,
# the rest is refused
    reject_unauth_destination
mua_sender_restrictions = reject_sender_login_mismatch
"""

MASTER = """smtp      inet  n - y - - smtpd
submission inet n - y - 20 smtpd
  -o smtpd_tls_security_level=encrypt
  -o smtpd_sasl_auth_enable=yes
"""


class ConfigCmdTest(unittest.TestCase):

    def setUp(self):
        self.inst = Instance()
        self.main = os.path.join(self.inst.dir, "main.cf")
        with open(self.main) as f:
            self.harness_main = f.read()
        with open(self.main, "w") as f:
            f.write(self.harness_main + MAIN)
        with open(os.path.join(self.inst.dir, "master.cf"), "w") as f:
            f.write(MASTER)

    def tearDown(self):
        self.inst.cleanup()

    def mc(self, *args, rc=0):
        r = self.inst.mailctl("config", *args, check=False)
        self.assertEqual(r.returncode, rc, (args, r.stdout, r.stderr))
        return r

    def test_n_is_main_cf_and_reads_back(self):
        out = self.mc("-n").stdout
        self.assertIn("myhostname = mx.example.com\n", out)
        self.assertIn("mydestination = $mydomain, localhost\n", out)
        self.assertIn("smtpd_recipient_restrictions = permit_mynetworks, "
                      "reject_unauth_destination\n", out)
        self.assertIn("mua_sender_restrictions = reject_sender_login_"
                      "mismatch\n", out)
        self.assertNotIn("message_size_limit", out)
        # -n output as a main.cf gives the same -n output
        with open(self.main, "w") as f:
            f.write(out)
        self.assertEqual(self.mc("-n").stdout, out)

    def test_defaults_expansion_names(self):
        self.assertEqual(self.mc("-d", "myorigin").stdout,
                         "myorigin = $myhostname\n")
        self.assertEqual(self.mc("-d", "message_size_limit").stdout,
                         "message_size_limit = 10240000\n")
        self.assertEqual(self.mc("-x", "mydestination").stdout,
                         "mydestination = example.com, localhost\n")
        self.assertEqual(self.mc("-h", "myhostname").stdout,
                         "mx.example.com\n")
        r = self.mc("myhostname", "no_such_parameter", rc=1)
        self.assertEqual(r.stdout, "myhostname = mx.example.com\n")
        self.assertIn("warning: no_such_parameter: unknown parameter",
                      r.stderr)
        allp = self.mc().stdout.splitlines()
        self.assertGreater(len(allp), 100)
        self.assertTrue(all(" =" in l for l in allp))
        self.mc("-n", "-d", rc=2)

    def test_edit_keeps_the_rest(self):
        os.chmod(self.main, 0o640)
        os.chown(self.main, 0, self.inst.gid)
        ino = os.stat(self.main).st_ino
        self.mc("-e", "smtpd_recipient_restrictions = permit_mynetworks, "
                "reject", "message_size_limit=20480000",
                "mua_sender_restrictions=permit")
        with open(self.main) as f:
            text = f.read()
        self.assertEqual(text, self.harness_main + MAIN.replace(
            "smtpd_recipient_restrictions = permit_mynetworks,\n"
            "# the rest is refused\n    reject_unauth_destination\n",
            "smtpd_recipient_restrictions = permit_mynetworks, reject\n")
            .replace("= reject_sender_login_mismatch", "= permit") +
            "message_size_limit = 20480000\n")
        st = os.stat(self.main)
        self.assertEqual((stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid),
                         (0o640, 0, self.inst.gid))
        self.assertNotEqual(st.st_ino, ino)     # replaced, not rewritten
        self.assertEqual(os.listdir(self.inst.dir).count("main.cf"), 1)
        self.assertFalse([n for n in os.listdir(self.inst.dir)
                          if n.startswith("main.cf.")])
        self.assertEqual(self.mc("message_size_limit").stdout,
                         "message_size_limit = 20480000\n")

    def test_bad_edits_change_nothing(self):
        with open(self.main) as f:
            before = f.read()
        r = self.mc("-e", "message_size_limit=lots", rc=1)
        self.assertIn("message_size_limit", r.stderr)
        r = self.mc("-e", "bad name=1", rc=1)
        self.assertIn("not a parameter name", r.stderr)
        self.mc("-e", "no_equals_sign", rc=2)
        self.mc("-X", "a=b", rc=2)
        with open(self.main) as f:
            self.assertEqual(f.read(), before)
        r = self.mc("-e", "my_own_name=reject")
        self.assertIn("kept as a name for $my_own_name", r.stderr)

    def test_remove(self):
        self.mc("-X", "smtpd_recipient_restrictions")
        with open(self.main) as f:
            text = f.read()
        self.assertNotIn("smtpd_recipient_restrictions", text)
        self.assertNotIn("reject_unauth_destination", text)
        self.assertIn("# the admin's notes\n", text)
        r = self.mc("-X", "smtpd_recipient_restrictions")
        self.assertIn("main.cf does not set smtpd_recipient_restrictions",
                      r.stderr)

    def test_master_cf(self):
        out = self.mc("-M").stdout.splitlines()
        self.assertEqual(out[0].split(), ["smtp", "inet", "n", "y", "y",
                                          "0", "100", "smtpd"])
        self.assertEqual(out[1].split(), [
            "submission", "inet", "n", "y", "y", "0", "20", "smtpd", "-o",
            "smtpd_tls_security_level=encrypt", "-o",
            "smtpd_sasl_auth_enable=yes"])
        self.assertEqual(len(self.mc("-M", "submission/inet").stdout
                             .splitlines()), 1)
        self.assertEqual(self.mc("-M", "submission/unix").stdout, "")
        f = self.mc("-F", "submission").stdout
        self.assertIn("submission/inet/process_limit = 20\n", f)
        self.assertIn("submission/inet/chroot = y\n", f)
        self.assertEqual(self.mc("-P", "submission").stdout,
                         "submission/inet/smtpd_tls_security_level = "
                         "encrypt\nsubmission/inet/smtpd_sasl_auth_enable "
                         "= yes\n")
