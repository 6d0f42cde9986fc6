#!/usr/bin/python3
"""Check that the alert rules and the Grafana dashboard name only metrics
that NQBA processes expose.

usage: metric_names.py [--alerts FILE] [--dashboard FILE] METRICS_FILE [METRICS_FILE...]
       metric_names.py [--alerts FILE] [--dashboard FILE] --list
       metric_names.py --self-test

The referenced names are the tokens matching (nqba|http|process)_[a-z0-9_]+
in the expr of every rule of deploy/prometheus/alerts.yml and of every
target of deploy/grafana/nqba-dashboard.json (panels inside rows included),
after removing what cannot be a metric name there: quoted strings, label
matchers {...}, the label lists of by/without/on/ignoring/group_left/
group_right, and Grafana variables ($name, ${name}). A name ending in
_bucket, _sum or _count stands for its histogram. alerts_test.yml is not a
source: its series are made up.

METRICS_FILE: Prometheus text exposition, e.g. what GET /metrics returned
on a live API node and on a worker (the API's needs an API key with the
system:read scope). A referenced name is exposed when a file has a sample
of it, a "# TYPE" line for it (a family the process declares but has not
observed yet), or, for a histogram, <name>_bucket.

Exit status: 0 every referenced name is exposed (prints how many were
checked); 1 some are not (lists them and where they are used), or fewer
than 10 names were found (the extractor must be broken); 2 usage or an
unreadable file.
"""
import argparse
import json
import os
import re
import sys

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
DEFAULT_ALERTS = os.path.join(ROOT, "deploy", "prometheus", "alerts.yml")
DEFAULT_DASHBOARD = os.path.join(ROOT, "deploy", "grafana", "nqba-dashboard.json")
MIN_NAMES = 10

RE_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
RE_MATCHERS = re.compile(r"\{[^{}]*\}")
RE_LABEL_LIST = re.compile(
    r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)", re.I)
RE_VARIABLE = re.compile(r"\$\{[^}]*\}|\$[A-Za-z_][A-Za-z0-9_]*")
RE_NAME = re.compile(r"\b(?:nqba|http|process)_[a-z0-9_]+\b")
RE_HIST_SUFFIX = re.compile(r"_(?:bucket|sum|count)$")


def names_in_expr(expr):
    """The metric names an expression references (histogram suffixes
    mapped to the histogram's name)."""
    s = RE_STRING.sub(" ", expr)
    s = RE_VARIABLE.sub(" ", s)
    s = RE_MATCHERS.sub(" ", s)
    s = RE_LABEL_LIST.sub(" ", s)
    return {RE_HIST_SUFFIX.sub("", m) for m in RE_NAME.findall(s)}


def alert_exprs(path):
    with open(path, encoding="utf-8") as f:
        doc = yaml.safe_load(f)
    out = []
    for group in doc.get("groups") or []:
        for rule in group.get("rules") or []:
            name = rule.get("alert") or rule.get("record") or "?"
            out.append(("alerts.yml: %s" % name, str(rule.get("expr", ""))))
    return out


def dashboard_exprs(path):
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    out = []

    def walk(panels):
        for p in panels or []:
            for t in p.get("targets") or []:
                if t.get("expr"):
                    out.append(("dashboard: %s" % p.get("title", "?"), t["expr"]))
            walk(p.get("panels"))

    walk(doc.get("panels"))
    return out


def referenced(sources):
    """{name: [where, ...]} over (where, expr) pairs."""
    refs = {}
    for where, expr in sources:
        for n in names_in_expr(expr):
            refs.setdefault(n, [])
            if where not in refs[n]:
                refs[n].append(where)
    return refs


RE_SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)")


def exposed_names(text):
    names = set()
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        if line.startswith("#"):
            parts = line.split()
            if len(parts) >= 3 and parts[1] == "TYPE":
                names.add(parts[2])
            continue
        m = RE_SAMPLE.match(line)
        if m:
            names.add(m.group(1))
    return names


def missing(refs, names):
    return sorted(n for n in refs if n not in names and n + "_bucket" not in names)


