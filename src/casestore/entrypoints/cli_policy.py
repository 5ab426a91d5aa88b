"""`casestore policy …`: versions, proposals and four eyes from the command line.

A privacy officer acts with their own token (`--token` or CASESTORE_TOKEN), so the CLI
enforces four eyes exactly as the API does: the service decides, with the officer's
identity, never the operator's shell.
"""

import uuid
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Annotated

import typer
import yaml

from casestore.adapters.persistence.policy_table import ProposalRow
from casestore.bootstrap import Services
from casestore.domain.catalogue import describe
from casestore.entrypoints import cli_base as base
from casestore.entrypoints.cli_base import DemoOption
from casestore.services.clients import Client, ClientError
from casestore.services.policy_versions import Analysis, PolicyBook, ProposalError
from sharing.errors import PolicyError
from sharing.keys import format_time
from sharing.policy import catalogue_from_description, compile_policy, load_policy, run_case_file
from sharing.policy.diff import diff
from sharing.policy.edit import OPS, RuleEdit

TokenOption = Annotated[
    str,
    typer.Option(
        "--token",
        envvar="CASESTORE_TOKEN",
        help="Your privacy officer's token.",
        show_default=False,
    ),
]


ReasonOption = Annotated[str, typer.Option(help="Why.")]
DpiaOption = Annotated[str, typer.Option(help="The DPIA reference.")]
AgreedOption = Annotated[
    str, typer.Option(help="Date the convenant partners agreed it (YYYY-MM-DD).")
]
BaseOption = Annotated[
    int | None, typer.Option("--base", help="The version it changes (default: the newest).")
]
MakeProposal = Callable[[PolicyBook, Client, int], ProposalRow]
"""Files the proposal, given the book, the proposing officer and the base version."""


