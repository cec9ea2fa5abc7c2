"""Every command and subcommand has a one-line help and an example under --help."""

from __future__ import annotations

import argparse
import subprocess
import sys

from kernelwright.cli import build_parser


def commands(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {choice.dest: choice.help for choice in action._choices_actions}
            for name, sub in action.choices.items():
                yield (*path, name), helps.get(name), sub
                yield from commands(sub, (*path, name))


def test_every_command_has_a_one_line_help_a_description_and_an_example():
    found = list(commands(build_parser()))
    assert len(found) >= 20
    for path, one_line, sub in found:
        name = " ".join(path)
        assert one_line and "\n" not in one_line and len(one_line) <= 110, name
        text = sub.format_help()
        assert sub.description, name
        assert f"example:\n  kernelwright {name}" in text, name


def test_help_prints_the_example_through_the_real_entry_point():
    r = subprocess.run([sys.executable, "-m", "kernelwright", "traces", "show", "--help"], capture_output=True, text=True)
    assert r.returncode == 0 and "example:\n  kernelwright traces show " in r.stdout
