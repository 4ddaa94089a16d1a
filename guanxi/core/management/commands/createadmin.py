"""`guanxi createadmin`: create an administrator, interactively or from options."""

from __future__ import annotations

import getpass
import sys

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from guanxi.core.management import runtime


class Command(BaseCommand):
    help = (
        "Create an administrator (admin role). Asks for what is missing when run in a "
        "terminal; otherwise a missing password is generated and printed."
    )

    def add_arguments(self, parser):
        parser.add_argument("--username", help="login name")
        parser.add_argument("--password", help="password (asked for, or generated, if omitted)")
        parser.add_argument("--email", default="", help="e-mail address")
        parser.add_argument("--display-name", default="", help="name shown in the application")
        parser.add_argument(
            "--no-input", action="store_true", help="never ask; generate what is missing"
        )

    def handle(self, *args, **options):
        from guanxi.core.models import User

        interactive = not options["no_input"] and sys.stdin.isatty()
        username = options["username"]
        if not username:
            if not interactive:
                raise CommandError("--username is required when not run in a terminal.")
            username = input("Username [admin]: ").strip() or "admin"
        if User.objects.filter(username=username).exists():
            raise CommandError(f"A user named {username!r} already exists.")

        email = options["email"]
        if interactive and not email and not options["username"]:
            email = input("E-mail (optional): ").strip()

        password = options["password"]
        generated = False
        if not password:
            if interactive:
                password = getpass.getpass("Password: ")
                if password != getpass.getpass("Password (again): "):
                    raise CommandError("The passwords differ.")
                if not password:
                    raise CommandError("The password may not be empty.")
            else:
                password = runtime.generate_password()
                generated = True

        if not generated:
            from django.contrib.auth.password_validation import validate_password

            try:
                validate_password(password, User(username=username, email=email))
            except ValidationError as error:
                raise CommandError(" ".join(error.messages)) from error

        try:
            runtime.create_administrator(
                username=username,
                password=password,
                email=email,
                display_name=options["display_name"],
            )
        except ValidationError as error:
            raise CommandError("; ".join(error.messages)) from error
        self.stdout.write(self.style.SUCCESS(f"Administrator {username!r} created."))
        if generated:
            self.stdout.write(
                runtime.box([f"username:  {username}", f"password:  {password}"]) + "\n"
            )
