"""Azure components: ACR, Container Apps serving, Azure ML as the MLflow registry (with
Key Vault, Storage, Application Insights), Databricks, federated CI identity, alerts."""

from .batch_job import BatchJob
from .batch_job_stack import BatchJobStack
from .ci_identity import CiIdentity
from .databricks import DatabricksWorkspace
from .llm_endpoint import LlmEndpoint
from .model_registry import ModelRegistry
from .monitoring import Monitoring
from .private_network import PrivateNetwork
from .registry import ContainerRegistry
from .service_stack import ServiceStack
from .serving import ServingService

__all__ = [
    "BatchJob",
    "BatchJobStack",
    "CiIdentity",
    "ContainerRegistry",
    "DatabricksWorkspace",
    "LlmEndpoint",
    "ModelRegistry",
    "Monitoring",
    "PrivateNetwork",
    "ServiceStack",
    "ServingService",
]
