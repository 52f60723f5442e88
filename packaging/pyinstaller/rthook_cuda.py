"""PyInstaller runtime hook of the GPU variant: make the bundled CUDA 13 / cuDNN 9 libraries loadable.

onnxruntime's CUDA provider links cuBLAS, cuDNN and the CUDA runtime by name; in the frozen folder they
sit under `_internal/nvidia/...`, where neither the Linux loader nor Windows looks. On Windows the folders
go on the DLL search path; on both systems `onnxruntime.preload_dlls()` loads them up front, silently
(a failure only means CUDA stays off, which the app reports itself in one line). Skipped when the user
forces the CPU with `--device cpu`.
"""

import contextlib
import io
import os
import sys


def _wants_cpu_only(argv):
    for i, arg in enumerate(argv):
        if arg == "--device=cpu" or (arg == "--device" and argv[i + 1 : i + 2] == ["cpu"]):
            return True
    return "--version" in argv


def _setup_cuda_libraries():
    nvidia = os.path.join(getattr(sys, "_MEIPASS", ""), "nvidia")
    if not os.path.isdir(nvidia) or _wants_cpu_only(sys.argv[1:]):
        return
    if sys.platform == "win32":
        for folder, _dirs, files in os.walk(nvidia):
            if any(f.lower().endswith(".dll") for f in files):
                os.add_dll_directory(folder)
                os.environ["PATH"] = folder + os.pathsep + os.environ.get("PATH", "")
    try:
        import onnxruntime

        preload = getattr(onnxruntime, "preload_dlls", None)
        if preload is not None:
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                preload(directory="")
    except Exception:  # CUDA simply stays off; the app says why
        pass


_setup_cuda_libraries()
