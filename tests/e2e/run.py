#!/usr/bin/python3
"""run.py - run the end-to-end tests; the last line is
"e2e: N passed, N failed".  -k PATTERN selects tests by name."""
import argparse
import os
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)


class Result(unittest.TextTestResult):
    def startTest(self, test):
        self._t0 = time.time()
        super().startTest(test)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-k", default="")
    args = ap.parse_args()
    if os.geteuid() != 0:
        print("end-to-end tests must run as root")
        print("e2e: 0 passed, 1 failed")
        return 1
    loader = unittest.TestLoader()
    if args.k:
        loader.testNamePatterns = ["*%s*" % args.k]
    suite = loader.discover(HERE, pattern="test_*.py", top_level_dir=HERE)
    runner = unittest.TextTestRunner(verbosity=2, resultclass=Result,
                                     stream=sys.stdout)
    res = runner.run(suite)
    # a test whose body and teardown both fail is one failed test
    bad = {t.id() for t, _ in res.failures + res.errors}
    bad |= {t.id() for t in res.unexpectedSuccesses}
    failed = len(bad)
    passed = max(res.testsRun - failed - len(res.skipped), 0)
    print("e2e: %d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
