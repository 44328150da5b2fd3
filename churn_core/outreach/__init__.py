"""Outreach to at-risk customers: 정보통신망법 §50 rules, the contact book, campaigns and channels.

Message templates and the legal rules checked in code (:mod:`~churn_core.outreach.compliance`),
the contact book with consent and E.164 numbers (:mod:`~churn_core.outreach.contacts`), and
campaigns: audience, plan, the idempotent ledger, SMS / e-mail channels and control groups
(:mod:`~churn_core.outreach.campaigns`).
"""

import lazy_loader as lazy

__getattr__, __dir__, __all__ = lazy.attach(
    __name__,
    submodules=["campaigns", "compliance", "contacts"],
    submod_attrs={
        "compliance": [
            "Sender",
            "Template",
            "DEFAULT_TEMPLATES",
            "render",
            "template_problems",
            "eligibility",
            "risk_templates",
        ],
        "consent": ["record_events", "record_opt_out"],
        "contacts": ["ContactImport", "validate_contacts", "demo_contacts", "mobile_e164"],
        "campaigns": [
            "build_audience",
            "plan",
            "send",
            "dry_run",
            "ledger",
            "effect",
            "SendOptions",
            "SendResult",
            "OutboxOnlyChannel",
            "TwilioSmsChannel",
            "SmtpEmailChannel",
        ],
    },
)
