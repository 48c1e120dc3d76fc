"""The HTML report: one self-contained file, parsed here, and rendered in headless Chromium."""

from __future__ import annotations

import os
import shutil
import subprocess
from html.parser import HTMLParser

import numpy as np
import pytest

from eightbit.debug.html_report import html_report

DATA = os.path.join(os.path.dirname(__file__), "..", "data", "conformance")


class _Collect(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.attrs, self.rows, self.in_tbody_of_tensors = [], [], 0, False
        self._table = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append(tag)
        self.attrs.append(a)
        if tag == "table":
            self._table = a.get("id")
        if tag == "tr" and self._table == "tensors":
            self.rows += 1


@pytest.fixture(scope="module")
def report_html():
    ev = np.load(os.path.join(DATA, "ptq", "opmix_act.npz"))["eval_0"][:12]
    return html_report(os.path.join(DATA, "models", "opmix_act__float32.tflite"),
                       os.path.join(DATA, "models", "opmix_act__int8_floatio.tflite"), [[x] for x in ev])


def test_self_contained_with_every_section(report_html):
    p = _Collect()
    p.feed(report_html)
    assert "http://" not in report_html and "https://" not in report_html  # nothing from the network
    assert not any(t in ("link", "img", "iframe") for t in p.tags)
    assert all("src" not in a for a in p.attrs)
    ids = {a.get("id") for a in p.attrs}
    assert {"sqnr-chart", "graph", "tensors"} <= ids
    for title in ("Models and outputs", "Causes", "SQNR along the graph", "Worst layers", "Tensors"):
        assert title in report_html
    assert p.rows == 1 + 18  # header + one row per compared tensor of opmix_act
    assert sum(1 for a in p.attrs if a.get("class") == "node") == 19  # one box per operator (opmix_act int8 with float I/O: 19)
    assert report_html.count("class='hist'") == 4 and "class='clip'" in report_html
    assert "dead_channels" in report_html  # the cause diagnose finds in this model


def _chromium():
    return shutil.which("chromium") or shutil.which("chromium-browser")


def test_renders_in_headless_chromium_without_console_errors(report_html, tmp_path):
    exe = _chromium()
    if exe is None:
        pytest.skip("chromium is not installed (make test installs Debian's chromium when it can)")
    page = tmp_path / "report.html"
    page.write_text(report_html)
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={tmp_path / 'profile'}", "--enable-logging=stderr", "--v=0"]
    done = subprocess.run([exe, *flags, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert 'data-ready="1"' in done.stdout  # the page's script ran to its end
    console = [line for line in done.stderr.splitlines() if "CONSOLE" in line or "Uncaught" in line]
    assert console == []
    shot = tmp_path / "report.png"
    subprocess.run([exe, *flags, "--window-size=1200,1600", f"--screenshot={shot}", page.as_uri()],
                   capture_output=True, timeout=120, check=True)
    assert shot.stat().st_size > 10_000  # a real picture, not a blank page
