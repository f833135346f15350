"""CHANGELOG.md keeps the Keep a Changelog form: [Unreleased] first, then versions with dates."""
import datetime
import os
import re

from packaging.version import Version

import kerasrnn_torch as kr

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
KINDS = {"Added", "Changed", "Deprecated", "Removed", "Fixed", "Security"}
RELEASE = re.compile(r"## \[(\d+\.\d+\.\d+)\] - (\d{4}-\d{2}-\d{2})$")


def headings():
    with open(os.path.join(ROOT, "CHANGELOG.md"), encoding="utf-8") as file:
        return [line.rstrip("\n") for line in file if line.startswith("#")]


def releases():
    found = []
    for line in headings():
        if line.startswith("## ") and line != "## [Unreleased]":
            match = RELEASE.match(line)
            assert match, f"a version heading reads '## [X.Y.Z] - YYYY-MM-DD', not {line!r}"
            found.append((Version(match.group(1)), datetime.date.fromisoformat(match.group(2))))
    return found


def test_unreleased_comes_first_then_releases_newest_first():
    lines = headings()
    assert lines[0] == "# Changelog" and lines[1] == "## [Unreleased]"
    found = releases()
    assert found, "no released version in CHANGELOG.md"
    assert [v for v, _ in found] == sorted((v for v, _ in found), reverse=True)
    assert [d for _, d in found] == sorted((d for _, d in found), reverse=True)


def test_every_group_is_one_of_the_six_kinds_once_per_version():
    seen = []
    for line in headings():
        if line.startswith("## "):
            seen = []
        elif line.startswith("### "):
            kind = line[4:]
            assert kind in KINDS, f"{line!r}: a group is one of {sorted(KINDS)}"
            assert kind not in seen, f"{line!r} twice in one version"
            seen.append(kind)


def test_the_package_version_is_the_latest_release_or_past_it():
    latest = releases()[0][0]
    current = Version(kr.__version__)
    assert current == latest or (current > latest and current.is_prerelease), (current, latest)
