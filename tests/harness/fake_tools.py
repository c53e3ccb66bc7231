"""Fake ``docker``, ``kind`` and ``pulumi`` executables that enforce the real tools' preconditions.

``install(bin_dir, state_dir)`` writes the three into ``bin_dir``; each records its calls in
``state_dir/calls.jsonl`` and keeps what it creates (kind clusters, Pulumi stacks and their config)
under ``state_dir``. What each refuses, as the real tool does:

- docker, kind: every command needs the Docker daemon (``FAKE_DOCKER_DAEMON=up``); the ``kind``
  network exists only once kind created a cluster; ``kind create`` refuses an existing cluster.
- pulumi (CLI 3.x, a project with ``toolchain: uv``): ``version`` prints ``FAKE_PULUMI_VERSION``;
  every other command needs ``Pulumi.yaml`` in its directory and a backend (``PULUMI_BACKEND_URL``,
  else the login in ``~/.pulumi/credentials.json``); a ``file://`` backend needs
  ``PULUMI_CONFIG_PASSPHRASE(_FILE)`` to open a stack's secrets; ``install``, ``up``, ``preview``,
  ``destroy`` and ``refresh`` run the uv toolchain, which fails without ``uv`` on PATH ("Could not
  find `uv` executable", sdk/python/toolchain/uv.go); stack commands need the stack to exist;
  ``up`` and ``destroy`` need ``--yes`` (no terminal to ask on).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

TOOLS = ("docker", "kind", "pulumi")
DEFAULT_VERSION = "v3.190.0"
TOOLCHAIN_COMMANDS = {"install", "up", "preview", "destroy", "refresh"}


class RefusedError(Exception):
    """What the real tool would print before exiting non-zero."""


def install(bin_dir: Path, state_dir: Path) -> None:
    """Write the fakes into ``bin_dir``, recording into ``state_dir``."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    state_dir.mkdir(parents=True, exist_ok=True)
    for tool in TOOLS:
        write_shim(bin_dir / tool, "tests.harness.fake_tools", f"main({tool!r}, sys.argv[1:], {str(state_dir)!r})")


def write_shim(path: Path, module: str, call: str) -> None:
    """An executable at ``path`` that runs ``call`` (on ``sys.argv``) from ``module`` of this checkout
    with this interpreter, exiting with its result."""
    root = Path(__file__).resolve().parents[2]
    path.write_text(f"#!{sys.executable}\nimport sys\nsys.path.insert(0, {str(root)!r})\nfrom {module} import main\nsys.exit({call})\n")
    path.chmod(0o755)


def calls(state_dir: Path) -> list[list[str]]:
    """Every recorded call, ``[tool, *args]``, in order."""
    log = state_dir / "calls.jsonl"
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def main(tool: str, args: Sequence[str], state: str) -> int:
    state_dir = Path(state)
    with (state_dir / "calls.jsonl").open("a") as log:
        log.write(json.dumps([tool, *args]) + "\n")
    try:
        output = {"docker": docker, "kind": kind, "pulumi": pulumi}[tool](list(args), state_dir)
    except RefusedError as refusal:
        print(f"{tool}: {refusal}", file=sys.stderr)
        return 1
    sys.stdout.write(output)
    return 0


def load(path: Path, default: object) -> object:
    return json.loads(path.read_text()) if path.exists() else default


def clusters(state_dir: Path) -> list[str]:
    found = load(state_dir / "kind-clusters.json", [])
    assert isinstance(found, list)
    return [str(name) for name in found]


def need_daemon() -> None:
    if os.environ.get("FAKE_DOCKER_DAEMON") != "up":
        raise RefusedError("Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?")


def docker(args: list[str], state_dir: Path) -> str:
    need_daemon()
    existing = clusters(state_dir)
    if args == ["info"]:
        return "Server Version: 28.2.2\n"
    if args == ["network", "inspect", "kind"]:
        if not existing:
            raise RefusedError("Error response from daemon: network kind not found")
        return json.dumps([{"Name": "kind", "IPAM": {"Config": [{"Subnet": "fc00:f853:ccd:e793::/64"}, {"Subnet": "172.18.0.0/16"}]}}])
    if args[:1] == ["inspect"] and len(args) == 2:
        name = args[1].removesuffix("-control-plane")
        if name not in existing:
            raise RefusedError(f"Error: No such object: {args[1]}")
        address = f"172.18.0.{existing.index(name) + 2}"
        return json.dumps([{"Name": f"/{args[1]}", "NetworkSettings": {"Networks": {"kind": {"IPAddress": address}}}}])
    raise RefusedError(f"the fake does not know docker {' '.join(args)}")


