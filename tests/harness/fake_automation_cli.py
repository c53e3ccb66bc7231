"""A fake ``pulumi`` CLI that answers what the Automation API asks of it, for the fleet driver's
local workspace (``fleet.workspace.LocalWorkspace``), with the real CLI's rules that the driver
relies on:

- every command but ``version`` runs in a project directory (``Pulumi.yaml``) and names its stack;
  a stack command on a stack that does not exist fails ``no stack named '<name>' found`` (which the
  Automation API raises as ``StackNotFoundError``);
- config lives in the stack's file, ``Pulumi.<stack>.yaml`` beside ``Pulumi.yaml``: ``config set-all``
  writes it, ``config --json`` reads it (objects as JSON text and ``objectValue``); a top-level value
  is always a string, a ``--path`` value that reads as an integer or a boolean becomes one
  (pulumi/pulumi#18285);
- ``up`` makes what the stack's plan says (``plans``: outputs, secret output names, resources) and
  records an update in the history; ``destroy`` deletes every resource and keeps the stack, its
  file and its history; ``stack rm`` deletes the stack and its file;
- ``stack output --json`` masks secret outputs as ``[secret]`` unless ``--show-secrets``;
- ``stack select`` and ``stack init`` without ``--no-select`` write the selected stack into the
  workspace's one settings file (here ``state_dir/workspace.json``), which two at once corrupt
  (pulumi/pulumi#8186); ``stack --stack <name>`` shows a stack without selecting it.

``install(bin_dir, state_dir)`` writes the executable; each call is recorded in
``state_dir/calls.jsonl``, the backend's stacks kept in ``state_dir/stacks.json``.
"""

from __future__ import annotations

import datetime
import fcntl
import itertools
import json
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tests.harness.fake_tools import write_shim

VERSION = "v3.190.0"
SECRET = "[secret]"
TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


class Refused(Exception):  # noqa: N818 - what the CLI prints before exiting non-zero
    pass


def install(bin_dir: Path, state_dir: Path) -> None:
    bin_dir.mkdir(parents=True, exist_ok=True)
    state_dir.mkdir(parents=True, exist_ok=True)
    write_shim(bin_dir / "pulumi", "tests.harness.fake_automation_cli", f"main(sys.argv[1:], {str(state_dir)!r})")


def calls(state_dir: Path) -> list[list[str]]:
    log = state_dir / "calls.jsonl"
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def plan(state_dir: Path, stack: str, outputs: dict[str, Any], resources: int, secret: Sequence[str] = ()) -> None:
    """What the next ``up`` of ``stack`` makes."""
    plans = _load(state_dir / "plans.json")
    plans[stack] = {"outputs": outputs, "resources": resources, "secret": list(secret)}
    (state_dir / "plans.json").write_text(json.dumps(plans))


def main(args: Sequence[str], state: str) -> int:
    state_dir = Path(state)
    # One command at a time on the fake's backend files, as a real backend serves each stack's
    # operations whole (the workspace file is the CLI's, and is not locked: see _select).
    with (state_dir / "backend.lock").open("w") as lock, (state_dir / "calls.jsonl").open("a") as log:
        fcntl.flock(lock, fcntl.LOCK_EX)
        log.write(json.dumps(list(args)) + "\n")
        log.flush()
        return _answer(args, state_dir)


def _answer(args: Sequence[str], state_dir: Path) -> int:
    try:
        sys.stdout.write(run([a for a in args if a != "--non-interactive"], state_dir, Path.cwd()))
    except Refused as refusal:
        print(f"error: {refusal}", file=sys.stderr)
        return 255
    return 0


@dataclass(frozen=True)
class Call:
    """A stack command: the arguments, the backend's stacks, the stack's name and its file."""

    args: list[str]
    state_dir: Path
    stacks: dict[str, Any]
    name: str
    file: Path

    @property
    def stack(self) -> dict[str, Any]:
        return self.stacks[self.name]

    def save(self, output: str = "") -> str:
        (self.state_dir / "stacks.json").write_text(json.dumps(self.stacks))
        return output


def run(args: list[str], state_dir: Path, cwd: Path) -> str:
    if args[:1] == ["version"]:
        return VERSION + "\n"
    if not (cwd / "Pulumi.yaml").exists():
        raise Refused(f"no Pulumi.yaml project file found (searching upwards from {cwd})")
    stacks = _load(state_dir / "stacks.json")
    if args[:2] == ["stack", "init"]:
        if args[2] in stacks:
            raise Refused(f"stack '{args[2]}' already exists")
        stacks[args[2]] = {"outputs": {}, "secret": [], "resources": 0, "history": []}
        if "--no-select" not in args:
            _select(state_dir, args[2])
        return Call(args, state_dir, stacks, args[2], cwd).save()
    name = _option(args, "--stack")
    if name is None or name not in stacks:
        raise Refused(f"no stack named '{name}' found")
    call = Call(args, state_dir, stacks, name, cwd / f"Pulumi.{name.rsplit('/', 1)[-1]}.yaml")
    for prefix, handler in HANDLERS:
        if args[: len(prefix)] == list(prefix):
            return handler(call)
    raise Refused(f"the fake does not know: pulumi {' '.join(args)}")


