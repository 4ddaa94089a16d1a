"""Sales-process administration: pipelines, stages, exit criteria, drag to reorder."""

import pytest
from django.core.exceptions import ValidationError

from guanxi.core.exceptions import ActionNotAllowed
from guanxi.sales.models import Pipeline, Stage, StageKind
from guanxi.sales.services import pipelines as services
from guanxi.sales.tests.factories import make_opportunity

pytestmark = pytest.mark.django_db


def test_new_pipeline_gets_closing_stages_and_one_default(org):
    with pytest.raises(ActionNotAllowed):
        services.pipeline_save(actor=org.rep1, data={"name_zh": "项目型"})
    pipeline = services.pipeline_save(
        actor=org.admin, data={"name_zh": "项目型", "is_default": True}, departments=[org.east]
    )
    assert list(pipeline.stages.values_list("kind", flat=True)) == ["won", "lost"]
    assert list(Pipeline.objects.filter(is_default=True)) == [pipeline]
    assert list(pipeline.departments.all()) == [org.east]
    stage = services.stage_save(
        actor=org.admin,
        pipeline=pipeline,
        data={
            "name_zh": "立项",
            "probability": 20,
            "kind": StageKind.OPEN,
            "required_fields": ["contacts", "amount"],
        },
    )
    kinds = list(pipeline.stages.order_by("sort_order").values_list("pk", "kind"))
    assert kinds[0] == (stage.pk, "open")  # new open stages go before won / lost
    assert stage.required_fields == ["amount", "contacts"]
    with pytest.raises(ValidationError):
        services.stage_save(
            actor=org.admin, pipeline=pipeline, stage=stage, data={"required_fields": ["colour"]}
        )


def test_reorder_stages_keeps_closing_stages_last(org):
    pipeline = Pipeline.objects.get(is_default=True)
    stages = list(pipeline.stages.order_by("sort_order"))
    open_ids = [s.pk for s in stages if s.kind == "open"]
    closing = [s.pk for s in stages if s.kind != "open"]
    new_order = [open_ids[1], open_ids[0], *open_ids[2:], *closing]
    services.stages_reorder(actor=org.admin, pipeline=pipeline, stage_ids=new_order)
    assert list(pipeline.stages.order_by("sort_order").values_list("pk", flat=True)) == new_order
    with pytest.raises(ValidationError):
        services.stages_reorder(
            actor=org.admin, pipeline=pipeline, stage_ids=[closing[0], *open_ids, closing[1]]
        )
    with pytest.raises(ValidationError):
        services.stages_reorder(actor=org.admin, pipeline=pipeline, stage_ids=open_ids)
    with pytest.raises(ActionNotAllowed):
        services.stages_reorder(actor=org.manager, pipeline=pipeline, stage_ids=new_order)


def test_reordering_stages_recomputes_how_far_deals_got(org, django_capture_on_commit_callbacks):
    from guanxi.sales.services.opportunities import opportunity_move

    pipeline = Pipeline.objects.get(is_default=True)
    stages = list(pipeline.stages.order_by("sort_order"))
    first, second = stages[0], stages[1]
    deal = make_opportunity(owner=org.rep1, label="排序", actor=org.rep1)
    opportunity_move(opportunity=deal, actor=org.rep1, stage=second)
    opportunity_move(opportunity=deal, actor=org.rep1, stage=first)
    deal.refresh_from_db()
    assert deal.furthest_stage == second
    new_order = [second.pk, first.pk, *[s.pk for s in stages[2:]]]
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        services.stages_reorder(actor=org.admin, pipeline=pipeline, stage_ids=new_order)
    assert len(callbacks) == 1  # the recount runs after the commit, as a background job
    deal.refresh_from_db()
    assert deal.furthest_stage == first  # now the later of the two it has been in


def test_a_stage_with_opportunities_is_not_deleted(org):
    pipeline = Pipeline.objects.get(is_default=True)
    first = pipeline.stages.order_by("sort_order").first()
    make_opportunity(owner=org.rep1, label="在途", actor=org.rep1)
    with pytest.raises(ValidationError) as error:
        services.stage_delete(actor=org.admin, stage=first)
    assert "1 opportunity is in stage" in str(error.value)
    spare = services.stage_save(
        actor=org.admin, pipeline=pipeline, data={"name_zh": "备用", "kind": "open"}
    )
    services.stage_delete(actor=org.admin, stage=spare)
    assert not Stage.objects.filter(pk=spare.pk).exists()
    won = pipeline.stages.get(kind="won")
    with pytest.raises(ValidationError):
        services.stage_delete(actor=org.admin, stage=won)