def self_test():
    cases = [
        ('sum by (route, code) (rate(http_requests_total{job="nqba-api",code=~"5.."}[5m]))',
         {"http_requests_total"}),
        ('histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket'
         '{route!="/api/v1/jobs/{id}/events"}[$__rate_interval])))',
         {"http_request_duration_seconds"}),
        ("sum by (kind) (rate(nqba_job_duration_seconds_sum[5m])) / "
         "sum by (kind) (rate(nqba_job_duration_seconds_count[5m]))",
         {"nqba_job_duration_seconds"}),
        ('max(nqba_queue_jobs{state="queued"}) > 100 and on (job, instance) up == 0',
         {"nqba_queue_jobs"}),
        ('up{job="nqba_not_a_metric", instance=~\'http_nor_this\'}', set()),
        ("sum without (nqba_label) (process_open_fds) / ignoring(http_label) process_max_fds",
         {"process_open_fds", "process_max_fds"}),
        ("(time() - nqba_audit_last_check_timestamp_seconds > 900)\n"
         "  and on(job,instance) (time() - process_start_time_seconds > 900)",
         {"nqba_audit_last_check_timestamp_seconds", "process_start_time_seconds"}),
        ("sum(increase(nqba_worker_lease_expiries_total[${window}])) + "
         "rate(nqba_cache_hits_total[5m] offset 1h)",
         {"nqba_worker_lease_expiries_total", "nqba_cache_hits_total"}),
        ("a * on() group_left(nqba_x, http_y) nqba_shared_cache_up", {"nqba_shared_cache_up"}),
    ]
    failures = 0
    for expr, want in cases:
        got = names_in_expr(expr)
        if got != want:
            failures += 1
            print("metric_names self-test: %r gave %s, want %s" % (expr, sorted(got), sorted(want)))
    text = ("# HELP nqba_job_duration_seconds Run time\n"
            "# TYPE nqba_job_duration_seconds untyped\n"
            "# TYPE http_request_duration_seconds histogram\n"
            'http_request_duration_seconds_bucket{route="/healthz",le="0.001"} 1\n'
            'http_requests_total{route="/healthz",method="GET",code="200"} 1\n'
            "process_open_fds 12\n")
    names = exposed_names(text)
    refs = {"nqba_job_duration_seconds": [], "http_request_duration_seconds": [],
            "http_requests_total": [], "process_open_fds": [], "process_max_fds": [],
            "nqba_worker_busy": []}
    got = missing(refs, names)
    if got != ["nqba_worker_busy", "process_max_fds"]:
        failures += 1
        print("metric_names self-test: missing() gave %s" % got)
    n = len(cases) + 1
    if failures:
        print("metric_names self-test: %d of %d checks failed" % (failures, n))
        return 1
    print("metric_names self-test: %d checks passed" % n)
    return 0


def main(argv):
    ap = argparse.ArgumentParser(usage=__doc__.split("\n\n")[1].replace("usage: ", "", 1))
    ap.add_argument("files", nargs="*", metavar="METRICS_FILE")
    ap.add_argument("--alerts", default=DEFAULT_ALERTS)
    ap.add_argument("--dashboard", default=DEFAULT_DASHBOARD)
    ap.add_argument("--list", action="store_true", help="print the referenced names")
    ap.add_argument("--self-test", action="store_true")
    a = ap.parse_args(argv)
    if a.self_test:
        return self_test()
    if not a.files and not a.list:
        ap.print_usage(sys.stderr)
        return 2
    try:
        refs = referenced(alert_exprs(a.alerts) + dashboard_exprs(a.dashboard))
    except (OSError, ValueError, yaml.YAMLError) as e:
        print("metric_names: %s" % e, file=sys.stderr)
        return 2
    if len(refs) < MIN_NAMES:
        print("metric_names: only %d metric names found in %s and %s (expected at least %d): "
              "the extractor is broken" % (len(refs), a.alerts, a.dashboard, MIN_NAMES))
        return 1
    if a.list:
        for n in sorted(refs):
            print(n)
        return 0
    names = set()
    for path in a.files:
        try:
            with open(path, encoding="utf-8") as f:
                names |= exposed_names(f.read())
        except OSError as e:
            print("metric_names: %s" % e, file=sys.stderr)
            return 2
    gone = missing(refs, names)
    if gone:
        print("metric_names: %d of %d referenced metric names are exposed by none of %s:"
              % (len(gone), len(refs), ", ".join(a.files)))
        for n in gone:
            print("  %s  (%s)" % (n, "; ".join(refs[n])))
        return 1
    print("metric_names: all %d referenced metric names are exposed" % len(refs))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
