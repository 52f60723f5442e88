"""What `build.spec`, `scripts/build` and `tests/packaging` share: variants, requirements, exclusions, checks.

Plain Python with no PyInstaller import, so the tests read exactly what the spec uses. Kept out of any
package named `packaging` on purpose: that name belongs to the PyPI library onnxruntime imports.
"""

from __future__ import annotations

import os
import re
import struct
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

VARIANT_ENV = "CORROSCOPE_VARIANT"
VARIANTS = ("cpu", "gpu")
DEFAULT_VARIANT = "cpu"

# The ONNX Runtime build each variant installs in place of the project's own (marker-chosen) one. The CPU
# variant takes plain `onnxruntime` with pyproject.toml's own version floor (`project_onnxruntime`): one
# place says which versions are safe (earlier ones follow a model's external-data paths themselves,
# docs/reliability.md). onnxruntime-gpu 1.31 is built against CUDA 13 and cuDNN 9: its `cuda`/`cudnn`
# extras bring cudart, nvrtc, cufft, curand and cuDNN; cuBLAS (which libonnxruntime_providers_cuda.so
# links) is not in the extras, so it is listed here.
ORT_REQUIREMENTS: Mapping[str, tuple[str, ...]] = {
    "gpu": ("onnxruntime-gpu[cuda,cudnn]~=1.31.0", "nvidia-cublas~=13.0"),
}
ORT_PACKAGES = frozenset({"onnxruntime", "onnxruntime-gpu"})

# Never inside the frozen program: the training stack, test tools, and big libraries the app never uses.
FORBIDDEN_MODULES = (
    "tensorflow",
    "tensorboard",
    "keras",
    "tf_keras",
    "tf2onnx",
    "pytest",
    "_pytest",
    "training",
)
EXCLUDED_MODULES = (
    *FORBIDDEN_MODULES,
    "pytestqt",
    "hypothesis",
    "onnx",  # the app reads metadata through onnxruntime, never the onnx package
    "matplotlib",
    "openpyxl",
    "scipy",
    "pandas",
    "torch",
    "jax",
    "IPython",
    "tkinter",
    "_tkinter",
    "tests",
    # Qt modules the app never imports; listed so an indirect import cannot drag them in.
    "PySide6.QtQml",
    "PySide6.QtQuick",
    "PySide6.QtQuickWidgets",
    "PySide6.QtQuickControls2",
    "PySide6.QtWebEngineCore",
    "PySide6.QtWebEngineWidgets",
    "PySide6.QtMultimedia",
    "PySide6.Qt3DCore",
    "PySide6.QtDesigner",
    "PySide6.QtUiTools",
    "PySide6.QtSql",
    "PySide6.QtTest",
    "PySide6.QtNetwork",
    # Not QtOpenGL / QtOpenGLWidgets: pyqtgraph (the project trend view) imports both at import time.
    "PySide6.QtHelp",
    # Never imported by a running program (Fortran wrappers, help() texts, databases projects never use):
    # 0.8 MB of the archive, room under the size limit.
    "numpy.f2py",
    "pydoc_data",
    "sqlalchemy.dialects.mysql",
    "sqlalchemy.dialects.mssql",
    "sqlalchemy.dialects.oracle",
)

# Qt plugins kept, by folder (under .../Qt/plugins or PySide6/plugins) and plugin stem; every other folder
# goes. platforms: offscreen/minimal for CI and headless use, xcb for Linux desktops (Wayland sessions
# run it through XWayland), windows and cocoa for those systems.
QT_PLUGINS_KEPT: Mapping[str, frozenset[str] | None] = {
    "platforms": frozenset({"qoffscreen", "qminimal", "qxcb", "qwindows", "qcocoa"}),
    "imageformats": frozenset({"qjpeg", "qsvg", "qico"}),  # jpeg: QPdfWriter embeds photos as JPEG
    "iconengines": frozenset({"qsvgicon"}),
    "platforminputcontexts": frozenset(
        {"composeplatforminputcontextplugin", "ibusplatforminputcontextplugin"}
    ),
    "platformthemes": frozenset({"qxdgdesktopportal"}),  # not qgtk3: it would drag in the build host's GTK
    "xcbglintegrations": None,  # all (two small ones)
    "styles": None,  # Windows' native look
}

