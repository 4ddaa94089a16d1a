"""Copy the front-end libraries from node_modules into guanxi/static/vendor.

The browser never loads them from a CDN. Source maps are copied too, because whitenoise's
manifest storage fails on a missing .map that a minified file refers to.
"""

import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODULES = ROOT / "node_modules"
VENDOR = ROOT / "guanxi" / "static" / "vendor"

# (package folder in node_modules, folder to copy, destination under vendor/)
COPIES = [
    ("bootstrap", "dist", "bootstrap"),
    ("bootstrap-icons", "font", "bootstrap-icons"),
    ("htmx.org", "dist", "htmx"),
    ("alpinejs", "dist", "alpinejs"),
    ("echarts", "dist", "echarts"),
    ("sortablejs", ".", "sortablejs"),
    ("@fullcalendar/core", ".", "fullcalendar/core"),
    ("@fullcalendar/daygrid", ".", "fullcalendar/daygrid"),
    ("@fullcalendar/timegrid", ".", "fullcalendar/timegrid"),
    ("@fullcalendar/list", ".", "fullcalendar/list"),
    ("@fullcalendar/multimonth", ".", "fullcalendar/multimonth"),
    ("@fullcalendar/interaction", ".", "fullcalendar/interaction"),
]
# Packages whose folder holds many alternative builds: copy only these files. (ECharts ships
# 40 MB of builds and source maps; pages load the minified full build, which names no map.)
ONLY = {"echarts": {"echarts.min.js"}}
# Only what a page can load; sources, type declarations and CommonJS builds stay behind.
KEEP_SUFFIXES = {".js", ".css", ".map", ".woff", ".woff2", ".json"}
SKIP_PARTS = {"src", "types", "node_modules", "esm", "extension", "lib", "i18n", "theme"}


def copy_package(package: str, folder: str, destination: str) -> int:
    source = MODULES / package / folder
    if not source.exists():
        sys.exit(f"missing {source}: run `npm ci` first")
    target = VENDOR / destination
    shutil.rmtree(target, ignore_errors=True)
    copied = 0
    for path in source.rglob("*"):
        relative = path.relative_to(source)
        if path.is_dir() or SKIP_PARTS.intersection(relative.parts[:-1]):
            continue
        if package in ONLY and str(relative) not in ONLY[package]:
            continue
        if path.suffix not in KEEP_SUFFIXES or path.name == "package.json":
            continue
        if path.suffix == ".js" and (path.name.endswith(".cjs.js") or ".esm." in path.name):
            continue
        (target / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target / relative)
        copied += 1
    return copied


def main() -> None:
    total = sum(copy_package(*copy) for copy in COPIES)
    print(f"copied {total} front-end files into {VENDOR.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
