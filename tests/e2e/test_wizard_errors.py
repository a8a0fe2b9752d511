"""The wizard refuses bad answers in the dialog and asks again; Escape/Quit and Ctrl-C leave
nothing written; without a terminal it refuses to start."""
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from wizard_walk import ADMIN_PASSWORD, capture, start, walk_to_summary  # noqa: E402


def fresh_output(name):
    outdir = os.path.join(harness.WORK, "wizard", name + "-out")
    os.makedirs(outdir, exist_ok=True)
    for f in os.listdir(outdir):
        os.unlink(os.path.join(outdir, f))
    return outdir, os.path.join(outdir, "profile.yaml")


def nothing_written(outdir):
    harness.check(os.listdir(outdir) == [], f"files were written: {os.listdir(outdir)}")


def test_invalid_host_name_and_mismatched_password_are_asked_again():
    outdir, out = fresh_output("errors")
    work, t = start("errors", "--output", out)
    with t:
        t.wait_for("Host name (1 of 8)")
        t.replace_field("bad_host")
        t.keys("Enter")
        screen = t.wait_for("Error:")
        harness.check("Host name (1 of 8)" in screen and "not fully qualified" in screen, screen)
        t.replace_field("mail.exa_mple.com")
        t.keys("Enter")
        screen = t.wait_for("not a valid host name")
        capture(t, "hostname-error", ["Error:", "Host name (1 of 8)", "<Next>"])
        t.replace_field("mail.example.com")
        t.keys("Enter")
        t.wait_for("Mode (2 of 8)")
        t.keys("Enter")
        t.wait_for("Domains (3 of 8)")
        t.keys("Enter")
        t.wait_for("Administrator (4 of 8)")
        t.keys("Enter")
        t.type(ADMIN_PASSWORD)
        t.keys("Enter")
        t.type(ADMIN_PASSWORD + "x")
        t.keys("Enter")
        screen = t.wait_for("Error:")
        capture(t, "admin-error", ["The two passwords differ", "Administrator (4 of 8)"])
        harness.check("Administrator (4 of 8)" in screen, screen)
        # The typed passwords are gone from the fields; the cursor waits in the first one.
        t.type("short")
        t.keys("Enter")
        t.type("short")
        t.keys("Enter")
        t.wait_for("too short")
        t.type(ADMIN_PASSWORD)
        t.keys("Enter")
        t.type(ADMIN_PASSWORD)
        t.keys("Enter")
        t.wait_for("Mailboxes (5 of 8)")
        # Back returns to the previous question with the answer kept.
        t.keys("Tab", "Tab", "Enter")
        screen = t.wait_for("Administrator (4 of 8)")
        harness.check("to keep the password" in screen, screen)
        t.keys("Enter", "Enter", "Enter")
        t.wait_for("Mailboxes (5 of 8)")
        t.keys("Enter")
        t.wait_for("TLS certificate (6 of 8)")
        t.keys("Enter")
        t.wait_for("DNS (7 of 8)")
        t.keys("Enter")
        t.wait_for("Summary (8 of 8)")
        t.keys("F12")
        harness.check(t.wait_exit() == 0, t.screen())
    harness.check(os.path.exists(out), "no profile written")
    harness.run_cmd([harness.BIN, "check-profile", out], check_rc=0)


def test_escape_asks_and_quit_writes_nothing():
    outdir, out = fresh_output("escape")
    work, t = start("escape", "--output", out)
    with t:
        walk_to_summary(t, "full")
        t.keys("Escape")
        t.wait_for("Quit?")
        capture(t, "quit", ["Nothing has been written", "<Quit>", "<Continue>"])
        t.keys("Enter")  # Continue has the focus
        t.wait_for("Summary (8 of 8)")
        t.keys("Escape")
        t.wait_for("Quit?")
        t.keys("BTab", "Enter")
        rc = t.wait_exit()
        screen = t.screen()
    harness.check(rc == 2, f"exit {rc}, expected 2\n{screen}")
    harness.check("quit; nothing was written" in screen, screen)
    nothing_written(outdir)


def test_ctrl_c_writes_nothing_even_in_relay_mode():
    outdir, out = fresh_output("ctrl-c")
    work, t = start("ctrl-c", "--output", out)
    with t:
        walk_to_summary(t, "relay", relay=("smtp.provider.example", 587, "relay@example.com",
                                           "provider-secret", "", ""))
        t.keys("C-c")
        rc = t.wait_exit()
    harness.check(rc == 2, f"exit {rc}, expected 2")
    nothing_written(outdir)


def test_sigterm_writes_nothing_and_gives_the_terminal_back():
    outdir, out = fresh_output("sigterm")
    work, t = start("sigterm", "--output", out)
    with t:
        t.wait_for("Host name (1 of 8)")
        pattern = "^" + re.escape(harness.BIN) + " wizard --output"
        pid = subprocess.run(["pgrep", "-f", pattern], capture_output=True, text=True,
                             timeout=10).stdout.split()
        harness.check(len(pid) >= 1, "the wizard process was not found")
        for p in pid:
            os.kill(int(p), 15)
        rc = t.wait_exit()
        screen = t.screen()
    harness.check(rc == 2, f"exit {rc}, expected 2\n{screen}")
    harness.check("nothing was written" in screen, screen)
    nothing_written(outdir)


def test_without_a_terminal_it_refuses_at_once():
    outdir, out = fresh_output("notty")
    start_time = time.monotonic()
    proc = harness.run_cmd([harness.BIN, "wizard", "--output", out], stdin=subprocess.DEVNULL,
                           timeout=30)
    harness.check(proc.returncode == 2, f"exit {proc.returncode}")
    harness.check("needs a terminal" in proc.stderr, proc.stderr)
    harness.check(time.monotonic() - start_time < 5, "took too long")
    nothing_written(outdir)


harness.main(globals())
