"""The published JSON Schemas: generated from the models, and true to what the loaders accept.

Every shipped profile and every documented example (the YAML blocks of
docs/profiles.md, docs/monitoring.md and docs/lab.md that are conntest files) validates
against ``conntest schema KIND``; files the loaders refuse for a type or key
reason are refused by the schema too.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from conntest.batch.config import DEFAULT_KEYS, ENTRY_KEYS
from conntest.json_schemas import KINDS, json_schema
from conntest.profiles import builtin_dir

REPO = Path(__file__).resolve().parents[2]


def validator(kind: str) -> jsonschema.Draft202012Validator:
    schema = json_schema(kind)
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def errors(kind: str, document: Any) -> list[str]:
    return [e.message for e in validator(kind).iter_errors(document)]


def yaml_blocks(markdown: Path) -> list[Any]:
    text = markdown.read_text(encoding="utf-8")
    return [yaml.safe_load(block) for block in re.findall(r"```yaml\n(.*?)```", text, re.S)]


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_each_schema_is_valid_json_schema_with_a_description_per_field(kind: str) -> None:
    schema = json_schema(kind)
    jsonschema.Draft202012Validator.check_schema(schema)
    definitions = [schema, *schema.get("$defs", {}).values()]
    for definition in definitions:
        assert definition.get("description"), definition.get("title")
        for name, prop in definition.get("properties", {}).items():
            assert prop.get("description"), (definition.get("title"), name)


def test_the_cli_prints_the_schema() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "conntest", "schema", "batch"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert json.loads(out) == json_schema("batch")


def test_every_shipped_profile_validates() -> None:
    shipped = sorted(p for p in builtin_dir().iterdir() if p.name.endswith(".yaml"))
    assert len(shipped) >= 3
    for path in shipped:
        assert errors("profile", yaml.safe_load(path.read_text(encoding="utf-8"))) == [], path


def test_the_documented_profile_example_validates() -> None:
    (example,) = [b for b in yaml_blocks(REPO / "docs" / "profiles.md") if "imap" in b]
    assert errors("profile", example) == []


def test_the_documented_batch_example_validates_as_batch_and_serve() -> None:
    examples = [
        b
        for b in yaml_blocks(REPO / "docs" / "monitoring.md")
        if isinstance(b, dict) and "accounts" in b
    ]
    assert examples
    for example in examples:
        assert errors("batch", example) == []
        assert errors("serve", example) == []


def test_the_schema_refuses_what_the_loaders_refuse() -> None:
    profile = {"name": "x", "imap": {"port": 99999, "colour": 1}, "smtp": {"auth": "cram"}}
    found = errors("profile", profile)
    assert any("99999" in e for e in found)
    assert any("colour" in e for e in found)
    assert any("cram" in e for e in found)
    batch = {"accounts": [{"profiles": ["x"], "password": "hunter2"}]}
    found = errors("batch", batch)
    assert any("'address' is a required property" in e for e in found)
    assert any("password" in e for e in found)
    assert errors("lab-accounts", {"accounts": [{"address": "a@x.test"}]}) == [
        "'scenario' is a required property"
    ]


def test_the_batch_schema_has_exactly_the_loader_s_keys() -> None:
    schema = json_schema("batch")
    account = schema["$defs"]["BatchAccount"]["properties"]
    defaults = schema["$defs"]["BatchDefaults"]["properties"]
    assert sorted(account) == sorted(ENTRY_KEYS)
    assert sorted(defaults) == sorted(DEFAULT_KEYS)
    assert sorted(schema["properties"]) == ["accounts", "defaults"]


def test_loading_files_never_imports_pydantic(tmp_path: Path) -> None:
    """pydantic is for ``conntest schema`` only: the headless path stays fast."""
    batch = tmp_path / "b.yaml"
    batch.write_text("accounts:\n  - address: a@x.test\n")
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from conntest.batch.config import load_batch\n"
        "from conntest.profiles import load_profiles\n"
        f"load_batch(Path({str(batch)!r}), load_profiles())\n"
        "from conntest.cli import build_parser\n"
        "build_parser()\n"
        "assert 'pydantic' not in sys.modules, 'pydantic imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_the_documented_lab_accounts_example_validates(tmp_path: Path) -> None:
    """docs/lab.md's accounts file: the schema and the loader both take it."""
    from conntest.lab.accounts import load_accounts

    lab_md = REPO / "docs" / "lab.md"
    (example,) = [b for b in yaml_blocks(lab_md) if isinstance(b, dict) and "accounts" in b]
    assert errors("lab-accounts", example) == []
    (block,) = re.findall(r"```yaml\n(.*?)```", lab_md.read_text(encoding="utf-8"), re.S)
    path = tmp_path / "accounts.yaml"
    path.write_text(block, encoding="utf-8")
    assert load_accounts(path) == {
        entry["address"]: entry["scenario"] for entry in example["accounts"]
    }
