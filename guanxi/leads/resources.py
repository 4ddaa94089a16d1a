"""Lead imports and exports through the core engine: the fields a file may fill, the Chinese
column names people use for them, and the duplicate check (the same phone or the same
e-mail as a lead the importing user can see, or as an earlier row of the file)."""

from django.db.models import Q
from django.utils.translation import gettext as _

from guanxi.core.imports.resources import ModelResource, register_resource
from guanxi.core.phones import phone_digits
from guanxi.leads.models import Lead, LeadRating, LeadStatus
from guanxi.leads.services.leads import lead_bulk_create, lead_create, lead_update


def _email_key(value: str) -> str:
    return value.strip().lower()


def _create(*, data, custom_data, actor):
    return lead_create(actor=actor, data=data, custom_data=custom_data, origin="import")


def _bulk_create(*, items, actor):
    return lead_bulk_create(actor=actor, items=items)


def _update(*, instance, data, custom_data, actor):
    return lead_update(lead=instance, actor=actor, data=data, custom_data=custom_data or None)


class LeadResource(ModelResource):
    """E-mail keys compare lower-cased (the stored address keeps its local part's case); a
    file cannot mark leads converted or recycled."""

    def _record_keys(self, record):
        keys = super()._record_keys(record)
        return [(name, value.lower() if name == "email" else value) for name, value in keys]

    def prefetch_duplicates(self, rows, context):
        rows = list(rows)
        super().prefetch_duplicates(rows, context)
        # Addresses stored with another case ("Zhang@example.com"): one more query, only
        # for the addresses the exact look-up did not find.
        wanted = {
            value for row in rows for name, value in self.duplicate_values(row) if name == "email"
        }
        missing = sorted(wanted - {value for name, value in context.known if name == "email"})
        if not missing:
            return
        condition = Q()
        for address in missing:
            condition |= Q(email__iexact=address)
        found = list(self.model.objects.visible_to(context.user).filter(condition).order_by("pk"))
        for record in found:
            for key in self._record_keys(record):
                context.known.setdefault(key, record)
        if found:
            context.editable_ids.update(
                self.model.objects.editable_by(context.user)
                .filter(pk__in=[record.pk for record in found])
                .values_list("pk", flat=True)
            )

    def convert(self, row, mapping, context):
        super().convert(row, mapping, context)
        if row.data.get("status") in (LeadStatus.CONVERTED, LeadStatus.RECYCLED):
            row.errors.append(
                ("status", _("A lead becomes converted or recycled only by that action."))
            )


lead_resource = LeadResource(
    model=Lead,
    fields=[
        "name",
        "company",
        "title",
        "phone",
        "email",
        "wechat",
        "website",
        "industry",
        "source",
        "province",
        "city",
        "address",
        "status",
        "rating",
        "notes",
        "owner",
    ],
    export_fields=[
        "name",
        "company",
        "title",
        "phone",
        "email",
        "wechat",
        "website",
        "industry",
        "source",
        "province",
        "city",
        "address",
        "status",
        "rating",
        "stage",
        "score",
        "notes",
        "owner",
        "created_at",
    ],
    aliases={
        "name": ["姓名", "联系人", "客户姓名", "线索名称", "Name", "Contact"],
        "company": ["公司", "公司名称", "单位", "企业名称", "Company"],
        "title": ["职位", "职务", "Title", "Position"],
        "phone": ["电话", "手机", "手机号", "联系电话", "Mobile", "Telephone", "Tel"],
        "email": ["邮箱", "电子邮件", "电子邮箱", "Email", "Mail"],
        "wechat": ["微信", "微信号", "WeChat"],
        "website": ["网站", "网址", "官网", "Web"],
        "industry": ["行业", "所属行业"],
        "source": ["来源", "线索来源", "Source"],
        "province": ["省份", "省", "Province"],
        "city": ["城市", "市", "City"],
        "address": ["地址", "详细地址"],
        "status": ["状态", "线索状态", "Status"],
        "rating": ["评级", "等级", "Rating"],
        "notes": ["备注", "说明", "留言", "Note", "Remarks"],
        "owner": ["负责人", "所有人", "Owner"],
    },
    value_aliases={
        "status": {"新建": LeadStatus.NEW, "跟进中": LeadStatus.CONTACTING},
        "rating": {"热": LeadRating.HOT, "温": LeadRating.WARM, "冷": LeadRating.COLD},
    },
    # Same phone (as digits, the indexed phone_digits column) or the same e-mail address.
    duplicate_keys={"phone": phone_digits, "email": _email_key},
    duplicate_columns={"phone": "phone_digits"},
    create=_create,
    update=_update,
    bulk_create=_bulk_create,
    select_related=["owner", "industry", "source"],
)

register_resource(lead_resource)
