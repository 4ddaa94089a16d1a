"""Sales processes (销售流程) for administrators: the pipelines, their stages, the stages'
order (drag to reorder) and exit criteria."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from guanxi.core.exceptions import ActionNotAllowed
from guanxi.core.models import User
from guanxi.core.scope import is_administrator
from guanxi.sales.models import Opportunity, Pipeline, Stage, StageHistory, StageKind
from guanxi.sales.tasks import furthest_stages_refresh_task

# What a stage may require before an opportunity leaves it: opportunity fields, and the
# related rows the opportunity services understand (see RELATED_CRITERIA).
EXIT_CRITERIA: dict[str, Any] = {
    "amount": gettext_lazy("amount"),
    "expected_close_date": gettext_lazy("expected close date"),
    "next_step": gettext_lazy("next step"),
    "source": gettext_lazy("source"),
    "contacts": gettext_lazy("at least one contact with a role"),
    "lines": gettext_lazy("at least one product line"),
    "competitors": gettext_lazy("at least one competitor"),
}


def _require_admin(actor: User) -> None:
    if not is_administrator(actor):
        raise ActionNotAllowed(_("Only an administrator can change sales processes."))


@transaction.atomic
def pipeline_save(
    *,
    actor: User,
    data: dict[str, Any],
    pipeline: Pipeline | None = None,
    departments: Iterable | None = None,
    product_categories: Iterable | None = None,
) -> Pipeline:
    """Create or change a pipeline; one default at a time. A new pipeline gets the two
    closing stages (won, lost) so it is usable at once."""
    _require_admin(actor)
    created = pipeline is None
    pipeline = pipeline or Pipeline()
    for name, value in data.items():
        setattr(pipeline, name, value)
    if not pipeline.is_active and pipeline.is_default:
        raise ValidationError({"is_active": _("The default sales process must stay active.")})
    pipeline.full_clean()
    pipeline.save()
    if pipeline.is_default:
        Pipeline.objects.exclude(pk=pipeline.pk).filter(is_default=True).update(is_default=False)
    if departments is not None:
        pipeline.departments.set(departments)
    if product_categories is not None:
        pipeline.product_categories.set(product_categories)
    if created:
        Stage.objects.bulk_create(
            [
                Stage(
                    pipeline=pipeline,
                    name_zh="赢单",
                    name_en="Won",
                    probability=100,
                    kind=StageKind.WON,
                    sort_order=1000,
                ),
                Stage(
                    pipeline=pipeline,
                    name_zh="输单",
                    name_en="Lost",
                    probability=0,
                    kind=StageKind.LOST,
                    sort_order=1001,
                ),
            ]
        )
    return pipeline


def _clean_criteria(criteria: Sequence[str]) -> list[str]:
    unknown = [name for name in criteria if name not in EXIT_CRITERIA]
    if unknown:
        raise ValidationError(
            {"required_fields": _("Unknown exit criteria: %(names)s.") % {"names": unknown}}
        )
    return [name for name in EXIT_CRITERIA if name in criteria]


@transaction.atomic
def stage_save(
    *, actor: User, pipeline: Pipeline, data: dict[str, Any], stage: Stage | None = None
) -> Stage:
    """Create or change a stage. New open stages go before the closing stages."""
    _require_admin(actor)
    data = dict(data)
    if "required_fields" in data:
        data["required_fields"] = _clean_criteria(data["required_fields"] or [])
    if stage is None:
        stage = Stage(pipeline=pipeline)
        closing = pipeline.stages.exclude(kind=StageKind.OPEN).order_by("sort_order").first()
        last_open = pipeline.stages.filter(kind=StageKind.OPEN).order_by("-sort_order").first()
        stage.sort_order = (last_open.sort_order + 1) if last_open else 0
        if closing is not None and stage.sort_order >= closing.sort_order:
            # Make room: shift the closing stages down.
            for position, later in enumerate(
                pipeline.stages.exclude(kind=StageKind.OPEN).order_by("sort_order", "id")
            ):
                later.sort_order = stage.sort_order + 1 + position
                later.save(update_fields=["sort_order"])
    elif stage.pipeline_id != pipeline.pk:
        raise ValidationError(_("The stage belongs to another sales process."))
    old_kind = stage.kind if stage.pk else None
    for name, value in data.items():
        setattr(stage, name, value)
    if old_kind and old_kind != stage.kind and stage.opportunities.exists():
        raise ValidationError(
            {"kind": _("Opportunities are in this stage; its type cannot change.")}
        )
    stage.full_clean()
    stage.save()
    return stage


@transaction.atomic
def stage_delete(*, actor: User, stage: Stage) -> None:
    """Delete a stage nobody is or was in (the stage history keeps every stay)."""
    _require_admin(actor)
    in_stage = Opportunity.all_objects.filter(stage=stage).count()
    if in_stage:
        raise ValidationError(
            ngettext(
                "%(count)d opportunity is in stage %(stage)s; move it to another stage "
                "before deleting the stage.",
                "%(count)d opportunities are in stage %(stage)s; move them to another stage "
                "before deleting the stage.",
                in_stage,
            )
            % {"count": in_stage, "stage": stage}
        )
    if StageHistory.objects.filter(stage=stage).exists():
        raise ValidationError(
            _(
                "Opportunities have been in stage %(stage)s and reports read that history; "
                "the stage cannot be deleted."
            )
            % {"stage": stage}
        )
    pipeline = stage.pipeline
    if stage.kind != StageKind.OPEN and not pipeline.stages.filter(kind=stage.kind).exclude(
        pk=stage.pk
    ):
        raise ValidationError(
            _("A sales process needs a %(kind)s stage.") % {"kind": StageKind(stage.kind).label}
        )
    stage.delete()


@transaction.atomic
def stages_reorder(*, actor: User, pipeline: Pipeline, stage_ids: Sequence[int]) -> list[Stage]:
    """Put the pipeline's stages in the order given (every stage, each once); open stages
    must come before the closing ones."""
    _require_admin(actor)
    stages = {stage.pk: stage for stage in pipeline.stages.all()}
    ids = [int(pk) for pk in stage_ids]
    if len(ids) != len(set(ids)) or set(ids) != set(stages):
        raise ValidationError(_("Send every stage of the sales process once."))
    ordered = [stages[pk] for pk in ids]
    kinds = [stage.kind == StageKind.OPEN for stage in ordered]
    if kinds != sorted(kinds, reverse=True):
        raise ValidationError(_("The won and lost stages come after the open stages."))
    for position, stage in enumerate(ordered):
        stage.sort_order = position
    Stage.objects.bulk_update(ordered, ["sort_order"])
    # How far each deal got depends on the order: worked out again in the background (the
    # funnel reads the former furthest stages until then).
    transaction.on_commit(lambda: furthest_stages_refresh_task(pipeline.pk))
    return ordered


def furthest_stages_refresh(pipeline: Pipeline) -> int:
    """Each opportunity of the process's furthest stage again from its stage history, by
    the stages' present order (after they were reordered). Answers how many were updated."""
    furthest = (
        StageHistory.objects.filter(opportunity=OuterRef("pk"), stage__pipeline=pipeline)
        .exclude(stage__kind=StageKind.LOST)
        .order_by("-stage__sort_order")
        .values("stage_id")[:1]
    )
    return Opportunity.all_objects.filter(pipeline=pipeline).update(
        furthest_stage=Subquery(furthest)
    )
