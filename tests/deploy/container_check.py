# SPDX-License-Identifier: GPL-2.0-or-later
"""container_check.py install [--each] BUILD_DIR VERSION DOCKERFILE:K8S_DIR...
   container_check.py debian12 [--each] BUILD_DIR DOCKERFILE...

The image cannot be built here (no registry, no container engine), so its
build file is checked against what it relies on:

install   the programs the final stage copies are exactly those that
          `cmake --install --component hmtp_tools` of BUILD_DIR puts in
          bin/, from the prefix the build stage installs to, and the build
          stage builds each of them; both stages start from Debian 12 slim;
          the manifests in K8S_DIR run the image by the project's VERSION
          and as the user the image declares.
debian12  every package either stage installs exists in Debian 12 (apt-cache),
          and the final stage's packages are exactly those that hold the
          libraries the installed programs link (their ELF NEEDED entries,
          found with ldconfig and dpkg -S on this Debian 12 machine), plus
          libc6, which every Debian system has. Exit 77 (skipped) when this
          machine is not Debian 12 or has no apt metadata.

One line per problem naming the Dockerfile line; exit 0 all good, 1 problems.
With --each, several files in one process (the install and the package
look-ups done once), each answer between "== FILE" and "== FILE exit N" on
stdout, exit 0.
"""
import atexit
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile

SKIP = 77
BASE_IMAGES = {"debian:12-slim", "debian:bookworm-slim"}
ALWAYS_THERE = {"libc6"}  # Essential packages depend on it: in every Debian image

problems = []


def problem(line, what):
    problems.append(f"{dockerfile}:{line}: {what}" if line else f"{dockerfile}: {what}")


def instructions(path):
    """(line number, keyword, argument text) with continuation lines joined."""
    out, cur, start = [], "", 0
    with open(path, encoding="utf-8") as f:
        for n, raw in enumerate(f, 1):
            line = raw.rstrip("\n")
            if not cur and (not line.strip() or line.lstrip().startswith("#")):
                continue
            if not cur:
                start = n
            if line.endswith("\\"):
                cur += line[:-1] + " "
                continue
            cur += line
            word, _, rest = cur.strip().partition(" ")
            out.append((start, word.upper(), rest.strip()))
            cur = ""
    return out


def stages(instrs):
    """[{'from': image, 'name': alias, 'line': n, 'body': [(n, kw, arg)]}]"""
    result = []
    for n, kw, arg in instrs:
        if kw == "FROM":
            words = arg.split()
            name = words[2] if len(words) == 3 and words[1].upper() == "AS" else None
            result.append({"from": words[0] if words else "", "name": name, "line": n, "body": []})
        elif result:
            result[-1]["body"].append((n, kw, arg))
        else:
            problem(n, f"{kw} before the first FROM")
    return result


def apt_packages(stage):
    """(line, [package]) of every apt-get install in the stage's RUN lines."""
    found = []
    for n, kw, arg in stage["body"]:
        if kw != "RUN":
            continue
        for part in re.split(r"&&|;", arg):
            words = shlex.split(part)
            if len(words) >= 2 and words[0] == "apt-get" and "install" in words:
                found.append((n, [w for w in words[words.index("install") + 1:] if not w.startswith("-")]))
    return found


def run_text(stage):
    return " ; ".join(arg for n, kw, arg in stage["body"] if kw == "RUN")


_install = {}


