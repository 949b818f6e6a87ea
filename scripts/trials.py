"""What the trial scripts share (`scripts/trial-crates`, `scripts/async-trial`).

A trial runs a published crate's own test suite twice, as published (`plain/`) and changed to
use lockdep's locks (`patched/` with the parking_lot patch, `swapped/` with tokio::sync's
imports rewritten), both copies of its registry sources under target/trials/<crate>/, and
compares: tests passed and failed, the violations in lockdep's report files, and wall time.
This module is their common part: fetching and copying the sources, building lockdep's
crates optimised in the checked copy, running the suites in timed rounds, reading the report
files, parsing the command line and printing the table.
"""

import glob
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TRIALS = os.path.join(REPO, "target", "trials")
TIMEOUT = 3600
PROGRAM = os.path.basename(sys.argv[0])


def run(cmd, cwd, env=None, check=True):
    """Runs `cmd` in `cwd`; its output, and whether it succeeded.

    The LOCKDEP_* variables are those of `env` only: a caller's own (a mode, a report
    directory) would change what a run measures.
    """
    full_env = dict(os.environ, CARGO_TARGET_DIR=os.path.join(TRIALS, "target"))
    full_env.setdefault("CARGO_BUILD_JOBS", "1")
    # Each trial builds fresh copies once: incremental sessions would only fill the disk
    # (1.3 GB for three async crates).
    full_env.setdefault("CARGO_INCREMENTAL", "0")
    for var in [v for v in full_env if v.startswith("LOCKDEP_")]:
        del full_env[var]
    full_env.update(env or {})
    p = subprocess.run(cmd, cwd=cwd, env=full_env, capture_output=True, text=True,
                       timeout=TIMEOUT)
    out = p.stdout + p.stderr
    if check and p.returncode != 0:
        sys.exit(f"{PROGRAM}: {' '.join(cmd)} failed in {cwd}:\n{out[-4000:]}")
    return out, p.returncode == 0


def locked_versions(project, name):
    """Versions of package `name` in `project`'s lock file."""
    with open(os.path.join(project, "Cargo.lock")) as f:
        lock = f.read()
    return re.findall(r'name = "%s"\nversion = "([^"]+)"' % re.escape(name), lock)


def sources(crate, version, base):
    """The crate's registry sources, fetched through a throw-away project; its version."""
    fetch = os.path.join(base, "fetch")
    os.makedirs(os.path.join(fetch, "src"), exist_ok=True)
    # `=` pins the version asked for: a trial's explanations cite its files by line.
    requirement = f"={version}" if version else "*"
    with open(os.path.join(fetch, "Cargo.toml"), "w") as f:
        f.write('[package]\nname = "fetch"\nversion = "0.0.0"\nedition = "2021"\n\n'
                f'[workspace]\n\n[dependencies]\n{crate} = "{requirement}"\n')
    open(os.path.join(fetch, "src", "lib.rs"), "w").close()
    run(["cargo", "generate-lockfile"], fetch)
    run(["cargo", "fetch"], fetch)
    resolved = locked_versions(fetch, crate)[0]
    cargo_home = os.environ.get("CARGO_HOME", os.path.expanduser("~/.cargo"))
    found = glob.glob(os.path.join(cargo_home, "registry", "src", "*", f"{crate}-{resolved}"))
    if not found:
        sys.exit(f"{PROGRAM}: no sources of {crate} {resolved} under {cargo_home}")
    return found[0], resolved


def copy(src, dest):
    """A writable copy of `src` at `dest`, a workspace of its own, on the current toolchain."""
    shutil.rmtree(dest, ignore_errors=True)
    shutil.copytree(src, dest)
    for root, dirs, files in os.walk(dest):
        for name in dirs + files:
            os.chmod(os.path.join(root, name), 0o755 if name in dirs else 0o644)
    # A pinned toolchain (salsa pins a nightly-era stable) is not ours to install: the trial
    # runs on the toolchain at hand.
    for pin in ("rust-toolchain", "rust-toolchain.toml"):
        if os.path.exists(os.path.join(dest, pin)):
            os.remove(os.path.join(dest, pin))
    manifest = os.path.join(dest, "Cargo.toml")
    with open(manifest) as f:
        text = f.read()
    if not re.search(r"^\[workspace\]", text, re.M):
        with open(manifest, "a") as f:
            f.write("\n[workspace]\n")
    return dest


# The checker's own crates and those that symbolize report files: `cargo lockdep test`
# builds them optimised (see trial-crates' doc).
CHECKER_PACKAGES = ["lockdep-core", "lockdep-raw", "backtrace", "addr2line", "gimli", "object",
                    "miniz_oxide", "adler2", "rustc-demangle"]


def optimize(project, packages):
    """Builds `packages` at opt-level 2 in `project`'s dev (and so test) profile."""
    with open(os.path.join(project, "Cargo.toml"), "a") as f:
        for package in packages:
            f.write(f'\n[profile.dev.package.{package}]\nopt-level = 2\n')


def test_counts(output):
    """Tests passed and failed, summed over the harness's `test result` lines."""
    passed = sum(int(n) for n in re.findall(r"test result: \w+\. (\d+) passed", output))
    failed = sum(int(n) for n in re.findall(r"(\d+) failed;", output))
    return passed, failed


def build_tests(project, env=None, args=()):
    run(["cargo", "test", "--tests", "--no-run", *args], project, env)


