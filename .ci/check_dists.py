"""Check what `python -m build` made: python .ci/check_dists.py DIST_DIR

The sdist must hold everything a build from it needs: every source of the
extension in the checkout (.pyx, .pxd, .pxi, .c and .h files at any depth
under fastloss/), and the tests. The wheel holds what users run: the
compiled extension, built without debug information (no .debug_info
section, checked where it is an ELF file), the Python modules, the stubs
and py.typed, and none of those sources. Both carry the version of
fastloss/_version.py. Prints the wheel's path on success, so that .ci/run
can install exactly that file.
"""
import importlib.machinery
import re
import struct
import sys
import tarfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

SDIST_NEEDS = [
    "setup.py", "pyproject.toml", "MANIFEST.in", "README.md", "LICENSE", "PKG-INFO",
    "fastloss/__init__.py", "fastloss/_version.py", "fastloss/_core.pyx",
    "fastloss/_core.pyi", "fastloss/py.typed",
    "fastloss/reference/__init__.py", "fastloss/bench/__main__.py",
    "tests/conftest.py", "tests/support.py", "tests/test_stubs.py",
    "tests/stubtest_allowlist.txt",
]
WHEEL_NEEDS = [
    "fastloss/__init__.py", "fastloss/_version.py", "fastloss/_core.pyi", "fastloss/py.typed",
    "fastloss/book.py", "fastloss/reference/__init__.py", "fastloss/bench/__main__.py",
]
# the extension's sources: in the sdist, never in a wheel
SOURCE_SUFFIXES = (".pyx", ".pxd", ".pxi", ".c", ".h")


def extension_sources():
    """The extension's source files of the checkout, as sdist paths."""
    return sorted(path.relative_to(ROOT).as_posix()
                  for path in (ROOT / "fastloss").rglob("*")
                  if path.is_file() and path.suffix in SOURCE_SUFFIXES)


def elf_section_names(data):
    """The section names of an ELF file's bytes, or None if it is not ELF."""
    if data[:4] != b"\x7fELF":
        return None
    wide, order = data[4] == 2, "<" if data[5] == 1 else ">"
    if wide:
        shoff, = struct.unpack_from(order + "Q", data, 0x28)
        shentsize, shnum, shstrndx = struct.unpack_from(order + "HHH", data, 0x3A)
    else:
        shoff, = struct.unpack_from(order + "I", data, 0x20)
        shentsize, shnum, shstrndx = struct.unpack_from(order + "HHH", data, 0x2E)

    def header(i):                      # (name offset, file offset of the contents)
        base = shoff + i * shentsize
        name, = struct.unpack_from(order + "I", data, base)
        offset, = struct.unpack_from(order + ("Q" if wide else "I"), data,
                                     base + (0x18 if wide else 0x10))
        return name, offset

    strtab = header(shstrndx)[1]
    return [data[strtab + name:data.index(b"\0", strtab + name)].decode("ascii", "replace")
            for name, _ in map(header, range(shnum))]


def fail(msg):
    sys.exit(f"check_dists: {msg}")


def version():
    text = (ROOT / "fastloss" / "_version.py").read_text()
    match = re.search(r"""^__version__\s*=\s*["']([^"']+)["']""", text, re.M)
    if not match:
        fail("no __version__ in fastloss/_version.py")
    return match.group(1)


def metadata_field(text, name):
    return [line.split(":", 1)[1].strip() for line in text.splitlines()
            if line.startswith(name + ":")]


def check_metadata(text, where, v):
    if metadata_field(text, "Version") != [v]:
        fail(f"{where}: Version {metadata_field(text, 'Version')}, fastloss/_version.py says {v}")
    for field, want in [("License-Expression", "BSD-3-Clause"),
                        ("Description-Content-Type", "text/markdown")]:
        if metadata_field(text, field) != [want]:
            fail(f"{where}: {field} is {metadata_field(text, field)}, want {want}")
    if not any(r.startswith("numpy>=1.26") for r in metadata_field(text, "Requires-Dist")):
        fail(f"{where}: no Requires-Dist numpy>=1.26")
    if "# fastloss" not in text:
        fail(f"{where}: the README is not the long description")


def main(dist):
    v = version()
    sdists = sorted(dist.glob("fastloss-*.tar.gz"))
    wheels = sorted(dist.glob("fastloss-*.whl"))
    if len(sdists) != 1 or len(wheels) != 1:
        fail(f"want one sdist and one wheel in {dist}, found {sdists + wheels}")
    sdist, wheel = sdists[0], wheels[0]
    if sdist.name != f"fastloss-{v}.tar.gz" or not wheel.name.startswith(f"fastloss-{v}-"):
        fail(f"file names {sdist.name}, {wheel.name} do not carry version {v}")

    with tarfile.open(sdist) as tar:
        prefix = f"fastloss-{v}/"
        names = {n[len(prefix):] for n in tar.getnames() if n.startswith(prefix)}
        missing = [n for n in SDIST_NEEDS + extension_sources() if n not in names]
        if missing:
            fail(f"{sdist.name} lacks {missing}")
        stray = [n for n in names if n.endswith((".so", ".pyd", ".pyc", ".o"))]
        if stray:
            fail(f"{sdist.name} holds build outputs {stray}")
        check_metadata(tar.extractfile(prefix + "PKG-INFO").read().decode(), sdist.name, v)

    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        missing = [n for n in WHEEL_NEEDS if n not in names]
        if missing:
            fail(f"{wheel.name} lacks {missing}")
        suffixes = tuple(importlib.machinery.EXTENSION_SUFFIXES)
        cores = [n for n in names if n.startswith("fastloss/_core.") and n.endswith(suffixes)]
        if not cores:
            fail(f"{wheel.name} holds no compiled fastloss._core")
        stray = [n for n in names
                 if n.endswith(SOURCE_SUFFIXES) or n.startswith(("tests/", "bench/"))]
        if stray:
            fail(f"{wheel.name} holds {stray}")
        for core in cores:
            sections = elf_section_names(zf.read(core))
            if sections is not None and ".debug_info" in sections:
                fail(f"{wheel.name}: {core} carries debug information (.debug_info)")
        check_metadata(zf.read(f"fastloss-{v}.dist-info/METADATA").decode(), wheel.name, v)

    print(f"check_dists: {sdist.name} and {wheel.name} are complete (version {v})",
          file=sys.stderr)
    print(wheel)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(Path(sys.argv[1]))
