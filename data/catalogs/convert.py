#!/usr/bin/env python3
"""Derive the built-in catalogs (data/catalogs/*.json) from the public-domain
NIST tables in the shared data folder (data/compliance):

  nist_csf_2.0_core.csv                 -> nist-csf-2.0.json
  nist_sp800-53r5_moderate_baseline.csv -> nist-sp800-53r5-moderate.json

Usage: data/catalogs/convert.py SHARED_DIR   (writes next to this script)
The product never reads the shared folder: the JSON files are committed and
compiled into the library by CMakeLists.txt."""
import csv
import json
import os
import sys


def write(name, doc):
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), name)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(doc, f, ensure_ascii=False, indent=1)
        f.write("\n")


def csf(src):
    rows = list(csv.DictReader(open(os.path.join(src, "nist_csf_2.0_core.csv"), encoding="utf-8")))
    groups, seen, controls, withdrawn = [], set(), [], []
    for r in rows:
        if r["status"] != "active":
            withdrawn.append(r["subcategory_id"])
            continue
        if r["function_id"] not in seen:
            seen.add(r["function_id"])
            groups.append({"id": r["function_id"], "title": r["function_title"].title()})
        if r["category_id"] not in seen:
            seen.add(r["category_id"])
            groups.append({"id": r["category_id"], "title": r["category_title"],
                           "parent": r["function_id"]})
        controls.append({"id": r["subcategory_id"], "title": r["statement"],
                         "group": r["category_id"]})
    write("nist-csf-2.0.json", {
        "id": "nist-csf-2.0",
        "name": "NIST Cybersecurity Framework 2.0 (core)",
        "version": "2.0",
        "source": "NIST CSF 2.0 OSCAL catalog (usnistgov/oscal-content), active subcategories",
        "licence": "public domain (US Government work); OSCAL content CC0",
        "scale": {"min": 1, "max": 4,
                  "labels": ["Partial", "Risk informed", "Repeatable", "Adaptive"]},
        "levels": ["function", "category", "subcategory"],
        "groups": groups,
        "controls": controls,
        "withdrawn": withdrawn,
    })


def sp80053(src):
    rows = list(csv.DictReader(open(os.path.join(src, "nist_sp800-53r5_moderate_baseline.csv"),
                                    encoding="utf-8")))
    groups, seen, controls = [], set(), []
    for r in rows:
        if r["family_id"] not in seen:
            seen.add(r["family_id"])
            groups.append({"id": r["family_id"].upper(), "title": r["family_title"]})
        c = {"id": r["control_id"], "label": r["label"], "title": r["title"],
             "group": r["family_id"].upper()}
        if r["parent_id"]:
            c["parent"] = r["parent_id"]
        controls.append(c)
    write("nist-sp800-53r5-moderate.json", {
        "id": "nist-sp800-53r5-moderate",
        "name": "NIST SP 800-53 Rev. 5 moderate baseline",
        "version": "5.1.1",
        "source": "SP 800-53 Rev. 5.1.1 MODERATE baseline resolved profile (usnistgov/oscal-content)",
        "licence": "public domain (US Government work); OSCAL content CC0",
        "scale": {"min": 0, "max": 5,
                  "labels": ["None", "Initial", "Managed", "Defined", "Measured", "Optimized"]},
        "levels": ["family", "control"],
        "groups": groups,
        "controls": controls,
    })


if __name__ == "__main__":
    src = os.path.join(sys.argv[1] if len(sys.argv) > 1 else "../shared", "data", "compliance")
    csf(src)
    sp80053(src)
