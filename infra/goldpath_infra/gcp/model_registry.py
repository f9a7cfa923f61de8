from __future__ import annotations

from collections.abc import Sequence

import pulumi
import pulumi_gcp as gcp
import pulumi_random as random

from .._base import Ownership, child
from .serving import ServingService

MLFLOW_IMAGE = "ghcr.io/mlflow/mlflow:v3.5.0"


class ModelRegistry(pulumi.ComponentResource):
    """An MLflow tracking server and model registry on Cloud Run.

    Metadata lives in Cloud SQL for PostgreSQL (reached through the Cloud SQL connector,
    no authorised networks), artifacts in a GCS bucket with uniform access, public access
    prevention and versioning. The database password is generated here and kept only in
    Secret Manager; the server reads it as a secret environment variable.
    """

    tracking_uri: pulumi.Output[str]
    bucket_url: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        *,
        project: str,
        region: str,
        ownership: Ownership,
        invokers: Sequence[pulumi.Input[str]] = (),
        database_tier: str = "db-custom-1-3840",
        mlflow_image: str = MLFLOW_IMAGE,
        deletion_protection: bool = True,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("goldpath:gcp:ModelRegistry", name, None, opts)
        self.bucket = gcp.storage.Bucket(
            f"{name}-artifacts",
            project=project,
            name=f"{project}-{name}-artifacts",
            location=region,
            uniform_bucket_level_access=True,
            public_access_prevention="enforced",
            versioning={"enabled": True},
            force_destroy=False,
            labels=ownership.labels,
            opts=child(self),
        )
        password = random.RandomPassword(
            f"{name}-db-password", length=32, special=False, opts=child(self)
        )
        self.password_secret = gcp.secretmanager.Secret(
            f"{name}-db-password",
            project=project,
            secret_id=f"{name}-db-password",
            replication={"auto": {}},
            labels=ownership.labels,
            opts=child(self),
        )
        gcp.secretmanager.SecretVersion(
            f"{name}-db-password",
            secret=self.password_secret.id,
            secret_data=password.result,
            opts=child(self),
        )
        self.database = gcp.sql.DatabaseInstance(
            f"{name}-db",
            project=project,
            region=region,
            database_version="POSTGRES_16",
            deletion_protection=deletion_protection,
            settings={
                "tier": database_tier,
                "availability_type": "REGIONAL" if ownership.env == "prod" else "ZONAL",
                "backup_configuration": {
                    "enabled": True,
                    "point_in_time_recovery_enabled": True,
                },
                # Only the Cloud SQL connector (IAM-authorised, TLS) reaches the database.
                "ip_configuration": {
                    "ipv4_enabled": True,
                    "authorized_networks": [],
                    "ssl_mode": "ENCRYPTED_ONLY",
                },
                "user_labels": ownership.labels,
            },
            opts=child(self),
        )
        gcp.sql.Database(
            f"{name}-db-mlflow", project=project, instance=self.database.name, name="mlflow",
            opts=child(self),
        )  # fmt: skip
        gcp.sql.User(
            f"{name}-db-user",
            project=project,
            instance=self.database.name,
            name="mlflow",
            password=password.result,
            opts=child(self),
        )
        backend = self.database.connection_name.apply(
            lambda conn: (
                f"postgresql+psycopg2://mlflow:$(DB_PASSWORD)@/mlflow?host=/cloudsql/{conn}"
            )
        )
        # Cloud Run expands $(DB_PASSWORD) from the secret env var at start-up, so the
        # password never appears in the service definition. 0.0.0.0 is inside the
        # container; ingress stays internal.
        server_args: list[pulumi.Input[str]] = [
            "mlflow", "server", "--host", "0.0.0.0", "--port", "5000",  # noqa: S104
            "--backend-store-uri", backend,
            "--artifacts-destination", f"gs://{project}-{name}-artifacts",
            "--serve-artifacts",
        ]  # fmt: skip
        self.server = ServingService(
            f"{name}-server",
            project=project,
            region=region,
            image=mlflow_image,
            ownership=ownership,
            invokers=invokers,
            min_instances=1 if ownership.env == "prod" else 0,
            max_instances=3,
            port=5000,
            memory="2Gi",
            secret_env={"DB_PASSWORD": self.password_secret.secret_id},
            readiness_path="/health",
            liveness_path="/health",
            cloud_sql_instances=[self.database.connection_name],
            args=server_args,
            opts=child(self),
        )
        server_member = self.server.service_account_email.apply(lambda e: f"serviceAccount:{e}")
        gcp.storage.BucketIAMMember(
            f"{name}-server-artifacts",
            bucket=self.bucket.name,
            role="roles/storage.objectAdmin",
            member=server_member,
            opts=child(self),
        )
        gcp.projects.IAMMember(
            f"{name}-server-sql-client",
            project=project,
            role="roles/cloudsql.client",
            member=server_member,
            opts=child(self),
        )
        self.tracking_uri = self.server.url
        self.bucket_url = self.bucket.url
        self.register_outputs({"trackingUri": self.tracking_uri, "bucket": self.bucket_url})
