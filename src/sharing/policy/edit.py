"""Rule-level edits: one rule added, changed or removed by its id, applied to a whole
policy document.

A privacy officer who changes one rule should not have to send (or be able to spoil) the
rest of the document. The edit is made in the text, so that every other line stays as the
region wrote it, comments included; the result is then read back and must be exactly the
base document with the edit applied, or the document is written out anew from the data
(comments lost, content exact). Whether the result is a valid policy is for the loader.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

import yaml

from sharing.errors import PolicyError

Op = Literal["add", "change", "remove"]
OPS: tuple[Op, ...] = ("add", "change", "remove")
_TOP_KEY = re.compile(r"^[A-Za-z_][\w-]*\s*:")
_WIDTH = 92


@dataclass(frozen=True)
class RuleEdit:
    op: Op
    rule_id: str
    rule: dict[str, Any] | None = None  # the whole rule, for add and change

    def describe(self) -> str:
        verb = {"add": "adds", "change": "changes", "remove": "removes"}[self.op]
        return f"{verb} rule {self.rule_id}"


def apply_rule_edit(document: str, edit: RuleEdit) -> str:
    """`document` with `edit` made; PolicyError when it names a rule that is not there
    (change, remove) or already is (add), or brings no rule or one of another id."""
    data = yaml.safe_load(document)
    if not isinstance(data, dict) or not isinstance(data.get("rules", []), list):
        raise PolicyError("the base document has no list of rules")
    rules: list[Any] = list(data.get("rules") or [])
    ids = [r.get("id") if isinstance(r, dict) else None for r in rules]
    rule = _rule_of(edit)
    if edit.op == "add":
        if edit.rule_id in ids:
            raise PolicyError(f"rule {edit.rule_id} is already there: change it instead")
        assert rule is not None  # noqa: S101 - _rule_of checked it
        rules.append(rule)
    else:
        if edit.rule_id not in ids:
            raise PolicyError(f"the base version has no rule {edit.rule_id}")
        at = ids.index(edit.rule_id)
        if rule is None:
            del rules[at]
        else:
            rules[at] = rule
    expected = {**data, "rules": rules}
    text = _in_text(document, edit, rule)
    if text is not None and yaml.safe_load(text) == expected:
        return text
    return yaml.safe_dump(expected, allow_unicode=True, sort_keys=False, width=_WIDTH)


def _rule_of(edit: RuleEdit) -> dict[str, Any] | None:
    if edit.op not in OPS:
        raise PolicyError(f"a rule edit adds, changes or removes, not {edit.op!r}")
    if edit.op == "remove":
        if edit.rule is not None:
            raise PolicyError("removing a rule takes its id only")
        return None
    if not isinstance(edit.rule, dict) or not edit.rule:
        raise PolicyError(f"to {edit.op} rule {edit.rule_id}, give the whole rule")
    if edit.rule.get("id", edit.rule_id) != edit.rule_id:
        raise PolicyError(f"the rule given has id {edit.rule.get('id')}, not {edit.rule_id}")
    return {"id": edit.rule_id, **{k: v for k, v in edit.rule.items() if k != "id"}}


def _in_text(document: str, edit: RuleEdit, rule: dict[str, Any] | None) -> str | None:
    """The edit made in the text of a block-style `rules:` list; None where the text is
    not laid out so (the caller then writes the data out)."""
    lines = document.splitlines(keepends=True)
    starts = [i for i, line in enumerate(lines) if re.match(r"^rules:\s*(#.*)?$", line)]
    if len(starts) != 1:
        return None
    begin = starts[0] + 1
    end = next((i for i in range(begin, len(lines)) if _TOP_KEY.match(lines[i])), len(lines))
    items = [
        (i, m.group(1))
        for i in range(begin, end)
        if (m := re.match(r"^(\s*)- id:\s*([\w-]+)\s*(#.*)?$", lines[i]))
    ]
    if not items:
        return None
    indent = items[0][1]
    if edit.op == "add":
        last = max(i for i in range(begin, end) if lines[i].strip())
        new = ["\n", *_item(rule, indent)] if rule is not None else []
        return "".join(lines[: last + 1] + new + lines[last + 1 :])
    pattern = re.compile(rf"^{re.escape(indent)}- id:\s*{re.escape(edit.rule_id)}\s*(#.*)?$")
    found = [i for i, _ in items if pattern.match(lines[i])]
    if len(found) != 1:
        return None
    first = found[0]
    after = first + 1
    while after < end and not _ends_item(lines[after], indent):
        after += 1
    while after > first + 1 and not lines[after - 1].strip():
        after -= 1  # the blank lines after the item stay
    replacement = [] if rule is None else _item(rule, indent)
    if rule is None:  # with the item go the blank lines that separated it from the next
        while after < end and not lines[after].strip():
            after += 1
    return "".join(lines[:first] + replacement + lines[after:])


def _ends_item(line: str, indent: str) -> bool:
    """A non-blank line at the item's indentation or less: the next item, a comment
    heading the next group, or the next top-level key."""
    stripped = line.lstrip(" ")
    return bool(stripped.strip()) and len(line) - len(stripped) <= len(indent)


def _item(rule: dict[str, Any] | None, indent: str) -> list[str]:
    text = yaml.safe_dump(
        [rule], allow_unicode=True, sort_keys=False, width=_WIDTH, default_flow_style=None
    )
    return [indent + line if line.strip() else line for line in text.splitlines(keepends=True)]
