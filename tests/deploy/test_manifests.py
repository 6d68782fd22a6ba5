"""deploy/: the compose file, the Kubernetes manifests and the Dockerfile, checked without a
Docker engine or a cluster — by the tools that read them (docker-compose, kubernetes-validate)
and against the service's own settings module and CLI."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from streams.cli import parser
from streams.kafka.topics_admin import topic_specs
from streams.settings import REQUIRED, load_settings, variable_names

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"
KUBERNETES = "1.33.0"  # the oldest minor still supported upstream when this was written
COMMAND_KEYS = "k1:" + "A" * 44  # 32 bytes of base64: the shape BREACH_COMMAND_KEYS is checked for
CONSOLE_USERS = {"BREACH_CONSOLE_USERS": "alice:a-long-password:dpo", "BREACH_COMMAND_KEYS": COMMAND_KEYS}


def _compose_config(path: Path) -> subprocess.CompletedProcess[str]:
    tool = shutil.which("docker-compose")
    assert tool, "docker-compose is missing: `make test` installs it (Debian package docker-compose)"
    return subprocess.run([tool, "-f", str(path), "config"], capture_output=True, text=True, timeout=60,
                          check=False, env={**os.environ, **CONSOLE_USERS})


def _compose() -> dict[str, Any]:
    result = _compose_config(DEPLOY / "compose.yaml")
    assert result.returncode == 0, result.stderr
    config: dict[str, Any] = yaml.safe_load(result.stdout)
    return config


def _manifests() -> list[tuple[str, dict[str, Any]]]:
    docs = []
    for path in sorted(K8S.glob("*.yaml")):
        if path.name != "kustomization.yaml":
            docs += [(path.name, d) for d in yaml.safe_load_all(path.read_text()) if d]
    return docs


def _containers(doc: dict[str, Any]) -> list[dict[str, Any]]:
    spec = doc.get("spec", {})
    pod = spec.get("jobTemplate", {}).get("spec", spec).get("template", {}).get("spec", {})
    return list(pod.get("containers", []))


def _config_maps() -> dict[str, dict[str, str]]:
    return {d["metadata"]["name"]: d.get("data", {}) for _, d in _manifests() if d["kind"] == "ConfigMap"}


def _k8s_env(container: dict[str, Any]) -> dict[str, str]:
    """The variables a container is given: its ConfigMap envFrom, then its env (secrets as '<secret>')."""
    maps, env = _config_maps(), {}
    for source in container.get("envFrom", []):
        env.update(maps[source["configMapRef"]["name"]])
    for item in container.get("env", []):
        env[item["name"]] = item.get("value", "<secret>")
    return env


def _k8s_workloads() -> dict[str, dict[str, Any]]:
    """Container by role: the `breach` subcommand it runs."""
    return {" ".join(c["args"]): c for _, d in _manifests() for c in _containers(d)}


# ---- docker compose ----------------------------------------------------------------------------------------

def test_the_compose_file_is_valid_for_docker_compose() -> None:
    services = _compose()["services"]
    assert set(services) == {"kafka", "topics", "mailpit", "worker", "console"}
    assert services["kafka"]["image"].startswith("apache/kafka:")
    assert "broker,controller" in services["kafka"]["environment"]["KAFKA_PROCESS_ROLES"]  # KRaft, no ZooKeeper
    assert services["worker"]["deploy"]["replicas"] == 2
    assert services["worker"]["depends_on"]["topics"]["condition"] == "service_completed_successfully"


def test_the_compose_check_would_catch_a_mistake(tmp_path: Path) -> None:
    broken = tmp_path / "compose.yaml"
    broken.write_text((DEPLOY / "compose.yaml").read_text().replace("    command: [\"worker\"]",
                                                                    "    comand: [\"worker\"]"))
    result = _compose_config(broken)
    assert result.returncode != 0 and "comand" in result.stderr


@pytest.mark.parametrize("missing", sorted(CONSOLE_USERS))
def test_the_stack_refuses_to_be_composed_without_logins_or_command_key(missing: str) -> None:
    env = {**{k: v for k, v in os.environ.items() if k not in CONSOLE_USERS},
           **{k: v for k, v in CONSOLE_USERS.items() if k != missing}}
    result = subprocess.run([str(shutil.which("docker-compose")), "-f", str(DEPLOY / "compose.yaml"), "config"],
                            capture_output=True, text=True, timeout=60, check=False, env=env)
    assert result.returncode != 0 and missing in result.stderr


def test_every_compose_service_runs_a_real_breach_command() -> None:
    for name in ("topics", "worker", "console"):
        parser().parse_args(_compose()["services"][name]["command"])  # exits on an unknown command


# ---- Kubernetes --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(p.name for p in K8S.glob("*.yaml") if p.name != "kustomization.yaml"))
def test_each_manifest_is_valid_kubernetes(name: str) -> None:
    for doc in yaml.safe_load_all((K8S / name).read_text()):
        kubernetes_validate.validate(doc, KUBERNETES, strict=True)


def test_the_kubernetes_check_would_catch_a_mistake() -> None:
    _, worker = next((n, d) for n, d in _manifests() if d["kind"] == "StatefulSet")
    _containers(worker)[0]["imagePullPolicyy"] = "Always"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(worker, KUBERNETES, strict=True)


def test_kustomization_applies_every_manifest_but_the_secret_example() -> None:
    listed = yaml.safe_load((K8S / "kustomization.yaml").read_text())["resources"]
    assert sorted(listed) == sorted(p.name for p in K8S.glob("*.yaml")
                                    if p.name not in ("kustomization.yaml", "secret.example.yaml"))


def test_workers_keep_rocksdb_state_on_a_volume_of_their_own() -> None:
    worker = next(d for _, d in _manifests() if d["kind"] == "StatefulSet")
    container = _containers(worker)[0]
    env = _k8s_env(container)
    assert env["BREACH_STORE"] == "rocksdb://"
    claim = worker["spec"]["volumeClaimTemplates"][0]["metadata"]["name"]
    assert {"name": claim, "mountPath": env["BREACH_DATA_DIR"]} in container["volumeMounts"]
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"


def test_the_profiles_config_map_holds_exactly_the_shipped_profiles() -> None:
    shipped = {p.name: p.read_text() for p in sorted((DEPLOY / "profiles").glob("*.toml"))}
    assert _config_maps()["breach-profiles"] == shipped, "regenerate deploy/k8s/profiles.yaml (see its header)"


def test_every_container_runs_a_real_breach_command_as_a_non_root_user() -> None:
    for _, doc in _manifests():
        pod = doc.get("spec", {}).get("template", {}).get("spec")
        for container in _containers(doc):
            parser().parse_args(container["args"])
            assert pod["securityContext"]["runAsNonRoot"] is True
            assert container["securityContext"]["allowPrivilegeEscalation"] is False


# ---- the settings they pass --------------------------------------------------------------------------------

def _all_passed_variables() -> set[str]:
    names = set()
    for service in _compose()["services"].values():
        names |= {n for n in service.get("environment", {}) if n.startswith("BREACH_")}
    for _, doc in _manifests():
        for container in _containers(doc):
            names |= {n for n in _k8s_env(container) if n.startswith("BREACH_")}
        if doc["kind"] == "Secret":
            names |= {n for n in doc.get("stringData", {}) if n.startswith("BREACH_")}
    names |= {line.split("=")[0].strip() for line in _dockerfile_env()}
    return names


def test_every_variable_deploy_passes_is_a_setting() -> None:
    passed = _all_passed_variables()
    assert len(passed) > 20
    assert passed - variable_names() == set()


def _secret_refs() -> list[tuple[str, str, str]]:
    """(variable, secret, key) of every secretKeyRef in the workloads."""
    return [(item["name"], ref["name"], ref["key"]) for _, doc in _manifests() for c in _containers(doc)
            for item in c.get("env", []) if (ref := item.get("valueFrom", {}).get("secretKeyRef"))]


def test_secret_keys_are_the_variable_names_and_all_of_them_are_used() -> None:
    """A Secret key read under another name (BREACH_SMTP_USERNAME for BREACH_SMTP_USER) would pass
    the name check above yet never reach the process: key, variable and setting must be one name."""
    example = {d["metadata"]["name"]: set(d.get("stringData", {})) for _, d in _manifests() if d["kind"] == "Secret"}
    refs = _secret_refs()
    assert refs
    for variable, secret, key in refs:
        assert key == variable, f"{variable} is read from key {key} of {secret}"
        assert key in example[secret], f"{key} is missing from {secret} in secret.example.yaml"
        assert variable in variable_names()
    assert example["breach-secrets"] == {key for _, secret, key in refs if secret == "breach-secrets"}


def test_the_console_can_keep_its_cookie_secret_on_a_read_only_image() -> None:
    """Without BREACH_CONSOLE_SECRET the console writes one under BREACH_DATA_DIR at start; the
    root file system is read-only, so it needs the secret or a volume there."""
    k8s = _k8s_workloads()["console"]
    assert k8s["securityContext"]["readOnlyRootFilesystem"] is True
    assert "BREACH_CONSOLE_SECRET" in _k8s_env(k8s)
    compose = _compose()["services"]["console"]
    data_dir = dict(pair.split("=", 1) for pair in _dockerfile_env())["BREACH_DATA_DIR"]
    assert compose["read_only"] is True
    targets = {v["target"] if isinstance(v, dict) else v.split(":")[1] for v in compose.get("volumes", [])}
    assert data_dir in targets, "no volume at the console's data dir"


def test_the_ingress_serves_the_console_at_the_url_the_settings_name() -> None:
    """The OIDC callback and the links in reminders point at the host the Ingress serves over TLS."""
    from urllib.parse import urlsplit

    ingress = next(d for _, d in _manifests() if d["kind"] == "Ingress")
    host = ingress["spec"]["rules"][0]["host"]
    assert host in ingress["spec"]["tls"][0]["hosts"]
    backend = ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    service = next(d for _, d in _manifests() if d["kind"] == "Service" and d["metadata"]["name"] == backend["name"])
    assert backend["port"]["name"] in {p["name"] for p in service["spec"]["ports"]}
    workloads = _k8s_workloads()
    for url in (_k8s_env(workloads["console"])["BREACH_OIDC_REDIRECT_URL"],
                _k8s_env(workloads["worker"])["BREACH_CONSOLE_URL"]):
        assert (urlsplit(url).scheme, urlsplit(url).hostname) == ("https", host), url
    assert urlsplit(_k8s_env(workloads["console"])["BREACH_OIDC_REDIRECT_URL"]).path == "/auth/callback"


def test_each_process_is_given_every_setting_it_requires() -> None:
    compose = _compose()["services"]
    k8s = _k8s_workloads()
    for role in ("worker", "console"):
        assert set(REQUIRED[role]) <= set(compose[role]["environment"]), f"compose {role}"
        assert set(REQUIRED[role]) <= set(_k8s_env(k8s[role])), f"k8s {role}"


def test_the_values_given_pass_the_settings_checks(tmp_path: Path) -> None:
    """What a container would get at start: the same fail-fast checks as the real process."""
    ca = tmp_path / "ca.crt"
    ca.write_text("placeholder")
    for service in ("topics", "worker", "console"):
        load_settings(_compose()["services"][service]["environment"])
    for role, container in _k8s_workloads().items():
        env = {k: _filled(k, v) for k, v in _k8s_env(container).items()}
        env["BREACH_KAFKA_SSL_CAFILE"] = str(ca)  # mounted from the breach-kafka-ca Secret
        settings = load_settings(env)
        assert settings.kafka_security_protocol == "SASL_SSL", role


def _filled(name: str, value: str) -> str:
    """A secret's stand-in, of the shape its variable is checked for."""
    if value != "<secret>":
        return value
    return COMMAND_KEYS if name == "BREACH_COMMAND_KEYS" else "secret"


