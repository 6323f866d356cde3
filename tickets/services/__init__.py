"""Writes of tickets: registration and the workflow. Views, API and tasks all call these."""

# Coordinator seats are the accounts' (the level's maximum comes from the SLA); the desk's
# pages call them from here too.
from accounts.services import organisation_coordinator_assign, organisation_coordinator_revoke
from tickets.services._common import TicketConflict
from tickets.services.attachments import attachment_validate, attachments_store
from tickets.services.consultancy import (
    consultancy_plan,
    consultancy_request,
    consultant_lead_days,
    earliest_consultancy_date,
    hours_book,
    hours_card_add,
    level_lead_days,
)
from tickets.services.conversation import message_customer, message_note_internal, message_reply_public
from tickets.services.mail_drafts import mail_draft_create, mail_draft_discard, mail_draft_register
from tickets.services.preferences import notification_preferences_set
from tickets.services.registration import (
    MailResult,
    coverage_check,
    mail_parse,
    ticket_create,
    ticket_mail_receive,
    ticket_register,
)
from tickets.services.workflow import (
    bug_register,
    bug_status_set,
    change_approve,
    change_reject,
    reopen_deadline,
    reprioritisation_decide,
    reprioritisation_request,
    ticket_assign,
    ticket_classify,
    ticket_close,
    ticket_confirm,
    ticket_consultancy_agree,
    ticket_plan_with_customer,
    ticket_priority_set,
    ticket_problem_determine,
    ticket_question_ask,
    ticket_reopen,
    ticket_resolve,
    ticket_todo_determine,
    tickets_close_unconfirmed,
    tickets_deadlines_sync,
)

__all__ = [
    "MailResult",
    "TicketConflict",
    "attachment_validate",
    "attachments_store",
    "bug_register",
    "bug_status_set",
    "change_approve",
    "change_reject",
    "consultancy_plan",
    "consultancy_request",
    "consultant_lead_days",
    "coverage_check",
    "earliest_consultancy_date",
    "hours_book",
    "hours_card_add",
    "level_lead_days",
    "mail_draft_create",
    "mail_draft_discard",
    "mail_draft_register",
    "mail_parse",
    "message_customer",
    "message_note_internal",
    "message_reply_public",
    "notification_preferences_set",
    "organisation_coordinator_assign",
    "organisation_coordinator_revoke",
    "reopen_deadline",
    "reprioritisation_decide",
    "reprioritisation_request",
    "ticket_assign",
    "ticket_classify",
    "ticket_close",
    "ticket_confirm",
    "ticket_consultancy_agree",
    "ticket_create",
    "ticket_mail_receive",
    "ticket_plan_with_customer",
    "ticket_priority_set",
    "ticket_problem_determine",
    "ticket_question_ask",
    "ticket_register",
    "ticket_reopen",
    "ticket_resolve",
    "ticket_todo_determine",
    "tickets_close_unconfirmed",
    "tickets_deadlines_sync",
]