# Qt libraries the app never needs; dropped if anything pulls them in, and fatal if found in the result.
QT_LIBRARIES_DROPPED = re.compile(
    r"Qt6(Quick|Qml|WebEngine|WebChannel|WebSockets|3D|Multimedia|Pdf|Designer|Wayland|Wl|EglF[sS]|"
    r"VirtualKeyboard|Lottie|Labs|Charts|DataVisualization|Graphs|Sql|Test|Help|UiTools|Network|"
    r"OpenGLWidgets|ShaderTools|SpatialAudio|Location|Positioning|Sensors|SerialPort|Bluetooth|Nfc|"
    r"RemoteObjects|Scxml|StateMachine|TextToSpeech|HttpServer|Concurrent)"
)
# Qt translations: none. Qt reads a .qm file only through a QTranslator the app installs, and the app
# installs none (its text is English), so each one (qtbase_* alone 5.8 MB) would never be opened.
QT_TRANSLATION_KEPT = re.compile(r"(?!)")  # matches nothing; a pattern here would keep those files

# Qt's software OpenGL for Windows (20 MB): the widgets draw without OpenGL. OpenCV's FFmpeg plugin for
# Windows (41 MB): only cv2.VideoCapture loads it, and the app reads no video.
OTHER_LIBRARIES_DROPPED = re.compile(r"^(opengl32sw|opencv_videoio_ffmpeg\d*_64)\.dll$", re.IGNORECASE)
# Pillow's AVIF codec (5.0 MB with its libavif): the app reads no AVIF (`app.core.left_out` names .avif
# unread); its Tk bridge: tkinter is excluded. Only under PIL/ and pillow.libs/: OpenCV links a libavif
# of its own.
PILLOW_FILES_DROPPED = re.compile(r"^(_avif|_imagingtk)\.[^/\\]*\.(so|pyd)$|^(lib)?avif[-.]", re.IGNORECASE)
# Drivers come with the target system, never with the program.
DRIVER_LIBRARIES = re.compile(r"^(libcuda\.so|nvcuda\.dll|libnvidia-|nvml\.dll)", re.IGNORECASE)
# onnxruntime-gpu ships a TensorRT provider that needs TensorRT, which we never bundle or ask for.
ORT_LIBRARIES_DROPPED = re.compile(r"onnxruntime_providers_tensorrt")
# From the NVIDIA wheels: what onnxruntime's CUDA provider loads, cuDNN's sub-libraries, and what those
# load at run time by name (nvrtc and its builtins; nvJitLink, which cuFFT and cuDNN's runtime-fusion
# engines open). cuBLAS's nvblas and cuFFT's FFTW layer are never used.
NVIDIA_LIBRARY_KEPT = re.compile(
    r"(cublasLt|cublas|cudart|curand|cufft|nvrtc|nvJitLink|cudnn)(64)?[^/\\]*\.(so[.\d]*|dll)$", re.IGNORECASE
)
NVIDIA_LIBRARY_DROPPED = re.compile(r"(nvblas|cufftw|nvrtc-builtins_static|_static)", re.IGNORECASE)


class BuildConfigError(ValueError):
    """A build setting that cannot work; the message says which and what to use instead."""


def variant_from_env(environ: Mapping[str, str] | None = None) -> str:
    """The variant named by CORROSCOPE_VARIANT (default cpu); anything else is an error."""
    env = os.environ if environ is None else environ
    value = env.get(VARIANT_ENV, "").strip().lower() or DEFAULT_VARIANT
    if value not in VARIANTS:
        raise BuildConfigError(f"{VARIANT_ENV}={value!r}: use one of {', '.join(VARIANTS)}")
    return value


