"""IAC003: a rule failed inside iacscan (a bug). The engine emits it (``iacscan.scan``);
the rule is registered so that it is documented (``iacscan rules IAC003``) like every other."""
from __future__ import annotations

from collections.abc import Iterator

from iacscan.findings import Finding, Severity
from iacscan.rules.base import Context, Remediation, rule

ID = "IAC003"
#: What the finding and the CLI ask the user to do.
BUG_REPORT_HINT = ("This is a bug in iacscan: please report it with the output of 'iacscan scan --debug' "
                   "(the traceback names no scanned value unless the rule put one in its error).")


@rule(
    id=ID, title="A rule failed inside iacscan", severity=Severity.HIGH, family="parse",
    remediation=Remediation(
        summary="Report the failure of rule {rule} with the output of 'iacscan scan --debug'; until it is "
                "fixed, what {rule} checks is not checked.",
        console="Nothing to do in the console: the failure is in iacscan, not in your resources.",
        cli="iacscan scan . --debug          # prints the rule's traceback\n"
            "iacscan rules {rule}            # what the failed rule would have checked",
        boto3="# Not applicable: the failure is in iacscan.",
        terraform="# Not applicable: the failure is in iacscan. To scan without the rule meanwhile,\n"
                  "# disable {rule} in a ruleset file (enabled: false) and pass it with --ruleset.",
        cloudformation="# Not applicable: the failure is in iacscan.",
    ),
)
def rule_failed(ctx: Context) -> Iterator[Finding]:
    """What it finds
    A rule of iacscan that raised an exception while checking the scanned code: a bug in
    iacscan, not a mistake in the code. The finding names the rule (``resource`` and
    ``details.rule`` are its id) and has no file. Every other rule still runs and its
    findings are reported as usual; only the failed rule's findings are missing.
    ``iacscan scan`` then exits with code 3 (the scanner failed) whatever ``--fail-on``
    says, and prints which rules failed on standard error (their tracebacks with
    ``--debug``). The engine emits this finding; the rule itself checks nothing.

    Why it matters
    A rule that failed checked nothing: a clean result for what it covers would be
    false reassurance. Reporting the failure (and failing the run) keeps an iacscan bug
    from passing as a clean scan, without throwing away what the other rules found.

    Failing example
        # Any input that makes a rule raise, for example a value of a shape the rule
        # does not expect. The finding reads:
        #   HIGH  IAC003  SG101  rule SG101 raised an internal error; its findings are missing.

    Passing example
        # Every rule ran to completion: no IAC003 finding, exit code 0 or 1.

    Fix
    Report the bug with the output of ``iacscan scan --debug`` (remove anything
    confidential from the scanned values first). Until a fixed release, the rule can be
    disabled in a ruleset (``rules: {SG101: {enabled: false}}``) to get exit codes 0/1
    back, knowing that what it checks is not checked.
    """
    return iter(())
