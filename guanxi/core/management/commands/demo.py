"""`guanxi demo`: load the demo organisation (does nothing the second time)."""

from django.core.management.base import BaseCommand

from guanxi.core.demo import load_demo


class Command(BaseCommand):
    help = "Load the demo departments, users (password `demo`) and accounts. Safe to run twice."

    def add_arguments(self, parser):
        parser.add_argument(
            "--accounts", type=int, default=200, help="how many accounts (default 200)"
        )

    def handle(self, *args, **options):
        load_demo(verbosity=options["verbosity"], accounts=options["accounts"], stdout=self.stdout)
