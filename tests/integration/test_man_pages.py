"""The man pages cannot drift from the CLI: every subcommand `signpost --help`
lists has a section in signpost(8), and every option and argument its own
`--help` prints appears in that section (the client commands' shared options
may be in "Options of the client commands"); both pages render with `man -l`
without warnings. (signpost.toml(5) against the config loader's keys is the
unit test tests/unit/tools/service_ops_test.cpp.) Then `cmake --install` into a
temporary prefix puts the binary, the unit, the example config, the docs and
both man pages where Debian expects them, and the installed pages render."""
import os
import re
import shutil
import subprocess
import tempfile
import unittest
from pathlib import Path

import signpost_test as st

MAN = st.REPO / "docs" / "man"


def roff_text(path):
    """The page's source with roff escapes for '-' and fonts removed."""
    t = Path(path).read_text()
    t = t.replace("\\-", "-").replace("\\(dq", '"')
    return re.sub(r"\\f[BIRP]", "", t)


def sections(text):
    """{'serve': text of `.SS serve` up to the next .SS/.SH, ...}."""
    out, name, buf = {}, None, []
    for line in text.splitlines():
        if line.startswith(".SS") or line.startswith(".SH"):
            if name is not None:
                out[name] = "\n".join(buf)
            name = line[3:].strip().strip('"') if line.startswith(".SS") else None
            buf = []
        elif name is not None:
            buf.append(line)
    if name is not None:
        out[name] = "\n".join(buf)
    return out


def cli_help(*args):
    p = st.run_cli(*args, "--help")
    assert p.returncode == 0, p.stdout + p.stderr
    return p.stdout


def subcommands(help_text):
    """Names under 'SUBCOMMANDS:' of CLI11's help."""
    names, inside = [], False
    for line in help_text.splitlines():
        if re.match(r"^Subcommands:", line, re.I):
            inside = True
            continue
        if inside:
            m = re.match(r"^\s+(\S+)\s", line)
            if not m:
                if line.strip() and not line.startswith(" "):
                    inside = False
                continue
            names.append(m.group(1))
    return names


def options(help_text):
    """Long options (--x) and positionals (UPPER words) CLI11 prints for a command."""
    opts, positionals, section = set(), set(), None
    for line in help_text.splitlines():
        head = re.match(r"^(\w[\w ]*):\s*$", line)
        if head:
            section = head.group(1).lower()
            continue
        if section == "options":
            opts.update(re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*)", line.split("  ")[1] if line.startswith("  ") else line))
        elif section == "positionals":
            m = re.match(r"^\s+([A-Z][A-Z0-9_]*)\s", line)
            if m:
                positionals.add(m.group(1))
    return opts, positionals


def render(page):
    env = dict(os.environ, MANWIDTH="80", LC_ALL="C.UTF-8", MANPAGER="cat", PAGER="cat")
    return subprocess.run(["man", "--warnings", "-l", str(page)], capture_output=True, text=True, env=env, timeout=60)


class ManPages(unittest.TestCase):
    def test_signpost_8_covers_every_subcommand_and_option(self):
        text = roff_text(MAN / "signpost.8")
        secs = sections(text)
        top = cli_help()
        subs = subcommands(top)
        self.assertGreaterEqual(len(subs), 9, top)
        client_common = secs.get("Options of the client commands", "")
        global_opts = secs.get("Global options", "")
        top_opts, _ = options(top)
        for o in top_opts:
            self.assertRegex(global_opts, rf"(?<![\w-]){re.escape(o)}(?![\w-])", f"global option {o} not in signpost.8")
        checked = 0

        def walk(path):
            nonlocal checked
            text = cli_help(*path)
            name = " ".join(path)
            self.assertIn(name, secs, f"'signpost {name}' has no '.SS \"{name}\"' section in signpost.8")
            nested = subcommands(text)
            for sub in nested:
                walk(path + [sub])
            opts, positionals = options(text)
            for o in opts - {"--help"}:
                where = secs[name] + ("\n" + client_common if o in client_common else "")
                self.assertRegex(where, rf"(?<![\w-]){re.escape(o)}(?![\w-])",
                                 f"'signpost {name} {o}' is not in signpost.8's {name} section")
                checked += 1
            for a in positionals:
                self.assertRegex(secs[name], rf"\b{a}\b", f"argument {a} of 'signpost {name}' is not in signpost.8")
                checked += 1

        for sub in subs:
            walk([sub])
        print(f"\n{len(subs)} subcommands, {checked} options and arguments found in signpost.8")

    def test_pages_render_without_warnings(self):
        for page in ("signpost.8", "signpost.toml.5"):
            p = render(MAN / page)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertEqual(p.stderr.strip(), "", f"man --warnings -l {page}:\n{p.stderr}")
            self.assertIn("signpost", p.stdout)
            self.assertGreater(len(p.stdout.splitlines()), 50, p.stdout)

    def test_cmake_install_puts_everything_where_debian_expects_it(self):
        build = Path(st.signpost_bin()).resolve().parent
        if not (build / "cmake_install.cmake").exists():
            self.skipTest(f"{build} is not a CMake build directory")
        prefix = Path(tempfile.mkdtemp(prefix="signpost-install-"))
        try:
            p = subprocess.run(["cmake", "--install", str(build), "--prefix", str(prefix)],
                               capture_output=True, text=True, timeout=120)
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            want = ["sbin/signpost", "lib/systemd/system/signpost.service",
                    "share/doc/signpost/README.md", "share/doc/signpost/operations.md",
                    "share/doc/signpost/examples/signpost.toml", "share/doc/signpost/examples/signpost.service",
                    "share/man/man8/signpost.8", "share/man/man5/signpost.toml.5"]
            for f in want:
                self.assertTrue((prefix / f).is_file(), f"{f} not installed; got:\n{p.stdout}")
            self.assertTrue(os.access(prefix / "sbin/signpost", os.X_OK))
            v = subprocess.run([str(prefix / "sbin/signpost"), "--version"], capture_output=True, text=True, timeout=30)
            self.assertTrue(v.stdout.startswith("signpost "), v.stdout + v.stderr)
            unit = (prefix / "lib/systemd/system/signpost.service").read_text()
            self.assertIn(f"ExecStart={prefix}/sbin/signpost serve", unit)
            self.assertIn("Type=notify", unit)
            for page in ("share/man/man8/signpost.8", "share/man/man5/signpost.toml.5"):
                r = render(prefix / page)
                self.assertEqual((r.returncode, r.stderr.strip()), (0, ""), r.stderr)
            # man finds the installed pages by name through the prefix's MANPATH.
            env = dict(os.environ, MANPATH=str(prefix / "share/man"), MANWIDTH="80", MANPAGER="cat")
            r = subprocess.run(["man", "5", "signpost.toml"], capture_output=True, text=True, env=env, timeout=60)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("log_format", r.stdout)
        finally:
            shutil.rmtree(prefix, ignore_errors=True)


if __name__ == "__main__":
    st.main()
