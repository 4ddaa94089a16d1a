"""Factories for tests: users, departments and an organisation with every role."""

from dataclasses import dataclass

import factory

from guanxi.core.models import Department, PicklistOption, Role, User
from guanxi.core.services.organisation import department_create, user_create


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    display_name = factory.Sequence(lambda n: f"User {n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.PostGenerationMethodCall("set_password", "pw")

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        if extracted:
            self.roles.set(extracted)
        self.save()


def role(code: str) -> Role:
    return Role.objects.get(code=code)


def picklist_option(code: str, value: str) -> PicklistOption:
    """A seeded picklist option, by its picklist's code and its value."""
    return PicklistOption.objects.get(picklist__code=code, value=value)


def user_with_permissions(permissions: dict[str, list[str]], code: str = "limited") -> User:
    """A user whose only role grants exactly `permissions` ({"customers.account": ["view"]})."""
    limited = Role.objects.create(code=code, name_zh=code, name_en=code, permissions=permissions)
    return UserFactory(roles=[limited])


@dataclass
class Org:
    division: Department
    east: Department
    north: Department
    service: Department
    admin: User
    manager: User
    rep1: User
    rep2: User
    rep3: User
    finance: User
    read_only: User
    agent: User

    def users(self) -> dict[str, User]:
        return {
            name: getattr(self, name)
            for name in (
                "admin",
                "manager",
                "rep1",
                "rep2",
                "rep3",
                "finance",
                "read_only",
                "agent",
            )
        }


class OrganisationFactory:
    @staticmethod
    def build_org() -> Org:
        division = department_create(name="销售中心", actor=None)
        east = department_create(name="华东销售部", parent=division, actor=None)
        north = department_create(name="华北销售部", parent=division, actor=None)
        service = department_create(name="服务部", actor=None)

        def make(username, role_code, department, **fields):
            return user_create(
                username=username,
                password="pw",
                actor=None,
                roles=[role(role_code)],
                department=department,
                display_name=fields.pop("display_name", username),
                language=fields.pop("language", "en"),
                **fields,
            )

        admin = make("admin", "admin", None)
        manager = make("manager", "sales_manager", east)
        east.manager = manager
        east.save(update_fields=["manager"])
        return Org(
            division=division,
            east=east,
            north=north,
            service=service,
            admin=admin,
            manager=manager,
            rep1=make("rep1", "sales_rep", east),
            rep2=make("rep2", "sales_rep", east),
            rep3=make("rep3", "sales_rep", north),
            finance=make("finance", "finance", None),
            read_only=make("readonly", "read_only", service),
            agent=make("agent", "service_agent", service),
        )
