"""JUnit XML, for CI systems that show test reports (GitLab ``artifacts: reports: junit``,
Jenkins, Azure Pipelines): one ``testsuite`` per file, one failing ``testcase`` per finding.

The document follows the Jenkins xUnit plugin's JUnit schema, junit-10.xsd
(jenkinsci/xunit-plugin, src/main/resources/org/jenkinsci/plugins/xunit/types/model/xsd/), the
strictest of the common ones: ``testsuites`` (name, tests, failures, errors) holds
``testsuite`` elements whose name, tests, failures and errors are required; a ``testcase`` has
a required name and a classname, and no line attribute — so the position is in the name.
A finding is a ``failure`` (type: its code); a file that could not be read is an ``error``
(type ECO001). A run with nothing to report has one passing testcase, so a dashboard shows a
pass rather than an empty report. Columns in names are characters, as in the text report.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from itertools import groupby

from ecolint.finding import FileError, Finding
from ecolint.report import evidence_line, setup_line
from ecolint.results import RunResult

# Characters XML 1.0 cannot carry at all (control characters, lone surrogates, U+FFFE/U+FFFF).
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def clean(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)


def render(result: RunResult) -> str:
    root = ET.Element("testsuites", name="ecolint")
    items: list[tuple[str, Finding | FileError]] = [(f.location.path, f) for f in result.findings]
    items += [(e.path, e) for e in result.errors]
    items.sort(key=lambda pair: pair[0])
    for path, group in groupby(items, key=lambda pair: pair[0]):
        suite = ET.SubElement(root, "testsuite", name=clean(path))
        for _, item in group:
            if isinstance(item, Finding):
                _finding_case(suite, item)
            else:
                _error_case(suite, item)
        _count(suite)
    if not items:
        suite = ET.SubElement(root, "testsuite", name="ecolint")
        files = f"{result.files_seen} file{'s' if result.files_seen != 1 else ''}"
        ET.SubElement(suite, "testcase", name=f"no findings in {files} checked", classname="ecolint")
        _count(suite)
    for key in ("tests", "failures", "errors"):
        root.set(key, str(sum(int(suite.get(key, "0")) for suite in root)))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _finding_case(suite: ET.Element, finding: Finding) -> None:
    loc = finding.location
    case = ET.SubElement(
        suite,
        "testcase",
        name=clean(f"{finding.code} {finding.name} at {loc.path}:{loc.line}:{loc.column}"),
        classname=clean(loc.path),
    )
    failure = ET.SubElement(case, "failure", type=finding.code, message=clean(finding.message))
    details = [f"{finding.severity} [{finding.stars}] {finding.message}", f"setup     {setup_line(finding.setup)}"]
    if finding.fix:
        details.append(f"fix       {finding.fix['snippet']}  ({finding.fix['safety']} fix)")
    details += [f"evidence  {evidence_line(row)}" for row in finding.evidence]
    details += [f"note      {note}" for note in finding.notes]
    failure.text = clean("\n".join(details))


def _error_case(suite: ET.Element, error: FileError) -> None:
    case = ET.SubElement(
        suite, "testcase", name=clean(f"{error.code} at {error.path}:{error.line}"), classname=clean(error.path)
    )
    ET.SubElement(case, "error", type=error.code, message=clean(error.message))


def _count(suite: ET.Element) -> None:
    cases = suite.findall("testcase")
    suite.set("tests", str(len(cases)))
    suite.set("failures", str(sum(1 for case in cases if case.find("failure") is not None)))
    suite.set("errors", str(sum(1 for case in cases if case.find("error") is not None)))
