"""The in-process papermill engine and the forked child per notebook: what a user of the notebooks sees."""

from __future__ import annotations

import nbformat
import pytest

from pipeline.run.execute import Task
from pipeline.workflow import case_runner, run_tasks

pytestmark = pytest.mark.slow


def _task(tmp_path, name, *sources, timeout=None):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source) for source in sources]
    nb.cells.insert(0, nbformat.v4.new_code_cell("case = ''", metadata={"tags": ["parameters"]}))
    nb.metadata["kernelspec"] = {"name": "python3", "language": "python", "display_name": "Python 3"}
    nb.metadata["language_info"] = {"name": "python"}
    source = tmp_path / f"{name}.ipynb"
    nbformat.write(nb, source)
    return Task(code=name, config_path="", notebook=str(tmp_path / "out" / f"{name}.ipynb"),
                output_dir=str(tmp_path / "out" / name), source=str(source), timeout=timeout)


def _run(tasks, jobs=1, timeout=None):
    for task in tasks:
        task.timeout = timeout
    with case_runner(jobs=jobs) as runner:
        return run_tasks(runner, tasks)


def _stdout(path, cell):
    nb = nbformat.read(path, as_version=4)
    return "".join(o.get("text", "") for o in nb.cells[cell].outputs if o.output_type == "stream").strip()


def test_every_notebook_starts_from_a_clean_state_in_a_process_of_its_own(tmp_path):
    dirty = _task(tmp_path, "dirty", "import os, sys, matplotlib, pandas as pd\nprint(os.getpid())",
                  "leak = 41\nmatplotlib.rcParams['lines.linewidth'] = 9\npd.set_option('display.max_rows', 3)\n"
                  "os.environ['H6_LEAK'] = '1'\nos.chdir('/tmp')\nimport pipeline.case.tables\npipeline.case.LEAK = 1")
    check = _task(tmp_path, "check", "import os, sys, matplotlib, pandas as pd\nprint(os.getpid())",
                  "import pipeline.case.tables\nprint('leak' in globals(), matplotlib.rcParams['lines.linewidth'], "
                  "pd.get_option('display.max_rows'), 'H6_LEAK' in os.environ, os.getcwd() != '/tmp', "
                  "hasattr(pipeline.case.tables, 'LEAK'))")
    first, second = _run([dirty, check])
    assert first.ok and second.ok, (first.error, second.error)
    assert _stdout(first.output, 2) != _stdout(second.output, 2)      # not the same process
    assert _stdout(second.output, 3) == "False 1.5 60 False True False"
    nb = nbformat.read(second.output, as_version=4)
    assert [c.execution_count for c in nb.cells] == [1, 2, 3, 4]       # parameters, injected, cells: from 1
    assert nb.metadata["papermill"]["parameters"] == {"case": "check", "config_path": "", "output_dir": check.output_dir}


def test_outputs_are_captured_as_a_kernel_sends_them(tmp_path):
    task = _task(tmp_path, "outputs", "print('a'); print('b')\nimport sys; print('c', file=sys.stderr)",
                 "from IPython.display import HTML, display\ndisplay(HTML('<b>x</b>'))\n6 * 7")
    (result,) = _run([task])
    assert result.ok, result.error
    cells = nbformat.read(result.output, as_version=4).cells
    assert [(o.output_type, o.get("name"), o.get("text")) for o in cells[2].outputs] == [
        ("stream", "stdout", "a\nb\n"), ("stream", "stderr", "c\n")]
    display, value = cells[3].outputs
    assert display.output_type == "display_data" and display.data["text/html"] == "<b>x</b>"
    assert value.output_type == "execute_result" and value.data["text/plain"] == "42" and value.execution_count == 4


def test_a_failing_notebook_keeps_papermills_error_cell_and_the_next_one_runs(tmp_path):
    failing = _task(tmp_path, "failing", "print('voor')", "raise ValueError('kapot')", "print('nooit')")
    after = _task(tmp_path, "after", "print('ok')")
    bad, good = _run([failing, after])
    assert bad.error == "ValueError: kapot" and bad.cell.startswith("cell 4: raise ValueError")
    nb = nbformat.read(bad.output, as_version=4)
    assert "papermill-error-cell-tag" in nb.cells[0].metadata.get("tags", [])   # papermill's own error banner
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert errors[0].ename == "ValueError" and any("kapot" in line for line in errors[0].traceback)
    assert nb.metadata["papermill"]["exception"] is True
    assert not any("nooit" in o.get("text", "") for c in nb.cells for o in c.get("outputs", []))
    assert good.ok and _stdout(good.output, 2) == "ok"


def test_a_case_longer_than_its_timeout_fails_in_its_cell(tmp_path):
    slow = _task(tmp_path, "slow", "import time\ntime.sleep(60)")
    (result,) = _run([slow], timeout=0.5)
    assert "timed out after 0.5 s" in result.error and result.cell.startswith("cell 3")
    assert result.seconds < 10


def test_a_child_that_dies_fails_its_case_not_the_run(tmp_path):
    dies = _task(tmp_path, "dies", "import os\nos._exit(3)")
    after = _task(tmp_path, "after", "print('ok')")
    dead, good = _run([dies, after], jobs=2)
    assert "worker failed" in dead.error and "died" in dead.error
    assert good.ok
