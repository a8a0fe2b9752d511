"""Every profile in the bad corpus is refused with its expected message, exit 2, and a run with it
leaves an already provisioned sandbox byte for byte unchanged."""
import glob
import os

import harness
from harness import SOURCE, BIN, Sandbox, check, diff_trees, run_cmd
from test_engine_sandbox import DAEMON_RUNTIME

CORPUS = sorted(glob.glob(os.path.join(SOURCE, "tests", "profiles", "bad", "*.yaml")))


def expected_lines(path):
    with open(path[:-len(".yaml")] + ".expected") as f:
        return [line.rstrip("\n").replace("FILE", path) for line in f if line.strip()]


def test_corpus_is_large_enough():
    check(len(CORPUS) >= 30, f"only {len(CORPUS)} bad profiles")


def test_check_profile_reports_each_expected_message():
    problems = []
    for path in CORPUS:
        proc = run_cmd([BIN, "check-profile", path], timeout=30)
        if proc.returncode != 2:
            problems.append(f"{path}: exit {proc.returncode}, expected 2")
            continue
        for line in expected_lines(path):
            if line not in proc.stderr:
                problems.append(f"{path}: missing message {line!r}; got:\n{proc.stderr}")
    check(not problems, "\n".join(problems))


def test_oversized_profile_is_refused():
    # Generated at test time (tests/profiles/make-oversized) rather than committed: 1.1 MiB.
    os.makedirs(harness.WORK, exist_ok=True)
    path = os.path.join(harness.WORK, "oversized.yaml")
    run_cmd([os.path.join(SOURCE, "tests", "profiles", "make-oversized"), path], check_rc=0)
    try:
        with open(os.path.join(SOURCE, "tests", "profiles", "oversized.expected")) as f:
            expected = f.read().strip().replace("FILE", path)
        proc = run_cmd([BIN, "check-profile", path], timeout=30)
        check(proc.returncode == 2, f"exit {proc.returncode}\n{proc.stderr}")
        check(expected in proc.stderr, f"missing {expected!r}; got:\n{proc.stderr}")
    finally:
        os.unlink(path)


def test_bad_profile_changes_nothing_in_a_provisioned_sandbox():
    with Sandbox("engine-bad") as sb:
        sb.run()
        before = sb.snapshot(exclude=DAEMON_RUNTIME)
        for path in CORPUS:
            proc = run_cmd([BIN, "run", "--profile", path, "--sandbox", sb.dir], timeout=30)
            check(proc.returncode == 2, f"{path}: exit {proc.returncode}\n{proc.stderr}")
        changes = diff_trees(before, sb.snapshot(exclude=DAEMON_RUNTIME))
        check(not changes, "a bad profile changed the sandbox:\n" + "\n".join(changes))


def test_bad_profile_creates_no_sandbox():
    with Sandbox("engine-bad-fresh") as sb:
        proc = run_cmd([BIN, "run", "--profile", CORPUS[0], "--sandbox", sb.dir], timeout=30)
        check(proc.returncode == 2, proc.stderr)
        check(not os.path.exists(sb.dir), "a bad profile created the sandbox directory")


if __name__ == "__main__":
    harness.main(globals())
