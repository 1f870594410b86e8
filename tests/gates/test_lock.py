"""The lock, the layer's requirements and the venv agree (offline; `make lock` regenerates the files).

requirements.lock is `uv pip compile --group dev` of pyproject.toml (every package pinned, with
hashes, for every platform); layers/restore_common/requirements.txt is the runtime group compiled
against it (`-c requirements.lock`). This gate fails when:
- a requirement of a dependency group is not locked, or locked at a version it does not allow;
- a pin of the layer's requirements differs from the lock's (version or hashes), or the layer does
  not hold exactly the runtime group's dependency closure (read from the installed metadata);
- the venv running the tests does not hold the locked versions (lock changed, `make venv` not run);
- moto is not pinned exactly, to the version tools/emulation's patches are written for;
- a lock file names an index or any URL (the lock must not depend on where packages come from).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

pytestmark = pytest.mark.gates

ROOT = Path(__file__).resolve().parents[2]
LOCK = ROOT / "requirements.lock"
LAYER = ROOT / "layers" / "restore_common" / "requirements.txt"
EMULATOR = ROOT / "tools" / "emulation" / "__init__.py"


@dataclass(frozen=True)
class Pin:
    name: NormalizedName
    version: str
    marker: Marker | None
    hashes: frozenset[str]

    def applies(self) -> bool:
        return self.marker is None or self.marker.evaluate()


def read_pins(path: Path) -> dict[NormalizedName, Pin]:
    """A `uv pip compile --generate-hashes` file: `name==version [; marker] --hash=... ...` per entry."""
    text = path.read_text()
    logical = re.sub(r"\\\n", " ", "\n".join(line.split("#", 1)[0].rstrip() for line in text.splitlines()))
    pins: dict[NormalizedName, Pin] = {}
    for line in filter(None, (raw.strip() for raw in logical.splitlines())):
        assert not line.startswith("-"), f"{path.name}: option line {line!r} (no index, link or nested file)"
        spec, *hashes = re.split(r"\s+--hash=", line)
        requirement = Requirement(spec)
        (specifier,) = requirement.specifier
        assert specifier.operator == "==", f"{path.name}: {spec} is not pinned with =="
        assert hashes, f"{path.name}: {requirement.name} has no hash"
        name = canonicalize_name(requirement.name)
        assert name not in pins, f"{path.name}: {name} pinned twice"
        pins[name] = Pin(name, specifier.version, requirement.marker, frozenset(hashes))
    return pins


def group_requirements(groups: dict[str, Any], name: str) -> list[Requirement]:
    """PEP 735 group with its include-group entries expanded."""
    found: list[Requirement] = []
    for entry in groups[name]:
        if isinstance(entry, dict):
            found += group_requirements(groups, entry["include-group"])
        else:
            found.append(Requirement(entry))
    return found


def closure(roots: list[Requirement]) -> set[NormalizedName]:
    """Names of the roots and everything they need on this platform, from the installed metadata."""
    seen: set[tuple[NormalizedName, frozenset[str]]] = set()
    stack = [(canonicalize_name(r.name), frozenset(r.extras)) for r in roots if r.marker is None or r.marker.evaluate()]
    while stack:
        name, extras = stack.pop()
        if (name, extras) in seen:
            continue
        seen.add((name, extras))
        for line in metadata.requires(name) or []:
            requirement = Requirement(line)
            if requirement.marker and not any(requirement.marker.evaluate({"extra": e}) for e in extras | {""}):
                continue
            stack.append((canonicalize_name(requirement.name), frozenset(requirement.extras)))
    return {name for name, _ in seen}


@pytest.fixture(scope="module")
def groups() -> dict[str, Any]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["dependency-groups"]


@pytest.fixture(scope="module")
def lock() -> dict[NormalizedName, Pin]:
    return read_pins(LOCK)


@pytest.fixture(scope="module")
def layer() -> dict[NormalizedName, Pin]:
    return read_pins(LAYER)


def test_lock_files_name_no_index_and_no_url() -> None:
    for path in (LOCK, LAYER):
        text = path.read_text()
        assert "://" not in text, f"{path.name} names a URL"
        for option in ("--index-url", "--extra-index-url", "--find-links", "--trusted-host", "-i ", "-f "):
            assert option not in text, f"{path.name} carries {option}"


@pytest.mark.parametrize("group", ["runtime", "dev"])
def test_every_declared_requirement_is_locked_at_an_allowed_version(groups, lock, group: str) -> None:
    problems = []
    for requirement in group_requirements(groups, group):
        pin = lock.get(canonicalize_name(requirement.name))
        if pin is None:
            problems.append(f"{requirement} is not in {LOCK.name}")
        elif not requirement.specifier.contains(pin.version, prereleases=True):
            problems.append(f"{requirement} does not allow the locked {pin.version}")
    assert not problems, "\n".join(problems) + "\nrun `make lock`"


def test_layer_pins_equal_the_lock(lock, layer) -> None:
    drift = [
        f"{name}: layer {pin.version}, lock {lock[name].version if name in lock else 'absent'}"
        for name, pin in layer.items()
        if name not in lock or (pin.version, pin.hashes) != (lock[name].version, lock[name].hashes)
    ]
    assert not drift, "\n".join(drift) + "\nrun `make lock`"


def test_layer_holds_exactly_the_runtime_closure(groups, layer) -> None:
    needed = closure(group_requirements(groups, "runtime"))
    present = {name for name, pin in layer.items() if pin.applies()}
    assert present == needed, (
        f"missing from the layer: {sorted(needed - present)}; not needed: {sorted(present - needed)}"
    )


def test_the_dev_closure_is_locked(groups, lock) -> None:
    needed = closure(group_requirements(groups, "dev"))
    assert needed <= set(lock), f"installed but not locked: {sorted(needed - set(lock))}"


def test_the_venv_holds_the_locked_versions(lock) -> None:
    drift = []
    for name, pin in lock.items():
        if not pin.applies():
            continue
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            drift.append(f"{name}: not installed, locked {pin.version}")
            continue
        if Version(installed) != Version(pin.version):
            drift.append(f"{name}: installed {installed}, locked {pin.version}")
    assert not drift, "\n".join(drift) + "\nrun `make venv`"


def test_moto_is_pinned_to_the_version_the_emulator_patches(groups, lock) -> None:
    (moto,) = [r for r in group_requirements(groups, "dev") if canonicalize_name(r.name) == "moto"]
    (specifier,) = moto.specifier
    assert specifier.operator == "==", "moto must be pinned exactly: the emulator patches its internals"
    assert lock[canonicalize_name("moto")].version == specifier.version
    assert f"moto {specifier.version}" in EMULATOR.read_text(), (
        f"tools/emulation/__init__.py does not say its patches target moto {specifier.version}: review them, then say so"
    )
