"""The warm papermill engine itself: reuse, reset between notebooks, restarts, retried starts."""

from __future__ import annotations

import nbformat
import papermill as pm
import pytest

from pipeline import engine
from pipeline.config import ROOT
from pipeline.execute import KERNEL_ARGUMENTS, engine_options, ensure_kernel

pytestmark = pytest.mark.slow


def _notebook(path, *sources):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source) for source in sources]
    nb.metadata["kernelspec"] = {"name": ensure_kernel(), "language": "python", "display_name": "h6"}
    nbformat.write(nb, path)
    return path


def _run(source, target):
    engine.register()
    pm.execute_notebook(str(source), str(target), kernel_name=ensure_kernel(), progress_bar=False,
                        extra_arguments=list(KERNEL_ARGUMENTS), **engine_options(fresh=False))
    return nbformat.read(target, as_version=4)


def _stdout(nb, cell):
    return "".join(o.get("text", "") for o in nb.cells[cell].outputs if o.output_type == "stream").strip()


@pytest.fixture
def pool(monkeypatch):
    """A fresh kernel pool for this test's thread, shut down afterwards."""
    kernels = engine.KernelPool(max_uses=engine.DEFAULT_MAX_USES)
    monkeypatch.setattr(engine._LOCAL, "pool", kernels, raising=False)
    yield kernels
    kernels.shutdown()


def test_the_next_notebook_gets_the_same_kernel_back_in_a_fresh_state(tmp_path, pool):
    dirty = _notebook(tmp_path / "dirty.ipynb",
                      "import os, matplotlib, pandas as pd\nprint(os.getpid())",
                      "leak = 41\nmatplotlib.rcParams['lines.linewidth'] = 9\n"
                      "pd.set_option('display.max_rows', 3)\nos.environ['H6_LEAK'] = '1'\nos.chdir('/tmp')")
    check = _notebook(tmp_path / "check.ipynb",
                      "import os, matplotlib, pandas as pd\nprint(os.getpid())",
                      "print('leak' in globals(), matplotlib.rcParams['lines.linewidth'], "
                      "pd.get_option('display.max_rows'), 'H6_LEAK' in os.environ, os.getcwd())")
    first = _run(dirty, tmp_path / "out1.ipynb")
    second = _run(check, tmp_path / "out2.ipynb")
    assert _stdout(first, 0) == _stdout(second, 0)  # the same kernel process
    assert _stdout(second, 1) == f"False 1.5 60 False {ROOT}"
    assert [c.execution_count for c in second.cells] == [1, 2]  # the counter starts again


def test_the_kernel_is_restarted_after_max_uses_and_after_an_error(tmp_path, pool):
    pool.max_uses = 2
    pid = _notebook(tmp_path / "pid.ipynb", "import os\nprint(os.getpid())")
    pids = [_stdout(_run(pid, tmp_path / f"{i}.ipynb"), 0) for i in range(3)]
    assert pids[0] == pids[1] != pids[2] and pool.restarts == 1
    failing = _notebook(tmp_path / "fail.ipynb", "raise ValueError('kapot')")
    with pytest.raises(pm.PapermillExecutionError):
        _run(failing, tmp_path / "failed.ipynb")
    assert _stdout(_run(pid, tmp_path / "after.ipynb"), 0) not in pids  # not the kernel that saw the error
    assert pool.restarts == 2


def test_a_kernel_start_that_fails_to_bind_is_retried(tmp_path, pool, monkeypatch):
    """Parallel workers race for the ZMQ ports jupyter_client picked; a start that loses is tried again."""
    import zmq

    real_launch, calls = engine.WarmKernel.launch, []

    def launch_losing_the_first_race(self):
        calls.append(1)
        if len(calls) == 1:
            raise zmq.ZMQError(zmq.EADDRINUSE, "Address already in use")
        real_launch(self)

    monkeypatch.setattr(engine.WarmKernel, "launch", launch_losing_the_first_race)
    monkeypatch.setattr(engine.time, "sleep", lambda seconds: None)
    nb = _run(_notebook(tmp_path / "ok.ipynb", "print('ok')"), tmp_path / "ok-out.ipynb")
    assert _stdout(nb, 0) == "ok" and len(calls) == 2


def test_a_kernel_that_never_starts_gives_one_clear_error(tmp_path, pool, monkeypatch):
    def launch_always_failing(self):
        raise RuntimeError("no kernel for you")

    monkeypatch.setattr(engine.WarmKernel, "launch", launch_always_failing)
    monkeypatch.setattr(engine.time, "sleep", lambda seconds: None)
    with pytest.raises(engine.WarmKernelError, match=r"could not start kernel .* after 4 attempts: no kernel for you"):
        _run(_notebook(tmp_path / "never.ipynb", "print('ok')"), tmp_path / "never-out.ipynb")


def test_a_kernel_that_dies_in_a_notebook_is_replaced_for_the_next(tmp_path, pool):
    from nbclient.exceptions import DeadKernelError

    pid = _notebook(tmp_path / "pid.ipynb", "import os\nprint(os.getpid())")
    before = _stdout(_run(pid, tmp_path / "before.ipynb"), 0)
    with pytest.raises(DeadKernelError):
        _run(_notebook(tmp_path / "die.ipynb", "import os\nos._exit(3)"), tmp_path / "die-out.ipynb")
    after = _stdout(_run(pid, tmp_path / "after.ipynb"), 0)
    assert after and after != before