def kind(args: list[str], state_dir: Path) -> str:
    need_daemon()
    existing = clusters(state_dir)
    if args == ["get", "clusters"]:
        return "".join(f"{name}\n" for name in existing)
    if args[:3] in (["create", "cluster", "--name"], ["delete", "cluster", "--name"]) and len(args) == 4:
        name = args[3]
        if args[0] == "create":
            if name in existing:
                raise RefusedError(f'node(s) already exist for a cluster with the name "{name}"')
            existing.append(name)
        elif name in existing:
            existing.remove(name)
        (state_dir / "kind-clusters.json").write_text(json.dumps(existing))
        return ""
    raise RefusedError(f"the fake does not know kind {' '.join(args)}")


def backend(home: Path) -> str:
    url = os.environ.get("PULUMI_BACKEND_URL")
    if url:
        return url
    credentials = load(home / ".pulumi" / "credentials.json", {})
    current = credentials.get("current") if isinstance(credentials, dict) else None
    if not current:
        raise RefusedError("no backend: run `pulumi login` (or set PULUMI_BACKEND_URL)")
    return str(current)


def stacks_file(url: str, home: Path) -> Path:
    """Where a backend keeps the fake's stacks: the directory of a ``file://`` URL, else one per URL."""
    if url.startswith("file://"):
        directory = Path(url.removeprefix("file://").replace("~", str(home), 1)) / ".pulumi"
    else:
        directory = home / "cloud" / url.replace("/", "_").replace(":", "_")
    directory.mkdir(parents=True, exist_ok=True)
    return directory / "fake-stacks.json"


def option(args: list[str], name: str) -> str | None:
    return args[args.index(name) + 1] if name in args else None


def pulumi(args: list[str], state_dir: Path) -> str:
    if args == ["version"]:
        return os.environ.get("FAKE_PULUMI_VERSION", DEFAULT_VERSION) + "\n"
    home = Path(os.environ["HOME"])
    if args[:1] == ["login"]:
        url = "file://~" if "--local" in args else (args[1] if len(args) > 1 else "https://api.pulumi.com")
        (home / ".pulumi").mkdir(parents=True, exist_ok=True)
        (home / ".pulumi" / "credentials.json").write_text(json.dumps({"current": url}))
        return ""
    if not (Path.cwd() / "Pulumi.yaml").exists():
        raise RefusedError("no Pulumi.yaml project file found (searching upwards from the current directory)")
    url = backend(home)
    if url.startswith("file://") and not any(os.environ.get(v) for v in ("PULUMI_CONFIG_PASSPHRASE", "PULUMI_CONFIG_PASSPHRASE_FILE")):
        raise RefusedError("passphrase must be set with PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE environment variables")
    if args[0] in TOOLCHAIN_COMMANDS and shutil.which("uv") is None:
        raise RefusedError("error: Could not find `uv` executable.\nInstall uv and make sure is is in your PATH.")
    path = stacks_file(url, home)
    stacks = load(path, {})
    assert isinstance(stacks, dict)
    if args[:1] != ["install"]:
        stack_command(args, stacks)
        path.write_text(json.dumps(stacks))
    return ""


def stack_command(args: list[str], stacks: dict[str, dict[str, object]]) -> None:
    """``stack select --create``, ``config set``, ``up`` and ``destroy`` on the backend's stacks."""
    if args[:3] == ["stack", "select", "--create"]:
        stacks.setdefault(args[3], {"config": {}, "deployed": False})
        return
    stack = option(args, "--stack")
    if stack not in stacks:
        raise RefusedError(f"no stack named '{stack}' found")
    if args[:2] == ["config", "set"]:
        config = stacks[stack]["config"]
        assert isinstance(config, dict)
        config[args[-2]] = args[-1]
    elif args[0] in {"up", "destroy"}:
        if "--yes" not in args:
            raise RefusedError("--yes must be passed in to proceed when running in non-interactive mode")
        stacks[stack]["deployed"] = args[0] == "up"
    else:
        raise RefusedError(f"the fake does not know pulumi {' '.join(args)}")