def register(policy_app: typer.Typer) -> None:

    def officer(services: Services, token: str) -> Client:
        try:
            return services.clients.authenticate(token)
        except ClientError as exc:
            base.fail(exc)

    @policy_app.command("check")
    def policy_check(
        policy_file: Annotated[Path, typer.Argument(help="The policy (YAML) to check.")],
    ) -> None:
        """Check a policy against the catalogue and the legal lint, and run its cases
        (`<name>.tests.yaml` beside it): one line per problem; exit 1 if any."""
        if not policy_file.is_file():
            typer.echo(f"error: no policy file {policy_file}", err=True)
            raise typer.Exit(2)
        catalogue = catalogue_from_description(describe())
        try:
            matrix = compile_policy(load_policy(policy_file, catalogue), catalogue)
            cases = policy_file.with_name(policy_file.stem + ".tests.yaml")
            report = run_case_file(cases, matrix) if cases.is_file() else None
        except PolicyError as exc:
            for problem in exc.problems:
                typer.echo(problem)
            raise typer.Exit(1) from None
        if report is not None:
            for failure in report.failures:
                typer.echo(f"{report.source}:{str(failure).removeprefix('line ')}")
            for rule in report.unexercised_rules:
                typer.echo(f"{report.source}: rule {rule!r}: no allowed case shows it granting")
            if not report.ok:
                raise typer.Exit(1)
        tested = f", {report.cases} cases pass" if report is not None else ", no cases beside it"
        typer.echo(
            f"{policy_file}: sound and lawful by the lint: {len(matrix.policy.rules)} rules, "
            f"{len(matrix.organisations)} organisations{tested}"
        )

    @policy_app.command("test")
    def policy_test(
        policy_file: Annotated[Path, typer.Argument(help="The policy (YAML).")],
        cases: Annotated[Path | None, typer.Option(help="Its cases (default: beside it).")] = None,
    ) -> None:
        """Run a policy's allow/deny cases: one line per failure; exit 1 if any."""
        catalogue = catalogue_from_description(describe())
        cases = cases or policy_file.with_name(policy_file.stem + ".tests.yaml")
        try:
            matrix = compile_policy(load_policy(policy_file, catalogue), catalogue)
            report = run_case_file(cases, matrix)
        except PolicyError as exc:
            base.fail("; ".join(exc.problems))
        for failure in report.failures:
            typer.echo(f"{report.source}:{str(failure).removeprefix('line ')}")
        if not report.ok:
            raise typer.Exit(1)
        typer.echo(f"{cases}: {report.cases} cases pass")

    @policy_app.command("diff")
    def policy_diff(
        old: Annotated[Path, typer.Argument(help="The policy before (YAML).")],
        new: Annotated[Path, typer.Argument(help="The policy after (YAML).")],
    ) -> None:
        """Rules changed, access cells gained and lost (in Dutch), DPIA flows added and
        removed."""
        catalogue = catalogue_from_description(describe())
        try:
            found = diff(load_policy(old, catalogue), load_policy(new, catalogue), catalogue)
        except PolicyError as exc:
            base.fail("; ".join(exc.problems))
        for rule in found.rules:
            typer.echo(f"regel {rule.rule}: {rule.change}")
        for cell in found.cells:
            typer.echo(cell.sentence)
        for flow in found.flows_added:
            typer.echo(f"DPIA + {flow.organisation} {flow.category} {flow.ground} {flow.retention}")
        for flow in found.flows_removed:
            typer.echo(f"DPIA - {flow.organisation} {flow.category} {flow.ground} {flow.retention}")

    @policy_app.command("export")
    def policy_export(
        version: Annotated[int | None, typer.Option(help="A version (default: in force).")] = None,
        demo: DemoOption = False,
    ) -> None:
        """Write the policy version in force (or another) as YAML, as it was proposed."""
        services = base.open_services(demo)
        try:
            book = services.policy
            row = book.version(version) if version else book.in_force()
        except ProposalError as exc:
            base.fail(exc)
        finally:
            services.close()
        typer.echo(row.document, nl=False)

    @policy_app.command("versions")
    def policy_versions(demo: DemoOption = False) -> None:
        """Every version that was in force, with who approved it and why."""
        services = base.open_services(demo)
        try:
            rows = services.policy.versions()
        finally:
            services.close()
        for v in rows:
            typer.echo(
                f"v{v.version}  {v.label}  {format_time(v.activated_at)}  history {v.history}"
                f"  approved by {v.approved_by or '-'}  {v.reason or ''}"
            )

    @policy_app.command("propose")
    def policy_propose(
        policy_file: Annotated[Path, typer.Argument(help="The whole proposed policy (YAML).")],
        reason: ReasonOption,
        dpia: DpiaOption,
        vastgesteld: AgreedOption,
        token: TokenOption,
        base_version: BaseOption = None,
        demo: DemoOption = False,
    ) -> None:
        """Propose a policy; prints the proposal id, the diff and the impact on history."""
        try:
            agreed = date.fromisoformat(vastgesteld)
            document = policy_file.read_text(encoding="utf-8")
        except (ValueError, OSError) as exc:
            base.exit_as("configuration", str(exc))

        def make(book: PolicyBook, who: Client, on: int) -> ProposalRow:
            return book.propose(
                who,
                base_version=on,
                document=document,
                reason=reason,
                dpia_reference=dpia,
                vastgesteld_on=agreed,
            )

        propose_and_report(demo, token, base_version, make)

    @policy_app.command("propose-rule")
    def policy_propose_rule(
        op: Annotated[str, typer.Argument(help="add, change or remove.")],
        rule_id: Annotated[str, typer.Argument(help="The rule's id.")],
        reason: ReasonOption,
        dpia: DpiaOption,
        vastgesteld: AgreedOption,
        token: TokenOption,
        rule_file: Annotated[
            Path | None,
            typer.Option("--rule", help="The whole rule (YAML), for add and change."),
        ] = None,
        base_version: BaseOption = None,
        demo: DemoOption = False,
    ) -> None:
        """Propose one rule added, changed or removed; the rest of the policy stays as the
        base version has it. Prints the proposal id, the diff and the impact on history."""
        try:
            agreed = date.fromisoformat(vastgesteld)
            rule = None if rule_file is None else yaml.safe_load(rule_file.read_text("utf-8"))
            if op not in OPS:
                raise ValueError(f"the edit is add, change or remove, not {op!r}")
            if rule is not None and not isinstance(rule, dict):
                raise ValueError(f"{rule_file} holds no rule (a mapping)")
        except (ValueError, OSError, yaml.YAMLError) as exc:
            base.exit_as("configuration", str(exc).splitlines()[0])

        def make(book: PolicyBook, who: Client, on: int) -> ProposalRow:
            return book.propose_rule_edit(
                who,
                base_version=on,
                edit=RuleEdit(op, rule_id, rule),
                reason=reason,
                dpia_reference=dpia,
                vastgesteld_on=agreed,
            )

        propose_and_report(demo, token, base_version, make)

    def propose_and_report(
        demo: bool, token: str, base_version: int | None, make: MakeProposal
    ) -> None:
        services = base.open_services(demo)
        try:
            book = services.policy
            proposal = make(book, officer(services, token), base_version or book.newest().version)
            analysis = book.analyse(proposal)
        except ProposalError as exc:
            base.fail(exc)
        finally:
            services.close()
        _report(proposal, analysis)

    @policy_app.command("approve")
    def policy_approve(
        proposal_id: Annotated[str, typer.Argument(help="The proposal.")],
        reason: Annotated[str, typer.Option(help="Why.")],
        token: TokenOption,
        history: Annotated[
            str, typer.Option(help="'all': re-seal stored history too; 'new': new events only.")
        ] = "all",
        effective_from: Annotated[
            str | None,
            typer.Option(help="The moment it takes effect (ISO 8601 with offset; default now)."),
        ] = None,
        demo: DemoOption = False,
    ) -> None:
        """Approve (a privacy officer of another organisation than the proposer's): the
        version is in force at once, or from --effective-from; with history 'all' history
        is re-sealed here (a scheduled version's by the worker, once it is in force)."""
        try:
            moment = None if effective_from is None else datetime.fromisoformat(effective_from)
            if moment is not None and moment.tzinfo is None:
                raise ValueError("--effective-from needs an offset, e.g. +01:00 or Z")
        except ValueError as exc:
            base.exit_as("configuration", str(exc))
        services = base.open_services(demo)
        try:
            version, job = services.policy.approve(
                proposal_id,
                officer(services, token),
                reason=reason,
                history=history,
                effective_from=moment,
            )
            if version.effective_from > version.activated_at:
                typer.echo(
                    f"version {version.version} ({version.label}) takes effect at "
                    f"{format_time(version.effective_from)}"
                )
                if job is not None:
                    typer.echo(f"re-seal job {job.job_id} runs once it is in force")
                return
            typer.echo(f"version {version.version} in force ({version.label})")
            if job is not None:
                typer.echo(f"re-seal job {job.job_id}")
                with base.tracking("re-sealing history") as advance:
                    done = services.policy.run_job(job.job_id, _worker(), progress=advance)
                typer.echo(f"{done.granted} grants re-sealed, {done.revoked} revoked")
        except ProposalError as exc:
            base.fail(exc)
        finally:
            services.close()

    @policy_app.command("reject")
    def policy_reject(
        proposal_id: Annotated[str, typer.Argument(help="The proposal.")],
        reason: Annotated[str, typer.Option(help="Why.")],
        token: TokenOption,
        demo: DemoOption = False,
    ) -> None:
        """Reject (a privacy officer of another organisation than the proposer's)."""
        services = base.open_services(demo)
        try:
            services.policy.reject(proposal_id, officer(services, token), reason=reason)
        except ProposalError as exc:
            base.fail(exc)
        finally:
            services.close()
        typer.echo(f"proposal {proposal_id} rejected")

    @policy_app.command("resume")
    def policy_resume(
        job_id: Annotated[str, typer.Argument(help="The re-seal job.")],
        take_over: Annotated[
            bool, typer.Option(help="Take the job from a worker known to have died.")
        ] = False,
        demo: DemoOption = False,
    ) -> None:
        """Run a re-seal job on from where it stopped, with progress."""
        services = base.open_services(demo)
        try:
            with base.tracking("re-sealing history") as advance:
                done = services.policy.run_job(
                    job_id, _worker(), progress=advance, take_over=take_over
                )
        except ProposalError as exc:
            base.fail(exc)
        finally:
            services.close()
        typer.echo(f"job {job_id} {done.status}: {done.done}/{done.total} cases")

    @policy_app.command("jobs")
    def policy_jobs(demo: DemoOption = False) -> None:
        """Every re-seal job and how far it got."""
        services = base.open_services(demo)
        try:
            jobs = services.policy.jobs()
        finally:
            services.close()
        for j in jobs:
            typer.echo(
                f"{j.job_id}  v{j.version}  {j.status}  {j.done}/{j.total} cases  "
                f"+{j.granted} -{j.revoked} grants"
            )


def _report(proposal: ProposalRow, analysis: Analysis) -> None:
    typer.echo(f"proposal {proposal.proposal_id} against version {proposal.base_version}")
    for cell in analysis.diff.cells:
        typer.echo(f"  {cell.sentence}")
    for org, impact in sorted(analysis.impact.organisations.items()):
        f, e = impact.fields, impact.events
        typer.echo(
            f"  impact {org}: fields +{f['gained']} -{f['lost']}, events "
            f"+{e['gained']} -{e['lost']}, cases +{impact.cases['gained']} "
            f"-{impact.cases['lost']}"
        )
    for failure in analysis.tests:
        typer.echo(f"  case fails: {failure}")


def _worker() -> str:
    return f"cli-{uuid.uuid4().hex[:8]}"