def requirement_name(requirement: str) -> str:
    """The normalised distribution name of a PEP 508 requirement string."""
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    if not match:
        raise BuildConfigError(f"not a requirement: {requirement!r}")
    return re.sub(r"[-_.]+", "-", match.group(1)).lower()


def _load_pyproject(pyproject: Path) -> dict:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - the build needs 3.11's tomllib or the tomli backport
        import tomli as tomllib
    with open(pyproject, "rb") as fh:
        return tomllib.load(fh)


def runtime_requirements(pyproject: Path, variant: str) -> list[str]:
    """The app's runtime dependencies with both onnxruntime lines replaced by the variant's own."""
    if variant not in VARIANTS:
        raise BuildConfigError(f"unknown variant {variant!r}: use one of {', '.join(VARIANTS)}")
    deps = _load_pyproject(pyproject)["project"]["dependencies"]
    kept = [d for d in deps if requirement_name(d) not in ORT_PACKAGES]
    ort = ORT_REQUIREMENTS[variant] if variant in ORT_REQUIREMENTS else (project_onnxruntime(deps),)
    return [*kept, *ort, team_driver(pyproject)]


def team_driver(pyproject: Path) -> str:
    """The `team` extra's PostgreSQL driver without its own libpq (`psycopg[binary]>=3.1` -> `psycopg>=3.1`):
    the program opens a team's project through the system's libpq (Debian: libpq5), since the binary
    wheel's libraries (about 10 MB) would take the CPU build over its size limit."""
    team = _load_pyproject(pyproject)["project"]["optional-dependencies"]["team"]
    lines = [d for d in team if requirement_name(d) == "psycopg"]
    if len(lines) != 1:
        raise BuildConfigError(f"pyproject.toml's team extra should list psycopg once, found {len(lines)}")
    return re.sub(r"\[[^\]]*\]", "", lines[0].split(";")[0]).strip()


# Imported by name at run time (SQLAlchemy picks its dialect from the URL): PyInstaller cannot see them.
TEAM_HIDDEN_IMPORTS = ("psycopg", "sqlalchemy.dialects.postgresql.psycopg")


def project_onnxruntime(deps: Iterable[str]) -> str:
    """pyproject.toml's plain `onnxruntime` requirement without its environment marker, e.g.
    `onnxruntime>=1.24`."""
    lines = [d.split(";")[0].strip() for d in deps if requirement_name(d) == "onnxruntime"]
    if len(lines) != 1:
        raise BuildConfigError(f"pyproject.toml should list plain onnxruntime once, found {len(lines)}")
    return lines[0]


def build_requirements(pyproject: Path) -> list[str]:
    """The `build` extra of pyproject.toml (PyInstaller)."""
    return list(_load_pyproject(pyproject)["project"]["optional-dependencies"]["build"])


def _parts(dest: str) -> list[str]:
    return [p for p in re.split(r"[/\\]+", dest) if p]


def keep_qt_plugin(dest: str) -> bool:
    """Whether a bundled file under a Qt `plugins` folder stays (files elsewhere always stay)."""
    parts = _parts(dest)
    if "plugins" not in parts or not any(p in ("PySide6", "Qt") for p in parts):
        return True
    i = len(parts) - 1 - parts[::-1].index("plugins")
    if len(parts) < i + 3:  # a file directly in plugins/
        return True
    folder, filename = parts[i + 1], parts[-1]
    if folder not in QT_PLUGINS_KEPT:
        return False
    allowed = QT_PLUGINS_KEPT[folder]
    if allowed is None:
        return True
    stem = filename.split(".")[0]
    stem = stem[3:] if stem.startswith("lib") else stem
    return stem in allowed


