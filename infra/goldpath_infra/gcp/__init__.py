"""GCP components: Artifact Registry, Cloud Run serving, the MLflow model registry,
Workload Identity Federation for CI, monitoring, and the APIs they need."""

from .apis import RequiredApis
from .batch_job import BatchJob
from .batch_job_stack import BatchJobStack
from .ci_identity import CiIdentity
from .llm_endpoint import LlmEndpoint
from .model_registry import ModelRegistry
from .monitoring import Monitoring
from .registry import ContainerRegistry
from .service_stack import ServiceStack
from .serving import ServingService

__all__ = [
    "BatchJob",
    "BatchJobStack",
    "CiIdentity",
    "ContainerRegistry",
    "LlmEndpoint",
    "ModelRegistry",
    "Monitoring",
    "RequiredApis",
    "ServiceStack",
    "ServingService",
]