def cpu_seconds():
    """User and system time of this process's waited-for descendants (the test binaries
    cargo ran and waited for among them)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed_tests(project, env=None, args=()):
    """Runs the (built) tests: (passed, failed, (wall, cpu) seconds, output).

    CPU time beside wall time: a suite that mostly sleeps (timeouts, expiring caches) hides
    the checker's cost in its wall time; its CPU time shows it.
    """
    start, cpu = time.monotonic(), cpu_seconds()
    out, _ = run(["cargo", "test", "--tests", "--no-fail-fast", *args], project, env,
                 check=False)
    return (*test_counts(out), (time.monotonic() - start, cpu_seconds() - cpu), out)


def ratio(secs, base):
    """The median of secs[i] / base[i] over the rounds, and their range."""
    ratios = sorted(a / max(b, 1e-3) for a, b in zip(secs, base))
    return f"{statistics.median(ratios):.2f}x [{ratios[0]:.2f}-{ratios[-1]:.2f}]"


def violations(report_dir):
    """(unique violations, report files with any) in the report files of `report_dir`."""
    unique, files = set(), 0
    for path in glob.glob(os.path.join(report_dir, "*.json")):
        with open(path) as f:
            found = json.load(f).get("violations", [])
        files += bool(found)
        for v in found:
            unique.add((v["kind"], tuple(c["name"] for c in v["classes"])))
    return unique, files


def compare(base, plain, checked, env, rounds, args=(), label="patched"):
    """Runs the suites of `plain` and `checked` (with `env`) in interleaved timed rounds.

    Both are built first, then run once untimed (the first run after a build reads the
    binaries from a cold cache). Each round runs `plain`, `checked` with `env` (its report
    files in a fresh `env["LOCKDEP_REPORT_DIR"]`) and `checked` without report files (the
    checker's cost alone): a machine's load drifts over minutes, and a round's three runs see
    about the same. The last round's outputs are kept in `base`/plain-test-output.txt and
    `base`/<label>-test-output.txt. Returns a dict: `plain` and `checked` (passed, failed) of
    the last round, `secs` (plain), `checked_secs` and `quiet_secs` per round, each a
    (wall, cpu) pair.
    """
    quiet = {k: v for k, v in env.items() if k != "LOCKDEP_REPORT_DIR"}
    reports = env["LOCKDEP_REPORT_DIR"]
    build_tests(plain, None, args)
    build_tests(checked, env, args)
    timed_tests(plain, None, args)
    timed_tests(checked, quiet, args)
    result = {"secs": [], "checked_secs": [], "quiet_secs": []}
    for _ in range(rounds):
        p_pass, p_fail, secs, p_out = timed_tests(plain, None, args)
        result["secs"].append(secs)
        shutil.rmtree(reports, ignore_errors=True)
        os.makedirs(reports)
        c_pass, c_fail, secs, c_out = timed_tests(checked, env, args)
        result["checked_secs"].append(secs)
        _, _, secs, _ = timed_tests(checked, quiet, args)
        result["quiet_secs"].append(secs)
    with open(os.path.join(base, "plain-test-output.txt"), "w") as f:
        f.write(p_out)
    with open(os.path.join(base, f"{label}-test-output.txt"), "w") as f:
        f.write(c_out)
    result["plain"] = (p_pass, p_fail)
    result["checked"] = (c_pass, c_fail)
    return result


def time_columns(result):
    """The table's time columns of a `compare` result: wall and CPU time, checked over plain
    with report files and without."""
    columns = {}
    # A suite that sleeps uses a few tenths of a second of CPU: two digits for those.
    for i, (unit, digits) in enumerate((("time", 1), ("cpu", 2))):
        plain, checked, quiet = ([s[i] for s in result[k]]
                                 for k in ("secs", "checked_secs", "quiet_secs"))
        columns[unit] = (f"{ratio(checked, plain)} ({statistics.median(plain):.{digits}f}s -> "
                         f"{statistics.median(checked):.{digits}f}s)")
        columns[f"{unit} w/o report files"] = (f"{ratio(quiet, plain)} "
                                               f"({statistics.median(quiet):.{digits}f}s)")
    return columns


def parse_args(doc, default, rounds=3):
    """(crate specs, optimise lockdep's crates, rounds) from the command line; exits on -h."""
    args = sys.argv[1:]
    optimize_checker = "--unoptimized-checker" not in args
    if "--rounds" in args:
        i = args.index("--rounds")
        rounds = int(args[i + 1])
        del args[i:i + 2]
    specs = [a for a in args if a != "--unoptimized-checker"] or default
    if any(s in ("-h", "--help") for s in specs):
        print(doc)
        sys.exit(0)
    return specs, optimize_checker, rounds


def print_rows(trial, specs, footer):
    """Runs `trial(spec) -> (row, ok)` for each spec, printing each row as it comes and then
    the table; the exit status: 0 when every trial was ok."""
    rows, all_ok = [], True
    for spec in specs:
        row, ok = trial(spec)
        all_ok &= ok
        rows.append(row)
        print(" | ".join(f"{k}: {v}" for k, v in row.items()), flush=True)
    cols = list(rows[0])
    widths = {c: max(len(c), *(len(r[c]) for r in rows)) for c in cols}
    print()
    print("  ".join(c.ljust(widths[c]) for c in cols))
    for r in rows:
        print("  ".join(r[c].ljust(widths[c]) for c in cols))
    print(f"\n{footer}")
    return 0 if all_ok else 1
