"""POST /api/v1/imports/ (multipart: file, model, mapping, policy, dry_run) and
GET /api/v1/imports/{id}/ (progress). Thin: the services do the work."""

from __future__ import annotations

import json

from django.core.exceptions import ValidationError
from django.db import transaction
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from guanxi.core.api.base import GuanxiAPIMixin
from guanxi.core.api.registry import register_viewset
from guanxi.core.imports import services
from guanxi.core.imports.selectors import import_jobs_visible
from guanxi.core.models import DuplicatePolicy, ImportJob

TRUE_VALUES = {"1", "true", "yes", "on"}


class ImportJobSerializer(serializers.ModelSerializer):
    model = serializers.CharField(source="model_label", read_only=True)
    percent = serializers.IntegerField(read_only=True)
    created = serializers.IntegerField(source="created_count", read_only=True)
    updated = serializers.IntegerField(source="updated_count", read_only=True)
    skipped = serializers.IntegerField(source="skipped_count", read_only=True)
    failed = serializers.IntegerField(source="failed_count", read_only=True)
    errors = serializers.SerializerMethodField()

    class Meta:
        model = ImportJob
        fields = [
            "id",
            "model",
            "original_name",
            "file_format",
            "encoding",
            "headers",
            "mapping",
            "policy",
            "status",
            "total",
            "processed",
            "percent",
            "created",
            "updated",
            "skipped",
            "failed",
            "last_line",
            "error_message",
            "errors",
            "created_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields

    def get_errors(self, job) -> list[dict]:
        if job.is_active:
            return []
        return [
            {"line": error.line, "field": error.field, "reason": error.reason}
            for error in job.row_errors.order_by("line", "id")[:1000]
        ]


class ImportCreateSerializer(serializers.Serializer):
    file = serializers.FileField()
    model = serializers.CharField(help_text="Model label, e.g. customers.account")
    mapping = serializers.CharField(
        required=False,
        allow_blank=True,
        help_text='JSON: a list of field keys aligned with the columns ("" = ignore), or '
        "an object {column header: field key}. Left out: columns are matched automatically.",
    )
    policy = serializers.ChoiceField(choices=DuplicatePolicy.choices, default="skip")
    dry_run = serializers.BooleanField(default=False)


def _mapping(raw: str):
    if not raw:
        return None
    try:
        value = json.loads(raw)
    except ValueError:
        raise ValidationError({"mapping": ["Give the mapping as JSON."]}) from None
    if not isinstance(value, list | dict):
        raise ValidationError({"mapping": ["Give a list or an object."]})
    return value


class ImportJobViewSet(
    GuanxiAPIMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.ListModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = ImportJobSerializer
    parser_classes = [MultiPartParser, FormParser]
    ordering_fields = ("id", "created_at")

    def get_queryset(self):
        return import_jobs_visible(user=self.request.user).order_by("-created_at", "-id")

    @extend_schema(
        request={"multipart/form-data": ImportCreateSerializer},
        responses={
            201: ImportJobSerializer,
            200: inline_serializer(
                name="ImportDryRun",
                fields={
                    "job": ImportJobSerializer(),
                    "dry_run": inline_serializer(
                        name="ImportDryRunReport",
                        fields={
                            "create": serializers.IntegerField(),
                            "update": serializers.IntegerField(),
                            "skip": serializers.IntegerField(),
                            "failed": serializers.IntegerField(),
                            "errors": serializers.ListField(child=serializers.DictField()),
                        },
                    ),
                },
            ),
        },
    )
    def create(self, request, *args, **kwargs):
        incoming = ImportCreateSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        user = request.user
        with transaction.atomic():
            job = services.import_job_upload(
                user=user,
                model_label=data["model"],
                uploaded_file=data["file"],
                policy=data["policy"],
                mapping=_mapping(data.get("mapping", "")),
            )
            if not data["dry_run"]:
                services.import_job_start(job=job, user=user)
        if data["dry_run"]:
            report = services.import_dry_run(job=job, user=user)
            body = {
                "job": ImportJobSerializer(job).data,
                "dry_run": {
                    "create": report.created,
                    "update": report.updated,
                    "skip": report.skipped,
                    "failed": report.failed,
                    "errors": [
                        {"line": problem.line, "field": problem.field, "reason": problem.reason}
                        for problem in report.problems
                    ],
                },
            }
            return Response(body, status=status.HTTP_200_OK)
        job.refresh_from_db()
        return Response(ImportJobSerializer(job).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={202: ImportJobSerializer})
    @action(detail=True, methods=["post"])
    def start(self, request, pk=None):
        """Run a job that was uploaded with dry_run (its mapping and policy as checked)."""
        job = self.get_object()
        with transaction.atomic():
            services.import_job_start(job=job, user=request.user)
        job.refresh_from_db()
        return Response(ImportJobSerializer(job).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=None, responses={202: ImportJobSerializer})
    @action(detail=True, methods=["post"])
    def resume(self, request, pk=None):
        """Run an interrupted job again; it continues after its last committed line."""
        job = self.get_object()
        with transaction.atomic():
            services.import_job_resume(job=job, user=request.user)
        job.refresh_from_db()
        return Response(ImportJobSerializer(job).data, status=status.HTTP_202_ACCEPTED)


register_viewset("imports", ImportJobViewSet, "import-job")
