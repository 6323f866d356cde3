"""Read inbound RFC 822 mail into tickets: from a maildir (new messages, moved to cur/ with the
Seen flag once handled) or one message from standard input (``-``), e.g. from an MTA pipe."""

import mailbox
import sys

from django.core.management.base import BaseCommand, CommandError

from tickets.services import mail_parse, ticket_mail_receive


class Command(BaseCommand):
    help = "Register or thread inbound mail (Extended organisations); others get a pointer to the portal."

    def add_arguments(self, parser):
        parser.add_argument("source", help="a maildir directory, or - to read one message from stdin")

    def handle(self, *args, source: str, **options):
        if source == "-":
            result = ticket_mail_receive(message=mail_parse(sys.stdin.buffer.read()))
            self._report(result)
            return
        try:
            box = mailbox.Maildir(source, factory=None, create=False)
        except OSError as exc:
            raise CommandError(f"{source}: not a maildir ({exc})") from exc
        handled = 0
        for key in list(box.keys()):
            message = box[key]
            if message.get_subdir() != "new":
                continue
            result = ticket_mail_receive(message=mail_parse(message.as_bytes()))
            self._report(result)
            message.set_subdir("cur")
            message.add_flag("S")
            box[key] = message
            handled += 1
        self.stdout.write(f"{handled} message(s) handled")

    def _report(self, result) -> None:
        reference = result.ticket.reference if result.ticket else "-"
        self.stdout.write(f"{result.outcome} {reference} {result.reason}".rstrip())