def keep_file(dest: str) -> bool:
    """The spec's filter for every binary and data file the analysis found (dest: path in the bundle)."""
    parts = _parts(dest)
    name = parts[-1] if parts else dest
    if not keep_qt_plugin(dest):
        return False
    if QT_LIBRARIES_DROPPED.search(name) and (
        "Qt" in parts or "PySide6" in parts or name.startswith("libQt6")
    ):
        return False
    if "translations" in parts and name.endswith(".qm") and not QT_TRANSLATION_KEPT.search(name):
        return False
    if (
        ORT_LIBRARIES_DROPPED.search(name)
        or OTHER_LIBRARIES_DROPPED.search(name)
        or DRIVER_LIBRARIES.search(name)
    ):
        return False
    if any(p in ("PIL", "pillow.libs") for p in parts[:-1]) and PILLOW_FILES_DROPPED.search(name):
        return False
    if parts and parts[0] == "nvidia":
        return bool(NVIDIA_LIBRARY_KEPT.search(name)) and not NVIDIA_LIBRARY_DROPPED.search(name)
    return not any(p in FORBIDDEN_MODULES for p in parts)


def elf_needed(path: Path) -> list[str] | None:
    """DT_NEEDED names of a 64-bit little-endian ELF file, or None when it is not one (or unreadable)."""
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError:
        return None
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        return None
    try:
        (shoff,) = struct.unpack_from("<Q", data, 0x28)
        shentsize, shnum = struct.unpack_from("<HH", data, 0x3A)
        sections = [struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize) for i in range(shnum)]
        names: list[str] = []
        for _name, kind, _f, _a, offset, size, link, _i, _al, _es in sections:
            if kind != 6:  # SHT_DYNAMIC
                continue
            strtab = sections[link][4]
            for pos in range(offset, offset + size, 16):
                tag, value = struct.unpack_from("<qQ", data, pos)
                if tag == 0:
                    break
                if tag == 1:  # DT_NEEDED
                    end = data.index(b"\0", strtab + value)
                    names.append(data[strtab + value : end].decode())
        return names
    except (struct.error, IndexError, ValueError):
        return None


def prune_orphan_libraries(
    entries: list[tuple], needed: Callable[[str], list[str] | None]
) -> tuple[list[tuple], list[str]]:
    """Drop top-level shared libraries no kept binary links to (left behind by dropped Qt plugins).

    entries: PyInstaller TOC tuples (dest, src, typecode); needed(src) lists a binary's DT_NEEDED names,
    or None when unknown (then nothing is pruned, to stay safe).
    """

    def candidate(e: tuple) -> bool:
        dest = e[0]
        return "/" not in dest and "\\" not in dest and ".so" in dest and not dest.startswith("libpython")

    kept = list(entries)
    dropped: list[str] = []
    cache: dict[str, list[str] | None] = {}
    while True:
        wanted: set[str] = set()
        for e in kept:
            if e[2] not in ("BINARY", "EXTENSION"):
                continue
            if e[1] not in cache:
                cache[e[1]] = needed(e[1])
            if cache[e[1]] is None:
                return list(entries), []
            wanted.update(cache[e[1]] or ())
        orphans = [e for e in kept if e[2] == "BINARY" and candidate(e) and e[0] not in wanted]
        if not orphans:
            return kept, dropped
        dropped.extend(e[0] for e in orphans)
        kept = [e for e in kept if e not in orphans]


def forbidden_module(name: str) -> bool:
    """Whether a dotted module name is (inside) one of FORBIDDEN_MODULES."""
    return name.split(".")[0] in FORBIDDEN_MODULES


@dataclass(frozen=True)
class Offence:
    """Something in a built folder that must not be there."""

    path: str
    reason: str


