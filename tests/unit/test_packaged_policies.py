"""The policies that ship inside the package are the repository's own, byte for byte:
`policies/` stays the one source, and the copy under casestore/regions/ cannot drift."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from casestore.settings import Settings

POLICIES = Path(__file__).resolve().parents[2] / "policies"


def shipped() -> dict[str, bytes]:
    regions = resources.files("casestore.regions")
    return {p.name: p.read_bytes() for p in regions.iterdir() if p.name.endswith(".yaml")}


def test_every_region_policy_ships_unchanged_inside_the_package() -> None:
    sources = {
        p.name: p.read_bytes()
        for p in POLICIES.glob("*.yaml")
        if not p.name.endswith(".tests.yaml")
    }
    assert sources, "no region policies found"
    assert shipped() == sources, "copy policies/<region>.yaml to src/casestore/regions/"


def test_without_a_policy_file_the_region_policy_comes_from_the_package(tmp_path: Path) -> None:
    settings = Settings(demo=True, var_dir=tmp_path / "var")
    assert settings.policy_path.read_bytes() == (POLICIES / f"{settings.region}.yaml").read_bytes()