def _outputs(call: Call) -> str:
    shown = "--show-secrets" in call.args
    return json.dumps({k: v if shown or k not in call.stack["secret"] else SECRET for k, v in call.stack["outputs"].items()})


def _export(call: Call) -> str:
    resources = [{"urn": f"urn:pulumi:{call.name}::r{i}", "type": "fake:index:Resource"} for i in range(call.stack["resources"])]
    return json.dumps({"version": 3, "deployment": {"resources": resources}})


def _up(call: Call) -> str:
    made = _load(call.state_dir / "plans.json").get(call.name, {"outputs": {}, "resources": 0, "secret": []})
    before = call.stack["resources"]
    call.stack.update(outputs=made["outputs"], secret=made["secret"], resources=made["resources"])
    return call.save(_history(call.stack, "update", {"create": max(made["resources"] - before, 0), "same": min(made["resources"], before)}))


def _destroy(call: Call) -> str:
    changes = {"delete": call.stack["resources"]}
    call.stack.update(outputs={}, secret=[], resources=0)
    return call.save(_history(call.stack, "destroy", changes))


def _remove(call: Call) -> str:
    del call.stacks[call.name]
    call.file.unlink(missing_ok=True)
    return call.save()


def _select(state_dir: Path, stack: str) -> str:
    (state_dir / "workspace.json").write_text(json.dumps({"stack": stack}))
    return ""


def _show(call: Call) -> str:
    if call.args[1:2] != ["--stack"]:
        raise Refused(f"the fake does not know: pulumi {' '.join(call.args)}")
    return f"Current stack is {call.name}:\n    Managed by fake\n"


def _set_all(call: Call) -> str:
    _write_config(call.file, call.args[2:])
    return ""


HANDLERS: tuple[tuple[tuple[str, ...], Callable[[Call], str]], ...] = (
    (("stack", "select"), lambda call: _select(call.state_dir, call.name)),
    (("config", "set-all"), _set_all),
    (("config",), lambda call: json.dumps(_config_json(call.file))),
    (("stack", "output"), _outputs),
    (("stack", "export"), _export),
    (("stack", "history"), lambda call: json.dumps(list(reversed(call.stack["history"]))[:1])),
    (("stack", "rm"), _remove),
    (("up",), _up),
    (("destroy",), _destroy),
    (("stack",), _show),
)


def _history(stack: dict[str, Any], kind: str, changes: dict[str, int]) -> str:
    now = f"{datetime.datetime.now(datetime.UTC):{TIME_FORMAT}}"
    stack["history"].append(
        {"kind": kind, "startTime": now, "endTime": now, "message": "", "environment": {}, "config": {}, "result": "succeeded",
         "version": len(stack["history"]) + 1, "resourceChanges": changes}
    )  # fmt: skip
    return f"Resources: {sum(changes.values())}\n"


def _config_json(file: Path) -> dict[str, dict[str, Any]]:
    config = ((yaml.safe_load(file.read_text()) or {}).get("config") or {}) if file.exists() else {}
    found: dict[str, dict[str, Any]] = {}
    for key, value in config.items():
        if isinstance(value, dict | list):
            found[key] = {"value": json.dumps(value), "objectValue": value, "secret": False}
        else:
            found[key] = {"value": value if isinstance(value, str) else json.dumps(value), "secret": False}
    return found


def _write_config(file: Path, args: list[str]) -> None:
    path = "--path" in args
    content = (yaml.safe_load(file.read_text()) or {}) if file.exists() else {}
    config = content.setdefault("config", {})
    for flag, pair in itertools.pairwise(args):
        if flag not in ("--plaintext", "--secret"):
            continue
        key, _, text = pair.partition("=")
        if not path:
            config[key] = text
            continue
        head, *rest = key.split(".")
        target = config.setdefault(head, {})
        for part in rest[:-1]:
            target = target.setdefault(part, {})
        target[rest[-1]] = _typed(text)
    file.write_text(yaml.safe_dump(content, sort_keys=False))


def _typed(text: str) -> object:
    """A ``--path`` value as the CLI stores it: true/false, an integer not starting with 0, or text."""
    if text in ("true", "false"):
        return text == "true"
    return int(text) if re.fullmatch(r"-?[1-9][0-9]*|0", text) else text


def _option(args: list[str], name: str) -> str | None:
    return args[args.index(name) + 1] if name in args and args.index(name) + 1 < len(args) else None


def _load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text()) if path.exists() else {}