def find_offences(paths: Iterable[str], modules: Iterable[str] = ()) -> list[Offence]:
    """Forbidden files (by path in the bundle) and modules (by dotted name) in a build."""
    found: list[Offence] = []
    for path in paths:
        parts = _parts(path)
        hit = next(
            (p for p in parts if p.split(".")[0] in FORBIDDEN_MODULES or "tensorflow" in p.lower()), None
        )
        if hit:
            found.append(Offence(path, f"{hit} must not be bundled"))
        elif (
            parts
            and QT_LIBRARIES_DROPPED.search(parts[-1])
            and parts[-1].lower().startswith(("libqt6", "qt6"))
        ):
            found.append(Offence(path, "unused Qt library"))
    found.extend(Offence(m, "forbidden module in the archive") for m in modules if forbidden_module(m))
    return found


INT8_SUFFIX = ".int8.onnx"  # as app.core.model.INT8_SUFFIX (this helper imports nothing of the app)


def model_files(models_dir: Path, variant: str = "gpu") -> list[Path]:
    """What the spec bundles from models/: every .onnx there at build time, and the model card.

    The cpu variant leaves out a float file whose int8 variant is there: on the CPU the app runs the int8
    one (`app.core.model.default_model_path`), so the float file would be 32.7 MB never loaded. The gpu
    variant keeps both (CUDA runs the float file, the CPU fallback the int8 one).
    """
    if variant not in VARIANTS:
        raise BuildConfigError(f"unknown variant {variant!r}: use one of {', '.join(VARIANTS)}")
    if not models_dir.is_dir():
        return []
    found = sorted(
        p for p in models_dir.iterdir() if p.is_file() and (p.suffix == ".onnx" or p.name == "MODEL_CARD.md")
    )
    if variant == "cpu":
        names = {p.name for p in found}
        found = [
            p
            for p in found
            if p.name.endswith(INT8_SUFFIX)
            or p.suffix != ".onnx"
            or p.name[: -len(".onnx")] + INT8_SUFFIX not in names
        ]
    return found


# The user guide (Help > User guide, F1): `app.ui.help_dialogs.user_guide_path()` looks for
# docs/user-guide.md beside the program, and its dialog draws images at most GUIDE_IMAGE_WIDTH wide. The
# screenshots are 1400 px RGB (7.4 MB, over the CPU build's size limit), so the build takes them scaled to
# that width and quantized to 256 colours: about 1.6 MB, and on screen no different in the guide's dialog.
GUIDE_IMAGE_WIDTH = 700  # as app.ui.help_dialogs.GUIDE_IMAGE_WIDTH (this helper imports nothing of the app)
GUIDE_IMAGE_LINK = re.compile(r"\]\((images/[^)\s]+)")  # `![...](images/x.png)`, as the guide links them


def guide_images(guide_text: str) -> list[str]:
    """The images the guide links (`](images/...)`), in order of first mention, each once."""
    return list(dict.fromkeys(GUIDE_IMAGE_LINK.findall(guide_text)))


def _reduce_image(source: Path, out: Path, width: int) -> None:
    """`source` written to `out` at most `width` wide (Lanczos, never enlarged), in 256 colours."""
    from PIL import Image

    out.parent.mkdir(parents=True, exist_ok=True)
    with Image.open(source) as image:
        image.load()
        if image.width > width:
            height = max(1, round(image.height * width / image.width))
            image = image.resize((width, height), Image.Resampling.LANCZOS)
        if "A" in image.getbands() and image.getchannel("A").getextrema()[0] < 255:
            # see-through pixels stay so: median cut takes no alpha, fast octree does
            image = image.convert("RGBA").quantize(256, method=Image.Quantize.FASTOCTREE)
        else:
            image = image.convert("RGB").quantize(256, method=Image.Quantize.MEDIANCUT)
        image.save(out, format="PNG", optimize=True)


GUIDE_PAGE_LINK = re.compile(r"\]\(([a-z0-9-]+\.md)(?:#[^)\s]*)?\)")  # `[...](projects.md#part)`


def guide_pages(guide_text: str) -> list[str]:
    """The other pages of docs/ the guide links (`](projects.md)`, `](reliability.md#...)`), each once."""
    return list(dict.fromkeys(GUIDE_PAGE_LINK.findall(guide_text)))


