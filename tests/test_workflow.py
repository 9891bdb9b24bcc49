"""The CI workflow and CITATION.cff: parsed, structurally checked and validated against the vendored schemas."""

import shutil
import subprocess
import sys

import pytest
import yaml

from pipeline.config import ROOT

WORKFLOW = ROOT / ".github" / "workflows" / "report.yml"
CITATION = ROOT / "CITATION.cff"


@pytest.fixture(scope="module")
def workflow():
    data = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    # YAML 1.1 reads the key `on` as the boolean True
    data["on"] = data.pop(True, data.get("on"))
    return data


def steps(job):
    return job["steps"]


def test_workflow_has_triggers_jobs_and_valid_steps(workflow):
    assert {"push", "schedule", "workflow_dispatch"} <= set(workflow["on"])
    assert workflow["on"]["schedule"][0]["cron"].count(" ") == 4
    assert workflow["jobs"]
    for name, job in workflow["jobs"].items():
        assert job["runs-on"], name
        assert job["steps"], name
        for step in job["steps"]:
            assert ("uses" in step) != ("run" in step), (name, step)


def test_push_job_tests_renders_and_uploads_reports(workflow):
    job = workflow["jobs"]["test-and-report"]
    runs = [s.get("run", "") for s in steps(job)]
    assert "make test" in runs and "make report" in runs
    assert runs.index("make test") < runs.index("make report")
    upload = [s for s in steps(job) if s.get("uses", "").startswith("actions/upload-artifact@")]
    assert upload and upload[0]["with"]["path"].rstrip("/") == "reports"
    assert "push" in job["if"]


def test_scheduled_job_fetches_and_opens_a_pull_request_with_least_privilege(workflow):
    assert workflow["permissions"] == {"contents": "read"}
    job = workflow["jobs"]["refresh-data"]
    assert job["permissions"] == {"contents": "write", "pull-requests": "write"}
    assert "schedule" in job["if"]
    runs = [s.get("run", "") for s in steps(job)]
    assert runs.index("make fetch") < runs.index("make report")
    pr = [s for s in steps(job) if s.get("uses", "").startswith("peter-evans/create-pull-request@")]
    assert pr and pr[0]["if"] == "steps.changed.outputs.changed == 'true'"
    assert "GITHUB_TOKEN" in pr[0]["with"]["token"]


def _check_jsonschema(schema: str, path) -> subprocess.CompletedProcess:
    pytest.importorskip("check_jsonschema", reason="check-jsonschema not installed (pip install -e '.[test]')")
    return subprocess.run([sys.executable, "-m", "check_jsonschema", "--builtin-schema", schema, str(path)],
                          capture_output=True, text=True, timeout=60)


def test_workflow_is_valid_against_the_vendored_github_workflow_schema():
    result = _check_jsonschema("vendor.github-workflows", WORKFLOW)
    assert result.returncode == 0, result.stdout + result.stderr


def test_schema_check_rejects_a_broken_workflow(tmp_path):
    broken = tmp_path / "broken.yml"
    broken.write_text("on: push\njobs:\n  a:\n    steps: 3\n", encoding="utf-8")
    assert _check_jsonschema("vendor.github-workflows", broken).returncode == 1


def test_citation_cff_is_valid_and_cites_the_report():
    result = _check_jsonschema("vendor.citation-file-format", CITATION)
    assert result.returncode == 0, result.stdout + result.stderr
    cff = yaml.safe_load(CITATION.read_text(encoding="utf-8"))
    assert cff["cff-version"] == "1.2.0"
    report = [r for r in cff["references"] if r["title"] == "Eigenwijs transformeren"]
    assert report and report[0]["year"] == 2021 and report[0]["isbn"] == "978-94-6409-068-0"
    assert report[0]["publisher"]["name"] == "Verwey-Jonker Instituut"


def test_makefile_installs_chromium_for_tests_without_failing():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "\ntest: $(STAMP) chromium\n" in makefile
    assert "apt-get install -y -q chromium" in makefile and 'id -u' in makefile
    if shutil.which("make"):
        dry = subprocess.run(["make", "-n", "chromium"], cwd=ROOT, capture_output=True, text=True, timeout=30)
        assert dry.returncode == 0, dry.stderr