def install_once(build_dir):
    """(bin folder of `cmake --install --component hmtp_tools` of BUILD_DIR
    into a temporary prefix, None) or (None, why)"""
    if build_dir not in _install:
        tmp = tempfile.mkdtemp(prefix="hmtp-container-check-")
        atexit.register(shutil.rmtree, tmp, True)
        r = subprocess.run(["cmake", "--install", build_dir, "--prefix", tmp, "--component", "hmtp_tools"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        bindir = os.path.join(tmp, "bin")
        if r.returncode != 0:
            _install[build_dir] = (None, f"cmake --install {build_dir} failed: {r.stdout.strip()[-500:]}")
        elif not os.path.isdir(bindir) or not os.listdir(bindir):
            _install[build_dir] = (None, f"cmake --install {build_dir} --component hmtp_tools put no program in bin/")
        else:
            _install[build_dir] = (bindir, None)
    return _install[build_dir]


def check_install(st, build_dir, k8s_dir, version):
    if len(st) != 2:
        problem(0, f"{len(st)} stages; expected two (build, runtime)")
        return
    build, runtime = st
    for s in st:
        if s["from"] not in BASE_IMAGES:
            problem(s["line"], f"FROM {s['from']}: expected Debian 12 slim ({' or '.join(sorted(BASE_IMAGES))})")
    text = run_text(build)
    m = re.search(r"-DCMAKE_INSTALL_PREFIX=(\S+)", text)
    prefix = m.group(1) if m else None
    if not prefix:
        problem(build["line"], "the build stage sets no -DCMAKE_INSTALL_PREFIX")
    if "-DHMTP_BUILD_PLUGIN=OFF" not in text:
        problem(build["line"], "the build stage builds the Wireshark plugin (-DHMTP_BUILD_PLUGIN=OFF missing)")
    if not re.search(r"cmake --install \S+ --component hmtp_tools", text):
        problem(build["line"], "the build stage does not run cmake --install ... --component hmtp_tools")
    m = re.search(r"--target((?:\s+[\w.-]+)+)", text)
    targets = set(m.group(1).split()) if m else None

    bindir, why = install_once(build_dir)
    if not bindir:
        problem(0, why)
        return
    installed = sorted(os.listdir(bindir))

    copied, copy_line = [], runtime["line"]
    for n, kw, arg in runtime["body"]:
        if kw == "COPY" and arg.startswith("--from="):
            words = arg.split()
            src_stage = words[0][len("--from="):]
            if src_stage != build["name"]:
                problem(n, f"COPY --from={src_stage}: the build stage is named {build['name']}")
            copied += words[1:-1]
            copy_line = n
    if prefix:
        for src in copied:
            if os.path.dirname(src) != f"{prefix}/bin" or os.path.basename(src) not in installed:
                problem(copy_line, f"COPY {src}: the install makes no such file (it makes {', '.join(prefix + '/bin/' + i for i in installed)})")
        for prog in installed:
            if f"{prefix}/bin/{prog}" not in copied:
                problem(copy_line, f"{prog} is installed by the build but not copied into the image")
    if targets is None:
        problem(build["line"], "the build stage names no --target list: it would build the tests too")
    elif targets != set(installed):
        problem(build["line"], f"--target {' '.join(sorted(targets))}: the installed programs are {' '.join(installed)}")

    user = [arg for n, kw, arg in runtime["body"] if kw == "USER"]
    uid = user[-1].split(":")[0] if user else None
    if not uid or not uid.isdigit() or uid == "0":
        problem(runtime["line"], "the image must end with USER <numeric uid> (the manifests set runAsNonRoot)")
    if k8s_dir:
        for name in sorted(os.listdir(k8s_dir)):
            if not name.endswith(".yaml"):
                continue
            with open(os.path.join(k8s_dir, name), encoding="utf-8") as f:
                for n, line in enumerate(f, 1):
                    m = re.match(r"\s*image:\s*(\S+)", line)
                    if m and m.group(1) != f"hmtp-tools:{version}":
                        problems.append(f"{k8s_dir}/{name}:{n}: image {m.group(1)}: expected hmtp-tools:{version} (the project's version)")
                    m = re.match(r"\s*(runAsUser|fsGroup):\s*(\S+)", line)
                    if m and uid and m.group(2) != uid:
                        problems.append(f"{k8s_dir}/{name}:{n}: {m.group(1)} {m.group(2)}: the image's user is {uid}")


_sh_cache = {}


def sh(*cmd):
    """runs CMD once per process: the broken copies ask the same questions"""
    if cmd not in _sh_cache:
        _sh_cache[cmd] = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return _sh_cache[cmd]


def owner_packages(paths):
    """{path: Debian package holding it}, trying the /usr-merged spellings;
    one dpkg -S for all (it reads every package's file list)."""
    spellings = {}
    for path in paths:
        real = os.path.realpath(path)
        for p in (path, real, re.sub(r"^/usr", "", real), real if real.startswith("/usr") else "/usr" + real):
            spellings.setdefault(p, set()).add(path)
    r = sh("dpkg", "-S", *spellings)
    owners = {}
    for line in r.stdout.splitlines():
        pkg, _, p = line.partition(": ")
        for path in spellings.get(p.strip(), ()):
            owners[path] = pkg.split(":")[0].strip()
    return owners


def known_packages(names):
    """Those of NAMES that apt-cache knows; one call for all."""
    r = sh("apt-cache", "show", "--no-all-versions", *names)
    return set(re.findall(r"^Package: (\S+)$", r.stdout, re.M))


def check_debian12(st, build_dir):
    try:
        with open("/etc/os-release", encoding="utf-8") as f:
            osr = dict(l.rstrip("\n").split("=", 1) for l in f if "=" in l)
    except OSError:
        osr = {}
    if osr.get("ID") != "debian" or osr.get("VERSION_ID", "").strip('"') != "12":
        print(f"SKIP: this machine is not Debian 12 ({osr.get('PRETTY_NAME', 'unknown')}): package names and library owners are Debian 12's")
        sys.exit(SKIP)
    if sh("apt-cache", "show", "--no-all-versions", "libc6").returncode != 0:
        print("SKIP: no apt metadata here (apt-cache show libc6 fails): run apt-get update")
        sys.exit(SKIP)
    if len(st) != 2:
        problem(0, f"{len(st)} stages; expected two (build, runtime)")
        return
    named = [(n, p) for s in st for n, pkgs in apt_packages(s) for p in pkgs]
    known = known_packages(sorted({p for n, p in named}))
    for n, p in named:
        if p not in known:
            problem(n, f"package {p} is not in Debian 12's package lists")
    runtime_pkgs = {p for n, pkgs in apt_packages(st[1]) for p in pkgs}
    runtime_line = apt_packages(st[1])[0][0] if apt_packages(st[1]) else st[1]["line"]

    bindir, why = install_once(build_dir)
    if not bindir:
        problem(0, why)
        return
    libs = {}  # soname -> programs
    for prog in sorted(os.listdir(bindir)):
        r = sh("readelf", "-d", os.path.join(bindir, prog))
        if r.returncode != 0:
            problem(0, f"readelf -d {prog}: {r.stderr.strip()}")
            continue
        for soname in re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", r.stdout):
            libs.setdefault(soname, []).append(prog)
    if not libs:
        problem(0, "no NEEDED library found in the installed programs (readelf output changed?)")
        return
    cache = sh("ldconfig", "-p").stdout
    where = {}
    for soname in libs:
        m = re.search(r"^\s*" + re.escape(soname) + r" \(libc6,x86-64[^)]*\) => (\S+)$", cache, re.M) or \
            re.search(r"^\s*" + re.escape(soname) + r" \([^)]*\) => (\S+)$", cache, re.M)
        if m:
            where[soname] = m.group(1)
    owners = owner_packages(sorted(set(where.values())))
    needed_pkgs = {}
    for soname, progs in sorted(libs.items()):
        pkg = owners.get(where.get(soname))
        if not pkg:
            problem(0, f"{soname} (needed by {', '.join(progs)}): no Debian package found holding it")
            continue
        needed_pkgs.setdefault(pkg, []).append(soname)
    for pkg, sonames in sorted(needed_pkgs.items()):
        if pkg not in runtime_pkgs and pkg not in ALWAYS_THERE:
            problem(runtime_line, f"the runtime stage does not install {pkg}, which holds {', '.join(sonames)}")
    for pkg in sorted(runtime_pkgs - set(needed_pkgs)):
        problem(runtime_line, f"the runtime stage installs {pkg}, which no program links")
    print(f"runtime libraries: {', '.join(f'{p} ({len(s)})' for p, s in sorted(needed_pkgs.items()))}")


def check(mode, path, build_dir, k8s_dir, version):
    global dockerfile, problems
    dockerfile, problems = path, []
    st = stages(instructions(dockerfile))
    if mode == "install":
        check_install(st, build_dir, k8s_dir, version)
    else:
        check_debian12(st, build_dir)
    return problems


if __name__ == "__main__":
    args = sys.argv[1:]
    mode = args.pop(0) if args else None
    each = bool(args) and args[0] == "--each"
    if each:
        args.pop(0)
    fixed = 2 if mode == "install" else 1
    if mode not in ("install", "debian12") or len(args) <= fixed or (not each and len(args) != fixed + 1):
        print(__doc__.strip().split("\n")[0], file=sys.stderr)
        sys.exit(2)
    build_dir, version = args[0], (args[1] if mode == "install" else None)
    files = args[fixed:]
    for item in files:
        path, _, k8s_dir = item.partition(":")
        found = check(mode, path, build_dir, k8s_dir or None, version)
        if not each:
            for p in found:
                print(p, file=sys.stderr)
            if found:
                sys.exit(1)
            print(f"container_check {mode}: {path} ok")
            sys.exit(0)
        print(f"== {path}")
        print("\n".join(found) if found else f"container_check {mode}: {path} ok")
        print(f"== {path} exit {1 if found else 0}")