def stage_user_guide(
    docs_dir: Path, stage_dir: Path, width: int = GUIDE_IMAGE_WIDTH
) -> list[tuple[str, str]]:
    """Stage docs/user-guide.md, the pages of docs/ it links and the images they link for the build;
    PyInstaller `datas` for them.

    The pages are copied unchanged to stage_dir; each linked image (only those) is written there scaled
    to at most `width` pixels wide (Lanczos; never enlarged) and quantized to 256 colours (median cut,
    PNG optimized). The tuples put them at docs/... and docs/images/... in the bundle, where the frozen
    app looks. A linked page or image that is missing, or an image link out of docs/images/, is a
    BuildConfigError naming it. Needs Pillow (a runtime dependency, so in every build environment).
    """
    guide = docs_dir / "user-guide.md"
    if not guide.is_file():
        raise BuildConfigError(f"the user guide {guide} is missing")
    pages = [guide.name, *guide_pages(guide.read_text("utf-8"))]
    gone = [page for page in pages if not (docs_dir / page).is_file()]
    if gone:
        raise BuildConfigError(f"{guide} links pages that are missing: {', '.join(gone)}")
    texts = {page: (docs_dir / page).read_bytes() for page in pages}
    links = list(
        dict.fromkeys(link for data in texts.values() for link in guide_images(data.decode("utf-8")))
    )
    bad = [link for link in links if ".." in link.split("/")]
    if bad:
        raise BuildConfigError(f"{guide} links images outside docs/images/: {', '.join(bad)}")
    missing = [link for link in links if not (docs_dir / link).is_file()]
    if missing:
        raise BuildConfigError(f"{guide} links images that are missing: {', '.join(missing)}")
    stage_dir.mkdir(parents=True, exist_ok=True)
    datas = []
    for page, data in texts.items():
        (stage_dir / page).write_bytes(data)
        datas.append((str(stage_dir / page), "docs"))
    for link in links:
        out = stage_dir / link
        _reduce_image(docs_dir / link, out, width)
        datas.append((str(out), f"docs/{Path(link).parent.as_posix()}"))
    return datas


@dataclass(frozen=True)
class SizeReport:
    """Bytes in a built folder: the total, the biggest parts (packages/folders) and the biggest files."""

    total: int
    parts: tuple[tuple[str, int], ...]
    files: tuple[tuple[str, int], ...]


def _part_of(rel: Path) -> str:
    parts = rel.parts
    if len(parts) > 1 and parts[0] == "_internal":
        parts = parts[1:]
    if len(parts) == 1:
        return "(files at the top)" if rel.parts[0] == "_internal" or len(rel.parts) == 1 else parts[0]
    depth = 2 if parts[0] in ("nvidia", "PySide6") and len(parts) > 2 else 1
    return "/".join(parts[:depth])


def size_report(folder: Path, top: int = 12) -> SizeReport:
    """Sizes of the real files under folder (symlinks count once, at their target)."""
    sizes: dict[str, int] = {}
    files: list[tuple[str, int]] = []
    total = 0
    for path in folder.rglob("*"):
        if path.is_symlink() or not path.is_file():
            continue
        size = path.stat().st_size
        rel = path.relative_to(folder)
        total += size
        files.append((rel.as_posix(), size))
        part = _part_of(rel)
        sizes[part] = sizes.get(part, 0) + size
    by_size = sorted(sizes.items(), key=lambda kv: -kv[1])[:top]
    files.sort(key=lambda kv: -kv[1])
    return SizeReport(total, tuple(by_size), tuple(files[:top]))


def duplicate_files(folder: Path) -> list[tuple[str, ...]]:
    """Real files with the same name and size in more than one place (a duplicate library)."""
    seen: dict[tuple[str, int], list[str]] = {}
    for path in folder.rglob("*"):
        if path.is_symlink() or not path.is_file() or path.stat().st_size < 1 << 20:
            continue
        seen.setdefault((path.name, path.stat().st_size), []).append(path.relative_to(folder).as_posix())
    return [tuple(v) for v in seen.values() if len(v) > 1]