def _runtime_env(env: dict[str, str], ca: Path) -> dict[str, str]:
    """The image's ENV under the container's own variables, secrets filled in, the CA file present."""
    image = dict(pair.split("=", 1) for pair in _dockerfile_env())
    merged = {**image, **{k: _filled(k, v) for k, v in env.items()}}
    if merged.get("BREACH_KAFKA_SSL_CAFILE"):
        merged["BREACH_KAFKA_SSL_CAFILE"] = str(ca)
    return merged


def test_the_topic_job_creates_exactly_the_topics_the_workers_use() -> None:
    """Same names (app id: changelogs), partition counts, retention and record size: computed by
    `breach topics create`'s own function from what each container is given."""
    import certifi

    ca = Path(certifi.where())  # a real PEM bundle: the app builds its TLS context from it
    compose = _compose()["services"]
    k8s = _k8s_workloads()
    for where, job, others in (("compose", compose["topics"]["environment"],
                                [compose["worker"]["environment"], compose["console"]["environment"]]),
                               ("k8s", _k8s_env(k8s["topics create"]),
                                [_k8s_env(k8s["worker"]), _k8s_env(k8s["console"])])):
        made = topic_specs(load_settings(_runtime_env(job, ca)))
        for env in others:
            settings = load_settings(_runtime_env(env, ca))
            assert topic_specs(settings) == made, where
        by_name = {spec.name: spec for spec in made}
        assert by_name["incident-events"].configs["retention.ms"] == "-1", where  # the audit trail is kept
        assert all(spec.configs["cleanup.policy"] == "compact" for name, spec in by_name.items()
                   if name.endswith("-changelog")), where
        assert {spec.partitions for spec in made} == {int(job["BREACH_PARTITIONS"])}, where


