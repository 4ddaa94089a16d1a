"""The sales-process admin screens: administrators only, edit a pipeline and its stages,
drag to reorder (POST of the new order), refuse to delete a stage in use."""

import json

import pytest
from django.urls import reverse

from guanxi.sales.models import Pipeline, Stage
from guanxi.sales.tests.factories import make_opportunity

pytestmark = pytest.mark.django_db


@pytest.fixture
def pipeline():
    return Pipeline.objects.get(is_default=True)


def test_only_administrators_reach_the_screens(client, org, pipeline):
    client.force_login(org.manager)
    assert client.get(reverse("sales:pipeline_list")).status_code == 403
    ids = list(pipeline.stages.values_list("pk", flat=True))
    response = client.post(reverse("sales:stages_reorder", args=[pipeline.pk]), {"stage": ids})
    assert response.status_code == 403


def test_edit_pipeline_and_stages(client, org, pipeline, django_assert_max_num_queries):
    client.force_login(org.admin)
    with django_assert_max_num_queries(20):
        html = client.get(reverse("sales:pipeline_edit", args=[pipeline.pk])).content.decode()
    assert 'id="stage-list"' in html and "Sortable" in html
    response = client.post(
        reverse("sales:pipeline_create"),
        {"name_zh": "大客户流程", "name_en": "Key accounts", "is_active": "on", "sort_order": 1},
    )
    created = Pipeline.objects.get(name_zh="大客户流程")
    assert response.status_code == 302 and created.stages.count() == 2
    response = client.post(
        reverse("sales:stage_create", args=[created.pk]),
        {
            "name_zh": "方案",
            "name_en": "Proposal",
            "probability": 40,
            "kind": "open",
            "required_fields": ["amount", "lines"],
            "max_days": 10,
        },
    )
    stage = created.stages.get(name_zh="方案")
    assert response.status_code == 302 and stage.required_fields == ["amount", "lines"]


def test_drag_to_reorder_posts_the_new_order(client, org, pipeline):
    client.force_login(org.admin)
    stages = list(pipeline.stages.order_by("sort_order").values_list("pk", "kind"))
    open_ids = [pk for pk, kind in stages if kind == "open"]
    closing = [pk for pk, kind in stages if kind != "open"]
    order = [*reversed(open_ids), *closing]
    response = client.post(
        reverse("sales:stages_reorder", args=[pipeline.pk]),
        json.dumps({"stages": order}),
        content_type="application/json",
    )
    assert response.status_code == 204
    assert list(pipeline.stages.order_by("sort_order").values_list("pk", flat=True)) == order
    response = client.post(
        reverse("sales:stages_reorder", args=[pipeline.pk]),
        {"stage": [*closing, *open_ids]},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 400 and "come after the open stages" in response.content.decode()


def test_deleting_a_stage_in_use_is_refused_with_a_message(client, org, pipeline):
    first = pipeline.stages.order_by("sort_order").first()
    make_opportunity(owner=org.rep1, label="占用", actor=org.rep1)
    client.force_login(org.admin)
    response = client.post(reverse("sales:stage_delete", args=[pipeline.pk, first.pk]), follow=True)
    assert "1 opportunity is in stage" in response.content.decode()
    assert "move it to another stage" in response.content.decode()
    assert Stage.objects.filter(pk=first.pk).exists()


def test_competitor_list_admin(client, org):
    client.force_login(org.admin)
    response = client.post(
        reverse("sales:competitor_create"),
        {"name": "友商", "strengths": "渠道多", "weaknesses": "服务差", "is_active": "on"},
    )
    assert response.status_code == 302
    html = client.get(reverse("sales:competitor_list")).content.decode()
    assert "友商" in html and "渠道多" in html
