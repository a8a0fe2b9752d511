"""Metrics and alerts end to end: `firstboot check` writes firstboot.prom, node-exporter serves it
on 127.0.0.1:9100 (parsed with prometheus_client, an independent parser); breaking a check sends
exactly one alert mail to monitoring.alert_to, a second check of the same breakage sends none, and
the repair sends one recovery mail; the metric follows."""
import time
import urllib.request

from prometheus_client.parser import text_string_to_metric_families

import harness
from harness import Sandbox, check
from monitoring_util import ALICE, checks_of, postfix, status_json, wait_for_messages


def alice_alerts(doc):
    doc["monitoring"]["alert_to"] = "alice@example.com"
    return doc


def scrape():
    with urllib.request.urlopen("http://127.0.0.1:9100/metrics", timeout=10) as r:
        text = r.read().decode()
    samples = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            samples.setdefault(s.name, []).append((s.labels, s.value))
    return samples


def value(samples, name, **labels):
    for lab, v in samples.get(name, []):
        if all(lab.get(k) == want for k, want in labels.items()):
            return v
    raise harness.Failure(f"no sample {name}{labels} among {sorted(samples)}")


def test_metrics_are_served_by_node_exporter():
    with Sandbox("mon-metrics") as sb:
        sb.run()
        sb.firstboot("check", check_rc=0)
        s = scrape()
        check(value(s, "firstboot_ready") == 1, "firstboot_ready is not 1")
        check(value(s, "firstboot_check_status", check="mail.roundtrip") == 0, "round trip")
        check(value(s, "firstboot_check_status", check="system.outbound-smtp") == 3,
              "outbound is skipped in the sandbox")
        expiry = value(s, "firstboot_certificate_expiry_timestamp_seconds", host="mail.example.com")
        check(expiry > time.time() + 14 * 86400, f"certificate expiry {expiry}")
        age = value(s, "firstboot_dkim_key_age_seconds", domain="example.com", selector="mail",
                    algorithm="rsa-2048")
        check(0 <= age < 3600, f"DKIM key age {age}")
        value(s, "firstboot_dkim_key_age_seconds", selector="mail-ed25519", algorithm="ed25519")
        check(value(s, "firstboot_mail_queue_messages", queue="deferred") >= 0, "queue")
        # The probe messages of status and check were delivered to example.com.
        check(value(s, "firstboot_mail_deliveries_total", domain="example.com", status="sent") >= 1,
              "no delivery counted")
        check(value(s, "firstboot_module_done", module="mail") == 1, "module mail")
        value(s, "firstboot_module_duration_seconds", module="monitoring")
        check(value(s, "node_textfile_scrape_error") == 0, "textfile collector error")


def test_one_alert_per_change_and_one_recovery():
    with Sandbox("mon-alerts") as sb:
        sb.use_profile("full.yaml", alice_alerts)
        sb.run()
        first = sb.firstboot("check", check_rc=0)
        check("0 state change(s), 0 alert mail(s)" in first.stdout, first.stdout)

        # Break: open the relay.
        main_cf = sb.path("etc/postfix/main.cf")
        with open(main_cf) as f:
            original = f.read()
        with open(main_cf, "w") as f:
            f.write(original.replace("mynetworks = 127.0.0.1/32", "mynetworks = 127.0.0.0/8"))
        postfix(sb, "reload")
        time.sleep(1)
        broken = sb.firstboot("check")
        check(broken.returncode == 1, broken.stdout)
        check("1 alert mail(s) sent" in broken.stdout, broken.stdout)
        alerts = wait_for_messages(*ALICE, 1)
        body = alerts[0][1].decode(errors="replace")
        check("NOT READY" in body and "mail.relay.refused" in body, body)
        check("hint:" in body, body)
        s = scrape()
        check(value(s, "firstboot_check_status", check="mail.relay.refused") == 2, "metric")
        check(value(s, "firstboot_ready") == 0, "firstboot_ready after the break")

        # Still broken: no new mail.
        again = sb.firstboot("check")
        check("0 state change(s), 0 alert mail(s)" in again.stdout, again.stdout)
        time.sleep(1)
        check(len(wait_for_messages(*ALICE, 1)) == 1, "a second alert for the same state")

        # Repair: one recovery mail.
        with open(main_cf, "w") as f:
            f.write(original)
        postfix(sb, "reload")
        time.sleep(1)
        fixed = sb.firstboot("check", check_rc=0)
        check("1 alert mail(s) sent" in fixed.stdout, fixed.stdout)
        alerts = wait_for_messages(*ALICE, 2)
        bodies = [m.decode(errors="replace") for _, m in alerts]
        check(any("ready again" in b for b in bodies), bodies)
        check(value(scrape(), "firstboot_check_status", check="mail.relay.refused") == 0, "metric")
        rc, doc = status_json(sb)
        check(rc == 0, doc["reasons"])


harness.main(globals())
