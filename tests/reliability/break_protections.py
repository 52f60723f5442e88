"""Break one protection at a time, in a copy of the tree, and run the tests that must then fail.

    python -m tests.reliability.break_protections          # all of them (about 10 minutes)
    python -m tests.reliability.break_protections 0 7 19   # some, by index

Not collected by pytest. Each mutation names a file, an exact text to replace (it must occur once)
and the tests to run; the report lists whether they failed (caught) or not. docs/reliability.md has
the table of the last run.
"""
# ruff: noqa: E501

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SRC = Path(__file__).resolve().parents[2]
COPIED = ("app", "tests", "training", "scripts", "bench", "packaging")

MUTATIONS = [
    (
        "photos: OpenCV decodes what Pillow cannot open (no header size check)",
        "app/core/photos.py",
        """        raise ImageReadError(
            f"{path}: not an image Corroscope can read (corrupt, or not JPEG/PNG/BMP/TIFF/WebP)"
        )
    head = _header(img)""",
        """        arr = _decode_cv(data)
        if arr is None:
            raise ImageReadError(f"{path}: not an image Corroscope can read")
        _check_pixels(path, arr.shape[1], arr.shape[0], max_pixels)
        return to_rgb8(arr, bgr=True)
    head = _header(img)""",
        "tests/reliability/test_bad_inputs.py -k bomb",
    ),
    (
        "photos: pixel limit checked after decoding",
        "app/core/photos.py",
        "    _check_pixels(path, head.width, head.height, max_pixels)\n",
        "",
        "tests/reliability/test_bad_inputs.py -k bomb",
    ),
    (
        "photos: a folder is not recognised before reading (only regular files opened)",
        "app/core/photos.py",
        """        if not stat.S_ISREG(info.st_mode):
            raise ImageReadError(f"{path}: {_kind(info.st_mode)}")
""",
        "",
        "tests/reliability/test_bad_inputs.py -k folder",
    ),
    (
        "model: ONNX Runtime run errors not wrapped",
        "app/core/model_check.py",
        """    except Exception as exc:  # onnxruntime raises its own pybind exception types
        if is_memory_error(str(exc)):""",
        """    except ZeroDivisionError as exc:
        if is_memory_error(str(exc)):""",
        "tests/reliability/test_bad_models.py",
    ),
    (
        "model: contract version not checked",
        "app/core/model_check.py",
        "    if version != contract.CONTRACT_VERSION:",
        "    if False:",
        "tests/reliability/test_bad_models.py -k 'refused_saying'",
    ),
    (
        "model: custom-op libraries next to the model registered",
        "app/core/model.py",
        "    options = _session_options(ort)\n",
        "    options = _session_options(ort)\n    for lib in path.parent.glob('lib*.so'):\n        options.register_custom_ops_library(str(lib))\n",
        "tests/reliability/test_bad_models.py -k custom_operator",
    ),
    (
        "model: a new session from the file for every predict",
        "app/core/model.py",
        "                    self._session, self._name, self._input_name, part, self.budget, deadline",
        "                    _make_session(self.path, str(self.path), 'cpu', self.budget)[0], self._name, self._input_name, part, self.budget, deadline",
        "tests/reliability/test_faults.py -k removed",
    ),
    (
        "onnx_scan: external data not checked before ONNX Runtime",
        "app/core/model.py",
        "            check_external_data(path, refs, budget.memory_bytes)",
        "            pass",
        "tests/reliability/test_hostile_models.py -k external_data_outside",
    ),
    (
        "onnx_scan: subgraphs (If/Loop bodies) not walked",
        "app/core/onnx_scan.py",
        "        _ATTR_G: _GRAPH,\n",
        "",
        "tests/reliability/test_hostile_models.py -k 'scanner_reads or if_branch'",
    ),
    (
        "onnx_scan: symlinks not resolved",
        "app/core/onnx_scan.py",
        "        target = (model_path.parent / location).resolve()",
        "        target = (model_path.parent / location).absolute()",
        "tests/reliability/test_hostile_models.py -k 'external_data_outside and symlink'",
    ),
    (
        "budget: no memory arena per session (ONNX Runtime's default allocator)",
        "app/core/model.py",
        '    options.add_session_config_entry("session.use_env_allocators", "1")\n',
        "",
        "tests/reliability/test_hostile_models.py -k memory_bomb",
    ),
    (
        "budget: constant folding at load",
        "app/core/model.py",
        '    options.add_session_config_entry("optimization.disable_specified_optimizers", "ConstantFolding")\n',
        "",
        "tests/reliability/test_hostile_models.py -k 'memory_bomb and folded'",
    ),
    (
        "budget: session.run in the caller's thread (no time budget, no Ctrl+C)",
        "app/core/model_check.py",
        "        return call_within(\n",
        "        return (lambda work, *rest: work())(\n",
        "tests/reliability/test_hostile_models.py -k 'loop_of or ctrl_c'",
    ),
    (
        "budget: a model that ran out of time is run again on the next photo",
        "app/core/model.py",
        '            raise ModelBudgetError(self._stalled, "run")',
        "            pass",
        "tests/reliability/test_hostile_models.py -k 'loop_of and fixed'",
    ),
    (
        "model: probabilities not checked",
        "app/core/model.py",
        "        check_probabilities(probs, self._name)\n",
        "",
        "tests/reliability/test_hostile_model_outputs.py -k non_finite",
    ),
    (
        "palette: duplicate class names accepted",
        "app/core/palette.py",
        "    if twice:",
        "    if False:",
        "tests/reliability/test_hostile_model_outputs.py -k duplicate",
    ),
    (
        "model_check: more than 128 classes accepted",
        "app/core/model_check.py",
        "    if len(classes) > MAX_CLASSES:",
        "    if False:",
        "tests/reliability/test_hostile_model_outputs.py -k 128",
    ),
    (
        "text: control characters not escaped",
        "app/core/text.py",
        "        piece = _escape(ch) if unicodedata.category(ch) in _UNSAFE_CATEGORIES else ch",
        "        piece = ch",
        "tests/reliability/test_hostile_model_outputs.py -k 'escape_sequences or hostile_text'",
    ),
    (
        "text: long values not cut",
        "app/core/text.py",
        "        if size + len(piece) > limit:",
        "        if False:",
        "tests/reliability/test_hostile_model_outputs.py -k escape_sequences",
    ),
    (
        "outlock: temp files of a killed run not removed",
        "app/core/outlock.py",
        "            _remove_temp_files(Path(folder), lambda token: token != holder.token)\n",
        "            pass\n",
        "tests/reliability/test_faults.py -k stale",
    ),
    (
        "outlock: a run's own temp files (a killed Dask worker's) left when it releases the folder",
        "app/core/outlock.py",
        "                _remove_temp_files(self.folder, lambda token: token == self.token)\n",
        "                pass\n",
        "tests/core/test_temp_sweep.py",
    ),
    (
        "pipeline: resume ignores complete outputs (redoes every photo)",
        "app/core/batch_plan.py",
        "    if same_figures and not changed and not new_header and all(p.exists() for p in targets.values()):",
        "    if False:",
        "tests/reliability/test_faults.py tests/reliability/test_kill_resume.py -k 'cancel or killed or existing'",
    ),
    (
        "pipeline: resume keeps outputs made under another report header (a stale asset in PDF and row)",
        "app/core/batch_plan.py",
        "    new_header = record is not None and record.report_header != header\n",
        "    new_header = False\n",
        "tests/core/test_header_resume.py tests/ui/test_cli_report_resume.py",
    ),
    (
        "pipeline: keeps every result in memory",
        "app/core/batch_photo.py",
        "    return dataclasses.replace(done, result=result, photo=rgb) if keep_result else done\n",
        "    _KEEP.append(result)\n    return dataclasses.replace(done, result=result, photo=rgb) if keep_result else done\n",
        "tests/reliability/test_scale.py",
    ),
    (
        "export: CSV cells not escaped",
        "app/core/export.py",
        """    return "'" + text if text.startswith(_FORMULA_START) else text""",
        "    return text",
        "tests/reliability/test_properties.py tests/reliability/test_export_safety.py -k 'formula'",
    ),
    (
        "export: stems capped in characters, not bytes",
        "app/core/export.py",
        """    while len(stem.encode("utf-8", "surrogatepass")) > max_len:""",
        "    while False:",
        "tests/reliability/test_properties.py tests/reliability/test_export_safety.py -k 'hostile or leave'",
    ),
    (
        "export: no hash suffix for inputs sharing a stem",
        "app/core/export.py",
        """        _with_digest(s, key, max_len, 8) if counts[s.casefold()] > 1 else s
        for s, (_n, key) in zip(stems, items, strict=True)
    ]
    taken: set[str] = set()
    for i, (own, (_name, key)) in enumerate(zip(stems, items, strict=True)):
        s, length = out[i], 8  # a hashed stem may still meet another name's own stem
        while s.casefold() in taken:""",
        """        s
        for s, (_n, key) in zip(stems, items, strict=True)
    ]
    taken: set[str] = set()
    for i, (own, (_name, key)) in enumerate(zip(stems, items, strict=True)):
        s, length = out[i], 8
        while False:""",
        "tests/reliability/test_properties.py tests/reliability/test_export_safety.py -k 'hostile or share'",
    ),
    (
        "export: separators kept in output names",
        "app/core/export.py",
        """    r'[<>:"/\\\\|?*\\x00-\\x1f\\x7f-\\x9f\\u200b-\\u200f\\u202a-\\u202e\\u2060-\\u2064\\u2066-\\u2069\\ufeff\\udc80-\\udcff]'""",
        """    r'[\\x00]'""",
        "tests/reliability/test_properties.py tests/reliability/test_export_safety.py -k 'hostile or leave'",
    ),
    (
        "palette: off-palette distance compared unsquared",
        "app/core/palette.py",
        "    off = nearest > OFF_PALETTE_DISTANCE**2",
        "    off = nearest > OFF_PALETTE_DISTANCE",
        "tests/reliability/test_properties.py -k decode",
    ),
    (
        "stats: percent of the pixels of known classes only",
        "app/core/stats.py",
        "    total = int(labels.size)\n",
        "    total = int(np.count_nonzero(labels < len(classes))) + 1\n",
        "tests/reliability/test_properties.py -k 'shares or unknown'",
    ),
    (
        "grading: two ASTM cut-offs swapped",
        "app/core/grading.py",
        "        (0.1, 8),\n        (0.3, 7),",
        "        (0.3, 8),\n        (0.1, 7),",
        "tests/reliability/test_properties.py -k grade",
    ),
    (
        "tiling: last tile not flush with the end",
        "app/core/fine.py",
        "    return [round(i * (length - tile) / (count - 1)) for i in range(count)]",
        "    return [i * stride for i in range(count - 1)] or [0]",
        "tests/reliability/test_properties.py -k tile",
    ),
    (
        "training: Keras safe mode off",
        "training/models/__init__.py",
        "safe_mode=True",
        "safe_mode=False",
        "tests/reliability/test_no_unsafe_loading.py",
    ),
]

