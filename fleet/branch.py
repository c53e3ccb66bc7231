"""The branch Pulumi Deployments runs: the stack files as pushed, not as this checkout holds them.

A remote run clones the repository at the branch's head and takes each stack's config from its
``Pulumi.<stack>.yaml`` there, so what the driver checks (a member's ``fleetMember``, the mesh
stack's clusters) must be read from that commit: the branch is fetched once, then each file is read
from the fetched commit with ``git show``.
"""

from __future__ import annotations

import subprocess
import threading
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class PushedBranch:
    """``branch`` of the repository at ``url``, fetched into the git repository at ``git_dir``.

    Args:
        url: the repository's git URL (what Deployments clones).
        branch: the branch.
        git_dir: a git repository to fetch into (this checkout).
    """

    url: str
    branch: str
    git_dir: Path
    _commit: str | None = field(default=None, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def commit(self) -> str:
        """The branch's head, fetched the first time (member runs ask side by side)."""
        with self._lock:
            if self._commit is None:
                self._git("fetch", "--quiet", "--no-tags", self.url, f"refs/heads/{self.branch}")
                self._commit = self._git("rev-parse", "FETCH_HEAD").strip()
            return self._commit

    def file(self, path: str) -> str | None:
        """The file at ``path`` in the branch's head (``None``: not there)."""
        commit = self.commit()
        listed = self._git("ls-tree", "--name-only", commit, "--", path).strip()
        return self._git("show", f"{commit}:{path}") if listed == path else None

    def _git(self, *args: str) -> str:
        done = subprocess.run(["git", "-C", str(self.git_dir), *args], capture_output=True, text=True, check=False)  # noqa: S603, S607
        if done.returncode != 0:
            reason = (done.stderr.strip().splitlines() or ["git failed"])[-1]
            raise ValueError(f"could not read branch {self.branch} of {self.url}: {reason}")
        return done.stdout
