"""Outreach to at-risk customers: 정보통신망법 §50 rules, the contact book, campaigns and channels.

Message templates and the legal rules checked in code (:mod:`~churn_core.outreach.compliance`),
the append-only consent history and the consent in force (:mod:`~churn_core.outreach.consent`),
the contact book with E.164 numbers and its merging import (:mod:`~churn_core.outreach.contacts`), and
campaigns: audience, plan, the idempotent ledger, SMS / e-mail channels and control groups
(:mod:`~churn_core.outreach.campaigns`). Signed one-click unsubscribe tokens and the opt-out they
record (:mod:`~churn_core.outreach.unsubscribe`).
"""

import lazy_loader as lazy

__getattr__, __dir__, __all__ = lazy.attach(
    __name__,
    submodules=["campaigns", "compliance", "consent", "contacts", "unsubscribe"],
    submod_attrs={
        "compliance": [
            "AUTO_TEMPLATE",
            "DEFAULT_TEMPLATES",
            "KST",
            "Sender",
            "Template",
            "consent_expired",
            "eligibility",
            "load_templates",
            "message_problems",
            "recipient_template",
            "render",
            "risk_templates",
            "template_id_for_plan",
            "template_problems",
        ],
        "consent": [
            "current_consent",
            "history",
            "reconfirmation_due",
            "reconfirmation_terms",
            "record_events",
            "record_opt_out",
        ],
        "contacts": [
            "CHANNELS",
            "CSV_COLUMNS",
            "REQUIRED",
            "ContactImport",
            "ImportPreview",
            "apply_import",
            "contact_book",
            "demo_contacts",
            "mobile_e164",
            "preview_import",
            "validate_contacts",
        ],
        "campaigns": [
            "CampaignTotals",
            "OutboxOnlyChannel",
            "STATUSES",
            "SendOptions",
            "SendOutlook",
            "SendResult",
            "SmtpEmailChannel",
            "TemplateMissingError",
            "TwilioSmsChannel",
            "build_audience",
            "campaign_templates",
            "campaign_totals",
            "channel_from_settings",
            "dry_run",
            "effect",
            "ledger",
            "next_send_time",
            "personal_values",
            "plan",
            "recover_stuck",
            "send",
            "send_outlook",
            "sender_from_settings",
        ],
    },
)
