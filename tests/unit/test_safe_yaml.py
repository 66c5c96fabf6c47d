"""The one YAML loader: hostile or unusual YAML is one problem line, never a traceback."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
import yaml

from conntest.profiles import validate
from conntest.schema.safe_yaml import MAX_BYTES, YamlList, YamlMap, load_yaml, parse_yaml


def lines(text: str) -> list[str]:
    value, problems = parse_yaml(text, "f.yaml")
    assert value is None or not problems
    return [str(p) for p in problems]


def test_positions_are_kept() -> None:
    value, problems = parse_yaml("a: 1\nb:\n  - x\n  - {c: 2}\na: 3\n", "f.yaml")
    assert problems == []
    assert isinstance(value, YamlMap)
    assert value.key_lines == {"a": 5, "b": 2}
    assert value.duplicates == [("a", 5)]
    assert isinstance(value["b"], YamlList)
    assert value["b"].item_lines == [3, 4]
    assert value["b"][1].line == 4


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "a: {<<: {b: 1}}\n",
            "f.yaml: a.<<: expected no merge keys (write the keys out), found a merge key (line 1)",
        ),
        (
            "a: !!python/object/apply:os.system ['true']\n",
            "f.yaml: a: expected plain YAML (no tags), "
            "found the tag tag:yaml.org,2002:python/object/apply:os.system (line 1)",
        ),
        (
            "a: !custom 1\n",
            "f.yaml: a: expected plain YAML (no tags), found the tag !custom (line 1)",
        ),
        ("a: !!binary aGk=\n", "found the tag tag:yaml.org,2002:binary"),
        ("a: !!set {x}\n", "found the tag tag:yaml.org,2002:set"),
        ("? [a, b]\n: c\n", "f.yaml: expected a plain key, found a list used as a key (line 1)"),
        ("? {a: 1}\n: c\n", "found a mapping used as a key"),
        ("a: &x [*x]\n", "levels of nesting (aliases expanded)"),
        ("a: 1\n---\nb: 2\n", "f.yaml: expected valid YAML, found"),
    ],
)
def test_what_plain_yaml_does_not_need_is_refused(text: str, expected: str) -> None:
    (line,) = lines(text)
    assert line.startswith(expected) or expected in line, line


def test_deep_nesting_is_refused_quickly() -> None:
    started = time.monotonic()
    for text in (
        "[" * 20000 + "]" * 20000,
        "a:\n" + "".join(" " * i + "b:\n" for i in range(1, 500)),
    ):
        (line,) = lines(text)
        assert "levels of nesting" in line
    assert time.monotonic() - started < 10


def test_a_billion_laughs_is_refused() -> None:
    text = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    for n in range(1, 9):
        text += f"{chr(97 + n)}: &{chr(97 + n)} [{', '.join(['*' + chr(96 + n)] * 9)}]\n"
    (line,) = lines(text)
    assert "values (aliases expanded)" in line


def test_aliases_a_generator_writes_are_expanded() -> None:
    """yaml.safe_dump writes &id001/*id001 for a repeated list: such files load."""
    shared = ["thunderbird"]
    text = yaml.safe_dump({"accounts": [{"profiles": shared}, {"profiles": shared}]})
    assert "*id001" in text
    value, problems = parse_yaml(text, "f.yaml")
    assert problems == []
    assert value["accounts"][1]["profiles"] == ["thunderbird"]


def test_size_and_kind_of_file(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_bytes(b"# " + b"x" * MAX_BYTES + b"\n")
    _, problems = load_yaml(big, str(big))
    assert [p.expected for p in problems] == [f"a file of at most {MAX_BYTES} bytes"]
    fifo = tmp_path / "p.yaml"
    os.mkfifo(fifo)
    _, problems = load_yaml(fifo, str(fifo))  # no writer: must not hang
    assert [p.found for p in problems] == ["a FIFO"]
    _, problems = load_yaml(Path("/dev/zero"), "/dev/zero")
    assert [p.found for p in problems] == ["a device or special file"]


def test_a_profile_file_with_a_python_tag_is_a_problem(tmp_path: Path) -> None:
    path = tmp_path / "x.yaml"
    path.write_text("name: !!python/name:os.system x\nimap: {}\nsmtp: {}\n")
    (problem,) = validate([path])
    assert problem.line == 1 and "tag" in problem.found


def test_an_empty_list_of_accounts_is_named_empty(tmp_path: Path) -> None:
    """ "expected a non-empty list, found a list" reads as a contradiction; say it is empty."""
    from conntest.batch.config import load_batch
    from conntest.profiles import load_profiles

    path = tmp_path / "batch.yaml"
    path.write_text("accounts: []\n")
    problems = load_batch(path, load_profiles()).problems
    assert [str(p) for p in problems] == [
        f"{path}: accounts: expected a non-empty list of accounts, found an empty list (line 1)"
    ]
