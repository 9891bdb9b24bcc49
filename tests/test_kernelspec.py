"""``--fresh-kernels`` starts this checkout's interpreter, also in a venv copied or moved from another checkout."""

import json
import os
import sys

import ipykernel.kernelspec

from pipeline.run.execute import KERNEL_NAME, ensure_kernel


def write_spec(folder, python: str) -> None:
    spec = folder / "kernels" / KERNEL_NAME
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({"argv": [python, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                                                  "display_name": "x", "language": "python"}))


def test_a_kernelspec_of_another_venv_is_replaced_though_both_link_to_one_python(tmp_path, monkeypatch):
    other = tmp_path / "other-checkout" / ".venv" / "bin"
    other.mkdir(parents=True)
    (other / "python").symlink_to(os.path.realpath(sys.executable))  # as every venv's python does
    write_spec(tmp_path / "share", str(other / "python"))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "share"))
    installed = []
    monkeypatch.setattr(ipykernel.kernelspec, "install", lambda **kwargs: installed.append(kwargs))
    assert ensure_kernel() == KERNEL_NAME
    assert installed and installed[0]["prefix"] == sys.prefix


def test_this_interpreters_kernelspec_is_kept(tmp_path, monkeypatch):
    write_spec(tmp_path / "share", sys.executable)
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "share"))
    installed = []
    monkeypatch.setattr(ipykernel.kernelspec, "install", lambda **kwargs: installed.append(kwargs))
    assert ensure_kernel() == KERNEL_NAME
    assert not installed