def archive_modules(executable: Path) -> list[str]:
    """Module names in the PYZ archive inside a PyInstaller executable (needs PyInstaller installed)."""
    from PyInstaller.archive.readers import CArchiveReader

    reader = CArchiveReader(str(executable))
    names: list[str] = []
    for name, entry in reader.toc.items():
        if entry[-1] == "z":  # the PYZ: compiled pure-Python modules
            names.extend(reader.open_embedded_archive(name).toc)
    return names


def _mb(n: int) -> str:
    return f"{n / 1e6:8.1f} MB"


# The most a variant's one-folder build may hold (bytes, real files as `size_report` counts them): the
# check fails the build above it, so the program cannot grow unnoticed. The cpu build measured 398.3 MB
# (docs/packaging.md: debug symbols stripped, OpenCV 4.x, the user guide 1.7 MB); its limit is the 400 MB
# goal. The gpu variant is mostly NVIDIA's libraries and has no limit.
SIZE_LIMITS: Mapping[str, int | None] = {"cpu": 400_000_000, "gpu": None}
SIZE_GOAL_CPU = 400_000_000


def size_offence(total: int, variant: str) -> str | None:
    """Why a build of `total` bytes is too big for `variant`, or None when it fits."""
    limit = SIZE_LIMITS[variant]
    if limit is None or total <= limit:
        return None
    return (
        f"the {variant} build is {total / 1e6:.1f} MB, over its limit of {limit / 1e6:.0f} MB "
        "(docs/packaging.md lists what stays and why)"
    )


def check_build(folder: Path, variant: str = DEFAULT_VARIANT) -> int:
    """Print the size report and fail (non-zero) on anything forbidden or a build over its size limit."""
    if not folder.is_dir():
        print(f"no build at {folder}", file=sys.stderr)
        return 2
    exe = next((folder / n for n in ("corroscope", "corroscope.exe") if (folder / n).is_file()), None)
    modules = archive_modules(exe) if exe else []
    paths = [p.relative_to(folder).as_posix() for p in folder.rglob("*")]
    report = size_report(folder)
    print(f"{folder}: {_mb(report.total)} in {len(paths)} entries, {len(modules)} modules in the archive")
    print("largest parts:")
    for name, size in report.parts:
        print(f"  {_mb(size)}  {name}")
    print("largest files:")
    for name, size in report.files[:8]:
        print(f"  {_mb(size)}  {name}")
    for group in duplicate_files(folder):
        print(f"duplicate: {' = '.join(group)}")
    offences = find_offences(paths, modules)
    for off in offences[:40]:
        print(f"FORBIDDEN: {off.path}: {off.reason}", file=sys.stderr)
    if not modules:
        print("FORBIDDEN check incomplete: no module archive found in the executable", file=sys.stderr)
        return 1
    if offences:
        print(f"{len(offences)} forbidden entries in the build", file=sys.stderr)
        return 1
    print("no TensorFlow, tf2onnx, keras, pytest or training code inside")
    too_big = size_offence(report.total, variant)
    if too_big:
        print(f"TOO BIG: {too_big}", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str]) -> int:
    """`requirements VARIANT` | `build-requirements` | `variant` | `check DIST_FOLDER`."""
    root = Path(__file__).resolve().parents[2]
    sys.stdout.reconfigure(newline="\n")  # plain lines for bash, also on Windows (Git Bash)
    if len(argv) == 2 and argv[0] == "requirements":
        print("\n".join(runtime_requirements(root / "pyproject.toml", argv[1])))
    elif argv == ["build-requirements"]:
        print("\n".join(build_requirements(root / "pyproject.toml")))
    elif argv == ["variant"]:
        print(variant_from_env())
    elif len(argv) == 2 and argv[0] == "check":
        return check_build(Path(argv[1]), variant_from_env())
    else:
        print(main.__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except BuildConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
