"""papermill engine ``inprocess``: the notebook's cells run in this Python process, in an IPython shell.

papermill stays the executor of record: it injects the parameters cell, records its metadata and,
when a cell fails, writes its error cell; only *where* the cells run changes (no kernel, no ZMQ).
The shell captures what a kernel would send: ``display_data``, ``execute_result``, ``stream`` and
``error`` outputs, the execution counter from 1. Isolation comes from the caller, which runs every
notebook in a forked child process that exits afterwards (:mod:`pipeline.run.execute`): each notebook
starts from the same clean state, as with a new kernel.

Registered through the ``papermill.engine`` entry point (pyproject.toml) and by :func:`register`.
papermill loads this module while it is itself being imported, so nothing here imports papermill
or IPython at import time.
"""

from __future__ import annotations

import sys

ENGINE_NAME = "inprocess"


class _Stream:
    """``sys.stdout`` / ``sys.stderr`` of a cell: text becomes one ``stream`` output per run of writes."""

    def __init__(self, name: str, outputs: list):
        self.name, self.outputs = name, outputs

    def write(self, text: str) -> int:
        from nbformat.v4 import new_output

        if self.outputs and self.outputs[-1].get("output_type") == "stream" and self.outputs[-1].name == self.name:
            self.outputs[-1].text += text
        elif text:
            self.outputs.append(new_output("stream", name=self.name, text=text))
        return len(text)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False


def shell():
    """The process's IPython shell, capturing outputs into ``shell.outputs`` (created on first use)."""
    from IPython.core.displayhook import DisplayHook
    from IPython.core.displaypub import DisplayPublisher
    from IPython.core.interactiveshell import InteractiveShell
    from nbformat.v4 import new_output
    from traitlets.config import Config

    if InteractiveShell.initialized():
        return InteractiveShell.instance()

    class Publisher(DisplayPublisher):
        def publish(self, data, metadata=None, source=None, *, transient=None, update=False, **kwargs):
            self.shell.outputs.append(new_output("display_data", data=data, metadata=metadata or {}))

        def clear_output(self, wait=False):
            self.shell.outputs.clear()

    class Hook(DisplayHook):
        def write_output_prompt(self):
            pass

        def write_format_data(self, format_dict, md_dict=None):
            self.shell.outputs.append(new_output("execute_result", data=format_dict, metadata=md_dict or {}))

        def finish_displayhook(self):
            pass

    class Shell(InteractiveShell):
        outputs: list = []

        def _showtraceback(self, etype, evalue, stb):
            self.outputs.append(new_output("error", ename=etype.__name__, evalue=str(evalue), traceback=stb))

    config = Config()
    config.HistoryManager.hist_file = ":memory:"  # no database, no history-saving thread
    config.InteractiveShell.colors = "nocolor"
    config.InteractiveShell.autocall = 0
    return Shell.instance(config=config, display_pub_class=Publisher, displayhook_class=Hook)


def run_cell(source: str) -> tuple[list, int, BaseException | None]:
    """Execute one cell: its outputs, execution count and the error it raised (None when it ran)."""
    ip = shell()
    ip.outputs = outputs = []
    count = ip.execution_count
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = _Stream("stdout", outputs), _Stream("stderr", outputs)
    try:
        result = ip.run_cell(source, store_history=True)
    finally:
        sys.stdout, sys.stderr = saved
    for output in outputs:
        if output.output_type == "execute_result":
            output.execution_count = count  # the hook sees the counter already moved on
    return outputs, count, result.error_before_exec or result.error_in_exec


class InProcessEngine:
    """papermill's engine interface (the methods of :class:`papermill.engines.Engine`), cells run here."""

    @classmethod
    def execute_notebook(cls, nb, kernel_name, output_path=None, progress_bar=False, log_output=False,
                         autosave_cell_every=30, **kwargs):
        from papermill.engines import NotebookExecutionManager

        nb_man = NotebookExecutionManager(nb, output_path=output_path, progress_bar=progress_bar,
                                          log_output=log_output, autosave_cell_every=autosave_cell_every)
        nb_man.notebook_start()
        nb_man.output_path = None  # no save per cell (papermill's per-cell saves): one at the end
        try:
            for index, cell in enumerate(nb.cells):
                if cell.cell_type != "code":
                    continue
                nb_man.cell_start(cell, index)
                cell.outputs, cell.execution_count, error = run_cell(cell.source)
                if error is not None:
                    nb_man.cell_exception(cell, index, exception=error)
                    nb_man.cell_complete(cell, index)
                    break
                nb_man.cell_complete(cell, index)
        finally:
            nb_man.output_path = output_path
            nb_man.notebook_complete()
        return nb_man.nb

    @classmethod
    def nb_kernel_name(cls, nb, name=None):
        from papermill.engines import Engine

        return Engine.nb_kernel_name(nb, name)

    @classmethod
    def nb_language(cls, nb, language=None):
        from papermill.engines import Engine

        return Engine.nb_language(nb, language)



def register() -> None:
    """Register ``inprocess`` with papermill (the entry point does this too, once installed)."""
    from papermill.engines import papermill_engines

    papermill_engines.register(ENGINE_NAME, InProcessEngine)