MUTATIONS += [
    (
        "export: CSV lines end in LF only (a CR in a cell is not quoted)",
        "app/core/export.py",
        'writer = csv.writer(buf, lineterminator="\\r\\n")',
        'writer = csv.writer(buf, lineterminator="\\n")',
        "tests/reliability/test_export_safety.py -k line_break",
    ),
    (
        "cli: Ctrl+C before the batch not turned into exit 130",
        "app/analyze_cli.py",
        '                print("Interrupted.", file=sys.stderr)\n                rc = EXIT_INTERRUPTED\n',
        '                print("Interrupted.", file=sys.stderr)\n                rc = EXIT_FAILED\n',
        "tests/reliability/test_kill_resume.py -k model_loads",
    ),
    (
        "atomic writes: written in place (no temp file + rename)",
        "app/core/files.py",
        """        fd, tmp = tempfile.mkstemp(prefix=prefix, suffix=TEMP_SUFFIX, dir=path.parent)
        with os.fdopen(fd, "wb") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, new_file_mode())  # mkstemp makes 0600; give the mode a plain open() would
        pending = _STAGED.get()
        if pending is not None:  # lands with the rest of the set when `staged()` ends
            earlier = pending.pop(path, None)
            if earlier is not None:
                os.unlink(earlier[0])
            pending[path], tmp = (tmp, overwrite), None
            return
        if not overwrite and os.path.lexists(path):  # appeared while we wrote: still not ours to replace
            raise OutputExistsError(f"{path} already exists ({_HOW.get()})")
        os.replace(tmp, path)
        tmp = None""",
        """        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        with os.fdopen(fd, "wb") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())""",
        "tests/reliability/test_faults.py",
    ),
    (
        "atomic writes: temp file not removed when the write fails",
        "app/core/files.py",
        """        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)""",
        """        pass""",
        "tests/reliability/test_faults.py -k disk_full",
    ),
    # files, folders and the console
    (
        "photos: a FIFO opened blocking (no O_NONBLOCK)",
        "app/core/photos.py",
        '_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_NONBLOCK", 0)',
        '_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_BINARY", 0)',
        "tests/reliability/test_hostile_files.py -k 'swapped'",
    ),
    (
        "photos: no byte budget on the file size",
        "app/core/photos.py",
        "        if info.st_size > max_bytes:\n",
        "        if False:\n",
        "tests/reliability/test_hostile_files.py -k 'padded'",
    ),
    (
        "export: the digest added without shortening the stem first",
        "app/core/export.py",
        'return f"{safe_stem(stem, max_len - length - 1)}_{digest}"',
        'return f"{stem}_{digest}"',
        "tests/reliability/test_hostile_files.py -k 'first_100'",
    ),
    (
        "pipeline: no lock on the output folder",
        "app/core/batch_plan.py",
        "    lock = OutputLock.acquire(out_dir) if writes else None\n",
        "    lock = None\n",
        "tests/reliability/test_hostile_files.py -k 'locked or gui_batch'",
    ),
    (
        "ownership: any file in the way counts as ours",
        "app/core/ownership.py",
        "        if dead is not None and (dead.model_sha256, dead.mode) == run:\n            continue\n",
        "        continue\n",
        "tests/reliability/test_hostile_files.py -k 'not_ours or two_models'",
    ),
    (
        "ownership: a record edited by hand still counts as ours (seal not checked)",
        "app/core/record.py",
        "        if batch and data.get(SEAL) != _digest(data):",
        "    if False:",
        "tests/reliability/test_hostile_files.py -k 'not_ours'",
    ),
    (
        "ownership: an output may replace a photo of the batch",
        "app/core/ownership.py",
        "        if is_one_of(target, inputs):",
        "        if False:",
        "tests/reliability/test_hostile_files.py -k 'input_folder'",
    ),
    (
        "results_table: results.csv replaced by this run's rows alone",
        "app/core/results_table.py",
        "    old = _read(path, columns, overwrite)\n",
        "    old = []\n",
        "tests/reliability/test_hostile_files.py -k 'results_csv'",
    ),
    (
        "export: paths written as they are (bytes that are not UTF-8 kept)",
        "app/core/text.py",
        '        return os.fsencode(text).decode("utf-8", "backslashreplace")\n',
        "        return text\n",
        "tests/reliability/test_hostile_files.py -k 'not_utf8'",
    ),
    (
        "console: streams not guarded",
        "app/console.py",
        "    sys.stdout, sys.stderr = SafeStream(saved[0]), SafeStream(saved[1])\n",
        "",
        "tests/reliability/test_hostile_files.py -k 'whatever_happens'",
    ),
    (
        "console: no double-press window after the batch stopped",
        "app/analyze_cli.py",
        "    DOUBLE_PRESS_S = 0.3\n",
        "    DOUBLE_PRESS_S = 0.0\n",
        "tests/reliability/test_hostile_files.py -k 'ctrl_c'",
    ),
]

