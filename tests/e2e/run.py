#!/usr/bin/python3
"""run.py - run the end-to-end tests; the last line is
"e2e: N passed, N failed, N skipped", each failed test is named before it
on an "e2e failed: NAME" line.  -k PATTERN selects tests whose name
contains PATTERN; given more than once, tests that match any of them."""
import argparse
import os
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)


class Result(unittest.TextTestResult):
    """Remembers the id of every test that ran (count() tells errors
    outside tests from failed tests by it)."""

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        self.test_ids = set()

    def startTest(self, test):
        self._t0 = time.time()
        self.test_ids.add(test.id())
        super().startTest(test)


def count(res):
    """(passed, failed names, skipped (name, reason)): one count
    per test method: a test with failing subtests is one failed test
    however many of them failed, and a test whose body and teardown both
    fail is one too.  An error outside any test (setUpClass,
    tearDownClass, a module that does not import) is one failed entry of
    its own."""
    def name(t):
        # a subtest's result names its test: count the test
        return getattr(t, "test_case", t).id()
    bad = {name(t) for t, _ in res.failures + res.errors}
    bad |= {name(t) for t in res.unexpectedSuccesses}
    skipped = {}
    for t, why in res.skipped:
        if name(t) not in bad:
            skipped.setdefault(name(t), why)
    passed = res.test_ids - bad - set(skipped)
    return len(passed), sorted(bad), sorted(skipped.items())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-k", action="append", default=[])
    args = ap.parse_args()
    if os.geteuid() != 0:
        print("end-to-end tests must run as root")
        print("e2e: 0 passed, 1 failed")
        return 1
    loader = unittest.TestLoader()
    if args.k:
        loader.testNamePatterns = ["*%s*" % k for k in args.k]
    suite = loader.discover(HERE, pattern="test_*.py", top_level_dir=HERE)
    runner = unittest.TextTestRunner(verbosity=2, resultclass=Result,
                                     stream=sys.stdout)
    res = runner.run(suite)
    passed, failed, skipped = count(res)
    for name in failed:
        print("e2e failed: %s" % name)
    for name, why in skipped:
        print("e2e skipped: %s (%s)" % (name, why))
    print("e2e: %d passed, %d failed, %d skipped" % (passed, len(failed),
                                                     len(skipped)))
    return 0 if not failed else 1


if __name__ == "__main__":
    sys.exit(main())