def test_workers_are_no_more_than_partitions() -> None:
    """A worker beyond the partition count would hold nothing: replicas <= BREACH_PARTITIONS."""
    compose = _compose()["services"]["worker"]
    assert compose["deploy"]["replicas"] <= int(compose["environment"]["BREACH_PARTITIONS"])
    worker = next(d for _, d in _manifests() if d["kind"] == "StatefulSet")
    assert worker["spec"]["replicas"] <= int(_k8s_env(_containers(worker)[0])["BREACH_PARTITIONS"])


# ---- Dockerfile --------------------------------------------------------------------------------------------

def _dockerfile() -> list[str]:
    text = (DEPLOY / "Dockerfile").read_text().replace("\\\n", " ")
    return [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def _dockerfile_env() -> list[str]:
    return [pair for line in _dockerfile() if line.startswith("ENV ") for pair in shlex.split(line[4:])
            if pair.startswith("BREACH_")]


def test_the_image_is_slim_runs_as_a_user_and_starts_breach() -> None:
    lines = _dockerfile()
    assert lines[0] == "FROM python:3.11-slim"
    user = [line for line in lines if line.startswith("USER ")][-1]
    assert user.split()[1].split(":")[0] not in ("0", "root")
    assert 'ENTRYPOINT ["breach"]' in lines
    for line in lines:
        if line.startswith("COPY "):
            for source in line.split()[1:-1]:
                assert (ROOT / source).exists(), f"the Dockerfile copies {source}, which does not exist"


def test_the_image_points_the_settings_at_what_it_copies() -> None:
    env = dict(pair.split("=", 1) for pair in _dockerfile_env())
    copied = {line.split()[-1].rstrip("/") for line in _dockerfile() if line.startswith("COPY ")}
    assert env["BREACH_TEMPLATES_DIR"] in copied and env["BREACH_PROFILES_DIR"] in copied