MUTATIONS += [
    (
        "memory: the pipelined engine takes photos whatever their size (no batch budget)",
        "app/core/engines.py",
        "if nxt is None or (pending and sum(p[2] for p in pending) + nxt[1] > budget):",
        "if nxt is None:",
        "tests/reliability/test_big_photos.py -k engine",
    ),
    (
        "memory: patch statistics over the whole map at once (indices of every corroded pixel)",
        "app/core/patches.py",
        "    rows = max(1, _STRIP_PIXELS // max(1, mask.shape[1]))\n",
        "    rows = max(1, mask.shape[0])\n",
        # a map over the dense share takes `_components_dense` (no strips): the CLI's all-red photo does
        "tests/core/test_patches.py -k strip_by_strip",
    ),
    (
        "batch: a photo's outputs land one by one (a full disk part-way leaves a mixed set)",
        "app/core/batch_photo.py",
        "        with files.temp_tag(item.temp_tag), files.staged():\n",
        "        with files.temp_tag(item.temp_tag):\n",
        "tests/core/test_batch_replace.py",
    ),
]


def _fresh(dst: Path) -> None:
    if dst.exists():
        shutil.rmtree(dst)
    dst.mkdir()
    for name in COPIED:
        if (SRC / name).exists():
            shutil.copytree(SRC / name, dst / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    shutil.copy(SRC / "pyproject.toml", dst)


def run(indexes: list[int]) -> list[dict]:
    results = []
    dst = Path(tempfile.mkdtemp(prefix="corroscope-mutant-"))
    try:
        for i, (title, rel, old, new, tests) in enumerate(MUTATIONS):
            if indexes and i not in indexes:
                continue
            _fresh(dst)
            target = dst / rel
            text = target.read_text(encoding="utf-8")
            if text.count(old) != 1:
                results.append({"i": i, "mutation": title, "caught": None, "summary": "did not apply"})
                print(json.dumps(results[-1], ensure_ascii=False), flush=True)
                continue
            text = text.replace(old, new)
            if "_KEEP.append" in new:
                text = text.replace(
                    "\nlog = logging.getLogger(__name__)\n",
                    "\nlog = logging.getLogger(__name__)\n_KEEP = []\n",
                )
            target.write_text(text, encoding="utf-8")
            start = time.time()
            env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(dst)}
            cmd = f"{sys.executable} -m pytest -q -p no:cacheprovider -x {tests}"
            done = subprocess.run(cmd, shell=True, cwd=dst, env=env, capture_output=True, text=True)
            failed = [line for line in done.stdout.splitlines() if line.startswith("FAILED")][:3]
            lines = done.stdout.strip().splitlines()
            results.append(
                {
                    "i": i,
                    "mutation": title,
                    "tests": tests,
                    "caught": done.returncode != 0,
                    "summary": lines[-1] if lines else done.stderr[-300:],
                    "failed": failed,
                    "seconds": round(time.time() - start),
                }
            )
            print(json.dumps(results[-1], ensure_ascii=False), flush=True)
    finally:
        shutil.rmtree(dst, ignore_errors=True)
    return results


if __name__ == "__main__":
    outcome = run([int(a) for a in sys.argv[1:]])
    missed = [r["mutation"] for r in outcome if not r["caught"]]
    print(
        f"{len(outcome) - len(missed)} of {len(outcome)} caught" + (f"; missed: {missed}" if missed else "")
    )
    sys.exit(1 if missed else 0)
